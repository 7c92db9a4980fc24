"""Tiny worlds built from plain rows, and world-level assertions (re-exported by :mod:`critmin.testing`).

``tiny_world`` fills provenance columns with a test source so textbook cases stay short to write.
``replicate_regions`` makes a larger world of the same economics, to measure how the engine scales.
"""

from __future__ import annotations

import pandas as pd

from critmin.schema import components
from critmin.world.balance import balance_report
from critmin.world.model import World
from critmin.world.tables import to_csv_text, typed
from critmin.world.validate import expected_unit

TEST_SOURCE = "test"

# quantities that belong to a region and are split between its copies (everything else, prices, costs,
# shares and elasticities, is the same in every copy)
SPLIT_COLUMNS = {
    "production": "quantity",
    "trade_flow": "quantity",
    "demand": "quantity",
    "capacity": "capacity",
    "stock": "quantity",
    "supply_curve": "ref_quantity",
}


def tiny_world(regions: list[str], products: list[dict], *, validate: bool = True, **tables: list[dict]) -> World:
    """A small world from plain rows. Provenance defaults to source ``test``, year 2024, confidence assumption,
    and the unit the component's unit rule asks for. Elements used by products are declared automatically.

    ``products``: dicts with id, stage, and either element or nothing (then give ``composition`` rows);
    ``unit`` defaults to ``t``.
    """
    product_units = {p["id"]: p.get("unit", "t") for p in products}
    elements = sorted(
        {p["element"] for p in products if p.get("element")}
        | {r["element"] for r in tables.get("composition", [])}
        | {m for g in tables.get("element_group", []) for m in (g["group"], g["element"])}
    )
    rows: dict[str, list[dict]] = {
        "source": [{"id": TEST_SOURCE, "citation": "critmin test fixture"}],
        "region": [{"id": r, "name": r, "kind": "country"} for r in regions],
        "element": [
            {"id": e, "name": e, "kind": "ree" if e not in ("Ga", "graphite") else "other", "ree_class": "none"}
            for e in elements
        ],
        "product": [
            {
                "id": p["id"],
                "name": p.get("name", p["id"]),
                "stage": p["stage"],
                "form": p.get("form", "oxide"),
                "element": p.get("element"),
                "unit": product_units[p["id"]],
            }
            for p in products
        ],
    }
    for name, given in tables.items():
        rows[name] = given
    frames = {}
    for name, comp in components().items():
        data = [dict(r) for r in rows.get(name, [])]
        if comp.provenance:
            for r in data:
                r.setdefault("source", TEST_SOURCE)
                r.setdefault("year", 2024)
                r.setdefault("confidence", "assumption")
                r.setdefault("unit", _default_unit(name, r, product_units))
        for attr in comp.attributes:
            if attr.default:
                for r in data:
                    if r.get(attr.name) is None:
                        r[attr.name] = float(attr.default) if attr.type == "float" else attr.default
        frames[name] = typed(comp, pd.DataFrame(data, columns=comp.columns), f"<{name}>") if data else None
    return World({k: v for k, v in frames.items() if v is not None}, validate=validate)


def _default_unit(name: str, row: dict, product_units: dict[str, str]) -> str:
    unit = expected_unit(components()[name], row, product_units)
    return unit if unit and "?" not in unit else "-"


def assert_world_equal(left: World, right: World) -> None:
    """Equal tables, compared as they would be written (value-exact, order-sensitive)."""
    for name, comp in components().items():
        a, b = to_csv_text(comp, left.tables[name]), to_csv_text(comp, right.tables[name])
        if a != b:
            raise AssertionError(f"component {name!r} differs:\n--- left\n{a[:2000]}\n--- right\n{b[:2000]}")


def assert_balanced(world: World) -> None:
    """Every mass-balance node and co-production check within tolerance."""
    report = balance_report(world)
    failing = report[~report["ok"]]
    if len(failing):
        raise AssertionError(f"{len(failing)} unbalanced node(s):\n{failing.to_string()}")


def replicate_regions(world: World, copies: int) -> World:
    """A world in which every region is split into ``copies`` regions of the same economics (ids ``CHN``,
    ``CHN_2``, ..., ``CHN_<copies>``), for measuring how the engine scales with the number of regions.

    Each copy has 1/``copies`` of the region's production, capacity, demand, stocks and supply-curve
    reference quantity; a trade flow between two regions is split evenly over every pair of their copies
    (1/copies**2 each), so each copy imports and exports 1/``copies`` of the original. Prices, costs, shares,
    elasticities, trade costs (copied to every pair), region parameters and group memberships (every copy is
    a member) are unchanged. Rows whose key does not contain the region (``project``: the catalogue is keyed
    by id) and free-text region fields (``policy_event`` actors and targets) stay with the first copy, which
    keeps the original id. A cleared step of the result has the original's world totals: the original
    solution split evenly is feasible at the same cost, and any solution of the copy sums to a feasible one of
    the original at no higher cost.
    """
    if copies < 1:
        raise ValueError(f"copies must be at least 1, got {copies}")
    regions = world.table("region")
    ids = regions["id"].tolist()
    names = {r: [r, *(f"{r}_{i}" for i in range(2, copies + 1))] for r in ids}
    clash = sorted(set(ids) & {c for r in ids for c in names[r][1:]})
    if clash:
        raise ValueError(f"copy ids clash with existing regions: {', '.join(clash)}")
    tables = {}
    for name, comp in components().items():
        frame = world.table(name)
        columns = [a.name for a in comp.attributes if a.references == "region.id"]
        if name == "region":
            frame = frame.loc[frame.index.repeat(copies)].reset_index(drop=True)
            copy = list(range(1, copies + 1)) * len(ids)
            frame["id"] = [c for r in ids for c in names[r]]
            frame["name"] = [n if i == 1 else f"{n} (copy {i})" for n, i in zip(frame["name"], copy, strict=True)]
        elif columns and len(frame) and set(columns) <= set(comp.key):
            for column in columns:
                frame = frame.assign(**{column: frame[column].map(names)}).explode(column)
            frame = frame.reset_index(drop=True)
            if name in SPLIT_COLUMNS:
                frame[SPLIT_COLUMNS[name]] = frame[SPLIT_COLUMNS[name]] / copies ** len(columns)
        else:
            tables[name] = world.tables[name]
            continue
        tables[name] = typed(comp, frame, f"<replicate_regions x{copies}: {name}>")
    return World(tables)
