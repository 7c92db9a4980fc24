"""Policies: stockpiles that buy toward a target and release at a price, recycling fed by end-of-life flows,
and guaranteed prices (price floors, offtake) paid as a subsidy on covered output."""

from __future__ import annotations

import numpy as np
import xarray as xr

from critmin.market.data import StepData
from critmin.scenario import schema as S
from critmin.simulate.handlers.base import (
    CompiledShock,
    MarketArrays,
    PathRecord,
    PolicyContext,
    Reservation,
    ShockHandler,
    StepContext,
    region_product_mask,
)
from critmin.simulate.policies import apply_recycling, apply_stockpile, capacity_report, stockpile_report
from critmin.simulate.selectors import Resolver


class StockpilePolicyHandler(ShockHandler):
    shock_type = S.StockpilePolicy

    def reserve(self, shock: S.StockpilePolicy, resolver: Resolver) -> Reservation:
        goods = resolver.goods(shock)
        return Reservation(stocks=tuple((r, p, shock.holder) for r in resolver.places(shock.where) for p in goods))

    def mask(self, shock: S.StockpilePolicy, resolver: Resolver, data: StepData) -> xr.DataArray:
        return region_product_mask(shock, resolver)

    def apply_policy(self, d: StepData, c: CompiledShock, policy: PolicyContext) -> StepData:
        return apply_stockpile(d, c, policy.date, policy.stock_level, policy.ref_price, policy.use)

    def report(self, c: CompiledShock, path: PathRecord) -> list[dict]:
        return stockpile_report(c, path)


class RecyclingPolicyHandler(ShockHandler):
    shock_type = S.RecyclingPolicy
    report_group = 1

    def reserve(self, shock: S.RecyclingPolicy, resolver: Resolver) -> Reservation:
        separated = [p for p in resolver.goods(shock) if resolver.stage.get(p) == "separation"]
        acts = [(r, "recycle", p, shock.unit_cost_multiple) for r in resolver.places(shock.where) for p in separated]
        return Reservation(activities=tuple(acts))

    def mask(self, shock: S.RecyclingPolicy, resolver: Resolver, data: StepData) -> xr.DataArray:
        return region_product_mask(shock, resolver)

    def apply_policy(self, d: StepData, c: CompiledShock, policy: PolicyContext) -> StepData:
        return apply_recycling(d, c, policy.date, policy.in_use, policy.content, policy.lifetime)

    def report(self, c: CompiledShock, path: PathRecord) -> list[dict]:
        where = np.argwhere(c.mask.transpose("region", "product").values)
        cells = [("recycle", c.mask.region.values[r], c.mask["product"].values[p]) for r, p in where]
        why_unused = (
            "nothing recycled beyond the baseline: collected end-of-life material is recycled only when "
            "the local price covers the recycling cost (the product's reference cost), and it did not"
        )
        return capacity_report(c, cells, path, why_unused)


class PriceFloorHandler(ShockHandler):
    """Price floors and offtake contracts: the covered producers earn the guaranteed price."""

    shock_type = S.PriceFloor

    def mask(self, shock: S.PriceFloor, resolver: Resolver, data: StepData) -> xr.DataArray:
        return region_product_mask(shock, resolver)

    def apply(self, c: CompiledShock, arrays: MarketArrays, step: StepContext) -> None:
        share = step.share(c.shock)
        if share <= 0:
            return
        per_unit = xr.where(c.mask, np.maximum(c.shock.price - step.ref_price, 0) * share, 0.0)
        arrays.subsidy = arrays.subsidy + subsidy_by_activity(per_unit, step.data)


def subsidy_by_activity(subsidy: xr.DataArray, d: StepData) -> xr.DataArray:
    """A guaranteed price acts as a per-unit subsidy on what the covered producers make; separation earns it
    on each co-product covered."""
    per_conc = (d.yields * subsidy).sum("product")
    parts = [subsidy.expand_dims(process=[p]) for p in ("extract", "convert", "recycle")]
    parts.append(per_conc.rename(concentrate="product").expand_dims(process=["separate"]))
    return xr.concat(parts, dim="process").reindex_like(d.activity_cap).fillna(0.0)
