"""A batch of scenario variants ("draws") on one world and one baseline, with a ``draw`` dimension.

Variants differ in shock magnitudes, dates and parameters; they share the horizon, dynamics and market
settings, hence one baseline path (solved once, or taken from the cache) and one model structure (the union
of the places their projects, stockpiles and recycling reserve). One warm-started solver clears every draw
in turn: each path starts from the basis the last one left. Per draw the results keep what risk analysis
reads (prices, shortfall by region x product, the summary per region x element); the full step results of a
draw are dropped once it is summarised, so memory stays flat in the number of draws.

This is the unit of work a Monte Carlo worker runs; splitting draws across workers is left to the caller.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from critmin.errors import ScenarioError
from critmin.scenario import schema as S
from critmin.simulate.baseline import PROCESS_CACHE, BaselinePath, MemoryCache, StoreCache
from critmin.simulate.handlers import reservations
from critmin.simulate.loop import PathModel, cached_baseline, path_model, run_path
from critmin.simulate.selectors import Resolver
from critmin.simulate.summary import summarise
from critmin.world.flows import element_content
from critmin.world.model import World

SHARED = ("start", "end", "dynamics", "market")  # what variants must agree on to share a baseline
MODELS_KEPT = 2  # path models a caller's ``models`` memo keeps (about 100 MB each on the bundled world)


class DrawError(ScenarioError, ValueError):
    """The variants cannot share one baseline; the message names the draw and the field."""


@dataclass
class DrawResult:
    """Results of a batch of draws. Prices in USD/kg; shortfall in t of the product per month (summed over
    sectors); the summary has one row per draw x region x element (columns of ``critmin run``'s summary plus
    ``draw``)."""

    scenarios: list[S.Scenario]
    price: xr.DataArray  # draw, region, product, date
    shortfall: xr.DataArray  # draw, region, product, date
    baseline_price: xr.DataArray  # region, product, date
    summary: pd.DataFrame
    baseline_months_solved: int  # 0 when the baseline came from the cache
    wall_s: float

    @property
    def draws(self) -> int:
        return len(self.scenarios)


def check_variants(variants: Sequence[S.Scenario]) -> None:
    if not variants:
        raise DrawError("no draws given")
    first = variants[0]
    for i, variant in enumerate(variants[1:], start=1):
        for name in SHARED:
            if getattr(variant, name) != getattr(first, name):
                raise DrawError(
                    f"draw {i}: {name} differs from draw 0 ({getattr(variant, name)!r} vs {getattr(first, name)!r}); "
                    "draws share one baseline, so they must share the horizon, dynamics and market settings"
                )


def simulate_draws(
    world: World,
    variants: Sequence[S.Scenario],
    progress: Callable[[int, int], None] | None = None,
    cache: MemoryCache | StoreCache | None = PROCESS_CACHE,
) -> DrawResult:
    """Run every variant against one shared baseline with one warm-started solver. ``progress(done, total)``
    counts draws."""
    started = time.perf_counter()
    variants = list(variants)
    model, baseline, solved = shared_model(world, variants, cache)
    prices, shortfalls, summaries = [], [], []
    shared: dict = {}  # the baseline's stacked series, the same for every draw
    for i, variant in enumerate(variants):
        run = run_path(model, variant, baseline, baseline_series=shared)
        prices.append(run.series("scenario", "price"))
        shortfalls.append(run.series("scenario", "shortfall").sum("sector", min_count=1))
        summaries.append(summarise(run).assign(draw=i))
        shared = {key: series for key, series in run._series.items() if key[0] == "baseline"}
        if progress:
            progress(i + 1, len(variants))
    draw = pd.Index(np.arange(len(variants)), name="draw")
    return DrawResult(
        scenarios=variants,
        price=xr.concat(prices, dim=draw),
        shortfall=xr.concat(shortfalls, dim=draw),
        baseline_price=run.series("baseline", "price"),
        summary=pd.concat(summaries, ignore_index=True),
        baseline_months_solved=solved,
        wall_s=time.perf_counter() - started,
    )


def shared_model(
    world: World,
    variants: Sequence[S.Scenario],
    cache: MemoryCache | StoreCache | None = PROCESS_CACHE,
    models: dict | None = None,
) -> tuple[PathModel, BaselinePath, int]:
    """The model every variant runs on (room for the union of what their shocks reserve), the shared baseline
    and how many baseline months were solved for it (0 when cached). ``models``: path models kept between
    calls (a worker's chunks share one), by world data version, shared settings and reservations; every path
    restarts its solver from the model's start basis, so a kept model gives the same results as a new one."""
    check_variants(variants)
    first = variants[0]
    content = element_content(world)
    resolver = Resolver(world, content)
    acts, stocks = zip(*(reservations(v, resolver) for v in variants), strict=True)
    reserved = (
        pd.concat(acts, ignore_index=True).drop_duplicates().reset_index(drop=True),
        pd.concat(stocks, ignore_index=True).drop_duplicates().reset_index(drop=True),
    )
    costs = reserved[0].groupby(["region", "process", "product"])["cost_multiple"].nunique()
    if (costs > 1).any():
        region, process, product = costs[costs > 1].index[0]
        raise DrawError(
            f"{process} of {product} in {region}: draws give it different unit_cost_multiple values; a new "
            "activity's cost is fixed when the shared model is built, so run each cost in its own batch"
        )
    baseline, solved = cached_baseline(world, first, content, reserved, cache)
    if models is None:
        return path_model(world, first, content, reserved), baseline, solved
    from critmin.store import data_version  # the store (duckdb) only for callers that keep models

    key = (
        data_version(world),
        first.model_dump_json(include=set(SHARED)),
        reserved[0].to_csv(index=False),
        reserved[1].to_csv(index=False),
    )
    if key not in models:
        while len(models) >= MODELS_KEPT:
            models.pop(next(iter(models)))
        models[key] = path_model(world, first, content, reserved)
    return models[key], baseline, solved
