"""Issue 12, no cycles and one door: critmin's import graph (function-level imports included) has no cycles,
and the CLI and the server import only the Python API (critmin, critmin.api, critmin.errors, the version) and
their own modules; the CLI also starts the server (`critmin serve`)."""

from __future__ import annotations

import grimp
import pytest

FRONTENDS = ("critmin.cli", "critmin.server")
THE_API = {"critmin", "critmin.api", "critmin.errors", "critmin._version"}
ALSO_ALLOWED = {"critmin.cli": ("critmin.server",)}  # `critmin serve` starts the server


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("critmin", cache_dir=None)  # no cache: a stale graph would hide a new cycle


def cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], [0]
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle():
    g = grimp.ImportGraph()
    for name in ("a", "a.b", "a.c", "a.d"):
        g.add_module(name)
    g.add_import(importer="a.b", imported="a.c")
    g.add_import(importer="a.c", imported="a.b")
    g.add_import(importer="a.c", imported="a.d")
    assert cycles(g) == [["a.b", "a.c"]]


def test_critmin_has_no_import_cycles(graph):
    assert cycles(graph) == []


def test_the_cli_and_the_server_import_only_the_api(graph):
    outside = {}
    for frontend in FRONTENDS:
        for module in graph.find_descendants(frontend) | {frontend}:
            for imported in graph.find_modules_directly_imported_by(module):
                own = (frontend, *ALSO_ALLOWED.get(frontend, ()))
                if imported.startswith("critmin") and not imported.startswith(own) and imported not in THE_API:
                    outside.setdefault(module, set()).add(imported)
    assert not outside, "\n".join(f"{m} imports {sorted(i)}" for m, i in sorted(outside.items()))
