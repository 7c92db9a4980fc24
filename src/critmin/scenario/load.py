"""Read scenario YAML, validate it against the schema and the world, and report problems as
``file:line: field: reason``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import yaml
from pydantic import TypeAdapter, ValidationError

from critmin import errors
from critmin.scenario.schema import Goods, Places, Project, Scenario, Shock
from critmin.world.model import World
from critmin.world.problems import Problem, ProblemList

_SHOCK = TypeAdapter(Shock)


class ScenarioError(ProblemList, errors.ScenarioError, ValueError):
    """A scenario file with problems; ``problems`` carry file, line and field."""

    subject = "the scenario"


def load_scenario(path: str | Path, world: World | None = None) -> Scenario:
    """Read and validate a scenario YAML file (against ``world``'s regions, products and elements if given).
    Raises ScenarioError listing every problem with file, line and field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([Problem(str(path), None, None, f"cannot read: {exc}")]) from exc
    return parse_scenario(text, str(path), world)


MAX_SCENARIO_CHARS = 1_000_000  # the bundled scenarios are under 10 kB
MAX_DEPTH = 32  # a scenario nests about 6 levels deep


def parse_scenario(text: str, file: str = "<scenario>", world: World | None = None) -> Scenario:
    """Validate scenario YAML text, as :func:`load_scenario` does a file (``file`` names it in problems)."""
    if len(text) > MAX_SCENARIO_CHARS:
        reason = f"{len(text):,} characters, over the {MAX_SCENARIO_CHARS:,} a scenario may have"
        raise ScenarioError([Problem(file, None, None, reason)])
    try:
        root, data = _read_yaml(text)
    except RecursionError:
        raise ScenarioError([Problem(file, None, None, f"nested more than {MAX_DEPTH} levels deep")]) from None
    except _BadScalarError as exc:
        raise ScenarioError([Problem(file, exc.node.start_mark.line + 1, _field(exc.path), exc.reason)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise ScenarioError([Problem(file, line, None, f"not valid YAML: {getattr(exc, 'problem', exc)}")]) from exc
    deep = _too_deep(root)
    if deep is not None:
        reason = f"nested more than {MAX_DEPTH} levels deep"
        raise ScenarioError([Problem(file, deep.start_mark.line + 1, None, reason)])
    if not isinstance(data, dict):
        raise ScenarioError([Problem(file, 1, None, "a scenario is a YAML mapping (name, start, end, shocks, ...)")])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = [Problem(file, _line(root, err["loc"]), _field(err["loc"]), _message(err)) for err in exc.errors()]
        if world is not None:  # the ids of the shocks that did validate, in the same pass (issue 11, defect 10)
            found = [(loc, reason) for i, shock in _valid_shocks(data) for loc, reason in _check_shock(i, shock, world)]
            problems += [Problem(file, _line(root, loc), _field(loc), reason) for loc, reason in found]
        raise ScenarioError(problems) from exc
    if world is not None:
        problems = [
            Problem(file, _line(root, loc), _field(loc), reason) for loc, reason in check_against_world(scenario, world)
        ]
        if problems:
            raise ScenarioError(problems)
    return scenario


def _valid_shocks(data: dict) -> list[tuple[int, object]]:
    """(position, shock) for each entry of a scenario's ``shocks`` that is a valid shock on its own."""
    shocks = data.get("shocks")
    if not isinstance(shocks, list):
        return []
    valid = []
    for i, entry in enumerate(shocks):
        try:
            valid.append((i, _SHOCK.validate_python(entry)))
        except ValidationError:
            continue
    return valid


def describe(scenario: Scenario) -> dict:
    """A scenario's one-line summary: name, description, start, end (ISO dates), months, shocks, hash."""
    return {
        "name": scenario.name,
        "description": scenario.description,
        "start": scenario.start.isoformat(),
        "end": scenario.end.isoformat(),
        "months": scenario.months,
        "shocks": len(scenario.shocks),
        "scenario_hash": scenario_hash(scenario),
    }


class _BadScalarError(ValueError):
    """A scalar YAML recognises by its form but cannot build (a date such as 2025-13-01)."""

    def __init__(self, node, reason: str):
        super().__init__(reason)
        self.node, self.reason, self.path = node, reason, ()


class _Loader(yaml.SafeLoader):
    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise _BadScalarError(node, f"{node.value!r} is not a valid date: {exc}") from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def _read_yaml(text: str):
    """The node tree (for line numbers) and the data, composed once."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        try:
            data = loader.construct_document(root) if root is not None else None
        except _BadScalarError as exc:
            exc.path = _path_to(root, exc.node) or ()
            raise
        return root, data
    finally:
        loader.dispose()


def _too_deep(root):
    """The first node nested deeper than MAX_DEPTH (walked without recursion), or None."""
    stack = [(root, 0)] if root is not None else []
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return node
        if isinstance(node, yaml.MappingNode):
            stack += [(child, depth + 1) for pair in node.value for child in pair]
        elif isinstance(node, yaml.SequenceNode):
            stack += [(child, depth + 1) for child in node.value]
    return None


def _path_to(node, target, path: tuple = ()) -> tuple | None:
    if node is target:
        return path
    if isinstance(node, yaml.MappingNode):
        children = [(k.value, v) for k, v in node.value]
    elif isinstance(node, yaml.SequenceNode):
        children = list(enumerate(node.value))
    else:
        return None
    for key, child in children:
        found = _path_to(child, target, (*path, key))
        if found is not None:
            return found
    return None


def scenario_hash(scenario: Scenario) -> str:
    """Content hash of the validated scenario (defaults filled in), stable across formatting changes."""
    payload = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _message(err: dict) -> str:
    msg = err["msg"]
    if err["type"] == "union_tag_invalid":
        return msg
    if err["type"] == "value_error":
        msg = msg.removeprefix("Value error, ")
    return msg


def _field(loc: tuple) -> str:
    parts = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in _SHOCK_TAGS:
            continue  # the discriminated union puts the shock type in the path
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


_SHOCK_TAGS = {
    "export_control", "tariff", "outage", "demand_shift", "project", "stockpile_policy",
    "recycling_policy", "price_floor", "offtake", "ally_preference",
}  # fmt: skip


def _line(node, loc: tuple) -> int | None:
    """Line of the deepest YAML node the error path reaches (1-based)."""
    line = node.start_mark.line + 1 if node is not None else None
    for item in loc:
        if item in _SHOCK_TAGS:
            continue
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == item), None)
            if match is None:
                break
            node = match[1]
            line = match[0].start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(item, int) and item < len(node.value):
            node = node.value[item]
            line = node.start_mark.line + 1
        else:
            break
    return line


def check_against_world(scenario: Scenario, world: World) -> list[tuple[tuple, str]]:
    """Ids a scenario names that the world does not know: (location, reason) pairs."""
    return [found for i, shock in enumerate(scenario.shocks) for found in _check_shock(i, shock, world)]


def _check_shock(i: int, shock, world: World) -> list[tuple[tuple, str]]:
    """Ids shock ``i`` names that the world does not know: (location, reason) pairs."""
    regions = set(world.tables["region"]["id"])
    groups = set(world.tables["region_group"]["group"])
    elements = set(world.tables["element"]["id"])
    products = set(world.tables["product"]["id"])
    found: list[tuple[tuple, str]] = []

    def check(loc: tuple, values, known: set[str], what: str) -> None:
        for i, value in enumerate(values):
            if value not in known:
                hint = ", ".join(sorted(known)[:25])
                found.append(((*loc, i), f"unknown {what} {value!r}; known: {hint}"))

    base = ("shocks", i)
    for name, value in shock:
        if isinstance(value, Places):
            check((*base, name, "regions"), value.regions, regions, "region")
            check((*base, name, "groups"), value.groups, groups, "region group")
    for j, approval in enumerate(getattr(shock, "approval", [])):
        where = (*base, "approval", j, "destinations")
        check((*where, "regions"), approval.destinations.regions, regions, "region")
        check((*where, "groups"), approval.destinations.groups, groups, "region group")
    if isinstance(shock, Goods):
        check((*base, "elements"), shock.elements, elements, "element")
        check((*base, "products"), shock.products, products, "product")
    if isinstance(shock, Project):
        if shock.region not in regions:
            found.append(((*base, "region"), f"unknown region {shock.region!r}"))
        if shock.product not in products:
            found.append(((*base, "product"), f"unknown product {shock.product!r}"))
        catalogue = set(world.tables["project"]["id"])
        if shock.project and shock.project not in catalogue:
            found.append(((*base, "project"), f"unknown catalogue project {shock.project!r} (see project.csv)"))
    return found
