"""Property tests (hypothesis) of the clearing model: on a three-region tiny world with random parameters, and
on drawn chain worlds (critmin.testing.strategies)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import xarray as xr
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from critmin.api import clear
from critmin.market import MarketSettings, market_inputs
from critmin.scenario import parse_scenario
from critmin.testing import tiny_world
from critmin.testing.strategies import world_specs
from property_budget import property_test

EXACT = MarketSettings(curves="linear")
# Comparisons between two solves allow for HiGHS's tolerances: 1e-6 of the world's reference demand (150 t).
# With zero freight the equilibria are degenerate in trade, and two solves of the same equilibrium (objectives
# equal to 1e-12) can differ by ~1e-5 t in where shortfall falls.
SOLVER_TOL = 1e-6 * 150
positive = st.floats(0.2, 3.0)


def _world(e_a, e_b, cap_b, freight, tariff=0.0):
    return tiny_world(
        ["A", "B", "C"],
        [{"id": "x", "stage": "separation", "element": "Dy"}],
        reference_price=[{"product": "x", "price": 10.0}],
        supply_curve=[
            {
                "region": "A",
                "process": "extract",
                "product": "x",
                "ref_cost": 10.0,
                "ref_quantity": 100.0,
                "elasticity": e_a,
            },
            {
                "region": "B",
                "process": "extract",
                "product": "x",
                "ref_cost": 14.0,
                "ref_quantity": 50.0,
                "elasticity": e_b,
            },
        ],
        capacity=[{"region": "A", "product": "x", "capacity": 1e6}, {"region": "B", "product": "x", "capacity": cap_b}],
        demand=[
            {"region": r, "sector": "other", "product": "x", "quantity": q, "elasticity": -0.3}
            for r, q in (("A", 60.0), ("B", 30.0), ("C", 60.0))
        ],
        trade_cost=[
            {
                "origin": o,
                "destination": d,
                "product": "x",
                "freight": freight,
                "tariff_pct": tariff if (o, d) == ("A", "C") else 0.0,
            }
            for o in ("A", "B")
            for d in ("A", "B", "C")
            if o != d
        ],
    )


def _control(mode: str, magnitude: float):
    text = f"""\
name: control
start: 2025-01-01
end: 2025-12-31
shocks:
  - type: export_control
    exporter: {{regions: [A]}}
    destinations: {{regions: [C]}}
    mode: {mode}
    magnitude: {magnitude}
    start: 2025-01-01
"""
    return parse_scenario(text)


def _shortfall(result, region: str) -> float:
    return float(result.shortfall.sel(region=region).sum())


UNTIMED = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@property_test(
    fast=3,
    full=8,
    settings=UNTIMED,
    e_a=positive,
    e_b=positive,
    freight=st.floats(0.0, 3.0),
    q1=st.floats(0, 1),
    q2=st.floats(0, 1),
)
def test_harsher_export_control_gives_no_less_shortfall(e_a, e_b, freight, q1, q2):
    world = _world(e_a, e_b, 80.0, freight)
    loose, harsh = max(q1, q2), min(q1, q2)
    when = dt.date(2025, 6, 1)
    a = clear(world, EXACT, scenario=_control("quota", loose), date=when)
    b = clear(world, EXACT, scenario=_control("quota", harsh), date=when)
    assert _shortfall(b, "C") >= _shortfall(a, "C") - SOLVER_TOL


@property_test(
    fast=3,
    full=8,
    settings=UNTIMED,
    e_a=positive,
    e_b=positive,
    freight=st.floats(0.0, 3.0),
    cap1=st.floats(1, 200),
    cap2=st.floats(1, 200),
)
def test_added_capacity_gives_no_more_shortfall_anywhere(e_a, e_b, freight, cap1, cap2):
    small, large = sorted((cap1, cap2))
    a = clear(_world(e_a, e_b, small, freight), EXACT)
    b = clear(_world(e_a, e_b, large, freight), EXACT)
    for region in ("A", "B", "C"):
        assert _shortfall(b, region) <= _shortfall(a, region) + SOLVER_TOL


@property_test(
    fast=3,
    full=8,
    settings=UNTIMED,
    e_a=positive,
    e_b=positive,
    freight=st.floats(0.0, 3.0),
    t1=st.floats(0, 100),
    t2=st.floats(0, 100),
)
def test_higher_tariff_gives_no_more_flow_on_that_arc(e_a, e_b, freight, t1, t2):
    low, high = sorted((t1, t2))
    a = clear(_world(e_a, e_b, 80.0, freight, low), EXACT)
    b = clear(_world(e_a, e_b, 80.0, freight, high), EXACT)
    flow = lambda r: float(r.trade.sel(origin="A", destination="C", product="x").fillna(0))  # noqa: E731
    assert flow(b) <= flow(a) + SOLVER_TOL


def _per_product(rows, dim: str, products: list[str]) -> xr.DataArray:
    """(``dim``, product, value) rows as a products x products matrix, zero elsewhere."""
    n = len(products)
    out = xr.DataArray(np.zeros((n, n)), coords={dim: products, "product": products}, dims=(dim, "product"))
    for key, product, value in rows:
        out.loc[key, product] += value
    return out


def _surplus(world, r) -> tuple[xr.DataArray, xr.DataArray]:
    """What each region x product node has left: made, separated from concentrate, released from stock and
    imported, less exported, taken in for separation, used as a recipe input, restocked and consumed (the
    model's balance, with every term of a chain world); and the output made and separated."""
    products = r.price["product"].values.tolist()
    inputs = market_inputs(world)
    yields = _per_product(inputs.yields[["concentrate", "product", "share"]].to_numpy(), "concentrate", products)
    recipe = _per_product(inputs.recipe[["output", "input", "quantity"]].to_numpy(), "output", products)
    act = r.activity.fillna(0)
    made = act.sel(process=["extract", "convert", "recycle"]).sum("process")
    separating = act.sel(process="separate", drop=True)
    separated = (separating.rename(product="concentrate") * yields).sum("concentrate")
    recipe_inputs = (act.sel(process="convert", drop=True).rename(product="output") * recipe).sum("output")
    imports = r.trade.fillna(0).sum("origin").rename(destination="region")
    exports = r.trade.fillna(0).sum("destination").rename(origin="region")
    stock = r.release.fillna(0).sum("holder") - r.restock.fillna(0).sum("holder")
    used = r.consumption.fillna(0).sum("sector")
    return made + separated + stock + imports - exports - separating - recipe_inputs - used, made + separated


@property_test(
    fast=3,
    full=8,
    settings=UNTIMED,
    spec=world_specs(regions=(1, 3), stages=(1, 3)),
    curves=st.sampled_from(["linear", "stepwise"]),
)
def test_mass_balance_holds_at_every_node(spec, curves):
    """On drawn worlds: one to three regions, a chain from mine to metal stage (concentrate, separated oxide,
    metal by recipe), random curves, capacities, demand and trade costs."""
    world = spec.world()
    r = clear(world, MarketSettings(curves=curves))
    surplus, output = _surplus(world, r)  # free disposal: never negative, and zero where the price is positive
    scale = float(output.sum()) + 1.0
    assert float(surplus.min()) >= -1e-7 * scale
    price = r.price.reindex_like(surplus)
    assert np.all((np.abs(surplus.values) <= 1e-6 * scale) | (price.fillna(0).values <= 1e-9))
