"""Apply a scenario's shocks to one step's data (pure functions of the step date and the path's state)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import xarray as xr

from critmin.market.data import StepData, on_grid, ordered, values_in
from critmin.scenario import schema as S
from critmin.simulate.calendar import days_between, overlap, step_end
from critmin.simulate.selectors import Resolver


@dataclass(frozen=True)
class CompiledShock:
    shock: S.Shock
    mask: xr.DataArray | None  # boolean array on the grid the shock acts on
    # licence: per approval entry, which destinations it covers; and the destinations under a general licence
    approval_covers: np.ndarray | None = None  # entries x destinations, bool
    general_licence: np.ndarray | None = None  # destinations, bool
    arc_mask: np.ndarray | None = None  # trade shocks: the mask on origin x destination x product, as numpy


ARC_DIMS = ("origin", "destination", "product")


def _isin(coord: str, values: list[str], all_values: list[str]) -> xr.DataArray:
    return xr.DataArray(np.isin(all_values, values), coords={coord: all_values}, dims=coord)


def compile_shocks(shocks: list[S.Shock], resolver: Resolver, data: StepData) -> list[CompiledShock]:
    regions, products = resolver.regions, resolver.products
    compiled = []
    for shock in shocks:
        mask, covers, general = None, None, None
        if isinstance(shock, S.ExportControl) and shock.mode == "licence":
            covers = np.array([np.isin(regions, resolver.places(a.destinations)) for a in shock.approval], dtype=bool)
            covers = covers.reshape(len(shock.approval), len(regions))
            named = shock.general_licence.regions or shock.general_licence.groups
            general = np.zeros(len(regions), bool)
            if named:
                general = np.isin(regions, resolver.places(shock.general_licence))
        if isinstance(shock, S.ExportControl):
            goods = resolver.goods(shock)
            mask = (
                _isin("origin", resolver.places(shock.exporter), regions)
                & _isin("destination", resolver.places(shock.destinations), regions)
                & _isin("product", goods, products)
                & data.arc_cap.notnull()
            )
        elif isinstance(shock, S.Tariff):
            mask = (
                _isin("origin", resolver.places(shock.origins), regions)
                & _isin("destination", resolver.places(shock.importer), regions)
                & _isin("product", resolver.goods(shock), products)
            )
        elif isinstance(shock, S.AllyPreference):
            mask = (
                _isin("origin", resolver.places(shock.allies), regions)
                & _isin("destination", resolver.places(shock.importer), regions)
                & _isin("product", resolver.goods(shock), products)
            )
        elif isinstance(shock, S.Outage):
            processes = shock.processes or list(data.activity_cap.process.values)
            mask = (
                _isin("process", processes, list(data.activity_cap.process.values))
                & _isin("region", resolver.places(shock.where), regions)
                & _isin("product", resolver.goods(shock), products)
            )
        elif isinstance(shock, S.DemandShift):
            sectors = shock.sectors or list(data.demand.sector.values)
            mask = (
                _isin("region", resolver.places(shock.where), regions)
                & _isin("sector", sectors, list(data.demand.sector.values))
                & _isin("product", resolver.goods(shock), products)
            )
        elif isinstance(shock, S.StockpilePolicy | S.RecyclingPolicy | S.PriceFloor):
            mask = _isin("region", resolver.places(shock.where), regions) & _isin(
                "product", resolver.goods(shock), products
            )
        arc_mask = None
        if isinstance(shock, S.ExportControl | S.Tariff | S.AllyPreference):
            arc_mask = mask.broadcast_like(data.arc_cap).transpose(*ARC_DIMS).values.astype(bool)
        compiled.append(CompiledShock(shock, mask, covers, general, arc_mask))
    return compiled


def ramp_share(step_start: dt.date, project: S.Project) -> float:
    """Share of nameplate available in a step: nothing during the lead time, then a linear ramp."""
    months = days_between(project.start, step_end(step_start)) / 30.4375 - project.lead_time_months
    if months <= 0 or (project.end is not None and step_start > project.end):
        return 0.0
    if project.ramp_months <= 0:
        return 1.0
    return float(min(1.0, months / project.ramp_months))


def apply_market_shocks(
    d: StepData,
    compiled: list[CompiledShock],
    step_start: dt.date,
    ref_price: xr.DataArray,
    baseline_trade: xr.DataArray | None,
) -> StepData:
    """Export controls, tariffs, preferences, outages, demand shifts and projects active in this step. Trade
    shocks work on numpy arrays of the arc grid (the Monte Carlo inner loop); the rest on labelled arrays."""
    arc_present = ~np.isnan(values_in(d.arc_cap, *ARC_DIMS))
    arc_cap = values_in(d.arc_cap, *ARC_DIMS)
    arc_cost = values_in(d.arc_cost, *ARC_DIMS)
    contract_cost = values_in(d.arc_contract_cost, *ARC_DIMS)
    price = ref_price.values[None, None, :]  # per product, on the arc grid
    cap, quad, demand, subsidy = d.activity_cap, d.activity_quad, d.demand, d.activity_subsidy
    step_days = (step_end(step_start) - step_start).days + 1
    base_flow = None
    for c in compiled:
        s = c.shock
        share = overlap(step_start, s.start, s.end)
        if isinstance(s, S.Project):
            ramp = ramp_share(step_start, s)
            if ramp > 0:
                key = {"process": s.process, "region": s.region, "product": s.product}
                cap, quad = cap.copy(), quad.copy()
                before = float(cap.loc[key].fillna(0))
                after = before + s.capacity * d.step_years * ramp
                cap.loc[key] = after
                # where the region already runs this activity, the plant joins its cost curve (stretched to the
                # new capacity, so it runs at reference prices like the plants there); a new activity has the
                # flat cost set by the project's unit_cost_multiple
                if before > 0 and float(quad.loc[key].fillna(0)) > 0:
                    quad.loc[key] = float(quad.loc[key]) * before / after
            continue
        if share <= 0:
            continue
        if isinstance(s, S.ExportControl):
            if s.mode == "ban":
                allowed = 1 - share
            elif s.mode == "quota":
                allowed = 1 - share * (1 - s.magnitude)
            elif s.mode == "delay":  # nothing moves until the licence wait has passed
                waited = days_between(s.start, step_start) + step_days
                allowed = float(np.clip((waited - s.magnitude) / step_days, 0, 1))
                allowed = 1 - share * (1 - allowed)
            else:  # a licence regime: its own day-by-day share, the window included (destination x product)
                allowed = values_in(licence_share(s, c, d, step_start), "destination", "product")[None]
            if base_flow is None:
                base_flow = (
                    np.zeros_like(arc_cap) if baseline_trade is None
                    else np.nan_to_num(values_in(baseline_trade, *ARC_DIMS))
                )  # fmt: skip
            limit = np.minimum(arc_cap, base_flow * allowed)
            arc_cap = np.where(c.arc_mask, limit, arc_cap)
            arc_cap = np.where(arc_present, arc_cap, np.nan)
        elif isinstance(s, S.Tariff):
            duty = np.where(c.arc_mask, s.rate_pct / 100 * price * share, 0.0)
            arc_cost, contract_cost = arc_cost + duty, contract_cost + duty
        elif isinstance(s, S.AllyPreference):
            # importers pay allied suppliers up to the premium more: a bonus on allied arcs, never a penalty
            # on the others (spot costs stay non-negative, so no subsidised round trips)
            bonus = np.where(c.arc_mask, s.premium_pct / 100 * price * share, 0.0)
            arc_cost, contract_cost = np.maximum(arc_cost - bonus, 0.0), contract_cost - bonus
        elif isinstance(s, S.Outage):
            cap = cap * xr.where(c.mask, 1 - s.magnitude * share, 1.0)
        elif isinstance(s, S.DemandShift):
            demand = demand * xr.where(c.mask, 1 + s.magnitude_pct / 100 * share, 1.0)
        elif isinstance(s, S.PriceFloor):
            per_unit = xr.where(c.mask, np.maximum(s.price - ref_price, 0) * share, 0.0)
            subsidy = subsidy + _subsidy_by_activity(per_unit, d)
    arcs = ordered(d.arc_cap, *ARC_DIMS)
    return d.with_(
        arc_cap=on_grid(arcs, arc_cap),
        arc_cost=on_grid(arcs, arc_cost),
        arc_contract_cost=on_grid(arcs, contract_cost),
        activity_cap=cap,
        activity_quad=quad,
        demand=demand,
        activity_subsidy=subsidy,
    )


def _subsidy_by_activity(subsidy: xr.DataArray, d: StepData) -> xr.DataArray:
    """A guaranteed price acts as a per-unit subsidy on what the covered producers make; separation earns it
    on each co-product covered."""
    per_conc = (d.yields * subsidy).sum("product")
    parts = [subsidy.expand_dims(process=[p]) for p in ("extract", "convert", "recycle")]
    parts.append(per_conc.rename(concentrate="product").expand_dims(process=["separate"]))
    return xr.concat(parts, dim="process").reindex_like(d.activity_cap).fillna(0.0)


@lru_cache(maxsize=512)
def _days(step_start: dt.date) -> np.ndarray:
    days = pd.date_range(step_start, step_end(step_start), freq="D").date
    days.flags.writeable = False  # shared between calls
    return days


def civil_share(s: S.ExportControl, c: CompiledShock, step_start: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """Day-weighted share of baseline exports allowed for civil use in a step, per destination: 1 on days
    outside the control's window, 0 within the processing lag, otherwise the latest approval entry that has
    started and covers the destination (1 under a general licence, 0 before any entry). Returns the days x
    destinations shares and which days lie outside the window."""
    days = _days(step_start)
    destinations = len(c.general_licence)
    shares = np.zeros((len(days), destinations))
    for period, covers in zip(s.approval, c.approval_covers, strict=True):
        started = days >= period.start
        shares[np.ix_(started, covers)] = period.share
    shares[days < s.start + dt.timedelta(days=float(s.lag_days))] = 0.0
    shares[:, c.general_licence] = 1.0  # no individual licence, so no processing lag either
    outside = (days < s.start) | ((days > s.end) if s.end is not None else False)
    shares[outside] = 1.0
    return shares, outside


def licence_share(s: S.ExportControl, c: CompiledShock, d: StepData, step_start: dt.date) -> xr.DataArray:
    """Allowed share of baseline exports per destination x product in a step, averaged over its days: the civil
    share for civil uses and ``military_share`` for the defence share of the destination's demand of each
    product (nothing in the lag, everything outside the window)."""
    shares, outside = civil_share(s, c, step_start)
    in_lag = ~outside & (_days(step_start) < s.start + dt.timedelta(days=float(s.lag_days)))
    civil = shares.mean(axis=0)[:, None]  # destination x 1
    military_days = (~outside & ~in_lag).mean()  # days on which the military share applies
    demand = np.nan_to_num(values_in(d.demand, "region", "sector", "product"))
    total = demand.sum(axis=1)
    sectors = list(d.demand.sector.values)
    defence = demand[:, sectors.index("defence")] if "defence" in sectors else np.zeros_like(total)
    with np.errstate(divide="ignore", invalid="ignore"):
        military = np.where(total > 0, defence / total, 0.0)
    # on days outside the window everything moves, defence included; inside, defence gets its own share
    defence_allowed = outside.mean() + military_days * s.military_share
    allowed = civil * (1 - military) + defence_allowed * military
    coords = {"destination": d.demand.region.values, "product": d.demand["product"].values}
    return xr.DataArray(allowed, coords=coords, dims=("destination", "product"))
