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
from critmin.market.data import StepData, base_step_data
from critmin.market.inputs import MarketInputs, market_inputs
from critmin.market.results import StepResult
from critmin.market.step_solver import StepSolver
from critmin.scenario import schema as S
from critmin.simulate.balance import balance_residual
from critmin.simulate.calendar import month_starts
from critmin.simulate.growth import demand_growth, supply_scale
from critmin.simulate.policies import (
    apply_recycling,
    apply_stockpile,
    capacity_reports,
    element_use,
    stockpile_reports,
)
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
    peak_substitution: xr.DataArray | None = None

    def __post_init__(self):
        if self.peak_substitution is None:
            self.peak_substitution = self.substitution.copy()


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
            values = np.stack([a.transpose(*first.dims).values for a in arrays], axis=-1)
            coords = {**{k: first.coords[k].values for k in first.dims}, "date": pd.to_datetime(self.dates)}
            self._series[key] = xr.DataArray(values, coords=coords, dims=(*first.dims, "date"))
        return self._series[key]


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
                acts += [
                    (r, "recycle", p, shock.unit_cost_multiple)
                    for p in resolver.goods(shock)
                    if resolver.stage.get(p) == "separation"
                ]
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
    solvers = {path: StepSolver(market.lp, base) for path in PATHS}
    compiled = compile_shocks(scenario.shocks, resolver, base)
    ref_price = xr.DataArray(inputs.ref_price.to_numpy(), coords={"product": inputs.products}, dims="product")
    dates = month_starts(scenario.start, scenario.end)
    elements = list(content.columns)
    content_da = xr.DataArray(
        content.to_numpy(), coords={"product": content.index, "element": elements}, dims=["product", "element"]
    ).reindex(product=inputs.products, fill_value=0.0)
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
    growth = demand_growth(world.table("demand"), base)
    steps: dict[str, list[StepResult]] = {p: [] for p in PATHS}
    stocks: dict[str, list[xr.DataArray]] = {p: [] for p in PATHS}
    residuals: dict[str, list[float]] = {p: [] for p in PATHS}
    substitution: dict[str, list[xr.DataArray]] = {p: [] for p in PATHS}
    scenario_data: list[StepData] = []
    statuses = []
    for i, date in enumerate(dates):
        years = i * STEP_YEARS
        for path in PATHS:
            state = states[path]
            d = _dynamic_data(base, state, growth, years, scenario.dynamics, ref_price)
            if path == "scenario":
                baseline_trade = steps["baseline"][i].trade
                d = apply_market_shocks(d, compiled, date, ref_price, baseline_trade)
                d = _apply_policies(d, compiled, date, state, content_da, lifetime, ref_price)
                scenario_data.append(d)
            result = solvers[path].solve(d)
            steps[path].append(result)
            stocks[path].append(state.stock_level.copy())
            residuals[path].append(balance_residual(result, d))
            substitution[path].append(state.substitution)
            _advance(state, result, d, content_da, lifetime)
        _substitute(states["scenario"], steps, i, scenario.dynamics)
        statuses.append("optimal")
        if progress:
            progress(i + 1, len(dates))
    reports = stockpile_reports(compiled, dates, steps["scenario"], scenario_data, content_da, stocks["scenario"])
    reports += capacity_reports(compiled, dates, steps)
    return RunResult(
        scenario,
        dates,
        inputs,
        content,
        steps,
        stocks,
        statuses,
        balance_residual=residuals,
        policy_reports=reports,
        substitution=substitution,
    )


def _dynamic_data(base, state, growth, years, dynamics: S.Dynamics, ref_price) -> StepData:
    """Demand (grown on the trend, net of substitution) and stock bounds from the path's current levels."""
    demand = base.demand
    d = base
    if dynamics.growth == "trend" and years > 0:
        demand = base.demand * (1 + growth / 100) ** years
        scale = supply_scale(base, demand, ref_price.to_numpy())
        d = base.with_(
            activity_cap=base.activity_cap * scale,
            activity_quad=base.activity_quad / scale,
            arc_contract=base.arc_contract * scale,
        )
    # demand curves shift horizontally to the new reference quantities, keeping their slopes (the rationing
    # point keeps its distance); numpy on the shared grids, aligned by construction
    kept = 1 - _values(state.substitution, "region", "product")[:, None, :]
    net = _values(demand, "region", "sector", "product") * kept
    cap = np.fmin(net, _values(base.curtail_cap, "region", "sector", "product"))
    cap = np.where(np.isnan(net), np.nan, cap)
    template = base.demand.transpose("region", "sector", "product")
    level = _values(state.stock_level, "region", "product", "holder")
    present = ~np.isnan(_values(base.stock_level, "region", "product", "holder"))
    return d.with_(
        demand=template.copy(data=net),
        curtail_cap=template.copy(data=cap),
        stock_level=state.stock_level.copy(data=np.where(present, level, np.nan)),
    )


def _values(a: xr.DataArray, *dims: str) -> np.ndarray:
    return a.values if a.dims == dims else a.transpose(*dims).values


def _apply_policies(d: StepData, compiled, date, state: PathState, content_da, lifetime, ref_price) -> StepData:
    use = None
    for c in compiled:
        if isinstance(c.shock, S.StockpilePolicy):
            use = element_use(d, content_da) if use is None else use
            d = apply_stockpile(d, c, date, state.stock_level, ref_price, use)
        elif isinstance(c.shock, S.RecyclingPolicy):
            d = apply_recycling(d, c, date, state.in_use, content_da, lifetime)
    return d


def _advance(state: PathState, result: StepResult, d: StepData, content_da, lifetime: float) -> None:
    """Carry stocks, in-use stocks and substitution into the next step."""
    dims = state.stock_level.dims
    change = np.nan_to_num(_values(result.release, *dims)) - np.nan_to_num(_values(result.restock, *dims))
    state.stock_level = state.stock_level.copy(data=state.stock_level.values - change)  # NaN stays NaN
    consumed = np.nan_to_num(_values(result.consumption, "region", "sector", "product")).sum(axis=1)
    inflow = consumed @ _values(content_da, "product", "element")  # region x element
    in_use = _values(state.in_use, "region", "element")
    updated = in_use + inflow - in_use / lifetime * d.step_years
    state.in_use = state.in_use.transpose("region", "element").copy(data=updated)


def _substitute(state: PathState, steps: dict[str, list[StepResult]], i: int, dyn: S.Dynamics) -> None:
    """Lagged substitution: a price above baseline ``lag`` months ago moves demand away, at most
    ``substitution_max_pct_per_yr``, reaching the full rate when the price has doubled. Once the price is back
    at baseline it unwinds at the same rate, down to ``substitution_persistence_pct`` of its peak."""
    lag = i - dyn.substitution_lag_months
    if lag < 0:
        return
    dims = state.substitution.dims
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = _values(steps["scenario"][lag].price, *dims) / _values(steps["baseline"][lag].price, *dims)
    pressure = np.nan_to_num(np.clip(ratio - 1, 0, 1))
    rate = dyn.substitution_max_pct_per_yr / 100 * STEP_YEARS
    current = state.substitution.values
    peak = np.maximum(state.peak_substitution.values, current)
    floor = peak * dyn.substitution_persistence_pct / 100
    relaxed = ratio <= 1.05  # NaN (no price on either path) is not
    grown = np.minimum(current + rate * pressure, dyn.substitution_cap_pct / 100)
    unwound = np.maximum(current - rate, floor)
    updated = np.where(relaxed, np.minimum(current, unwound), grown)
    state.substitution = state.substitution.copy(data=updated)
    state.peak_substitution = state.peak_substitution.copy(data=np.maximum(peak, updated))
