"""Risk benchmarks (issue 13): one-year monthly draws per minute of the bundled disruption model on the full
world, for the fast and the exact evaluator in one process, and whole studies (`critmin risk run`) serial and
on a 2-worker LocalCluster, each with its peak memory.

    python benchmarks/risk.py                       # evaluators only (about 2 minutes)
    python benchmarks/risk.py --study 10000 30000   # also studies of these sizes, 1 and 2 workers
    python benchmarks/risk.py --record ...          # append the report to benchmarks/RESULTS.md
    python benchmarks/risk.py --skip-evaluators --study 30000 --workers 2   # one study only

Every measure runs in a fresh process (peak memory is that process's maximum resident set; a study's figure
adds its dask worker processes, read from /proc while it runs). The baseline path is solved before timing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MODEL = REPO / "risks" / "china-controls.yaml"
RESULTS = HERE / "RESULTS.md"

EVALUATOR = textwrap.dedent(
    """
    import json, resource, sys, time
    sys.path.insert(0, {src!r})
    from critmin.api import load_world
    from critmin.risk import load_risk_model, sample
    from critmin.risk.engines import evaluate_chunk
    from critmin.risk.scale import chunks
    world = load_world()
    model = load_risk_model({model!r}, world)
    evaluate_chunk(world, sample(model, 4, seed=99), {engine!r})  # baseline solved and cached, not timed
    draws = sample(model, {draws}, seed=1)
    started = time.perf_counter()
    stats = {{}}
    for part in chunks(draws, {chunk}):
        result = evaluate_chunk(world, part, {engine!r})
        for key, value in result.stats.items():
            if isinstance(value, int):
                stats[key] = stats.get(key, 0) + value
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({{"wall_s": wall, "peak_mib": peak, "stats": stats}}))
    """
)


def evaluator(engine: str, draws: int, chunk: int) -> dict:
    code = EVALUATOR.format(src=str(REPO / "src"), model=str(MODEL), engine=engine, draws=draws, chunk=chunk)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["draws_per_min"] = draws / result["wall_s"] * 60
    return result


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants (MiB), from /proc (dask's worker processes are
    started by a nanny thread, so descendants are found by parent pid, not by the main thread's children)."""
    parent, rss = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            status = (entry / "status").read_text()
        except OSError:
            continue
        parent[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        vm = [line for line in status.splitlines() if line.startswith("VmRSS:")]
        rss[int(entry.name)] = int(vm[0].split()[1]) if vm else 0
    tree, stack = set(), [pid]
    while stack:
        p = stack.pop()
        tree.add(p)
        stack += [c for c, pp in parent.items() if pp == p and c not in tree]
    return sum(rss.get(p, 0) for p in tree) / 1024


def study(draws: int, workers: int) -> dict:
    """`critmin risk run` in a fresh process on a fresh store; wall time and peak memory of the process tree."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "critmin", "risk", "run", str(MODEL), "--draws", str(draws), "--seed", "1",
               "--workers", str(workers), "--db", str(Path(tmp) / "bench.duckdb"), "--json"]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        peak = 0.0
        while proc.poll() is None:
            peak = max(peak, tree_rss_mib(proc.pid))
            time.sleep(0.5)
        wall = time.perf_counter() - started
        if proc.returncode:
            raise SystemExit(f"critmin risk run failed ({proc.returncode}): {' '.join(cmd)}")
    return {"draws": draws, "workers": workers, "wall_s": wall, "draws_per_min": draws / wall * 60, "peak_mib": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--draws", type=int, default=2000, help="draws for the fast evaluator (default 2000)")
    parser.add_argument("--exact-draws", type=int, default=100, help="draws for the exact evaluator (default 100)")
    parser.add_argument("--study", type=int, nargs="*", default=[], help="study sizes to run through the CLI")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts for the studies")
    parser.add_argument("--skip-evaluators", action="store_true", help="studies only")
    parser.add_argument("--record", action="store_true", help="append the report to benchmarks/RESULTS.md")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    rows = []
    for engine, draws in () if args.skip_evaluators else (("fast", args.draws), ("exact", args.exact_draws)):
        r = evaluator(engine, draws, 500)
        s = r["stats"]
        detail = ""
        if engine == "fast":
            detail = (f"{s['event_draws']} draws with an event; {s['steps']} path-months cleared, "
                      f"{s['bases_reused']} by a re-used basis, {s['highs_solves']} by HiGHS")  # fmt: skip
        rows.append(f"| {engine} evaluator, one process, {draws:,} draws | {r['wall_s']:.1f} | "
                    f"{r['draws_per_min']:,.0f} | {r['peak_mib']:,.0f} | {detail} |")  # fmt: skip
        print(rows[-1], flush=True)
    for draws in args.study:
        for workers in args.workers:
            r = study(draws, workers)
            rows.append(f"| `critmin risk run` {draws:,} draws, --workers {workers} | {r['wall_s']:.1f} | "
                        f"{r['draws_per_min']:,.0f} | {r['peak_mib']:,.0f} | process tree, every 0.5 s |")  # fmt: skip
            print(rows[-1], flush=True)
    header = (
        f"## {dt.date.today()} risk (issue 13), {platform.node() or 'this machine'} ({os.cpu_count()} cores, "
        f"Python {platform.python_version()}), load average {load:.2f} at start\n\n"
        "`python benchmarks/risk.py` - risks/china-controls.yaml (one year, monthly), seed 1, chunks of 500.\n\n"
        "| measure | wall (s) | draws/min | peak memory (MiB) | detail |\n| --- | ---: | ---: | ---: | --- |\n"
    )
    report = header + "\n".join(rows) + "\n"
    print(report)
    if args.record:
        with RESULTS.open("a") as f:
            f.write("\n" + report)


if __name__ == "__main__":
    main()
