"""The engine side of the API: clear one step, run scenarios, and store runs."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import xarray as xr

from critmin.market import MarketSettings, StepResult, base_step_data, build_market, market_inputs, solve_market
from critmin.market.curves import CurveForm
from critmin.scenario import Scenario
from critmin.simulate.baseline import PROCESS_CACHE, MemoryCache, StoreCache, element_grid
from critmin.simulate.growth import demand_growth
from critmin.simulate.handlers import (
    PolicyContext,
    apply_market_shocks,
    apply_policies,
    compile_shocks,
    reservations,
)
from critmin.simulate.loop import RunResult, simulate
from critmin.simulate.selectors import Resolver
from critmin.simulate.state import dynamic_data, initial_state
from critmin.simulate.summary import summarise
from critmin.world.flows import element_content
from critmin.world.model import World


def clear(
    world: World,
    settings: MarketSettings | None = None,
    *,
    scenario: Scenario | None = None,
    date: dt.date | None = None,
    step_years: float = 1.0,
    curves: CurveForm | None = None,
) -> StepResult:
    """Clear one step. With a scenario, the shocks active on ``date`` apply (quotas are shares of the
    unshocked clearing's flows).

    ``settings`` default to the scenario's ``market:`` block where it has one (``allow_reexport`` and every
    other setting it writes; linear curves unless it names a form: a single clear is exact by default, a run
    stepwise), else to ``MarketSettings()``. ``curves`` overrides the curve form either way."""
    if settings is None:
        written = scenario is not None and "market" in scenario.model_fields_set
        settings = scenario.market if written else MarketSettings()
    if curves is not None:
        settings = settings.model_copy(update={"curves": curves})
    if scenario is None:
        inputs = market_inputs(world, settings)
        return solve_market(build_market(inputs, base_step_data(inputs, step_years), settings))
    # as the first month of a run starting on ``date``: the model has room for what the shocks add, stock bounds
    # come from the reference state, market shocks apply against the unshocked clearing's flows, then the
    # policies act on that state (stocks, in-use stocks)
    content = element_content(world)
    resolver = Resolver(world, content)
    inputs = market_inputs(world, settings, *reservations(scenario, resolver))
    base = base_step_data(inputs, step_years)
    content_da, lifetime = element_grid(content, inputs.products), scenario.dynamics.product_lifetime_yr
    price = xr.DataArray(inputs.ref_price.to_numpy(), coords={"product": inputs.products}, dims="product")
    state = initial_state(base, content_da, lifetime)
    data = dynamic_data(base, state, demand_growth(world.table("demand"), base), 0.0, scenario.dynamics, price)
    baseline = solve_market(build_market(inputs, data, settings))
    compiled = compile_shocks(scenario.shocks, resolver, data)
    when = date or scenario.start
    shocked = apply_market_shocks(data, compiled, when, price, baseline.trade)
    policy = PolicyContext(when, state.stock_level, state.in_use, content_da, lifetime, price, shocked)
    return solve_market(build_market(inputs, apply_policies(shocked, compiled, policy), settings))


def run_scenario(
    world: World,
    scenario: Scenario,
    progress: Callable[[int, int], None] | None = None,
    cache: MemoryCache | StoreCache | None = PROCESS_CACHE,
) -> tuple[RunResult, pd.DataFrame, float]:
    """Simulate and summarise; returns the run, its summary and the wall time in seconds. The run's plausibility
    flags are ``plausibility_flags(run)`` (``critmin.runs.save_run`` stores them with the run).

    The baseline path comes from ``cache`` when it holds one for this world, start month and settings (the
    process's memory by default; ``StoreCache(store)`` keeps it in the DuckDB store; ``None`` always solves it).
    """
    started = time.perf_counter()
    run = simulate(world, scenario, progress, cache)
    summary = summarise(run)
    return run, summary, time.perf_counter() - started


def bundled_scenarios() -> dict[str, Path]:
    """Scenario files shipped in the repository's scenarios/ folder (or the package copy)."""
    from importlib import resources

    roots = [Path(__file__).resolve().parents[3] / "scenarios", Path(str(resources.files("critmin"))) / "scenarios"]
    for root in roots:
        if root.is_dir():
            return {p.stem: p for p in sorted(root.glob("*.yaml"))}
    return {}


# a region counts as affected by a run when it is short of an element or pays this much over the baseline price
AFFECTED_PRICE_RATIO = 1.05


def affected(summary: pd.DataFrame) -> pd.DataFrame:
    """The rows of a run summary where the region is short or pays more than AFFECTED_PRICE_RATIO x baseline."""
    return summary[(summary["max_shortfall_pct"] > 0) | (summary["peak_price_ratio"] > AFFECTED_PRICE_RATIO)]


def run_and_store(
    world: World,
    scenario: Scenario,
    scenario_yaml: str,
    db: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[str, RunResult, pd.DataFrame, float]:
    """Run a scenario and store it with its results, plausibility flags and policy reports (one transaction at
    the end: the run holds no store while it computes, so the dashboard and other commands keep working).
    Returns the run id, the run, its summary and the wall time (s). The baseline comes from the store's cache."""
    from critmin.api.world import element_units
    from critmin.runs import save_run
    from critmin.store import Store

    run, summary, wall = run_scenario(world, scenario, progress, StoreCache(path=db))
    with Store(db) as store:
        run_id = save_run(store, world, run, scenario_yaml, summary, wall, element_units(world))
    return run_id, run, summary, wall
