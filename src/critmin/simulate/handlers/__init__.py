"""One handler per shock type (see :mod:`critmin.simulate.handlers.base`), and the functions the time loop and
one-step clearing use to run a scenario's shocks through them."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import xarray as xr

from critmin.market.data import StepData, on_grid, ordered
from critmin.scenario import schema as S
from critmin.simulate.calendar import step_end
from critmin.simulate.handlers.base import (
    ARC_DIMS,
    CompiledShock,
    MarketArrays,
    PathRecord,
    PolicyContext,
    Reservation,
    ShockHandler,
    StepContext,
    as_frames,
)
from critmin.simulate.handlers.policy import PriceFloorHandler, RecyclingPolicyHandler, StockpilePolicyHandler
from critmin.simulate.handlers.production import DemandShiftHandler, OutageHandler, ProjectHandler, ramp_share
from critmin.simulate.handlers.trade import (
    AllyPreferenceHandler,
    ExportControlHandler,
    TariffHandler,
    civil_share,
    licence_share,
)
from critmin.simulate.selectors import Resolver

HANDLERS: dict[type, ShockHandler] = {
    h.shock_type: h
    for h in (
        ExportControlHandler(),
        TariffHandler(),
        AllyPreferenceHandler(),
        OutageHandler(),
        DemandShiftHandler(),
        ProjectHandler(),
        StockpilePolicyHandler(),
        RecyclingPolicyHandler(),
        PriceFloorHandler(),
    )
}


def handler_for(shock: S.Shock) -> ShockHandler:
    try:
        return HANDLERS[type(shock)]
    except KeyError:
        raise TypeError(f"no handler for shock type {type(shock).__name__}") from None


def reservations(scenario: S.Scenario, resolver: Resolver) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Activities and stocks the scenario's shocks may add, so the model is built once with room for them."""
    return as_frames([handler_for(s).reserve(s, resolver) for s in scenario.shocks])


def compile_shocks(shocks: list[S.Shock], resolver: Resolver, data: StepData) -> list[CompiledShock]:
    return [handler_for(s).compile(s, resolver, data) for s in shocks]


def apply_market_shocks(
    d: StepData,
    compiled: list[CompiledShock],
    step_start: dt.date,
    ref_price: xr.DataArray,
    baseline_trade: xr.DataArray | None,
) -> StepData:
    """The step's data with the market shocks active in it applied, in the scenario's order (quotas are shares
    of ``baseline_trade``, the unshocked clearing's flows)."""
    arrays = MarketArrays.of(d, baseline_trade)
    step = StepContext(d, step_start, (step_end(step_start) - step_start).days + 1, ref_price)
    for c in compiled:
        handler_for(c.shock).apply(c, arrays, step)
    arcs = ordered(d.arc_cap, *ARC_DIMS)
    return d.with_(
        arc_cap=on_grid(arcs, arrays.arc_cap),
        arc_cost=on_grid(arcs, arrays.arc_cost),
        arc_contract_cost=on_grid(arcs, arrays.contract_cost),
        activity_cap=arrays.activity_cap,
        activity_quad=arrays.activity_quad,
        demand=arrays.demand,
        activity_subsidy=arrays.subsidy,
    )


def apply_policies(d: StepData, compiled: list[CompiledShock], policy: PolicyContext) -> StepData:
    """The step's data after the policies that act through the path's state (stockpiles, recycling)."""
    for c in compiled:
        d = handler_for(c.shock).apply_policy(d, c, policy)
    return d


def policy_reports(compiled: list[CompiledShock], path: PathRecord) -> list[dict]:
    """What each shock did on a finished path: stock policies first, then capacity additions."""
    ordered_shocks = sorted(compiled, key=lambda c: handler_for(c.shock).report_group)
    return [row for c in ordered_shocks for row in handler_for(c.shock).report(c, path)]


__all__ = [
    "HANDLERS",
    "CompiledShock",
    "PathRecord",
    "PolicyContext",
    "Reservation",
    "ShockHandler",
    "apply_market_shocks",
    "apply_policies",
    "civil_share",
    "compile_shocks",
    "handler_for",
    "licence_share",
    "policy_reports",
    "ramp_share",
    "reservations",
]
