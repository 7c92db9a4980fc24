"""The time loop: monthly clearing steps over a horizon, carrying state between steps.

Two paths run side by side on the same model structure: the baseline (no shocks) and the scenario. The
baseline supplies the reference flows that licence quotas are fractions of, and the prices that peak price
ratios are measured against. State carried per path: public and private stocks, substitution built up by
high prices, and in-use stocks whose end-of-life flows feed recycling.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from critmin.market.build import build_market
from critmin.market.data import StepData, base_step_data, values_in
from critmin.market.inputs import MarketInputs, market_inputs
from critmin.market.results import StepResult
from critmin.market.step_solver import StepSolver
from critmin.scenario import schema as S
from critmin.simulate.balance import balance_residual
from critmin.simulate.baseline import (
    PROCESS_CACHE,
    BaselinePath,
    MemoryCache,
    StoreCache,
    baseline_key,
    element_grid,
    solve_baseline,
)
from critmin.simulate.calendar import month_starts
from critmin.simulate.growth import demand_growth
from critmin.simulate.handlers import (
    PathRecord,
    PolicyContext,
    apply_market_shocks,
    apply_policies,
    compile_shocks,
    policy_reports,
    reservations,
)
from critmin.simulate.selectors import Resolver
from critmin.simulate.state import STEP_YEARS, advance, dynamic_data, initial_state, substitute
from critmin.world.flows import element_content
from critmin.world.model import World


@dataclass
class RunResult:
    scenario: S.Scenario
    dates: list[dt.date]
    inputs: MarketInputs
    content: pd.DataFrame  # product x element
    steps: dict[str, list[StepResult]]
    stocks: dict[str, list[xr.DataArray]]
    statuses: list[str]
    # per path, per step: largest node balance residual relative to the node's throughput (-)
    balance_residual: dict[str, list[float]] = field(default_factory=dict)
    # one record per policy shock and node: name, type, region, product, target_t, held_at_start_t, bought_t,
    # mean_buy_price, released_t, delivered_t (projects, recycling), acted (bool), reason (empty when it acted)
    policy_reports: list[dict] = field(default_factory=list)
    # per path, per step: share of each region x product's demand lost to lagged substitution (-)
    substitution: dict[str, list[xr.DataArray]] = field(default_factory=dict)
    _series: dict = field(default_factory=dict, repr=False, compare=False)  # series() cache

    def series(self, path: str, name: str) -> xr.DataArray:
        """One result array over time, e.g. ``series("scenario", "price")`` (dims ..., date)."""
        key = (path, name)
        if key not in self._series:
            arrays = [getattr(r, name) for r in self.steps[path]]
            first = arrays[0]
            values = np.stack([values_in(a, *first.dims) for a in arrays], axis=-1)
            coords = {**{k: first.coords[k].values for k in first.dims}, "date": pd.to_datetime(self.dates)}
            self._series[key] = xr.DataArray(values, coords=coords, dims=(*first.dims, "date"))
        return self._series[key]


def simulate(
    world: World,
    scenario: S.Scenario,
    progress: Callable[[int, int], None] | None = None,
    cache: MemoryCache | StoreCache | None = PROCESS_CACHE,
) -> RunResult:
    """Run the baseline (from ``cache`` when it holds this world, horizon and settings; ``None``: always
    solve it) and then the scenario path. ``progress(done, total)`` counts the run's months (``total`` is the
    horizon, as the server's job fields promise): a month is done when both paths have solved it, so while
    the baseline is solved too, each path's month counts half."""
    content = element_content(world)
    reserved = reservations(scenario, Resolver(world, content))
    months = len(month_starts(scenario.start, scenario.end))
    baseline, solved = cached_baseline(world, scenario, content, reserved, cache, progress)
    report = (lambda i: progress((solved + i) * months // (solved + months), months)) if progress else None
    return scenario_path(world, scenario, content, reserved, baseline, report)


def cached_baseline(world, scenario, content, reserved, cache, progress=None) -> tuple[BaselinePath, int]:
    """The baseline over the scenario's horizon, from ``cache`` or solved (and then cached); also returns
    how many months were solved for it. ``progress(done, total)`` as in :func:`simulate` (one scenario path
    follows)."""
    months = len(month_starts(scenario.start, scenario.end))
    key = baseline_key(world, scenario, reserved) if cache is not None else None
    baseline = cache.get(key) if cache is not None else None
    if baseline is not None and len(baseline) >= months:
        return baseline.head(months), 0
    # not cached, or for a shorter horizon: solve the whole path (and keep the longer one)
    report = (lambda i: progress(i // 2, months)) if progress else None  # half of each month's work
    baseline = solve_baseline(world, scenario, content, reserved, report)
    if cache is not None:
        cache.put(key, baseline)
    return baseline, months


@dataclass
class PathModel:
    """What every scenario path on one world, horizon and model structure shares: the inputs, the reference
    step, one warm-started solver, and the grids the state updates use."""

    world: World
    inputs: MarketInputs
    base: StepData
    solver: StepSolver
    resolver: Resolver
    content: pd.DataFrame
    content_da: xr.DataArray
    ref_price: xr.DataArray
    growth: xr.DataArray
    start_basis: object  # the solver's optimal basis on the reference step: every path starts from it


def path_model(world: World, scenario: S.Scenario, content: pd.DataFrame, reserved) -> PathModel:
    inputs = market_inputs(world, scenario.market, *reserved)
    base = base_step_data(inputs, STEP_YEARS)
    solver = StepSolver(build_market(inputs, base, scenario.market))
    # where prices are degenerate, the solver reports the one its pivots reach: starting every path from one
    # basis makes a path's results independent of the paths solved before it (a draw equals its single run)
    solver.solve(base)
    return PathModel(
        world=world,
        inputs=inputs,
        base=base,
        solver=solver,
        start_basis=solver.basis(),
        resolver=Resolver(world, content),
        content=content,
        content_da=element_grid(content, inputs.products),
        ref_price=xr.DataArray(inputs.ref_price.to_numpy(), coords={"product": inputs.products}, dims="product"),
        growth=demand_growth(world.table("demand"), base),
    )


def scenario_path(
    world: World,
    scenario: S.Scenario,
    content: pd.DataFrame,
    reserved: tuple[pd.DataFrame, pd.DataFrame],
    baseline: BaselinePath,
    progress: Callable[[int], None] | None = None,
) -> RunResult:
    """Clear the scenario's months against a solved baseline (quotas are shares of its flows, substitution
    follows the price ratio to it)."""
    return run_path(path_model(world, scenario, content, reserved), scenario, baseline, progress)


def run_path(
    model: PathModel,
    scenario: S.Scenario,
    baseline: BaselinePath,
    progress: Callable[[int], None] | None = None,
    baseline_series: dict | None = None,
) -> RunResult:
    """One scenario path on a prepared model, its solver restarted from the model's start basis.
    ``baseline_series``: the baseline's stacked series from an earlier path on the same baseline (draws)."""
    base, content_da = model.base, model.content_da
    compiled = compile_shocks(scenario.shocks, model.resolver, base)
    model.solver.restart(model.start_basis)
    dates = month_starts(scenario.start, scenario.end)
    lifetime = scenario.dynamics.product_lifetime_yr
    state = initial_state(base, content_da, lifetime)
    steps, stocks, residuals, substitution, data = [], [], [], [], []
    lag = scenario.dynamics.substitution_lag_months
    for i, date in enumerate(dates):
        d = step_data(model, scenario, compiled, baseline, state, i, date)
        if i:
            # each month starts afresh from the basis the last one ended with, so a month's result depends on
            # that basis and the month's data only (not on the solver's pricing history): the batch engine
            # (critmin.risk.fast), which clears many paths month by month, then reproduces a path exactly
            model.solver.restart(model.solver.basis())
        result = model.solver.solve(d)
        steps.append(result)
        stocks.append(state.stock_level)  # never changed in place: each step makes a new array
        residuals.append(balance_residual(result, d))
        substitution.append(state.substitution)
        data.append(d)
        carry(model, scenario, baseline, state, result, d, i, steps[i - lag].price if i >= lag else None)
        if progress:
            progress(i + 1)
    all_steps = {"baseline": list(baseline.steps), "scenario": steps}
    reports = policy_reports(compiled, PathRecord(dates, all_steps, data, content_da, stocks))
    return RunResult(
        scenario,
        dates,
        model.inputs,
        model.content,
        all_steps,
        {"baseline": list(baseline.stocks), "scenario": stocks},
        ["optimal"] * len(dates),
        balance_residual={"baseline": list(baseline.residuals), "scenario": residuals},
        policy_reports=reports,
        substitution={"baseline": list(baseline.substitution), "scenario": substitution},
        _series=dict(baseline_series or {}),
    )


def step_data(
    model: PathModel, scenario: S.Scenario, compiled, baseline: BaselinePath, state, i: int, date: dt.date
) -> StepData:
    """Month ``i``'s step data on a path: demand and stocks from the path's state, then the scenario's market
    shocks and policies in force on ``date``."""
    d = dynamic_data(model.base, state, model.growth, i * STEP_YEARS, scenario.dynamics, model.ref_price)
    d = apply_market_shocks(d, compiled, date, model.ref_price, baseline.steps[i].trade)
    lifetime = scenario.dynamics.product_lifetime_yr
    policy = PolicyContext(date, state.stock_level, state.in_use, model.content_da, lifetime, model.ref_price, d)
    return apply_policies(d, compiled, policy)


def carry(model: PathModel, scenario: S.Scenario, baseline: BaselinePath, state, result, d, i: int, lagged_price):
    """Carry the path's state past month ``i`` (cleared as ``result``); ``lagged_price`` is the path's price
    ``substitution_lag_months`` before (None while the path is younger than the lag)."""
    advance(state, result, d, model.content_da, scenario.dynamics.product_lifetime_yr)
    if lagged_price is not None:
        lag = scenario.dynamics.substitution_lag_months
        substitute(state, lagged_price, baseline.steps[i - lag].price, scenario.dynamics)
