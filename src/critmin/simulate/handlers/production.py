"""Shocks on production: outages (a share of capacity lost) and projects (new capacity after a lead time,
ramped up), and demand shifts."""

from __future__ import annotations

import datetime as dt

import numpy as np
import xarray as xr

from critmin.market.data import StepData
from critmin.scenario import schema as S
from critmin.simulate.calendar import days_between, step_end
from critmin.simulate.handlers.base import (
    CompiledShock,
    MarketArrays,
    PathRecord,
    Reservation,
    ShockHandler,
    StepContext,
    isin,
)
from critmin.simulate.policies import DAYS_PER_MONTH, capacity_report
from critmin.simulate.selectors import Resolver


class OutageHandler(ShockHandler):
    shock_type = S.Outage

    def mask(self, shock: S.Outage, resolver: Resolver, data: StepData) -> xr.DataArray:
        processes = list(data.activity_cap.process.values)
        return (
            isin("process", shock.processes or processes, processes)
            & isin("region", resolver.places(shock.where), resolver.regions)
            & isin("product", resolver.goods(shock), resolver.products)
        )

    def apply(self, c: CompiledShock, arrays: MarketArrays, step: StepContext) -> None:
        share = step.share(c.shock)
        if share > 0:
            arrays.activity_cap = arrays.activity_cap * xr.where(c.mask, 1 - c.shock.magnitude * share, 1.0)


class DemandShiftHandler(ShockHandler):
    shock_type = S.DemandShift

    def mask(self, shock: S.DemandShift, resolver: Resolver, data: StepData) -> xr.DataArray:
        sectors = list(data.demand.sector.values)
        return (
            isin("region", resolver.places(shock.where), resolver.regions)
            & isin("sector", shock.sectors or sectors, sectors)
            & isin("product", resolver.goods(shock), resolver.products)
        )

    def apply(self, c: CompiledShock, arrays: MarketArrays, step: StepContext) -> None:
        share = step.share(c.shock)
        if share > 0:
            arrays.demand = arrays.demand * xr.where(c.mask, 1 + c.shock.magnitude_pct / 100 * share, 1.0)


class ProjectHandler(ShockHandler):
    shock_type = S.Project
    report_group = 1

    def reserve(self, shock: S.Project, resolver: Resolver) -> Reservation:
        return Reservation(activities=((shock.region, shock.process, shock.product, shock.unit_cost_multiple),))

    def apply(self, c: CompiledShock, arrays: MarketArrays, step: StepContext) -> None:
        s: S.Project = c.shock
        ramp = ramp_share(step.step_start, s)  # the ramp, not the window share: a plant keeps its capacity
        if ramp <= 0:
            return
        key = {"process": s.process, "region": s.region, "product": s.product}
        cap, quad = arrays.activity_cap.copy(), arrays.activity_quad.copy()
        before = float(cap.loc[key].fillna(0))
        after = before + s.capacity * step.data.step_years * ramp
        cap.loc[key] = after
        # where the region already runs this activity, the plant joins its cost curve (stretched to the new
        # capacity, so it runs at reference prices like the plants there); a new activity has the flat cost set
        # by the project's unit_cost_multiple
        if before > 0 and float(quad.loc[key].fillna(0)) > 0:
            quad.loc[key] = float(quad.loc[key]) * before / after
        arrays.activity_cap, arrays.activity_quad = cap, quad

    def report(self, c: CompiledShock, path: PathRecord) -> list[dict]:
        s: S.Project = c.shock
        first = s.start + dt.timedelta(days=s.lead_time_months * DAYS_PER_MONTH)
        why_unused = (
            f"first output due {first.isoformat()}, after the horizon"
            if first > path.dates[-1]
            else f"capacity available from {first.isoformat()} but never used: its cost "
            f"({s.unit_cost_multiple:g}x the activity's reference cost) stayed above the local price"
        )
        return capacity_report(c, [(s.process, s.region, s.product)], path, why_unused)


def ramp_share(step_start: dt.date, project: S.Project) -> float:
    """Share of nameplate available in a step: nothing during the lead time, then a linear ramp."""
    months = days_between(project.start, step_end(step_start)) / 30.4375 - project.lead_time_months
    if months <= 0 or (project.end is not None and step_start > project.end):
        return 0.0
    if project.ramp_months <= 0:
        return 1.0
    return float(np.clip(months / project.ramp_months, 0.0, 1.0))
