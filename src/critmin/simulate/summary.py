"""Run summaries per region x element: shortfall, price ratio, time to survive and time to recover."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from critmin.simulate.loop import RunResult

SUMMARY_COLUMNS = [
    "region", "element", "max_shortfall_pct", "cumulative_shortfall_t", "peak_price_ratio", "tts_days",
    "ttr_days", "short_from", "recovered_on", "price_product",
]  # fmt: skip


ABOVE_TOLERANCE = 1e-9  # relative: shortfall counts as above the threshold only beyond this


def element_shortfall(run: RunResult, path: str = "scenario") -> tuple[xr.DataArray, xr.DataArray]:
    """Shortfall and reference demand by region x element x date, in element units (t REO, t Ga, t)."""
    shortfall = run.series(path, "shortfall")
    consumption = run.series(path, "consumption").transpose(*shortfall.dims)
    products = list(shortfall["product"].values)
    content = run.content.reindex(products).fillna(0.0).to_numpy()  # product x element
    axes = [shortfall.dims.index(d) for d in ("region", "sector", "product", "date")]
    short = np.nan_to_num(np.moveaxis(shortfall.values, axes, range(4))).sum(axis=1)  # region x product x date
    used = np.nan_to_num(np.moveaxis(consumption.values, axes, range(4))).sum(axis=1)
    coords = {"region": shortfall.region.values, "element": list(run.content.columns), "date": shortfall.date.values}

    def by_element(values: np.ndarray) -> xr.DataArray:
        return xr.DataArray(np.einsum("rpt,pe->ret", values, content), coords=coords, dims=tuple(coords))

    return by_element(short), by_element(short + used)


def price_products(content: pd.DataFrame) -> dict[str, str]:
    """The product whose price stands for each element (``content``: product x element shares): its
    separation-stage product (oxide, primary Ga, processed graphite)."""
    single = content[(content > 0).sum(axis=1) == 1]
    out = {}
    for element in content.columns:
        candidates = list(single.index[single[element].to_numpy() == 1])
        sep = [p for p in candidates if p.endswith("_oxide") or p in ("Ga_primary", "graphite_processed")]
        if sep or candidates:
            out[element] = (sep or candidates)[0]
    return out


def disruption_start(scenario, dates) -> dt.date:
    """Times to survive and recover count from the first disruption, not from the responses prepared for it."""
    disruptions = ("export_control", "outage", "tariff", "demand_shift")
    shock_starts = [s.start for s in scenario.shocks if s.type in disruptions]
    return min(shock_starts) if shock_starts else dates[0]


def summarise(run: RunResult, regions: list[str] | None = None, elements: list[str] | None = None) -> pd.DataFrame:
    short, _ = element_shortfall(run)
    base_short, base_demand = element_shortfall(run, "baseline")
    price = run.series("scenario", "price")
    base_price = run.series("baseline", "price")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (price / base_price).transpose("region", "product", "date").values
    dims = ("region", "element", "date")
    return summary_table(
        short.transpose(*dims).values,
        base_short.transpose(*dims).values,
        base_demand.transpose(*dims).values,
        ratio,
        SummaryGrid(
            list(short.region.values),
            list(short.element.values),
            list(price.product.values),
            price_products(run.content),
            run.dates,
        ),
        disruption_start(run.scenario, run.dates),
        run.scenario.dynamics.shortfall_threshold_pct,
        regions,
        elements,
    )


@dataclass(frozen=True)
class SummaryGrid:
    """The labels of the arrays :func:`summary_table` reads, and each element's price product."""

    regions: list[str]
    elements: list[str]
    products: list[str]
    price_product: dict[str, str]
    dates: list[dt.date]


def summary_table(
    short: np.ndarray,
    base_short: np.ndarray,
    base_demand: np.ndarray,
    ratio: np.ndarray,
    grid: SummaryGrid,
    t0: dt.date,
    threshold: float,
    regions: list[str] | None = None,
    elements: list[str] | None = None,
) -> pd.DataFrame:
    """The summary rows from plain arrays: shortfall on the scenario and baseline paths and baseline demand
    (region x element x date, element units) and the scenario-over-baseline price ratio (region x product x
    date); ``t0`` is the first disruption."""
    dates = grid.dates
    with np.errstate(divide="ignore", invalid="ignore"):
        # shortfall beyond what the baseline itself leaves unmet
        excess = np.clip(short - base_short, 0, None)
        pct_v = np.where(base_demand > 0, excess / base_demand * 100, np.nan)
    price_product = grid.price_product
    chosen_regions = regions or grid.regions
    chosen_elements = elements or [e for e in grid.elements if e in price_product]
    r_at = np.array([grid.regions.index(r) for r in chosen_regions], dtype=int)
    e_at = np.array([grid.elements.index(e) for e in chosen_elements], dtype=int)
    # every chosen region x element cell at once (region-major, as the rows are listed); cells whose baseline
    # demand is never positive are left out
    pct = np.nan_to_num(pct_v[np.ix_(r_at, e_at)])
    kept = (base_demand[np.ix_(r_at, e_at)] > 0).any(axis=-1)
    cumulative = np.nansum(excess[np.ix_(r_at, e_at)], axis=-1)
    # a shortfall exactly at the threshold (common: substitution moves demand in round steps) is not above it;
    # the tolerance keeps float noise of 1e-15 from deciding the month
    first_month = t0.replace(day=1)
    counted = np.array([d >= first_month for d in dates], dtype=bool)
    above = (pct > threshold + ABOVE_TOLERANCE * max(threshold, 1.0)) & counted
    short = above.any(axis=-1)
    first = np.argmax(above, axis=-1)
    last = above.shape[-1] - 1 - np.argmax(above[..., ::-1], axis=-1)
    products = [price_product.get(e) for e in chosen_elements]
    p_at = [grid.products.index(p) if p in grid.products else -1 for p in products]
    with np.errstate(invalid="ignore"):
        peak = np.full((len(r_at), len(e_at)), np.nan)
        for j, p in enumerate(p_at):
            if p >= 0:
                values = np.where(np.isfinite(ratio[r_at, p]), ratio[r_at, p], np.nan)  # no price on a path: skipped
                has = np.isfinite(values).any(axis=-1)
                peak[has, j] = np.nanmax(values[has], axis=-1)
    rows = []
    for i, region in enumerate(chosen_regions):
        for j, element in enumerate(chosen_elements):
            if not kept[i, j]:
                continue
            is_short = bool(short[i, j])
            start = dates[first[i, j]] if is_short else None
            end = last[i, j] + 1 if is_short else None
            recovered = dates[end] if is_short and end < len(dates) else None
            rows.append(
                {
                    "region": region,
                    "element": element,
                    "max_shortfall_pct": round(float(pct[i, j].max()) if pct.shape[-1] else 0.0, 3),
                    "cumulative_shortfall_t": round(float(cumulative[i, j]), 3),
                    "peak_price_ratio": round(float(peak[i, j]), 4) if np.isfinite(peak[i, j]) else None,
                    "tts_days": max(0, (start - t0).days) if start is not None else None,
                    "ttr_days": (recovered - t0).days if recovered is not None else None,
                    "short_from": start.isoformat() if start is not None else None,
                    "recovered_on": recovered.isoformat() if recovered is not None else None,
                    "price_product": products[j],
                }
            )
    frame = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    frame[["tts_days", "ttr_days"]] = frame[["tts_days", "ttr_days"]].astype("Int64")  # days; missing: never short
    return frame
