"""Build the bundled world from the sourced facts files (``python -m critmin.build``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from critmin.build import catalogue, response
from critmin.build.baseline import build_baseline
from critmin.build.facts import Sources
from critmin.build.reference_prices import reference_prices
from critmin.schema import components
from critmin.world.model import World
from critmin.world.tables import empty_table, typed


def _frame(name: str, rows: list[dict], file: str) -> pd.DataFrame:
    comp = components()[name]
    return typed(comp, pd.DataFrame(rows, columns=comp.columns), file) if rows else empty_table(comp)


def build_world(facts: Path) -> World:
    """Assemble and validate every component from the facts folder."""
    src = Sources()
    regions, groups = catalogue.regions(src)
    elements, element_groups = catalogue.elements(facts, src)
    names = {row["id"]: row["name"] for row in elements}
    base = build_baseline(facts, src)
    rows = {
        "region": regions,
        "region_group": groups,
        "element": elements,
        "element_group": element_groups,
        "product": catalogue.products(src, names),
        "composition": base.composition,
        "recipe": base.recipe,
        "production": base.production,
        "trade_flow": base.trade_flow,
        "demand": base.demand,
        "capacity": base.capacity,
        "stock": base.stock,
        "project": catalogue.projects(facts, src),
        "policy_event": catalogue.policy_events(facts, src, set(names)),
        "price": catalogue.prices(facts, src),
        "element_parameter": catalogue.element_parameters(facts, src),
        "region_parameter": catalogue.region_parameters(facts, src),
    }
    rows["reference_price"] = reference_prices(
        rows["product"], base.composition, rows["price"], src, base.recipe, base.grades.shares
    )
    rows["sector"] = response.sectors(facts, src)
    rows["product_switch"] = response.product_switches(src)
    rows["demand_response"] = response.demand_responses(src, rows["reference_price"])
    rows["reservation_price"] = response.reservation_prices(src, rows["product"])
    rows["source"] = sorted(src.rows.values(), key=lambda r: r["id"])
    tables = {name: _frame(name, rows.get(name, []), f"<build:{name}>") for name in components()}
    return World(tables)
