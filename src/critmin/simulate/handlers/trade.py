"""Shocks on trade arcs: export controls (bans, quotas, licence waits, licence regimes), tariffs and ally
preferences. They act on numpy arrays of the arc grid, the Monte Carlo inner loop."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np
import pandas as pd
import xarray as xr

from critmin.market.data import StepData, values_in
from critmin.scenario import schema as S
from critmin.simulate.calendar import days_between, step_end
from critmin.simulate.handlers.base import ARC_DIMS, CompiledShock, MarketArrays, ShockHandler, StepContext, isin
from critmin.simulate.selectors import Resolver


class ArcHandler(ShockHandler):
    """A shock on the arcs from some origins to some destinations, for some goods."""

    def ends(self, shock, resolver: Resolver) -> tuple[list[str], list[str]]:
        raise NotImplementedError

    def mask(self, shock, resolver: Resolver, data: StepData) -> xr.DataArray:
        origins, destinations = self.ends(shock, resolver)
        return (
            isin("origin", origins, resolver.regions)
            & isin("destination", destinations, resolver.regions)
            & isin("product", resolver.goods(shock), resolver.products)
        )

    def compile(self, shock, resolver: Resolver, data: StepData) -> CompiledShock:
        mask = self.mask(shock, resolver, data)
        arc_mask = mask.broadcast_like(data.arc_cap).transpose(*ARC_DIMS).values.astype(bool)
        return CompiledShock(shock, mask, arc_mask=arc_mask)


class ExportControlHandler(ArcHandler):
    shock_type = S.ExportControl

    def ends(self, shock: S.ExportControl, resolver: Resolver) -> tuple[list[str], list[str]]:
        return resolver.places(shock.exporter), resolver.places(shock.destinations)

    def mask(self, shock: S.ExportControl, resolver: Resolver, data: StepData) -> xr.DataArray:
        return super().mask(shock, resolver, data) & data.arc_cap.notnull()

    def compile(self, shock: S.ExportControl, resolver: Resolver, data: StepData) -> CompiledShock:
        compiled = super().compile(shock, resolver, data)
        if shock.mode != "licence":
            return compiled
        regions = resolver.regions
        covers = np.array([np.isin(regions, resolver.places(a.destinations)) for a in shock.approval], dtype=bool)
        covers = covers.reshape(len(shock.approval), len(regions))
        general = np.zeros(len(regions), bool)
        if shock.general_licence.regions or shock.general_licence.groups:
            general = np.isin(regions, resolver.places(shock.general_licence))
        return CompiledShock(shock, compiled.mask, covers, general, compiled.arc_mask)

    def apply(self, c: CompiledShock, arrays: MarketArrays, step: StepContext) -> None:
        s: S.ExportControl = c.shock
        share = step.share(s)
        if share <= 0:
            return
        if s.mode == "ban":
            allowed = 1 - share
        elif s.mode == "quota":
            allowed = 1 - share * (1 - s.magnitude)
        elif s.mode == "delay":  # nothing moves until the licence wait has passed
            waited = days_between(s.start, step.step_start) + step.step_days
            allowed = float(np.clip((waited - s.magnitude) / step.step_days, 0, 1))
            allowed = 1 - share * (1 - allowed)
        else:  # a licence regime: its own day-by-day share, the window included (destination x product)
            # demand's region x product grid is the arc grid's destination x product (one shared region list)
            allowed = licence_share_values(s, c, step.data, step.step_start)[None]
        limit = np.minimum(arrays.arc_cap, arrays.base_flow() * allowed)
        arc_cap = np.where(c.arc_mask, limit, arrays.arc_cap)
        arrays.arc_cap = np.where(arrays.arc_present, arc_cap, np.nan)


class TariffHandler(ArcHandler):
    shock_type = S.Tariff

    def ends(self, shock: S.Tariff, resolver: Resolver) -> tuple[list[str], list[str]]:
        return resolver.places(shock.origins), resolver.places(shock.importer)

    def apply(self, c: CompiledShock, arrays: MarketArrays, step: StepContext) -> None:
        duty = price_wedge(c, step, c.shock.rate_pct)
        if duty is not None:
            arrays.arc_cost, arrays.contract_cost = arrays.arc_cost + duty, arrays.contract_cost + duty


class AllyPreferenceHandler(ArcHandler):
    shock_type = S.AllyPreference

    def ends(self, shock: S.AllyPreference, resolver: Resolver) -> tuple[list[str], list[str]]:
        return resolver.places(shock.allies), resolver.places(shock.importer)

    def apply(self, c: CompiledShock, arrays: MarketArrays, step: StepContext) -> None:
        # importers pay allied suppliers up to the premium more: a bonus on allied arcs, never a penalty on the
        # others (spot costs stay non-negative, so no subsidised round trips)
        bonus = price_wedge(c, step, c.shock.premium_pct)
        if bonus is not None:
            arrays.arc_cost = np.maximum(arrays.arc_cost - bonus, 0.0)
            arrays.contract_cost = arrays.contract_cost - bonus


def price_wedge(c: CompiledShock, step: StepContext, pct: float) -> np.ndarray | None:
    """``pct`` % of the reference price on the shock's arcs, for the share of the step in its window (arc grid);
    None when the step lies outside the window."""
    share = step.share(c.shock)
    if share <= 0:
        return None
    return np.where(c.arc_mask, pct / 100 * step.arc_price * share, 0.0)


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
    coords = {"destination": d.demand.region.values, "product": d.demand["product"].values}
    return xr.DataArray(licence_share_values(s, c, d, step_start), coords=coords, dims=("destination", "product"))


def licence_share_values(s: S.ExportControl, c: CompiledShock, d: StepData, step_start: dt.date) -> np.ndarray:
    """:func:`licence_share` as a plain array on the demand grid's region x product (the Monte Carlo inner loop:
    no labelled array built per step)."""
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
    return civil * (1 - military) + defence_allowed * military
