"""critmin benchmarks: `python benchmarks/run.py` (add `--pyomo` for the Pyomo build comparison, which needs
`pip install pyomo`). Prints a Markdown table to paste into benchmarks/RESULTS.md."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time

import numpy as np


def _time(fn, repeat=3):
    best, value = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return best, value


def one_step(curves: str):
    from critmin.market import MarketSettings, base_step_data, build_market, market_inputs, solve_market
    from critmin.world.model import World

    world = World.bundled()
    settings = MarketSettings(curves=curves)
    t_inputs, inputs = _time(lambda: market_inputs(world, settings))
    t_data, data = _time(lambda: base_step_data(inputs, 1 / 12))
    t_build, market = _time(lambda: build_market(inputs, data, settings))
    try:
        t_solve, _ = _time(lambda: solve_market(market), repeat=1)  # a linopy model is solved once
    except RuntimeError as exc:
        print(f"<!-- {curves}: {exc} -->")
        t_solve = float("nan")
    return {"inputs": t_inputs, "step data": t_data, "linopy build": t_build, "solve (linopy+HiGHS)": t_solve}, market


def warm_step(market):
    from critmin.market.step_solver import StepSolver

    solver = StepSolver(market)
    solver.solve(market.data)
    t, _ = _time(lambda: solver.solve(market.data), repeat=5)
    return t


def ten_year_run():
    from critmin.engine import run_scenario
    from critmin.scenario import parse_scenario
    from critmin.world.model import World

    path = os.path.join(os.path.dirname(__file__), "..", "scenarios", "china-2025-04-licensing.yaml")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    text = text.replace("end: 2027-12-31", "end: 2034-12-31")
    scenario = parse_scenario(text)
    world = World.bundled()
    start = time.perf_counter()
    run, _, _ = run_scenario(world, scenario)
    return time.perf_counter() - start, len(run.dates)


def pyomo_build(market):
    """A straightforward Pyomo formulation of the same stepwise LP, built from the same step data."""
    import pyomo.environ as pyo

    from critmin.market.build import activity_segments, curtail_segments

    d = market.data
    act, cur = activity_segments(d, market.settings), curtail_segments(d, market.settings)
    start = time.perf_counter()
    m = pyo.ConcreteModel()
    a_idx = [k for k, v in act.upper.to_series().items() if not np.isnan(v)]
    t_idx = [k for k, v in d.arc_cap.to_series().items() if not np.isnan(v)]
    c_idx = [k for k, v in cur.upper.to_series().items() if not np.isnan(v)]
    ub_a, cost_a = act.upper.to_series().to_dict(), act.lin.to_series().to_dict()
    m.a = pyo.Var(a_idx, bounds=lambda m, *k: (0, ub_a[k]))
    m.t = pyo.Var(t_idx, bounds=(0, None))
    ub_c, cost_c = cur.upper.to_series().to_dict(), cur.lin.to_series().to_dict()
    m.c = pyo.Var(c_idx, bounds=lambda m, *k: (0, ub_c[k]))
    arc_cost = d.arc_cost.to_series().to_dict()
    m.obj = pyo.Objective(
        expr=sum(cost_a[k] * m.a[k] for k in a_idx) + sum(arc_cost[k] * m.t[k] for k in t_idx)
        + sum(cost_c[k] * m.c[k] for k in c_idx)
    )  # fmt: skip
    yields = d.yields.to_series()
    yields = yields[yields > 0]
    recipe = d.recipe.to_series()
    recipe = recipe[recipe > 0]
    demand = (d.demand - cur.offset).sum("sector", min_count=1).to_series().dropna().to_dict()
    terms: dict = {}
    for k in a_idx:
        process, region, product, _seg = k
        if process == "separate":
            terms.setdefault((region, product), []).append(-m.a[k])
            for (conc, oxide), share in yields.items():
                if conc == product:
                    terms.setdefault((region, oxide), []).append(share * m.a[k])
        else:
            terms.setdefault((region, product), []).append(m.a[k])
            if process == "convert":
                for (out, inp), q in recipe.items():
                    if out == product:
                        terms.setdefault((region, inp), []).append(-q * m.a[k])
    for o, dest, p in t_idx:
        terms.setdefault((dest, p), []).append(m.t[(o, dest, p)])
        terms.setdefault((o, p), []).append(-m.t[(o, dest, p)])
    for region, _sector, product, _seg in c_idx:
        terms.setdefault((region, product), []).append(m.c[(region, _sector, product, _seg)])
    keys = sorted(terms)
    m.balance = pyo.Constraint(keys, rule=lambda m, r, p: sum(terms[(r, p)]) >= demand.get((r, p), 0.0))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pyomo", action="store_true", help="also time a Pyomo build of the same step")
    args = parser.parse_args()
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"date: {dt.date.today()}\n")
    print("| benchmark | seconds |\n| --- | --- |")
    for curves in ("stepwise", "linear"):
        times, market = one_step(curves)
        for name, t in times.items():
            print(f"| one step, {curves} curves: {name} | {t:.3f} |")
        if curves == "stepwise":
            warm = warm_step(market)
            print(f"| one step, stepwise: warm re-solve in the time loop (bounds updated in place) | {warm:.3f} |")
            stepwise_market, stepwise_build = market, times["linopy build"]
    t_run, months = ten_year_run()
    print(f"| {months}-month run, china-2025-04-licensing extended to 2034 (baseline + scenario paths) | {t_run:.2f} |")
    if args.pyomo:
        t_pyomo = pyomo_build(stepwise_market)
        print(f"| Pyomo build of the same stepwise step | {t_pyomo:.3f} |")
        print(f"| ratio Pyomo build / linopy build | {t_pyomo / stepwise_build:.2f} |")


if __name__ == "__main__":
    main()
