"""Cross-table checks on a whole world: keys, references, units, compositions, enumerated lists.

Row-level checks (types, ranges, allowed values) happen while parsing, in :mod:`critmin.world.tables`.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from critmin.schema import Component, components
from critmin.vocabulary import INSTRUMENTS
from critmin.world.problems import Problem

COMPOSITION_TOLERANCE_PCT = 0.5  # compositions are published to ~0.1 %; allow rounding of a few entries
_TEMPLATE = re.compile(r"\{(\w+)\}")


def _where(frame: pd.DataFrame, i: int) -> tuple[str, int | None]:
    return str(frame["_file"].iat[i]), int(frame["_line"].iat[i])


def check_keys(comp: Component, frame: pd.DataFrame) -> list[Problem]:
    """Every row whose key an earlier row already has, with the line of that first row (one grouping pass:
    a scan per duplicate took 42 s for 8,000 of them)."""
    if frame.empty or not comp.key or not frame.duplicated(comp.key).any():
        return []
    group = frame.groupby(comp.key, sort=False, dropna=False).ngroup().to_numpy()
    keys, earliest = np.unique(group, return_index=True)  # the first position of every key
    first_seen = np.empty(keys.max() + 1, dtype=np.int64)
    first_seen[keys] = earliest
    first = first_seen[group]
    order = np.arange(len(group))
    problems = []
    for pos in np.flatnonzero(first != order):
        key = ", ".join(f"{k}={frame[k].iat[pos]}" for k in comp.key)
        file, line = _where(frame, pos)
        first_line = frame["_line"].iat[first[pos]]
        problems.append(Problem(file, line, comp.key[0], f"duplicate key ({key}); first given at line {first_line}"))
    return problems


def check_references(
    comp: Component, frame: pd.DataFrame, tables: dict[str, pd.DataFrame], skip: frozenset[str] = frozenset()
) -> list[Problem]:
    """Every value of ``frame`` that names a row the table it refers to lacks (targets in ``skip`` are not
    looked at)."""
    problems = []
    for attr in comp.attributes:
        if not attr.references or frame.empty:
            continue
        target_comp, target_col = attr.references.split(".")
        if target_comp in skip:
            continue
        valid = set(tables[target_comp][target_col].dropna())
        values = frame[attr.name]
        bad = values.notna() & ~values.isin(valid)
        for pos in bad.to_numpy().nonzero()[0]:
            file, line = _where(frame, pos)
            kind = target_comp.replace("_", " ")
            problems.append(
                Problem(
                    file, line, attr.name, f"unknown {kind} {values.iat[pos]!r} (not in {target_comp}.{target_col})"
                )
            )
    return problems


# No figure of a world comes near this in its unit (world output of any mineral is under 1e10 t/yr, the dearest
# price under 1e6 USD/kg), and the market cannot be solved with one (a reference price of 1e15 USD/kg validated,
# then HiGHS returned 'Unknown'): a number this large is a typo or a unit error, refused at validation.
MAX_MAGNITUDE = 1e12


def check_magnitudes(comp: Component, frame: pd.DataFrame) -> list[Problem]:
    problems = []
    for attr in comp.attributes:
        if attr.type not in ("float", "int") or frame.empty:
            continue
        values = pd.to_numeric(frame[attr.name], errors="coerce").astype("float64")
        for pos in (values.abs() > MAX_MAGNITUDE).to_numpy().nonzero()[0]:
            file, line = _where(frame, pos)
            reason = f"{values.iat[pos]:g} is too large: world figures are within ±{MAX_MAGNITUDE:g} in their unit"
            problems.append(Problem(file, line, attr.name, reason))
    return problems


def expected_unit(comp: Component, row: pd.Series | dict, product_units: dict[str, str]) -> str | None:
    """The unit a row must carry under its component's unit rule; None when any unit goes."""
    rule = comp.unit_rule
    if not rule:
        return None

    def sub(match: re.Match) -> str:
        product = row.get(match.group(1))
        return product_units.get(product, "?") if isinstance(product, str) else "?"

    return _TEMPLATE.sub(sub, rule)


def check_units(comp: Component, frame: pd.DataFrame, product_units: dict[str, str]) -> list[Problem]:
    if not comp.provenance or not comp.unit_rule or frame.empty:
        return []
    # the rule filled in column-wise (a row at a time made this the slowest part of loading a world)
    want = pd.Series("", index=frame.index, dtype=object)
    for i, part in enumerate(_TEMPLATE.split(comp.unit_rule)):
        if i % 2 == 0:
            want = want + part
        else:
            column = frame[part] if part in frame else pd.Series(None, index=frame.index, dtype=object)
            want = want + column.map(lambda p: product_units.get(p) if isinstance(p, str) else None)
    got = frame["unit"]
    # unknown products (no unit to expect: reported by the reference check) and empty units are not compared
    bad = want.notna() & got.notna() & (got != want)
    problems = []
    for pos in bad.to_numpy().nonzero()[0]:
        file, line = _where(frame, pos)
        reason = f"unit mismatch: {got.iat[pos]!r} given, {comp.name} rows here must be in {want.iat[pos]!r}"
        problems.append(Problem(file, line, "unit", reason))
    return problems


def check_compositions(frame: pd.DataFrame) -> list[Problem]:
    problems = []
    for product, group in frame.groupby("product", sort=False):
        total = group["share"].sum()
        if abs(total - 100.0) > COMPOSITION_TOLERANCE_PCT:
            file, line = _where(group, 0)
            problems.append(
                Problem(
                    file,
                    line,
                    "share",
                    f"composition of {product!r} sums to {total:.4g}%, not 100% "
                    f"(tolerance {COMPOSITION_TOLERANCE_PCT} pp; rows at lines {', '.join(map(str, group['_line']))})",
                )
            )
    return problems


def _check_token_list(frame: pd.DataFrame, column: str, valid: set[str], what: str) -> list[Problem]:
    problems = []
    for pos, value in enumerate(frame[column]):
        if not isinstance(value, str):
            continue
        for token in value.split("|"):
            if token not in valid:
                file, line = _where(frame, pos)
                problems.append(Problem(file, line, column, f"unknown {what} {token!r}"))
    return problems


def check_world(
    tables: dict[str, pd.DataFrame],
    *,
    rows: dict[str, pd.DataFrame] | None = None,
    skip_references_to: frozenset[str] = frozenset(),
) -> list[Problem]:
    """Every cross-table problem in a complete set of tables (one per component). ``rows``: the rows to
    check, when not all of them (ids are looked up in ``tables``); ``skip_references_to``: components whose
    ids are not known in full, so that references to them are not checked."""
    comps = components()
    rows = tables if rows is None else rows
    problems: list[Problem] = []
    for name in ("source", "region", "element", "product"):  # the core: every other table refers to them
        if len(tables[name]) == 0:
            problems.append(Problem(comps[name].file, None, None, f"no rows: a world needs at least one {name}"))
    product_units = dict(zip(tables["product"]["id"], tables["product"]["unit"], strict=True))
    for name, comp in comps.items():
        frame = rows[name]
        problems += check_keys(comp, frame)
        problems += check_references(comp, frame, tables, skip_references_to)
        problems += check_units(comp, frame, product_units)
        problems += check_magnitudes(comp, frame)
    problems += check_compositions(rows["composition"])
    if "element" not in skip_references_to:
        problems += _check_token_list(rows["policy_event"], "elements", set(tables["element"]["id"]), "element")
    problems += _check_token_list(rows["project"], "instruments", set(INSTRUMENTS), "instrument")
    prices = rows["price"]
    for pos in (prices["price_high"] < prices["price_low"]).to_numpy().nonzero()[0]:
        file, line = _where(prices, pos)
        problems.append(Problem(file, line, "price_high", "price_high is below price_low"))
    problems += check_recipe_cycles(rows["recipe"])
    flows = rows["trade_flow"]
    for pos in (flows["origin"] == flows["destination"]).to_numpy().nonzero()[0]:
        file, line = _where(flows, pos)
        problems.append(Problem(file, line, "destination", "a trade flow needs two different regions"))
    return problems


def check_recipe_cycles(recipes: pd.DataFrame) -> list[Problem]:
    """A product may not be, directly or through other recipes, an input to itself (depth-first search)."""
    uses: dict[str, list[int]] = {}
    for pos, output in enumerate(recipes["output"]):
        uses.setdefault(output, []).append(pos)
    problems: list[Problem] = []
    state: dict[str, str] = {}  # "open" while on the search stack, "done" once fully explored

    def visit(product: str, stack: list[int]) -> None:
        state[product] = "open"
        for pos in uses.get(product, []):
            upstream = recipes["input"].iat[pos]
            if state.get(upstream) == "open":
                start = next((i for i, p in enumerate(stack) if recipes["output"].iat[p] == upstream), len(stack))
                cycle = [*stack[start:], pos]
                lines = ", ".join(str(int(recipes["_line"].iat[p])) for p in cycle)
                path = " -> ".join([*(str(recipes["output"].iat[p]) for p in cycle), upstream])
                file, line = _where(recipes, pos)
                problems.append(Problem(file, line, "input", f"recipe cycle {path} (lines {lines})"))
            elif upstream not in state:
                visit(upstream, [*stack, pos])
        state[product] = "done"

    for product in list(uses):
        if product not in state:
            visit(product, [])
    return problems


def check_parsed(tables: dict[str, pd.DataFrame], problems: list[Problem]) -> list[Problem]:
    """The cross-table problems of a world folder that did not parse cleanly, found in the same pass as its
    row problems (issue 11, defect 10: references were reported only once the rows were fixed).

    ``tables``: what was read (a component may be missing); ``problems``: what reading found. Only the rows
    that parsed are checked: a row with a problem of its own is left out, and so is every composition row of
    its product (their sum would be off). References into a table that may have lost ids (missing, not read,
    a bad header, a dropped row or a bad key cell) are not checked: each 'unknown id' would be a consequence
    of a problem already reported, not news. For the same reason a table whose file has problems is not also
    reported as having no rows."""
    from critmin.world.tables import empty_table

    comps = components()
    by_file = {comp.file: name for name, comp in comps.items()}
    bad_lines: dict[str, set[int]] = {}
    lost_ids = {name for name in comps if name not in tables}
    with_problems = set(lost_ids)
    for p in problems:
        name = by_file.get(_file_name(p.file))
        if name is None:
            continue
        with_problems.add(name)
        if p.line is None or p.line == 1 or p.column is None or p.column in comps[name].key:
            lost_ids.add(name)
        if p.line is not None:
            bad_lines.setdefault(name, set()).add(p.line)
    full = {name: tables[name] if name in tables else empty_table(comp) for name, comp in comps.items()}
    rows = {}
    for name, frame in full.items():
        bad = frame["_line"].isin(bad_lines.get(name, ()))
        if name == "composition" and bad.any():
            bad = frame["product"].isin(set(frame.loc[bad, "product"].dropna())) | bad
        rows[name] = frame[~bad].reset_index(drop=True) if bad.any() else frame
    found = check_world(full, rows=rows, skip_references_to=frozenset(lost_ids))
    explained = {comps[name].file for name in with_problems}
    known = set(problems)
    return [p for p in found if p not in known and not (p.line is None and _file_name(p.file) in explained)]


def _file_name(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]
