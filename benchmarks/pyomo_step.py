"""The clearing step written in Pyomo, for the build-time comparison of benchmarks/run.py (pyomo is installed
for the benchmark only, never a critmin dependency).

A straightforward Pyomo formulation of the same LP as critmin's two routes (the linopy reference formulation in
critmin/market/build.py and the sparse one in critmin/market/lp.py): the same variables (activity and curtailment
segments, two trade tiers, grade switching, demand relief, unserved demand, stock release and restocking), the
same objective, and the same three row families (consumption_nonnegative, balance, export_limit), built from
the same step data the way a Pyomo user would: index lists and dicts from the labelled arrays, then
``Var``/``Constraint`` rules. ``check`` solves it with HiGHS through Pyomo and compares with critmin's optimum,
so the ratio compares builds of one model, not of two.
"""

from __future__ import annotations

import math

import pyomo.environ as pyo

from critmin.market.build import MarketModel, activity_segments, curtail_segments
from critmin.market.data import trade_tiers


def _present(a) -> dict:
    """Cells of a labelled array that hold a value: {key tuple: value}."""
    series = a.to_series()
    return {k: float(v) for k, v in series.items() if not (isinstance(v, float) and math.isnan(v))}


def _cost(v: float) -> float:
    return v if math.isfinite(v) else 0.0  # as critmin's objective: no cost where none is finite


def _upper(v: float) -> float | None:
    return None if v == math.inf else v


def build(market: MarketModel) -> pyo.ConcreteModel:
    d, settings = market.data, market.settings
    act, cur = activity_segments(d, settings), curtail_segments(d, settings)
    m = pyo.ConcreteModel()

    # variables: bounds and costs from the same arrays critmin builds from
    act_ub, act_cost = _present(act.upper), _present(act.lin)
    m.A = pyo.Set(initialize=list(act_ub), dimen=4)
    m.activity = pyo.Var(m.A, bounds=lambda m, *k: (0, _upper(act_ub[k])))
    tier_ub, tier_cost = trade_tiers(d)
    trade_ub, trade_cost = (
        _present(tier_ub.transpose("origin", "destination", "product", "tier")),
        _present(tier_cost.transpose("origin", "destination", "product", "tier")),
    )
    m.T = pyo.Set(initialize=list(trade_ub), dimen=4)
    m.trade = pyo.Var(m.T, bounds=lambda m, *k: (0, _upper(trade_ub[k])))
    switch_ub, switch_cost = _present(d.switch_cap), _present(d.switch_cost)
    m.S = pyo.Set(initialize=list(switch_ub), dimen=3)
    m.switch = pyo.Var(m.S, bounds=lambda m, *k: (0, switch_ub[k]))
    relief_ub, relief_cost = _present(d.relief_cap), _present(d.relief_cost)
    m.F = pyo.Set(initialize=list(relief_ub), dimen=4)
    m.relief = pyo.Var(m.F, bounds=lambda m, *k: (0, relief_ub[k]))
    cur_lo, cur_ub, cur_cost = _present(cur.lower), _present(cur.upper), _present(cur.lin)
    m.C = pyo.Set(initialize=list(cur_ub), dimen=4)
    m.curtail = pyo.Var(m.C, bounds=lambda m, *k: (cur_lo[k], cur_ub[k]))
    demand, voll = _present(d.demand), _present(d.voll)
    m.D = pyo.Set(initialize=list(demand), dimen=3)
    m.unserved = pyo.Var(m.D, bounds=lambda m, *k: (0, demand[k]))
    stock, restock_cap = _present(d.stock_level), _present(d.restock_cap)
    release_price, restock_price = _present(d.release_price), _present(d.restock_price)
    m.H = pyo.Set(initialize=list(stock), dimen=3)
    m.release = pyo.Var(m.H, bounds=lambda m, *k: (0, stock[k]))
    m.restock = pyo.Var(m.H, bounds=lambda m, *k: (0, _upper(restock_cap[k])))

    m.cost = pyo.Objective(
        expr=sum(_cost(act_cost[k]) * m.activity[k] for k in m.A)
        + sum(_cost(trade_cost[k]) * m.trade[k] for k in m.T)
        + sum(_cost(switch_cost[k]) * m.switch[k] for k in m.S)
        + sum(_cost(relief_cost[k]) * m.relief[k] for k in m.F)
        + sum(_cost(cur_cost[k]) * m.curtail[k] for k in m.C)
        + sum(_cost(voll[k]) * m.unserved[k] for k in m.D)
        + sum(_cost(release_price[k]) * m.release[k] for k in m.H)
        - sum(_cost(restock_price[k]) * m.restock[k] for k in m.H)
    )

    # consumption_nonnegative: curtailed + rationed + relieved <= demand - curtailment offset, per demand cell
    offset = _present(cur.offset)
    final: dict = {k: [] for k in demand}
    for k in m.C:
        final[k[:3]].append(m.curtail[k])
    for k in m.F:
        final[k[:3]].append(m.relief[k])
    m.consumption_nonnegative = pyo.Constraint(
        m.D, rule=lambda m, *k: sum(final[k]) + m.unserved[k] <= demand[k] - offset.get(k, 0.0)
    )

    # balance per region x product: supply + imports - exports - intake - restock + final use + switched >= demand
    yields = {k: v for k, v in _present(d.yields).items() if v > 0}
    recipe = {k: v for k, v in _present(d.recipe).items() if v > 0}
    yields_of: dict = {}
    for (conc, oxide), share in yields.items():
        yields_of.setdefault(conc, []).append((oxide, share))
    inputs_of: dict = {}
    for (output, product), q in recipe.items():
        inputs_of.setdefault(output, []).append((product, q))
    terms: dict = {}
    supply: dict = {}  # what a node makes, separates out or releases (the export limit)
    exports: dict = {}

    def add(node, coef, var, into=terms):
        into.setdefault(node, []).append((coef, var))

    for k in m.A:
        process, region, product, _ = k
        var = m.activity[k]
        if process == "separate":
            add((region, product), -1.0, var)
            for oxide, share in yields_of.get(product, []):
                add((region, oxide), share, var)
                add((region, oxide), share, var, supply)
        else:
            add((region, product), 1.0, var)
            add((region, product), 1.0, var, supply)
            if process == "convert":
                for product_in, q in inputs_of.get(product, []):
                    add((region, product_in), -q, var)
    importing = set()
    for k in m.T:
        origin, destination, product, _ = k
        add((destination, product), 1.0, m.trade[k])
        add((origin, product), -1.0, m.trade[k])
        add((origin, product), 1.0, m.trade[k], exports)
        importing.add((destination, product))
    for k in m.H:
        region, product, _ = k
        add((region, product), 1.0, m.release[k])
        add((region, product), 1.0, m.release[k], supply)
        add((region, product), -1.0, m.restock[k])
    for k in m.C:
        add((k[0], k[2]), 1.0, m.curtail[k])
    for k in m.D:
        add((k[0], k[2]), 1.0, m.unserved[k])
    for k in m.F:
        add((k[0], k[2]), 1.0, m.relief[k])
    for k in m.S:
        region, source, product = k
        add((region, product), 1.0, m.switch[k])
        add((region, source), -1.0, m.switch[k])
    need: dict = {}
    for (region, _sector, product), q in demand.items():
        need[(region, product)] = need.get((region, product), 0.0) + q - offset.get((region, _sector, product), 0.0)
    m.N = pyo.Set(initialize=sorted(terms), dimen=2)
    m.balance = pyo.Constraint(m.N, rule=lambda m, *n: sum(c * v for c, v in terms[n]) >= need.get(n, 0.0))
    if not settings.allow_reexport:
        limited = sorted(n for n in exports if n in importing)
        m.L = pyo.Set(initialize=limited, dimen=2)
        m.export_limit = pyo.Constraint(
            m.L, rule=lambda m, *n: sum(c * v for c, v in exports[n]) <= sum(c * v for c, v in supply.get(n, []))
        )
    return m


def size(m: pyo.ConcreteModel) -> tuple[int, int]:
    """Columns and rows of the Pyomo model."""
    cols = sum(len(v) for v in m.component_objects(pyo.Var, active=True))
    rows = sum(len(c) for c in m.component_objects(pyo.Constraint, active=True))
    return cols, rows


def solve(m: pyo.ConcreteModel) -> float:
    """Optimal objective through Pyomo's HiGHS interface (highspy)."""
    from pyomo.contrib.appsi.solvers import Highs

    solver = Highs()
    solver.config.stream_solver = False
    result = solver.solve(m)
    if str(result.termination_condition) != "TerminationCondition.optimal":
        raise RuntimeError(f"HiGHS through Pyomo: {result.termination_condition}")
    return float(result.best_feasible_objective)


def objective_gap(m: pyo.ConcreteModel, critmin_objective: float) -> float:
    """Relative difference between Pyomo's optimum and critmin's (a check that both describe one LP)."""
    value = solve(m)
    return abs(value - critmin_objective) / max(abs(critmin_objective), 1.0)


__all__ = ["build", "objective_gap", "size", "solve"]


if __name__ == "__main__":  # a self-check: python benchmarks/pyomo_step.py
    from critmin.market import MarketSettings, base_step_data, build_market, market_inputs, solve_market
    from critmin.world.model import World

    settings = MarketSettings(curves="stepwise")
    inputs = market_inputs(World.bundled(), settings)
    market = build_market(inputs, base_step_data(inputs, 1 / 12), settings)
    model = build(market)
    print("pyomo columns, rows:", size(model), "critmin:", (market.lp.num_col, market.lp.num_row))
    print("objective gap:", objective_gap(model, solve_market(market).objective))
