"""The time loop: monthly clearing steps over a horizon, carrying state between steps.

Two paths run side by side on the same model structure: the baseline (no shocks) and the scenario. The
baseline supplies the reference flows that licence quotas are fractions of, and the prices that peak price
ratios are measured against. State carried per path: public and private stocks, substitution built up by
high prices, and in-use stocks whose end-of-life flows feed recycling.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from critmin.market.build import build_market
from critmin.market.data import StepData, base_step_data, with_demand
from critmin.market.inputs import MarketInputs, market_inputs
from critmin.market.results import StepResult
from critmin.scenario import schema as S
from critmin.simulate.calendar import month_starts, overlap
from critmin.simulate.fast import StepSolver
from critmin.simulate.selectors import Resolver
from critmin.simulate.shocks import apply_market_shocks, compile_shocks
from critmin.world.flows import element_content
from critmin.world.model import World

STEP_YEARS = 1 / 12
PATHS = ("baseline", "scenario")


@dataclass
class PathState:
    stock_level: xr.DataArray
    substitution: xr.DataArray  # region, product: share of demand lost to substitution
    in_use: xr.DataArray  # region, element: in-use stock, element units


@dataclass
class RunResult:
    scenario: S.Scenario
    dates: list[dt.date]
    inputs: MarketInputs
    content: pd.DataFrame  # product x element
    steps: dict[str, list[StepResult]]
    stocks: dict[str, list[xr.DataArray]]
    statuses: list[str]

    def series(self, path: str, name: str) -> xr.DataArray:
        """One result array over time, e.g. ``series("scenario", "price")`` (dims ..., date)."""
        arrays = [getattr(r, name) for r in self.steps[path]]
        return xr.concat(arrays, dim=pd.Index(pd.to_datetime(self.dates), name="date"))


def _reservations(scenario: S.Scenario, resolver: Resolver) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Activities and stocks the scenario may add, so the model is built once with room for them."""
    acts, stocks = [], []
    for shock in scenario.shocks:
        if isinstance(shock, S.Project):
            acts.append((shock.region, shock.process, shock.product, shock.unit_cost_multiple))
        elif isinstance(shock, S.StockpilePolicy):
            for r in resolver.places(shock.where):
                stocks += [(r, p, shock.holder) for p in resolver.goods(shock)]
        elif isinstance(shock, S.RecyclingPolicy):
            for r in resolver.places(shock.where):
                acts += [(r, "recycle", p, 1.0) for p in resolver.goods(shock) if resolver.stage.get(p) == "separation"]
    act = pd.DataFrame(acts, columns=["region", "process", "product", "cost_multiple"])
    return act, pd.DataFrame(stocks, columns=["region", "product", "holder"])


def prepare(world: World, scenario: S.Scenario):
    content = element_content(world)
    resolver = Resolver(world, content)
    acts, stocks = _reservations(scenario, resolver)
    return market_inputs(world, scenario.market, acts, stocks), content, resolver


def simulate(
    world: World,
    scenario: S.Scenario,
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    inputs, content, resolver = prepare(world, scenario)
    base = base_step_data(inputs, STEP_YEARS)
    market = build_market(inputs, base, scenario.market)
    solvers = {path: StepSolver(market) for path in PATHS}
    compiled = compile_shocks(scenario.shocks, resolver, base)
    ref_price = xr.DataArray(inputs.ref_price.to_numpy(), coords={"product": inputs.products}, dims="product")
    dates = month_starts(scenario.start, scenario.end)
    elements = list(content.columns)
    content_da = xr.DataArray(
        content.to_numpy(), coords={"product": content.index, "element": elements}, dims=["product", "element"]
    )
    ref_inflow = (base.demand.sum("sector", min_count=1).fillna(0) * content_da).sum("product") / STEP_YEARS
    lifetime = scenario.dynamics.product_lifetime_yr
    states = {
        path: PathState(
            stock_level=base.stock_level.copy(),
            substitution=xr.zeros_like(base.demand.isel(sector=0, drop=True)).fillna(0.0),
            in_use=ref_inflow * lifetime,
        )
        for path in PATHS
    }
    growth = _growth(world, base)
    steps: dict[str, list[StepResult]] = {p: [] for p in PATHS}
    stocks: dict[str, list[xr.DataArray]] = {p: [] for p in PATHS}
    statuses = []
    for i, date in enumerate(dates):
        years = i * STEP_YEARS
        for path in PATHS:
            state = states[path]
            d = _dynamic_data(base, state, growth, years, scenario.dynamics)
            if path == "scenario":
                baseline_trade = steps["baseline"][i].trade
                d = apply_market_shocks(d, compiled, date, ref_price, baseline_trade)
                d = _apply_policies(d, compiled, date, state, content_da, lifetime)
            result = solvers[path].solve(d)
            steps[path].append(result)
            stocks[path].append(state.stock_level.copy())
            _advance(state, result, d, content_da, lifetime)
        _substitute(states["scenario"], steps, i, scenario.dynamics)
        statuses.append("optimal")
        if progress:
            progress(i + 1, len(dates))
    return RunResult(scenario, dates, inputs, content, steps, stocks, statuses)


def _growth(world: World, base: StepData) -> xr.DataArray:
    demand = world.table("demand")
    g = base.demand.copy() * np.nan
    for r in demand.itertuples(index=False):
        g.loc[{"region": r.region, "sector": r.sector, "product": r.product}] = r.growth_pct
    return g.fillna(0.0)


def _dynamic_data(base, state, growth, years, dynamics: S.Dynamics) -> StepData:
    """Demand grown and net of substitution; stock bounds from the path's current levels."""
    demand = base.demand * (1 + growth / 100) ** years * (1 - state.substitution)
    d = with_demand(base, demand, base)
    scale = (1 + dynamics.capacity_growth_pct_per_yr / 100) ** years
    return d.with_(
        stock_level=state.stock_level.where(base.stock_level.notnull()),
        activity_cap=base.activity_cap * scale,
        activity_quad=base.activity_quad / scale,
    )


def _apply_policies(d: StepData, compiled, date, state: PathState, content_da, lifetime) -> StepData:
    level, restock_cap, release_price = d.stock_level, d.restock_cap, d.release_price
    cap = d.activity_cap
    for c in compiled:
        s = c.shock
        share = overlap(date, s.start, s.end)
        if share <= 0:
            continue
        if isinstance(s, S.StockpilePolicy):
            use = d.demand.sum("sector", min_count=1).fillna(0) / d.step_years  # per year
            target = (use * s.target_days / 365).where(c.mask)
            gap = np.maximum(target - level.sel(holder=s.holder, drop=True).fillna(0), 0)
            per_step = (gap / (s.build_months * d.step_years * 12)).where(c.mask)
            per_step = per_step * share
            sel = {"holder": s.holder}
            restock_cap = restock_cap.copy()
            restock_cap.loc[sel] = xr.where(c.mask, per_step.fillna(0), restock_cap.sel(**sel))
            if s.release_multiple is not None:
                release_price = release_price.copy()
                release_price.loc[sel] = xr.where(
                    c.mask, s.release_multiple * d.curtail_lin.max(["region", "sector"]), release_price.sel(**sel)
                )
        elif isinstance(s, S.RecyclingPolicy):
            months = (date - s.start).days / 30.4375
            ramp = 1.0 if s.ramp_months <= 0 else float(np.clip(months / s.ramp_months, 0, 1))
            eol = state.in_use / lifetime * d.step_years  # element units per step
            # the oxide of each element recovers that element's end-of-life flow
            oxide_eol = (content_da.where(content_da == 1) * eol).sum("element", min_count=1).fillna(0)
            extra = (oxide_eol * s.collection_pct / 100 * ramp * share).where(c.mask, 0.0)
            cap = cap.copy()
            cap.loc[{"process": "recycle"}] = cap.sel(process="recycle") + extra.where(
                cap.sel(process="recycle").notnull()
            )
    return d.with_(stock_level=level, restock_cap=restock_cap, release_price=release_price, activity_cap=cap)


def _advance(state: PathState, result: StepResult, d: StepData, content_da, lifetime: float) -> None:
    """Carry stocks, in-use stocks and substitution into the next step."""
    change = result.release.fillna(0) - result.restock.fillna(0)
    state.stock_level = (state.stock_level - change).where(state.stock_level.notnull())
    inflow = (result.consumption.sum("sector", min_count=1).fillna(0) * content_da).sum("product")
    state.in_use = state.in_use + inflow - state.in_use / lifetime * d.step_years


def _substitute(state: PathState, steps: dict[str, list[StepResult]], i: int, dyn: S.Dynamics) -> None:
    """Lagged substitution: a price above baseline ``lag`` months ago moves demand away, at most
    ``substitution_max_pct_per_yr``, reaching the full rate when the price has doubled."""
    lag = i - dyn.substitution_lag_months
    if lag < 0:
        return
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = steps["scenario"][lag].price / steps["baseline"][lag].price
    pressure = (ratio - 1).clip(0, 1).fillna(0)
    step = dyn.substitution_max_pct_per_yr / 100 * STEP_YEARS * pressure
    state.substitution = np.minimum(state.substitution + step, dyn.substitution_cap_pct / 100)
