"""Stepwise curves against linear ones on textbook worlds (three regions, one product; see
tests/test_textbook_linear.py).

Stepwise curves put every quantity whose marginal cost lies between two grid levels at the upper level, so a
price can move by up to one grid step, and a quantity by its elasticity times that step. The worlds are drawn
near calibration, as the bundled world's baseline is: reference costs within 5% of the reference price,
reference output within 3% of reference demand, short-run elasticities (0.1 to 0.35), and only worlds whose
linear equilibrium prices lie within 10% of every reference (the part of the grid in 5% steps) are kept.
There a price moves by at most one 5% step and a quantity by at most 0.35 x 5% / 0.9, under 2%.

Trade is compared as a share of the market: net trade is the difference between a region's supply and demand,
so a 1% change in both can be a much larger share of a thin trade flow.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st

from critmin.market import MarketSettings, clear
from critmin.market.curves import GRID
from property_budget import property_test
from test_textbook_linear import P0, equilibrium, textbook_curves, textbook_world

LINEAR = MarketSettings(curves="linear", contract_margin_pct=0.0)
STEPWISE = MarketSettings(curves="stepwise", contract_margin_pct=0.0)
TOTALS = 0.02  # production, consumption and trade: within 2% of the market (total consumption)
NEAR = 0.10  # linear prices within 10% of every reference: the grid's 5% steps


def grid_step(price: float, reference: float) -> float:
    """Width of the grid step (levels ``reference * GRID``) that contains ``price``."""
    levels = reference * GRID
    k = int(np.clip(np.searchsorted(levels, price, side="right"), 1, len(levels) - 1))
    return float(levels[k] - levels[k - 1])


elasticity = st.floats(0.1, 0.35)


@property_test(
    fast=4,
    full=12,
    settings=settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]),
    demand=st.lists(st.tuples(st.floats(20.0, 200.0), elasticity), min_size=3, max_size=3),
    costs=st.lists(st.floats(9.5, 10.5), min_size=3, max_size=3),
    shares=st.lists(st.floats(0.2, 1.0), min_size=3, max_size=3),
    supply_elasticity=st.lists(elasticity, min_size=3, max_size=3),
    balance=st.floats(0.97, 1.03),
    freight=st.lists(st.floats(0.05, 0.5), min_size=6, max_size=6),
    tariff=st.lists(st.floats(0.0, 2.0), min_size=6, max_size=6),
)
def test_stepwise_is_within_one_grid_step_of_linear(demand, costs, shares, supply_elasticity, balance, freight, tariff):
    output = balance * sum(q for q, _ in demand) * np.asarray(shares) / sum(shares)
    supply = list(zip(costs, output, supply_elasticity, strict=True))
    expected, *_ = equilibrium(*textbook_curves(supply, demand, freight, tariff))
    assume(np.abs(expected / P0 - 1).max() <= NEAR and np.abs(expected / np.asarray(costs) - 1).max() <= NEAR)

    world = textbook_world(supply, demand, freight, tariff)
    linear, stepwise = clear(world, LINEAR), clear(world, STEPWISE)
    p_lin = linear.price.sel(product="x").values
    p_step = stepwise.price.sel(product="x").values
    # traded prices move together (a price gap is an arc cost), so the step that binds may be any curve's: the
    # bound is the widest step, on every curve's grid (supply: its reference cost; demand: the reference
    # price), around the linear prices
    step = max(grid_step(p, ref) for i, p in enumerate(p_lin) for ref in (costs[i], P0))
    assert np.abs(p_step - p_lin).max() <= step, (p_lin, p_step, step)

    market = float(linear.consumption.sum())
    for name in ("activity", "consumption", "trade"):
        a, b = float(getattr(linear, name).sum()), float(getattr(stepwise, name).sum())
        assert abs(b - a) <= TOTALS * market, (name, a, b, market)
