"""Evaluate sampled draws: the exact evaluator.

Every draw becomes a scenario (:func:`critmin.risk.sample.to_scenario`) and runs through the LP engine as one
batch (:func:`critmin.simulate.draws.simulate_draws`: one shared baseline, one warm-started solver). It is
the reference a vectorised engine must match, and what such an engine falls back to for what it cannot
reproduce. It clears a one-year monthly draw of the bundled world in a fraction of a second, so it suits
hundreds of draws, not the hundred thousand of a full study.

Outcomes are one row per draw x region x element, in the long format :mod:`critmin.risk.analyse` reads.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from critmin.api.world import element_units
from critmin.risk.chunk import ChunkResult, ratio_histogram
from critmin.risk.sample import Draws, to_scenario
from critmin.simulate.baseline import PROCESS_CACHE, MemoryCache, StoreCache
from critmin.simulate.draws import simulate_draws
from critmin.simulate.summary import price_products
from critmin.world.flows import element_content
from critmin.world.model import World

# outcome column -> the run summary's column it comes from
FROM_SUMMARY = {
    "shortfall_pct": "max_shortfall_pct",
    "shortfall_t": "cumulative_shortfall_t",
    "peak_price_ratio": "peak_price_ratio",
    "tts_days": "tts_days",
    "ttr_days": "ttr_days",
}
OUTCOME_UNITS = {
    "shortfall_pct": "% of baseline demand (worst month, beyond the baseline's)",
    "shortfall_t": "t of the element (cumulative over the horizon, beyond the baseline's)",
    "peak_price_ratio": "ratio (scenario over baseline price, peak month)",
    "tts_days": "days (first shock to first short month; empty: never short)",
    "ttr_days": "days (first shock to recovery; empty: never short)",
}
OUTCOME_COLUMNS = ["draw", "weight", "region", "element", *FROM_SUMMARY, "shortfall_unit"]


def evaluate_exact(
    world: World,
    draws: Draws,
    *,
    progress: Callable[[int, int], None] | None = None,
    cache: MemoryCache | StoreCache | None = PROCESS_CACHE,
) -> pd.DataFrame:
    """Run every draw through the exact engine; one row per draw x region x element with the draw's importance
    weight and the outcomes of ``OUTCOME_UNITS``. ``progress(done, total)`` counts draws."""
    return _exact(world, draws, progress, cache)[0]


def evaluate_chunk_exact(
    world: World, draws: Draws, *, cache: MemoryCache | StoreCache | None = PROCESS_CACHE, keep_prices: bool = False
) -> ChunkResult:
    """A chunk through the exact engine: its outcomes and the histogram of its monthly price ratios
    (:mod:`critmin.risk.chunk`)."""
    outcomes, result = _exact(world, draws, None, cache)
    price_of = price_products_of(world)
    regions = list(result.price.region.values)
    elements = list(price_of)
    price = result.price.sel(product=[price_of[e] for e in elements]).transpose("draw", "region", "product", "date")
    base = result.baseline_price.sel(product=[price_of[e] for e in elements]).transpose("region", "product", "date")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = price.values / base.values[None]
    histogram = ratio_histogram(ratio, np.asarray(draws.weights, dtype=float), regions, elements)
    stats = {"engine": "exact", "draws": len(draws), "steps_solved": len(draws) * ratio.shape[-1]}
    return ChunkResult(outcomes, histogram, stats, price_ratio=ratio if keep_prices else None)


def price_products_of(world: World) -> dict[str, str]:
    """Each element's price product (see :func:`critmin.simulate.summary.price_products`)."""
    return price_products(element_content(world))


def _exact(world, draws, progress, cache):
    ids = np.sort(draws.table["draw"].unique())
    by_draw = dict(tuple(draws.table.groupby("draw")))
    scenarios = [to_scenario(by_draw[d], draws.model) for d in ids]
    result = simulate_draws(world, scenarios, progress, cache)
    summary = result.summary
    outcomes = summary.rename(columns={v: k for k, v in FROM_SUMMARY.items()})
    position = summary["draw"].to_numpy()  # the batch's position of each row's draw
    outcomes = outcomes.assign(
        draw=ids[position],
        weight=np.asarray(draws.weights, dtype=float)[position],
        shortfall_unit=outcomes["element"].map(element_units(world)).fillna("t"),
    )
    return outcomes[OUTCOME_COLUMNS].reset_index(drop=True), result
