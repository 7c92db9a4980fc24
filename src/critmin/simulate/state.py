"""The state a path carries from one month to the next, and its updates (numpy on the shared grids).

Stocks (public, private, producer), substitution built up by high prices (share of demand lost, with its peak
for persistence) and in-use stocks whose end-of-life flows feed recycling.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from critmin.market.data import StepData, on_grid, ordered, values_in
from critmin.market.results import StepResult
from critmin.scenario import schema as S
from critmin.simulate.growth import supply_scale

STEP_YEARS = 1 / 12


@dataclass
class PathState:
    stock_level: xr.DataArray
    substitution: xr.DataArray  # region, product: share of demand lost to substitution
    in_use: xr.DataArray  # region, element: in-use stock, element units
    peak_substitution: xr.DataArray | None = None

    def __post_init__(self):
        if self.peak_substitution is None:
            self.peak_substitution = self.substitution.copy()


def initial_state(base: StepData, content_da: xr.DataArray, lifetime: float) -> PathState:
    """Reference stocks, no substitution, and in-use stocks at the steady state of reference inflows."""
    ref_inflow = (base.demand.sum("sector", min_count=1).fillna(0) * content_da).sum("product") / base.step_years
    return PathState(
        stock_level=base.stock_level.copy(),
        substitution=xr.zeros_like(base.demand.isel(sector=0, drop=True)).fillna(0.0),
        in_use=(ref_inflow * lifetime).transpose("region", "element"),
    )


def dynamic_data(base, state, growth, years, dynamics: S.Dynamics, ref_price) -> StepData:
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
    kept = 1 - values_in(state.substitution, "region", "product")[:, None, :]
    net = values_in(demand, "region", "sector", "product") * kept
    cap = np.fmin(net, values_in(base.curtail_cap, "region", "sector", "product"))
    cap = np.where(np.isnan(net), np.nan, cap)
    template = ordered(base.demand, "region", "sector", "product")
    level = values_in(state.stock_level, "region", "product", "holder")
    present = ~np.isnan(values_in(base.stock_level, "region", "product", "holder"))
    return d.with_(
        demand=on_grid(template, net),
        curtail_cap=on_grid(template, cap),
        stock_level=on_grid(state.stock_level, np.where(present, level, np.nan)),
    )


def advance(state: PathState, result: StepResult, d: StepData, content_da, lifetime: float) -> None:
    """Carry stocks, in-use stocks and substitution into the next step."""
    dims = state.stock_level.dims
    change = np.nan_to_num(values_in(result.release, *dims)) - np.nan_to_num(values_in(result.restock, *dims))
    state.stock_level = on_grid(state.stock_level, state.stock_level.values - change)  # NaN stays NaN
    consumed = np.nan_to_num(values_in(result.consumption, "region", "sector", "product")).sum(axis=1)
    inflow = consumed @ values_in(content_da, "product", "element")  # region x element
    in_use = values_in(state.in_use, "region", "element")
    updated = in_use + inflow - in_use / lifetime * d.step_years
    state.in_use = on_grid(ordered(state.in_use, "region", "element"), updated)


def substitute(state: PathState, scenario_price: xr.DataArray, baseline_price: xr.DataArray, dyn: S.Dynamics) -> None:
    """Lagged substitution: a price above baseline ``lag`` months ago moves demand away, at most
    ``substitution_max_pct_per_yr``, reaching the full rate when the price has doubled. Once the price is back
    at baseline it unwinds at the same rate, down to ``substitution_persistence_pct`` of its peak."""
    dims = state.substitution.dims
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = values_in(scenario_price, *dims) / values_in(baseline_price, *dims)
    pressure = np.nan_to_num(np.clip(ratio - 1, 0, 1))
    rate = dyn.substitution_max_pct_per_yr / 100 * STEP_YEARS
    current = state.substitution.values
    peak = np.maximum(state.peak_substitution.values, current)
    floor = peak * dyn.substitution_persistence_pct / 100
    relaxed = ratio <= 1.05  # NaN (no price on either path) is not
    grown = np.minimum(current + rate * pressure, dyn.substitution_cap_pct / 100)
    unwound = np.maximum(current - rate, floor)
    updated = np.where(relaxed, np.minimum(current, unwound), grown)
    state.substitution = on_grid(state.substitution, updated)
    state.peak_substitution = on_grid(state.peak_substitution, np.maximum(peak, updated))
