"""Textbook spatial equilibria with random slopes, cleared with linear curves and checked to 1e-6 against an
independent solution.

Three regions trade one product. Region i has a linear supply curve (marginal cost a_i + b_i q for q >= 0) and
a linear inverse demand curve (alpha_i - beta_i x for x >= 0); every arc has a freight and a tariff. The
reference solution solves the Samuelson-Takayama-Judge complementarity conditions exactly, by enumeration: for
every pattern of active arcs (a forest: a cycle of active arcs would need a zero-cost loop) and every state of
each region (supply or demand at zero, or a surplus disposed of at a zero price), the conditions are a square
linear system, and the equilibrium is the pattern whose solution satisfies every inequality (flows >= 0, no
arc with a price gap above its cost, curves on the right side of their bounds). Supply and demand are strictly
sloped, so production, consumption and prices are unique; without ties between a direct arc and a two-hop
route, so are the flows.

The reference has no export limits: it is the model with re-exports allowed, and the default model (no
re-exports) wherever no two-hop route is cheaper than the direct arc, so that nothing would be transshipped.

Units: prices USD/kg, quantities t per step; both asserted to 1e-6 absolute.
"""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st

from critmin.market import MarketSettings, clear
from critmin.testing import tiny_world
from property_budget import property_test

TOL = 1e-6
REGIONS = ("A", "B", "C")
ARCS = [(o, d) for o in range(3) for d in range(3) if o != d]
P0 = 10.0  # reference price of the product (USD/kg): demand curves pass through it, tariffs are levied on it


def _forests() -> list[tuple[int, ...]]:
    """Sets of arcs (indices into ARCS) without an undirected cycle, a pair of opposite arcs included."""
    out = []
    for k in range(3):
        for subset in itertools.combinations(range(len(ARCS)), k):
            pairs = [frozenset(ARCS[i]) for i in subset]
            if len(set(pairs)) == len(pairs):  # on three nodes, two distinct pairs never close a cycle
                out.append(subset)
    return out


FORESTS = _forests()


# (supply, demand) on their curves or at zero, or disposal at a zero price. Neither supply nor demand would
# need a price between the demand's choke price and the supply's intercept, which the worlds drawn exclude
NODE_STATES = [(True, True), (True, False), (False, True), None]


def equilibrium(a, b, alpha, beta, cost, eps=1e-9):
    """Exact spatial equilibrium: prices, flows (per arc, ARCS order), production and consumption per region.

    a, b: supply intercept and slope; alpha, beta: demand choke price and slope; cost: per arc (ARCS order).
    Each region's supply or demand (not both) may sit at zero, or the region may dispose of a surplus
    at a zero price (free disposal: the model's balance is an inequality). Transshipment is allowed (no export
    limits), so with a strict triangle inequality it does not occur."""
    a, b, alpha, beta, cost = map(np.asarray, (a, b, alpha, beta, cost))
    at_zero_price = np.maximum(0.0, -a / b) - alpha / beta  # excess supply at a zero price
    found = []
    for arcs in FORESTS:
        n = 3 + len(arcs)
        for states in itertools.product(NODE_STATES, repeat=3):
            A, rhs = np.zeros((n, n)), np.zeros(n)
            for k, arc in enumerate(arcs):
                o, d = ARCS[arc]
                A[o, 3 + k], A[d, 3 + k] = -1, 1  # net imports enter the balances
                A[3 + k, d], A[3 + k, o], rhs[3 + k] = 1, -1, cost[arc]  # p_d - p_o = cost
            for i, state in enumerate(states):
                if state is None:  # p_i = 0: the balance becomes an inequality, checked below
                    A[i], rhs[i] = 0.0, 0.0
                    A[i, i] = 1.0
                    continue
                supply_on, demand_on = state  # supply(p) - demand(p) + net imports = 0
                if supply_on:
                    A[i, i] += 1 / b[i]
                    rhs[i] += a[i] / b[i]
                if demand_on:
                    A[i, i] += 1 / beta[i]
                    rhs[i] += alpha[i] / beta[i]
            if np.linalg.cond(A) > 1e12:
                continue
            x = np.linalg.solve(A, rhs)
            p, f = x[:3], x[3:]
            flows = np.zeros(len(ARCS))
            flows[list(arcs)] = f
            ok = (f >= -eps).all() and (p >= -eps).all()
            for arc, c in enumerate(cost):
                o, d = ARCS[arc]
                ok &= arc in arcs or p[d] - p[o] <= c + eps
            made, used = np.zeros(3), np.zeros(3)
            for i, state in enumerate(states):
                if state is None:
                    net_imports = sum(flows[k] * ((d == i) - (o == i)) for k, (o, d) in enumerate(ARCS))
                    ok &= at_zero_price[i] + net_imports >= -eps
                    made[i], used[i] = max(0.0, -a[i] / b[i]), alpha[i] / beta[i]
                    continue
                supply_on, demand_on = state
                ok &= (p[i] >= a[i] - eps) if supply_on else (p[i] <= a[i] + eps)
                ok &= (p[i] <= alpha[i] + eps) if demand_on else (p[i] >= alpha[i] - eps)
                made[i] = (p[i] - a[i]) / b[i] if supply_on else 0.0
                used[i] = (alpha[i] - p[i]) / beta[i] if demand_on else 0.0
            if ok:
                found.append((p, flows, made, used))
    assert found, "no equilibrium found"
    p, flows, made, used = found[0]
    for other in found[1:]:  # duplicates only on a measure-zero boundary; they must agree
        assert np.allclose(other[0], p, atol=1e-8) and np.allclose(other[2], made, atol=1e-8)
    return p, flows, made, used


def textbook_world(supply, demand, freight, tariff):
    """supply: per region (ref_cost, ref_quantity, elasticity); demand: per region (quantity, |elasticity|);
    freight (USD/kg) and tariff_pct: per arc, in ARCS order."""
    return tiny_world(
        list(REGIONS),
        # a mine-stage product: no producer inventories (those hold separated products at a reservation price)
        [{"id": "x", "stage": "mine", "form": "mineral", "element": "Ga"}],
        reference_price=[{"product": "x", "price": P0}],
        supply_curve=[
            {"region": r, "process": "extract", "product": "x", "ref_cost": c, "ref_quantity": q, "elasticity": e}
            for r, (c, q, e) in zip(REGIONS, supply, strict=True)
        ],
        capacity=[{"region": r, "product": "x", "capacity": 1e7} for r in REGIONS],
        demand=[
            {"region": r, "sector": "other", "product": "x", "quantity": q, "elasticity": -e}
            for r, (q, e) in zip(REGIONS, demand, strict=True)
        ],
        trade_cost=[
            {"origin": REGIONS[o], "destination": REGIONS[d], "product": "x", "freight": f, "tariff_pct": t}
            for (o, d), f, t in zip(ARCS, freight, tariff, strict=True)
        ],
    )


def textbook_curves(supply, demand, freight, tariff):
    """The curves of :func:`textbook_world` in the form :func:`equilibrium` takes (the conventions of
    docs/market.md: MC = c + c/(e q0) (q - q0); P(x) = p0 + p0/(e q0) (q0 - x)). An arc costs freight + tariff
    (cleared with no contract margin: these worlds record no trade to calibrate to)."""
    b = np.array([c / (e * q) for c, q, e in supply])
    a = np.array([c for c, _, _ in supply]) - b * np.array([q for _, q, _ in supply])
    beta = np.array([P0 / (e * q) for q, e in demand])
    alpha = P0 + beta * np.array([q for q, _ in demand])
    cost = np.asarray(freight) + np.asarray(tariff) / 100 * P0
    return a, b, alpha, beta, cost


def triangle_gaps(cost) -> np.ndarray:
    """By how much each direct arc is cheaper than the two-hop route through the third region."""
    c = {arc: cost[i] for i, arc in enumerate(ARCS)}
    return np.array([c[(i, j)] + c[(j, k)] - c[(i, k)] for i, j, k in itertools.permutations(range(3))])


def compare(result, p, flows, made) -> dict[str, float]:
    """Largest absolute errors of prices, flows and production against the reference."""
    price = np.array([float(result.price.sel(region=r, product="x")) for r in REGIONS])
    trade = np.array([float(result.trade.sel(origin=REGIONS[o], destination=REGIONS[d], product="x")) for o, d in ARCS])
    output = np.array([float(result.activity.sel(region=r, product="x").sum()) for r in REGIONS])
    return {
        "price": float(np.abs(price - p).max()),
        "flow": float(np.abs(trade - flows).max()),
        "output": float(np.abs(output - made).max()),
    }


supply_row = st.tuples(st.floats(2.0, 25.0), st.floats(5.0, 300.0), st.floats(0.1, 4.0))
# demand elasticity above 1/9: the demand curve's choke price, p0 (1 + 1/e), stays below the value of lost load
# (10 p0), so nothing is rationed
demand_row = st.tuples(st.floats(5.0, 300.0), st.floats(0.12, 3.0))
arc_costs = st.tuples(
    st.lists(st.floats(0.05, 5.0), min_size=6, max_size=6), st.lists(st.floats(0.0, 25.0), min_size=6, max_size=6)
)

TEXTBOOK = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@property_test(
    fast=10,
    full=40,
    settings=TEXTBOOK,
    supply=st.tuples(supply_row, supply_row, supply_row),
    demand=st.tuples(demand_row, demand_row, demand_row),
    costs=arc_costs,
    reexport=st.booleans(),
)
def test_random_linear_worlds_clear_to_1e6(supply, demand, costs, reexport):
    freight, tariff = costs
    a, b, alpha, beta, cost = textbook_curves(supply, demand, freight, tariff)
    # the reference has no export limits (see the module doc); where a two-hop route costs the same as the
    # direct arc, flows may split between them in any proportion
    gaps = triangle_gaps(cost)
    assume(np.abs(gaps).min() > 1e-3 and (reexport or gaps.min() > 0))
    # a region whose demand chokes off below its supply's intercept can end with neither, its price anywhere
    # between the two: a valid but non-unique dual
    assume((alpha - a).min() > 1e-3)
    p, flows, made, used = equilibrium(a, b, alpha, beta, cost)
    # without re-exports, a region that consumes nothing and imports nothing has an export limit (exports <=
    # output) that duplicates its balance: its price is then anywhere between its demand's choke price and its
    # marginal cost, the rest going to the export limit's dual (HiGHS reported the choke price)
    assume(reexport or used.min() > 1e-6)
    market = MarketSettings(allow_reexport=reexport, contract_margin_pct=0.0)
    result = clear(textbook_world(supply, demand, freight, tariff), market)
    errors = compare(result, p, flows, made)
    assert max(errors.values()) <= TOL, errors


def test_reference_solution_reproduces_the_golden_case():
    """The two-region golden case of tests/test_golden_market.py (no contract margin), with a third region C
    that trades nothing: every arc from or to it costs 500."""
    supply = [(10.0, 100.0, 1.0), (1000.0, 1.0, 1000.0), (10.0, 100.0, 1.0)]  # B: nothing below 999
    demand = [(100.0, 1.0), (100.0, 0.5), (100.0, 1.0)]
    a, b, alpha, beta, cost = textbook_curves(supply, demand, [3.0, 500, 500, 500, 500, 500], [0.0] * 6)
    p, flows, made, _ = equilibrium(a, b, alpha, beta, cost)
    assert np.allclose(p, [13.4, 16.4, 10.0]) and np.allclose(flows, [68, 0, 0, 0, 0, 0]) and np.isclose(made[0], 134)


def test_degenerate_trade_still_gives_exact_prices():
    """Free trade (zero arc costs) makes the flows non-unique, one integrated market; prices and production
    are still unique and exact."""
    supply = [(10.0, 100.0, 1.0), (14.0, 50.0, 0.5), (12.0, 80.0, 2.0)]
    demand = [(60.0, 0.3), (30.0, 0.5), (60.0, 1.0)]
    a, b, alpha, beta, cost = textbook_curves(supply, demand, [0.0] * 6, [0.0] * 6)
    p, _, made, _ = equilibrium(a, b, alpha, beta, cost)
    result = clear(textbook_world(supply, demand, [0.0] * 6, [0.0] * 6), MarketSettings(contract_margin_pct=0.0))
    errors = compare(result, p, np.zeros(6), made)
    assert max(errors["price"], errors["output"]) <= TOL, errors
    assert np.ptp(p) < 1e-9  # one price everywhere
