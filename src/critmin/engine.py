"""Python API for the engine: clear one step, validate and run scenarios, read stored runs."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import xarray as xr

from critmin.market import MarketSettings, StepResult, build, solve_market
from critmin.scenario import Scenario, load_scenario
from critmin.simulate.loop import RunResult, simulate
from critmin.simulate.selectors import Resolver
from critmin.simulate.shocks import apply_market_shocks, compile_shocks
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
) -> StepResult:
    """Clear one step. With a scenario, the shocks active on ``date`` apply (quotas are shares of the
    unshocked clearing's flows)."""
    settings = settings or MarketSettings()
    market = build(world, settings, step_years)
    if scenario is None:
        return solve_market(market)
    baseline = solve_market(build(world, settings, step_years))
    resolver = Resolver(world, element_content(world))
    compiled = compile_shocks(scenario.shocks, resolver, market.data)
    price = xr.DataArray(market.inputs.ref_price.to_numpy(), coords={"product": market.inputs.products}, dims="product")
    shocked = apply_market_shocks(market.data, compiled, date or scenario.start, price, baseline.trade)
    from critmin.market.build import build_market

    return solve_market(build_market(market.inputs, shocked, settings))


def element_units(world: World) -> pd.Series:
    products = world.table("product")
    single = products.dropna(subset=["element"]).drop_duplicates("element")
    return single.set_index("element")["unit"]


def run_scenario(
    world: World, scenario: Scenario, progress: Callable[[int, int], None] | None = None
) -> tuple[RunResult, pd.DataFrame, float]:
    """Simulate and summarise; returns the run, its summary and the wall time in seconds."""
    started = time.perf_counter()
    run = simulate(world, scenario, progress)
    summary = summarise(run)
    return run, summary, time.perf_counter() - started


def bundled_scenarios() -> dict[str, Path]:
    """Scenario files shipped in the repository's scenarios/ folder (or the package copy)."""
    from importlib import resources

    roots = [Path(__file__).resolve().parents[2] / "scenarios", Path(str(resources.files("critmin"))) / "scenarios"]
    for root in roots:
        if root.is_dir():
            return {p.stem: p for p in sorted(root.glob("*.yaml"))}
    return {}


__all__ = ["bundled_scenarios", "clear", "element_units", "load_scenario", "run_scenario"]
