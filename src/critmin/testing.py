"""Public testing helpers (in the spirit of ``xarray.testing``): tiny worlds and assertions.

    from critmin.testing import tiny_world, assert_world_equal, assert_balanced

``tiny_world`` fills provenance columns with a test source so textbook cases stay short to write.
"""

from __future__ import annotations

import pandas as pd

from critmin.schema import components
from critmin.world.balance import balance_report
from critmin.world.model import World
from critmin.world.tables import to_csv_text, typed
from critmin.world.validate import expected_unit

TEST_SOURCE = "test"


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
