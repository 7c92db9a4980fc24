"""Policy shocks that act through state: stockpiles that buy toward a target, and recycling fed by end-of-life
flows. Each policy is also reported: what it bought, at what price, what it released, and whether it acted."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from critmin.market.data import StepData
from critmin.scenario import schema as S
from critmin.simulate.calendar import overlap

if TYPE_CHECKING:
    from critmin.simulate.handlers.record import PathRecord

DAYS_PER_MONTH = 30.4375


def element_use(d: StepData, content: xr.DataArray) -> xr.DataArray:
    """Reference use per step of each single-element product's element, embodied uses included (a Dy
    oxide stockpile covers the Dy in the region's magnets and metal too), region x product."""
    own = d.demand.sum("sector", min_count=1).fillna(0)
    by_element = (own * content).sum("product")
    embodied = (content.where(content == 1) * by_element).sum("element", min_count=1)
    # products of several elements (magnets) cover their own use
    return embodied.fillna(own)


def apply_stockpile(
    d: StepData, c, date: dt.date, level: xr.DataArray, ref_price: xr.DataArray, use: xr.DataArray
) -> StepData:
    """Buy toward ``target_days`` of reference use over the build months still left, at up to
    ``max_buy_multiple`` x reference; release above ``release_multiple`` x reference."""
    s: S.StockpilePolicy = c.shock
    share = overlap(date, s.start, s.end)
    if share <= 0:
        return d
    target = stockpile_target(d, s, c.mask, use)
    held = level.sel(holder=s.holder, drop=True).fillna(0)
    months_in = (date - s.start).days / DAYS_PER_MONTH
    months_left = max(1.0, s.build_months - months_in)
    # never faster than the build rate, also when refilling after a release
    per_step = np.minimum(np.maximum(target - held, 0) / months_left, target / s.build_months)
    per_step = (per_step * share).where(c.mask)
    sel = {"holder": s.holder}
    restock_cap = d.restock_cap.copy()
    restock_cap.loc[sel] = xr.where(c.mask, per_step.fillna(0), restock_cap.sel(**sel))
    # never buy back at a price the policy would release at: that would churn the stock
    buy = s.max_buy_multiple if s.release_multiple is None else min(s.max_buy_multiple, 0.95 * s.release_multiple)
    restock_price = d.restock_price.copy()
    restock_price.loc[sel] = xr.where(c.mask, buy * ref_price, restock_price.sel(**sel))
    release_price = d.release_price
    if s.release_multiple is not None:
        release_price = release_price.copy()
        release_price.loc[sel] = xr.where(c.mask, s.release_multiple * ref_price, release_price.sel(**sel))
    return d.with_(restock_cap=restock_cap, restock_price=restock_price, release_price=release_price)


def stockpile_target(d: StepData, s: S.StockpilePolicy, mask: xr.DataArray, use: xr.DataArray) -> xr.DataArray:
    """Target holding per region x product: ``target_days`` of the step's reference use."""
    use_per_day = use / (d.step_years * 365)
    return (use_per_day * s.target_days).where(mask)


def apply_recycling(d: StepData, c, date: dt.date, in_use, content, lifetime: float) -> StepData:
    s: S.RecyclingPolicy = c.shock
    share = overlap(date, s.start, s.end)
    if share <= 0:
        return d
    months = (date - s.start).days / DAYS_PER_MONTH
    ramp = 1.0 if s.ramp_months <= 0 else float(np.clip(months / s.ramp_months, 0, 1))
    eol = in_use / lifetime * d.step_years  # element units per step
    # the oxide of each element recovers that element's end-of-life flow
    oxide_eol = (content.where(content == 1) * eol).sum("element", min_count=1).fillna(0)
    extra = (oxide_eol * s.collection_pct / 100 * ramp * share).where(c.mask, 0.0)
    cap = d.activity_cap.copy()
    recycle = cap.sel(process="recycle")
    cap.loc[{"process": "recycle"}] = recycle + extra.where(recycle.notnull())
    return d.with_(activity_cap=cap)


def stockpile_report(c, path: PathRecord) -> list[dict]:
    """What a stockpile policy did, per region x product it covers."""
    s: S.StockpilePolicy = c.shock
    dates, steps, data, content, levels = path.dates, path.steps["scenario"], path.data, path.content, path.levels
    reports = []
    active = [i for i, date in enumerate(dates) if overlap(date, s.start, s.end) > 0]
    build_end = pd.Timestamp(s.start) + pd.DateOffset(months=int(np.ceil(s.build_months)))
    building = [i for i in active if pd.Timestamp(dates[i]) < build_end]
    cells = np.argwhere(c.mask.transpose("region", "product").values)
    regions, products = c.mask.indexes["region"], c.mask.indexes["product"]
    for r, p in cells:
        region, product = regions[r], products[p]
        sel = {"region": region, "product": product, "holder": s.holder}
        bought = np.array([float(steps[i].restock.sel(sel).fillna(0)) for i in active])
        released = np.array([float(steps[i].release.sel(sel).fillna(0)) for i in active])
        prices = np.array([float(steps[i].price.sel(region=region, product=product)) for i in active])
        limit = np.array([float(data[i].restock_price.sel(sel)) for i in active])
        first = data[active[0]] if active else None
        use = element_use(first, content) if first is not None else None
        target = float(stockpile_target(first, s, c.mask, use).sel(region=region, product=product)) if active else 0
        held = float(levels[active[0]].sel(sel).fillna(0)) if active else 0.0
        gap = max(target - held, 0.0)
        total = float(bought.sum())
        mean_price = float((bought * prices).sum() / total) if total > 0 else None
        acted, reason = True, ""
        if not active:
            acted, reason = False, "the policy window lies outside the run's horizon"
        elif target <= 0:
            acted, reason = False, f"no reference use of {product} in {region}, so the target is 0 t"
        elif building and gap > 0 and total < 0.5 * gap:
            dear = int(sum(1 for i, k in enumerate(active) if k in building and prices[i] > limit[i] * (1 + 1e-9)))
            acted = False
            reason = (
                f"bought {total:.3g} t of the {gap:.3g} t needed to reach its {target:.3g} t target: the local "
                f"price was above the buy limit in {dear} of {len(building)} build months"
                + ("" if dear else ", and supply at that price ran short")
            )
        reports.append(
            {
                "name": s.name or f"stockpile {s.holder}",
                "type": s.type,
                "region": region,
                "product": product,
                "target_t": round(target, 6),
                "held_at_start_t": round(held, 6),
                "bought_t": round(total, 6),
                "mean_buy_price": None if mean_price is None else round(mean_price, 6),
                "released_t": round(float(released.sum()), 6),
                "delivered_t": None,
                "acted": acted,
                "reason": reason,
            }
        )
    return reports


def capacity_report(c, cells: list[tuple[str, str, str]], path: PathRecord, why_unused: str) -> list[dict]:
    """What a project or recycling policy delivered beyond the baseline path, per (process, region, product);
    ``why_unused`` explains a cell that delivered nothing within the horizon."""
    s, dates, steps = c.shock, path.dates, path.steps
    reports = []
    for process, region, product in cells:
        sel = {"process": process, "region": region, "product": product}
        extra = sum(
            # the baseline model has no place for reserved capacity: NaN there is none used
            float(scen.activity.sel(sel).fillna(0) - base.activity.sel(sel).fillna(0))
            for scen, base in zip(steps["scenario"], steps["baseline"], strict=True)
        )
        active = [d for d in dates if d >= s.start.replace(day=1) and (s.end is None or d <= s.end)]
        acted, reason = extra > 1e-6, ""
        if not active:
            reason = "the policy window lies outside the run's horizon"
        elif not acted:
            reason = why_unused
        reports.append(
            {
                "name": s.name or s.type,
                "type": s.type,
                "region": region,
                "product": product,
                "target_t": None,
                "held_at_start_t": None,
                "bought_t": None,
                "mean_buy_price": None,
                "released_t": None,
                "delivered_t": round(extra, 6),
                "acted": acted,
                "reason": reason,
            }
        )
    return reports
