"""One chunk of a study's draws, evaluated and reduced to what the study keeps: the per-draw outcomes (one
row per draw x region x element) and a weighted histogram of monthly price ratios (for fan charts), never an
array of every price of every draw.

The price ratio is the month's price of an element's price product (its oxide, primary gallium, processed
graphite) in a region over the baseline path's price in that month. Histograms sum across chunks, so fan
charts come from a study of any size in bounded memory; their quantiles resolve to the bin width
(``RATIO_BINS``: 1% steps in log space).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# price ratio bins: 1% log steps from 1/20 to 100; ratios beyond fall in the end bins
RATIO_EDGES = np.exp(np.arange(np.log(0.05), np.log(100.0) + 1e-12, np.log(1.01)))
RATIO_CENTRES = np.sqrt(RATIO_EDGES[:-1] * RATIO_EDGES[1:])
HISTOGRAM_COLUMNS = ["region", "element", "month", "bin", "weight", "weighted_ratio"]


@dataclass
class ChunkResult:
    """``outcomes``: :data:`critmin.risk.evaluate.OUTCOME_COLUMNS`, one row per draw x region x element.
    ``histogram``: ``HISTOGRAM_COLUMNS``, the draws' summed weight per price-ratio bin and month (``month``
    0-based from the horizon's start) and the weighted sum of the ratios themselves (exact means).
    ``stats``: engine counters (draws, event draws, steps solved, bases re-used...) and ``notes``;
    ``price_ratio`` the ratios themselves, kept only when the evaluator is asked to (tests compare engines)."""

    outcomes: pd.DataFrame
    histogram: pd.DataFrame
    stats: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    price_ratio: np.ndarray | None = None  # draw x region x element x month, only when asked for (checks)


def ratio_histogram(ratio: np.ndarray, weights: np.ndarray, regions, elements) -> pd.DataFrame:
    """The weighted histogram of ``ratio`` (draw x region x element x month; NaN: no price) per region,
    element and month, as ``HISTOGRAM_COLUMNS`` rows (only bins with weight)."""
    n_region, n_element, months = ratio.shape[1:]
    bins = np.clip(np.searchsorted(RATIO_EDGES, ratio, side="right") - 1, 0, len(RATIO_CENTRES) - 1)
    w = np.broadcast_to(np.asarray(weights, dtype=float)[:, None, None, None], ratio.shape)
    present = np.isfinite(ratio)
    cells = np.arange(n_region * n_element * months).reshape(1, n_region, n_element, months)
    cell = np.broadcast_to(cells, ratio.shape)
    key = cell[present] * len(RATIO_CENTRES) + bins[present]
    unique, inverse = np.unique(key, return_inverse=True)
    weight = np.bincount(inverse, weights=w[present])
    weighted = np.bincount(inverse, weights=w[present] * ratio[present])
    cell_of, bin_of = np.divmod(unique, len(RATIO_CENTRES))
    r, e, m = np.unravel_index(cell_of, (n_region, n_element, months))
    return pd.DataFrame(
        {
            "region": np.asarray(regions, dtype=object)[r],
            "element": np.asarray(elements, dtype=object)[e],
            "month": m.astype(np.int64),
            "bin": bin_of.astype(np.int64),
            "weight": weight,
            "weighted_ratio": weighted,
        }
    )


def merge_histograms(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Histograms of several chunks summed into one."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=HISTOGRAM_COLUMNS)
    frame = pd.concat(parts, ignore_index=True)
    return frame.groupby(["region", "element", "month", "bin"], as_index=False)[["weight", "weighted_ratio"]].sum()


def histogram_quantiles(histogram: pd.DataFrame, quantiles=(0.05, 0.25, 0.5, 0.75, 0.95)) -> pd.DataFrame:
    """Per region, element and month: the weighted mean ratio (exact) and the lower quantiles of the binned
    ratios, each the mean ratio of the bin where the cumulative weight first reaches q: within 1% of the true
    quantile, and exact where that bin's draws share one ratio (an unshocked month's 1, not the bin's centre)."""
    rows = []
    for (region, element, month), group in histogram.groupby(["region", "element", "month"], sort=True):
        group = group.sort_values("bin")
        weight = group["weight"].to_numpy()
        total = weight.sum()
        cumulative = np.cumsum(weight) / total
        row = {"region": region, "element": element, "month": int(month),
               "mean": float(group["weighted_ratio"].sum() / total)}  # fmt: skip
        bin_mean = group["weighted_ratio"].to_numpy() / np.where(weight > 0, weight, 1.0)
        centre = RATIO_CENTRES[group["bin"].to_numpy()]
        for q in quantiles:
            at = min(int(np.searchsorted(cumulative, q - 1e-12)), len(cumulative) - 1)
            row[f"q{round(q * 100):02d}"] = float(bin_mean[at] if weight[at] > 0 else centre[at])
        rows.append(row)
    return pd.DataFrame(rows)
