"""critmin engine benchmarks against the targets of the engine-speed issue.

    python benchmarks/run.py               # every measure, 5 runs each; prints a Markdown report
    python benchmarks/run.py --record      # the same, and appends it as a dated section to benchmarks/RESULTS.md
    python benchmarks/run.py --quick       # 2 runs each and fewer draws, to try it out (never recorded)
    python benchmarks/run.py --only cold warm   # some measures only (names: --list)

`make bench` installs pyomo (the Pyomo comparison needs it; it is no critmin dependency) and runs `--record`.
Every figure is the median and min-max of the runs; a target is met when the median meets it. The machine,
date, Python and library versions and the load average at start and end go with the results: on a shared
machine, read the load before the absolute times. The critmin measured is the checkout this script lives in
(its src/ is put first on the path, for subprocesses too).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "src"))  # measure this checkout, whichever critmin the interpreter has installed

import numpy as np  # noqa: E402

RESULTS = HERE / "RESULTS.md"
FLAGSHIP = REPO / "scenarios" / "china-2025-04-licensing.yaml"
REPEAT = REPO / "scenarios" / "china-controls-2027-repeat.yaml"
FLAGSHIP_END = "end: 2027-12-31"
STEP_YEARS = 1 / 12
SEED = 20251
WARM_CAPACITY = 0.7  # share of capacity left in the warm-step shock


# --- statistics and report rows ------------------------------------------------------------------------


@dataclass(frozen=True)
class Stat:
    """Repeated measurements of one figure."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    @property
    def runs(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class Target:
    """``median <= bound`` (``at_most``) or ``median >= bound``."""

    bound: float
    at_most: bool
    text: str

    def met(self, value: float) -> bool:
        return value <= self.bound if self.at_most else value >= self.bound


def at_most(bound: float, unit: str) -> Target:
    return Target(bound, True, f"≤ {bound:g} {unit}".strip())


def at_least(bound: float, unit: str) -> Target:
    return Target(bound, False, f"≥ {bound:g} {unit}".strip())


@dataclass
class Row:
    measure: str
    stat: Stat | None
    unit: str  # s, x (ratio), % or a rate such as draws/min/core
    target: Target | None = None
    text: str = ""  # shown instead of figures when there is no stat (a measure that could not run)

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        if self.stat is None:
            return "not measured"
        return "**met**" if self.target.met(self.stat.median) else "**missed**"


def fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    if unit in ("x", "ratio"):
        return f"{value:.2f}"
    if unit == "%":
        return f"{value:.0f}"
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.1f}"


def cell(stat: Stat, unit: str) -> str:
    """``median (min–max)`` for the scaling table."""
    return f"{fmt(stat.median, unit)} ({fmt(stat.low, unit)}–{fmt(stat.high, unit)})"


@dataclass
class Bench:
    """What the measures write: the main table's rows, extra tables and notes."""

    runs: int
    draws: int
    quick: bool
    rows: list[Row] = field(default_factory=list)
    tables: list[tuple[str, list[str]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, measure: str, values, unit: str, target: Target | None = None) -> Stat:
        stat = Stat(tuple(float(v) for v in values))
        self.rows.append(Row(measure, stat, unit, target))
        return stat

    def skip(self, measure: str, why: str, target: Target | None = None) -> None:
        self.rows.append(Row(measure, None, "", target, text=why))

    def note(self, text: str) -> None:
        self.notes.append(text)


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


# --- shared inputs -------------------------------------------------------------------------------------


def fresh_world():
    from critmin.world.model import World

    return World.bundled()


def stepwise():
    from critmin.market import MarketSettings

    return MarketSettings(curves="stepwise")


def flagship(end: str | None = None, name: str | None = None):
    """The licensing scenario, optionally with another end date (YYYY-MM-DD) and name."""
    from critmin.scenario import parse_scenario

    text = FLAGSHIP.read_text(encoding="utf-8")
    if end:
        text = text.replace(FLAGSHIP_END, f"end: {end}", 1)
    scenario = parse_scenario(text)
    return scenario.model_copy(update={"name": name}) if name else scenario


def one_step_market(world=None):
    """Inputs, base step data and a (not yet solved) stepwise market of the full world."""
    from critmin.market import base_step_data, build_market, market_inputs

    settings = stepwise()
    inputs = market_inputs(world or fresh_world(), settings)
    data = base_step_data(inputs, STEP_YEARS)
    return inputs, data, build_market(inputs, data, settings)


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO / "src"), env.get("PYTHONPATH")) if p)
    env.setdefault("NO_COLOR", "1")
    return env


def critmin_command() -> list[str]:
    """The ``critmin`` console script beside this interpreter (as users start it), else ``python -m``."""
    script = Path(sys.executable).with_name("critmin")
    return [str(script)] if script.exists() else [sys.executable, "-m", "critmin.cli.main"]


def run_fresh(args: list[str], env: dict[str, str] | None = None) -> float:
    """Wall time of a fresh process (stdout discarded); raises when it fails."""
    start = time.perf_counter()
    proc = subprocess.run(
        args, env=env or subprocess_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False
    )
    wall = time.perf_counter() - start
    if proc.returncode:
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return wall


def prepared_store(folder: Path, name: str = "critmin.duckdb") -> Path:
    """A DuckDB store with the bundled world loaded (what a user's store holds after the first command)."""
    from critmin.store import Store

    path = folder / name
    with Store(path) as store:
        store.world()
    return path


# --- 1. cold step --------------------------------------------------------------------------------------


def measure_cold_step(b: Bench) -> None:
    """market_inputs + base_step_data + build_market + solve_market on a freshly read world, in a process
    whose imports are done (one unrecorded step first)."""
    from critmin.market import base_step_data, build_market, market_inputs, solve_market

    settings = stepwise()
    parts: dict[str, list[float]] = {"inputs": [], "data": [], "build": [], "solve": []}
    for i in range(b.runs + 1):
        world = fresh_world()
        t_inputs, inputs = timed(lambda w=world: market_inputs(w, settings))
        t_data, data = timed(lambda inputs=inputs: base_step_data(inputs, STEP_YEARS))
        # build_market defers the sparse LP to first use; it is assembled here so the build is counted as one
        t_build, market = timed(lambda inputs=inputs, data=data: _built(build_market(inputs, data, settings)))
        t_solve, _ = timed(lambda market=market: solve_market(market))
        if i:  # the first step pays for lazy imports and first-call caches
            for key, value in zip(parts, (t_inputs, t_data, t_build, t_solve), strict=True):
                parts[key].append(value)
    total = [sum(v) for v in zip(*parts.values(), strict=True)]
    b.add("1. cold step, full world, stepwise: total", total, "s", at_most(0.2, "s"))
    b.add("1a. `market_inputs`", parts["inputs"], "s")
    b.add("1b. `base_step_data` (one month)", parts["data"], "s")
    b.add("1c. `build_market` + sparse LP assembly (`market.lp`)", parts["build"], "s")
    b.add("1d. `solve_market` (step numbers, HiGHS load and solve, results)", parts["solve"], "s")


def _built(market):
    market.lp  # noqa: B018 (a cached property: builds the sparse LP)
    return market


# --- 2. warm step --------------------------------------------------------------------------------------


def measure_warm_step(b: Bench) -> None:
    """StepSolver re-solves, alternating the base data and a shocked copy so every solve has work to do."""
    from critmin.market.step_solver import StepSolver

    _, data, market = one_step_market()
    solver = StepSolver(market)
    solver.solve(market.data)
    # 30% of every capacity out: below the reference output (85% utilisation), so output and prices must move
    shocked = data.with_(activity_cap=data.activity_cap * WARM_CAPACITY)
    times, iterations, objectives = [], [], []
    for i in range(2 * b.runs):
        t, result = timed(lambda d=(shocked if i % 2 == 0 else data): solver.solve(d))
        times.append(t)
        iterations.append(solver.h.getInfo().simplex_iteration_count)
        objectives.append(result.objective)
    b.add("2. warm step: `StepSolver.solve`, base and shocked data alternating", times, "s")
    b.note(
        f"Warm step: the shocked copy is `data.with_(activity_cap=data.activity_cap * {WARM_CAPACITY})`; HiGHS ran "
        f"{int(np.median(iterations))} simplex iterations per re-solve (median; {min(iterations)}–{max(iterations)}) "
        f"and the objective alternates between {min(objectives):.8g} and {max(objectives):.8g}, so every solve "
        f"re-optimises. {no_op_shocks(market, data)}"
    )


def no_op_shocks(market, data) -> str:
    """Which milder shocks leave the optimum where it is (HiGHS then returns without a pivot)."""
    from critmin.market.step_solver import StepSolver

    found = []
    probe = StepSolver(market)
    probe.solve(data)
    for text, shocked in (
        ("`arc_cap * 0.9` (the issue's example)", data.with_(arc_cap=data.arc_cap * 0.9)),
        ("`activity_cap * 0.9`", data.with_(activity_cap=data.activity_cap * 0.9)),
    ):
        probe.solve(shocked)
        if probe.h.getInfo().simplex_iteration_count == 0:
            found.append(text)
    if not found:
        return ""
    return (
        f"Not used: {' and '.join(found)} take 0 iterations (open arcs have an infinite `arc_cap`, and 10% less "
        "capacity stays above the reference output), so they would time a no-op."
    )


# --- 3. the two build routes ---------------------------------------------------------------------------


def sparse_build(inputs, data):
    """The sparse route's whole model: structure (``market.lp``) and this step's bounds and costs."""
    from critmin.market import build_market

    market = build_market(inputs, data, stepwise())
    market.lp.step_numbers(data)
    return market


def linopy_build(inputs, data):
    from critmin.market import build_market

    market = build_market(inputs, data, stepwise())
    market.model  # noqa: B018 (builds the linopy model; solve_market then solves through linopy)
    return market


def measure_routes(b: Bench) -> None:
    """Build and solve of one step by the sparse route (arrays to HiGHS) and the linopy route."""
    from critmin.market import solve_market

    inputs, data, _ = one_step_market()
    solve_market(linopy_build(inputs, data))  # warm-up: linopy's first model pays for its imports
    times: dict[str, list[float]] = {"sparse build": [], "sparse solve": [], "linopy build": [], "linopy solve": []}
    results = {}
    for _ in range(b.runs):
        for route, build in (("sparse", sparse_build), ("linopy", linopy_build)):
            t_build, market = timed(lambda build=build: build(inputs, data))
            t_solve, results[route] = timed(lambda market=market: solve_market(market))
            times[f"{route} build"].append(t_build)
            times[f"{route} solve"].append(t_solve)
    b.add("3a. sparse route: build (`market.lp` + step numbers)", times["sparse build"], "s")
    b.add("3b. sparse route: `solve_market` (HiGHS from arrays)", times["sparse solve"], "s")
    b.add("3c. linopy route: build (`market.model`)", times["linopy build"], "s")
    b.add("3d. linopy route: `solve_market` (through linopy)", times["linopy solve"], "s")
    b.note(route_agreement(results["sparse"], results["linopy"]))


def route_agreement(sparse, linopy) -> str:
    """How far the two routes' optima are apart (they solve the same LP)."""
    gap = abs(sparse.objective - linopy.objective) / max(abs(sparse.objective), 1.0)
    totals = [r.activity.sum("region", min_count=1).values for r in (sparse, linopy)]
    present = ~np.isnan(totals[0])
    before, after = totals[0][present], totals[1][present]
    activity = float(np.max(np.abs(before - after) / np.maximum(np.abs(before), 1e-9)))
    a, c = sparse.price.values, linopy.price.transpose(*sparse.price.dims).values
    both = ~np.isnan(a) & ~np.isnan(c)
    differ = np.abs(a[both] - c[both]) > 1e-6 * np.maximum(np.abs(a[both]), 1.0)
    worst = float(np.max(np.abs(a[both] - c[both]) / np.maximum(np.abs(a[both]), 1e-9))) if both.any() else 0.0
    return (
        f"Routes: the sparse and linopy routes reach the same optimum (objective {sparse.objective:.10g} vs "
        f"{linopy.objective:.10g}, relative gap {gap:.1e}); world output per process and product differs by at most "
        f"{activity:.1e} (relative); {int(differ.sum())} of {int(both.sum())} node prices differ by more than 1e-6 "
        f"(largest relative difference {worst:.2g}): "
        + (
            "none."
            if not differ.any()
            else "the stepwise LP's prices are not unique there, and each route's "
            "HiGHS run reports another of the equally valid duals."
        )
    )


# --- 4. 120-month run ----------------------------------------------------------------------------------


def measure_long_run(b: Bench) -> None:
    """The flagship extended to 120 months, baseline path solved too (no cache)."""
    from critmin.api import run_scenario

    scenario = flagship(end="2034-12-31")
    times = []
    for _ in range(b.runs):
        world = fresh_world()
        t, (run, _, _) = timed(lambda world=world: run_scenario(world, scenario, cache=None))
        times.append(t)
    b.add(f"4. {len(run.dates)}-month licensing run, baseline solved too (`cache=None`)", times, "s", at_most(10, "s"))


# --- 5. baseline cache ---------------------------------------------------------------------------------


class CountingCache:
    """A MemoryCache that counts the baseline paths it hands out."""

    def __init__(self):
        from critmin.simulate.baseline import MemoryCache

        self.inner, self.hits = MemoryCache(), 0

    def get(self, key):
        path = self.inner.get(key)
        self.hits += path is not None
        return path

    def put(self, key, path):
        self.inner.put(key, path)


def second_scenario(world, first):
    """china-controls-2027-repeat on the first scenario's horizon (a cached path serves a horizon no longer
    than its own), or, where its baseline key differs, the first with other approval shares. Returns the
    scenario and a note."""
    from critmin.scenario import load_scenario
    from critmin.simulate.baseline import baseline_key
    from critmin.simulate.handlers import reservations
    from critmin.simulate.selectors import Resolver
    from critmin.world.flows import element_content

    repeat = load_scenario(REPEAT, world).model_copy(update={"end": first.end})
    resolver = Resolver(world, element_content(world))
    keys = [baseline_key(world, s, reservations(s, resolver)) for s in (first, repeat)]
    if keys[0] == keys[1]:
        how = (
            f"china-controls-2027-repeat has the flagship's baseline key ({keys[0]}); it runs to {first.end} here, "
            "the flagship's end, since a cached path serves no longer horizon than its own"
        )
        return repeat, how
    shock = first.shocks[0]
    approval = [a.model_copy(update={"share": a.share * 0.6}) for a in shock.approval]
    other = first.model_copy(
        update={"name": "licensing-other-shares", "shocks": [shock.model_copy(update={"approval": approval})]}
    )
    return other, "china-controls-2027-repeat has another baseline key: the flagship with 0.6x the approval shares"


def measure_baseline_cache(b: Bench) -> None:
    """A first run on an empty MemoryCache, then another scenario that can reuse its baseline path."""
    from critmin.api import run_scenario

    first = flagship()
    firsts, seconds, hits = [], [], []
    for _ in range(b.runs):
        world, cache = fresh_world(), CountingCache()
        second, how = second_scenario(world, first)
        t_first, _ = timed(lambda world=world, cache=cache: run_scenario(world, first, cache=cache))
        t_second, _ = timed(lambda world=world, cache=cache, second=second: run_scenario(world, second, cache=cache))
        firsts.append(t_first)
        seconds.append(t_second)
        hits.append(cache.hits)
    ratios = [100 * s / f for f, s in zip(firsts, seconds, strict=True)]
    b.add(f"5a. flagship run ({first.months} months), empty `MemoryCache`", firsts, "s")
    b.add("5b. second scenario, same world and cache", seconds, "s")
    b.add("5c. second / first (in process)", ratios, "%", at_most(60, "%"))
    b.note(
        f"Baseline cache: {how}; the second run took its baseline from the cache in {sum(hits)} of {len(hits)} runs."
    )


def measure_cli_cache(b: Bench) -> None:
    """The same through the CLI: two `critmin run` processes on one temporary DuckDB store."""
    import duckdb

    world = fresh_world()
    second, _ = second_scenario(world, flagship())
    firsts, seconds, cached = [], [], []
    with tempfile.TemporaryDirectory(prefix="critmin-bench-") as tmp:
        folder = Path(tmp)
        second_file = folder / "second.yaml"
        text = REPEAT.read_text(encoding="utf-8")
        if second.name == "china-controls-2027-repeat":
            text = text.replace("end: 2028-12-31", f"end: {second.end}", 1)
        else:
            text = (
                FLAGSHIP.read_text(encoding="utf-8")
                .replace("share: 0.5", "share: 0.3")
                .replace("name: china-2025-04-licensing", "name: licensing-other-shares")
            )
        second_file.write_text(text, encoding="utf-8")
        for i in range(b.runs):
            db = prepared_store(folder, f"run{i}.duckdb")  # the world is in the store, as after a first command
            command = [*critmin_command(), "run"]
            firsts.append(run_fresh([*command, str(FLAGSHIP), "--db", str(db), "--format", "json"]))
            seconds.append(run_fresh([*command, str(second_file), "--db", str(db), "--format", "json"]))
            with duckdb.connect(str(db), read_only=True) as con:
                cached.append(con.execute("SELECT count(*) FROM baseline_cache").fetchone()[0])
    ratios = [100 * s / f for f, s in zip(firsts, seconds, strict=True)]
    b.add("5d. CLI: `critmin run` flagship, fresh process, new store", firsts, "s")
    b.add("5e. CLI: `critmin run` second scenario, fresh process, same store", seconds, "s")
    b.add("5f. CLI: second / first", ratios, "%", at_most(60, "%"))
    b.note(
        f"CLI cache: each store held {min(cached)}–{max(cached)} cached baseline path(s) after both runs (one "
        "means the second run reused the first's). Each store had the bundled world loaded beforehand, so the "
        "first run does not also pay for loading it."
    )


# --- 6. draws ------------------------------------------------------------------------------------------


def licence_variants(count: int, seed: int = SEED):
    """12-month flagship variants with random approval shares (first period 0.1-0.9, the later one higher)."""
    base = flagship(end="2025-12-31", name="licensing-12m")
    shock = base.shocks[0]
    rng = np.random.default_rng(seed)
    variants = []
    for i in range(count):
        first = float(rng.uniform(0.1, 0.9))
        shares = [first, float(rng.uniform(first, 1.0))]
        approval = [a.model_copy(update={"share": s}) for a, s in zip(shock.approval, shares, strict=True)]
        update = {"name": f"licensing-12m-draw{i}", "shocks": [shock.model_copy(update={"approval": approval})]}
        variants.append(base.model_copy(update=update))
    return variants


def measure_draws(b: Bench) -> None:
    """Draws per minute of simulate_draws on 12-month licence variants, baseline cached beforehand."""
    from critmin.simulate.baseline import MemoryCache
    from critmin.simulate.draws import simulate_draws

    world, cache = fresh_world(), MemoryCache()
    variants = licence_variants(b.draws)
    simulate_draws(world, variants[:1], cache=cache)  # the baseline is cached beforehand
    rates, cpu_share, solved = [], [], []
    for _ in range(b.runs):
        cpu = time.process_time()
        t, result = timed(lambda: simulate_draws(world, variants, cache=cache))
        rates.append(len(variants) / t * 60)
        cpu_share.append((time.process_time() - cpu) / t)
        solved.append(result.baseline_months_solved)
    b.add(
        f"6. draws through the exact engine ({len(variants)} 12-month licence variants, one process)",
        rates,
        "draws/min/core",
        at_least(300, "draws/min/core"),
    )
    b.note(
        f"Draws: baseline months solved during the timed batches: {max(solved)} (0: cached); the process used "
        f"{statistics.median(cpu_share):.2f} CPU-seconds per wall second (1.0 = one core)."
    )


# --- 7-8. CLI and server start -------------------------------------------------------------------------


def measure_cli_start(b: Bench) -> None:
    """`critmin --version` and `critmin --help` in fresh processes."""
    for i, flag in enumerate(("--version", "--help")):
        times = [run_fresh([*critmin_command(), flag]) for _ in range(b.runs)]
        b.add(f"7{'ab'[i]}. `critmin {flag}`, fresh process", times, "s", at_most(0.3, "s"))


def measure_indicators(b: Bench) -> None:
    """`critmin indicators --format json` in fresh processes, on a store that holds the world."""
    with tempfile.TemporaryDirectory(prefix="critmin-bench-") as tmp:
        db = prepared_store(Path(tmp))
        command = [*critmin_command(), "indicators", "--db", str(db), "--format", "json"]
        times = [run_fresh(command) for _ in range(b.runs)]
    b.add("8a. `critmin indicators --format json > /dev/null`, fresh process", times, "s", at_most(1, "s"))


SERVER_PROBE = textwrap.dedent("""
    import json, sys, time
    start = time.perf_counter()
    from fastapi.testclient import TestClient
    from critmin.server import ServerConfig, create_app
    with TestClient(create_app(ServerConfig(db=sys.argv[1]))) as client:
        ready = time.perf_counter()
        response = client.get("/api/indicators")
        first = time.perf_counter()
        response.raise_for_status()
        client.get("/api/indicators")
        second = time.perf_counter()
    print(json.dumps({"start": ready - start, "first": first - ready, "second": second - first}))
""")


def measure_server(b: Bench) -> None:
    """A fresh server in a fresh process, in-process (starlette's TestClient: the app and its startup, no
    socket), on a store that already holds the world."""
    import json

    start, first, second = [], [], []
    with tempfile.TemporaryDirectory(prefix="critmin-bench-") as tmp:
        db = prepared_store(Path(tmp))
        for _ in range(b.runs):
            proc = subprocess.run(
                [sys.executable, "-c", SERVER_PROBE, str(db)],
                env=subprocess_env(),
                capture_output=True,
                text=True,
                check=True,
            )
            times = json.loads(proc.stdout.strip().splitlines()[-1])
            start.append(times["start"])
            first.append(times["first"])
            second.append(times["second"])
    b.add("8b. fresh server: imports + `create_app` + startup (TestClient)", start, "s")
    b.add("8c. fresh server: first `/api/indicators`", first, "s", at_most(1, "s"))
    b.add("8d. fresh server: second `/api/indicators` (cached)", second, "s")


# --- 9. Pyomo ------------------------------------------------------------------------------------------


def measure_pyomo(b: Bench) -> None:
    """Pyomo build of the same stepwise step against both critmin builds."""
    try:
        import pyomo_step
    except ImportError:
        b.skip("9. Pyomo build / critmin build", "pyomo is not installed (`make bench` installs it)", at_least(5, "x"))
        return
    from critmin.market import solve_market

    inputs, data, market = one_step_market()
    model = pyomo_step.build(market)  # warm-up, and the model checked below
    linopy_build(inputs, data)
    pyomo, sparse, linopy = [], [], []
    for _ in range(b.runs):
        pyomo.append(timed(lambda: pyomo_step.build(market))[0])
        sparse.append(timed(lambda: sparse_build(inputs, data))[0])
        linopy.append(timed(lambda: linopy_build(inputs, data))[0])
    b.add("9a. Pyomo build of the same stepwise step", pyomo, "s")
    b.add(
        "9b. Pyomo build / sparse-route build",
        [p / s for p, s in zip(pyomo, sparse, strict=True)],
        "x",
        at_least(5, "x"),
    )
    b.add("9c. Pyomo build / linopy build", [p / s for p, s in zip(pyomo, linopy, strict=True)], "x", at_least(5, "x"))
    cols, rows = pyomo_step.size(model)
    gap = pyomo_step.objective_gap(model, solve_market(market).objective)
    b.note(
        f"Pyomo: the Pyomo model (benchmarks/pyomo_step.py) has {cols} columns and {rows} rows, critmin's "
        f"{market.lp.num_col} and {market.lp.num_row}; solved by HiGHS through Pyomo its optimum is within "
        f"{gap:.1e} (relative) of critmin's, so both builds make the same LP. The ratios are per run (each run "
        "times the three builds back to back)."
    )


# --- 10. region scaling --------------------------------------------------------------------------------


def scaled_scenario(world, months_end: str = "2025-12-31"):
    """The 12-month flagship with China's export licensing imposed by every copy of CHN."""
    from critmin.scenario import schema as S

    scenario = flagship(end=months_end, name="licensing-12m")
    china = [r for r in world.table("region")["id"] if r == "CHN" or r.startswith("CHN_")]
    shock = scenario.shocks[0].model_copy(update={"exporter": S.Places(regions=china)})
    return scenario.model_copy(update={"shocks": [shock]})


def measure_region_scaling(b: Bench) -> None:
    """Model size and times on worlds of 17, 34 and 68 regions (replicate_regions)."""
    from critmin.api import run_scenario
    from critmin.market import base_step_data, build_market, market_inputs, solve_market
    from critmin.testing import replicate_regions

    settings = stepwise()
    original = fresh_world()
    header = (
        "| regions | trade arcs | LP columns | LP rows | nonzeros | step data (s) | LP build (s) "
        "| cold solve (s) | 12-month run (s) |"
    )
    lines = [header, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for copies in (1, 2, 4):
        world = replicate_regions(original, copies)
        inputs = market_inputs(world, settings)
        t_data, t_build, t_solve = [], [], []
        for i in range(b.runs + 1):
            td, data = timed(lambda inputs=inputs: base_step_data(inputs, STEP_YEARS))
            tb, market = timed(lambda data=data, inputs=inputs: _built(build_market(inputs, data, settings)))
            ts, _ = timed(lambda market=market: solve_market(market))
            if i:  # the first of each size is a warm-up
                t_data.append(td)
                t_build.append(tb)
                t_solve.append(ts)
        scenario = scaled_scenario(world)
        t_run = [
            timed(lambda world=world, scenario=scenario: run_scenario(world, scenario, cache=None))[0]
            for _ in range(b.runs)
        ]
        lp = market.lp
        regions = len(inputs.regions)
        lines.append(
            f"| {regions} | {len(inputs.arcs)} | {lp.num_col} | {lp.num_row} | {lp.matrix.nnz} "
            f"| {cell(Stat(tuple(t_data)), 's')} | {cell(Stat(tuple(t_build)), 's')} "
            f"| {cell(Stat(tuple(t_solve)), 's')} | {cell(Stat(tuple(t_run)), 's')} |"
        )
    b.tables.append(
        (
            "10. Model size against region count (`critmin.testing.replicate_regions`, 1, 2 and 4 "
            f"copies of each region; times: median (min–max) of {b.runs} runs)",
            lines,
        )
    )
    b.note(
        "Scaling: LP build is `build_market` + `market.lp`, cold solve `solve_market` on it; the 12-month run is "
        "the flagship cut to 2025 with every copy of CHN as exporter (`cache=None`). A replicated world clears to "
        "the original's world output per product (tests/test_replicate_regions.py)."
    )


# --- report --------------------------------------------------------------------------------------------

MEASURES: dict[str, Callable[[Bench], None]] = {
    "cold": measure_cold_step,
    "warm": measure_warm_step,
    "routes": measure_routes,
    "run120": measure_long_run,
    "cache": measure_baseline_cache,
    "cli-cache": measure_cli_cache,
    "draws": measure_draws,
    "cli-start": measure_cli_start,
    "indicators": measure_indicators,
    "server": measure_server,
    "pyomo": measure_pyomo,
    "regions": measure_region_scaling,
}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.0f} GiB"
    except OSError:
        pass
    return "unknown memory"


def versions() -> str:
    names = ["highspy", "linopy", "numpy", "pandas", "xarray", "scipy", "duckdb", "pyomo"]
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} not installed")
    return ", ".join(found)


def checkout() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "src", "benchmarks")
    return f"commit {commit}" + (" with uncommitted changes in src/ or benchmarks/" if dirty else "")


def load_average() -> str:
    return " / ".join(f"{v:.2f}" for v in os.getloadavg())


def render(b: Bench, started: dt.datetime, load_start: str, load_end: str, wall: float, command: str) -> str:
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    lines = [
        f"## {started:%Y-%m-%d %H:%M} UTC, engine benchmarks" + (" (quick)" if b.quick else ""),
        "",
        f"- Command: `{command}`; {b.runs} runs per measure, median and min–max; whole benchmark {wall:.0f} s.",
        f"- Machine: {cpu_model()}, {cores} cores ({usable} usable by this process), {memory_gib()}, "
        f"{platform.system()} {platform.release()}.",
        f"- Python {platform.python_version()}; {versions()}.",
        f"- critmin {_critmin_version()} from {REPO / 'src'} ({checkout()}).",
        f"- Load average (1 / 5 / 15 min): {load_start} at start, {load_end} at end.",
        "",
        "| measure | median | min–max | runs | unit | target | |",
        "| --- | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for row in b.rows:
        target = row.target.text if row.target else ""
        if row.stat is None:
            lines.append(f"| {row.measure} | | | | | {target} | {row.verdict}: {row.text} |")
            continue
        s = row.stat
        lines.append(
            f"| {row.measure} | {fmt(s.median, row.unit)} | {fmt(s.low, row.unit)}–{fmt(s.high, row.unit)} "
            f"| {s.runs} | {row.unit} | {target} | {row.verdict} |"
        )
    for title, table in b.tables:
        lines += ["", title + ":", "", *table]
    judged = [r for r in b.rows if r.target is not None]
    met = [r.measure.split(" ", 1)[0].rstrip(".") for r in judged if r.verdict == "**met**"]
    missed = [r.measure.split(" ", 1)[0].rstrip(".") for r in judged if r.verdict != "**met**"]
    lines += [
        "",
        f"Targets (judged on the median): met {len(met)} of {len(judged)}"
        + (f" ({', '.join(met)})" if met else "")
        + (f"; missed or not measured: {', '.join(missed)}." if missed else "."),
    ]
    if b.notes:
        lines += ["", *(f"- {n}" for n in b.notes)]
    return "\n".join(lines) + "\n"


def _critmin_version() -> str:
    from critmin import __version__

    return __version__


def record(section: str) -> None:
    """Append a dated section to RESULTS.md, earlier sections kept."""
    existing = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    RESULTS.write_text(existing.rstrip("\n") + "\n\n" + section, encoding="utf-8")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--record", action="store_true", help=f"append the report to {RESULTS.relative_to(REPO)}")
    parser.add_argument("--quick", action="store_true", help="2 runs per measure and 8 draws, to try it out")
    parser.add_argument("--runs", type=int, default=None, help="runs per measure (default 5; at least 5 to record)")
    parser.add_argument("--only", nargs="+", choices=list(MEASURES), metavar="MEASURE", help="run only these")
    parser.add_argument("--list", action="store_true", help="list the measures and exit")
    args = parser.parse_args(argv)
    args.runs = args.runs or (2 if args.quick else 5)
    if args.record and (args.quick or args.runs < 5 or args.only):
        parser.error("--record keeps full results only: every measure with at least 5 runs (no --quick or --only)")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.list:
        for name, fn in MEASURES.items():
            print(f"{name:12} {(fn.__doc__ or fn.__name__).strip().splitlines()[0]}")
        return
    started, load_start, t0 = dt.datetime.now(dt.UTC), load_average(), time.perf_counter()
    b = Bench(runs=args.runs, draws=8 if args.quick else 30, quick=args.quick)
    for name in args.only or MEASURES:
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        MEASURES[name](b)
    command = "python benchmarks/run.py " + " ".join(sys.argv[1:] if argv is None else argv)
    section = render(b, started, load_start, load_average(), time.perf_counter() - t0, command.strip())
    print(section)
    if args.record:
        record(section)
        print(f"[bench] appended to {RESULTS}", file=sys.stderr)


if __name__ == "__main__":
    main()
