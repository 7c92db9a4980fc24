"""Planner benchmark (issue 14): a synthetic plan of N projects spread over the products of E elements, solved
with S scenarios of risks/china-controls.yaml to a 1% gap by the L-shaped method (one coalition).

    python benchmarks/plan.py                                  # 50 projects, 20 elements, 200 scenarios
    python benchmarks/plan.py --projects 10 --scenarios 20     # a quick look
    python benchmarks/plan.py --record                         # append the report to benchmarks/RESULTS.md

The projects are existing activities outside China (extract, separate, convert) given 20% more capacity at a
synthetic capex of 0.002 MUSD per t/yr (cheap enough that some are worth taking), financed by loan, guarantee
or grant: the figures are for timing, not advice. Times: building the problem (scenarios sampled and stepped
through the engine, month by month) and solving it (the master MIP and the scenario LPs of every iteration).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "src"))
RESULTS = HERE / "RESULTS.md"


def synthetic_plan(world, projects: int, elements: int, scenarios: int) -> dict:
    """Projects on the world's activities outside China, round-robin over the products of ``elements``
    elements (the ones with the most such activities)."""
    from critmin.market.data import values_in
    from critmin.market.lp import ACT_DIMS
    from critmin.risk import load_risk_model, sample
    from critmin.risk.sample import to_scenario
    from critmin.simulate.draws import shared_model
    from critmin.world.flows import element_content

    risk = load_risk_model(REPO / "risks" / "china-controls.yaml", world)
    null = to_scenario(sample(risk, 1, seed=0).table.iloc[:0].assign(draw=0), risk, name="null")
    model, _, _ = shared_model(world, [null], None)
    cap = values_in(model.base.activity_cap, *ACT_DIMS)
    coords = [list(model.base.activity_cap.coords[d].values) for d in ACT_DIMS]
    content = element_content(world)
    cells = {}
    for p, r, q in zip(*np.nonzero(np.nan_to_num(cap) > 0), strict=True):
        process, region, product = str(coords[0][p]), str(coords[1][r]), str(coords[2][q])
        if region in ("CHN", "ROW") or process == "recycle" or product not in content.index:
            continue
        element = str(content.loc[product].idxmax())
        cells.setdefault(element, []).append((process, region, product, float(cap[p, r, q]) * 12))
    chosen = sorted(cells, key=lambda e: -len(cells[e]))[:elements]
    options, k = [], 0
    while len(options) < projects and any(cells[e] for e in chosen):
        element = chosen[k % len(chosen)]
        k += 1
        if not cells[element]:
            continue
        process, region, product, annual = cells[element].pop(0)
        capacity = max(annual * 0.2, 1.0)
        options.append({
            "id": f"p{len(options):02d}-{process}-{region}-{product}".lower().replace("_", "-"), "kind": "project",
            "owner": "ALL", "region": region, "process": process, "product": product, "capacity": capacity,
            "capex_musd": round(capacity * 0.002, 4), "lead_time_months": 0, "ramp_months": 3,
            "unit_cost_multiple": 1.0, "instruments": ["loan", "guarantee", "grant"],
            "source": "benchmark: synthetic", "confidence": "assumption",
        })  # fmt: skip
    return {
        "name": "benchmark", "risk_model": str(REPO / "risks" / "china-controls.yaml"), "start": "2027-01-01",
        "years": 1, "step_months": 3, "scenarios": scenarios, "seed": 1, "method": "lshaped",
        "importance": {"china-ree-licensing": 0.3, "china-japan-halt": 0.2, "china-broad-round": 0.2},
        "risk_weight": 0.5, "alpha": 0.9, "gap": 0.01,
        "players": [{"id": "ALL", "regions": ["USA", "JPN"], "budget_musd": 200}], "options": options,
    }, sorted(chosen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--elements", type=int, default=20)
    parser.add_argument("--scenarios", type=int, default=200)
    parser.add_argument("--record", action="store_true", help="append the report to benchmarks/RESULTS.md")
    args = parser.parse_args()
    from critmin.api import load_world
    from critmin.plan import load_plan
    from critmin.plan.problem import build_problem
    from critmin.plan.solve import coalition, solve_lshaped

    load = os.getloadavg()[0]
    world = load_world()
    data, elements = synthetic_plan(world, args.projects, args.elements, args.scenarios)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "benchmark.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        plan = load_plan(path, world)
    started = time.perf_counter()
    problem = build_problem(world, plan)
    built = time.perf_counter() - started
    started = time.perf_counter()
    solution = solve_lshaped(problem, coalition(problem, ["ALL"]),
                             progress=lambda k, g: print(f"  iteration {k}: gap {g:.4f}", flush=True))  # fmt: skip
    solved = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row = (f"| {len(plan.options)} projects x {len(elements)} elements x {plan.scenarios} draws "
           f"({len(problem.scenario_names)} distinct scenarios, {len(problem.step_starts)} steps) | {built:.1f} | "
           f"{solved:.1f} | {built + solved:.1f} | {solution.iterations} | {solution.gap:.4f} | {peak:,.0f} | "
           f"{int(solution.x.sum())} modules, {solution.public_musd:.1f} MUSD |")  # fmt: skip
    report = (
        f"## {dt.date.today()} planner (issue 14), {platform.node() or 'this machine'} ({os.cpu_count()} cores, "
        f"Python {platform.python_version()}), load average {load:.2f} at start\n\n"
        f"`python benchmarks/plan.py --projects {args.projects} --elements {args.elements} --scenarios "
        f"{args.scenarios}` - L-shaped to a 1% gap, one coalition; elements: {', '.join(elements)}.\n\n"
        "| case | build (s) | solve (s) | total (s) | iterations | gap | peak memory (MiB) | plan |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n" + row + "\n"
    )
    print(report)
    if args.record:
        with RESULTS.open("a") as f:
            f.write("\n" + report)


if __name__ == "__main__":
    main()
