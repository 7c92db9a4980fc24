"""Scale the evaluation of draws out on dask.distributed: a LocalCluster of ``workers`` processes by default,
or an existing cluster at ``scheduler`` (``tcp://host:port``).

Draws are split into chunks (at least 100 draws each, unless the study is smaller); each task evaluates one
chunk with the exact evaluator and returns its outcomes only, so no array of every price of every draw is
ever gathered. Every path restarts from the reference basis (:mod:`critmin.simulate.draws`), so a draw's
outcome does not depend on its chunk or worker: the same seed gives the same numbers whatever the number of
workers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pandas as pd

from critmin.errors import UsageError
from critmin.risk.evaluate import OUTCOME_COLUMNS, evaluate_exact
from critmin.risk.sample import Draws
from critmin.world.model import World

MIN_CHUNK = 100  # draws per task: below this the scheduling overhead outweighs the work


def chunks(draws: Draws, size: int = MIN_CHUNK) -> list[Draws]:
    """The draws split into consecutive chunks of ``size`` (the last may be smaller), each a ``Draws``."""
    if size < 1:
        raise UsageError(f"chunk size must be at least 1 draw, got {size}")
    ids = np.sort(draws.table["draw"].unique())
    parts = []
    for start in range(0, len(ids), size):
        part = ids[start : start + size]
        positions = np.searchsorted(ids, part)
        parts.append(
            dataclasses.replace(
                draws,
                table=draws.table[draws.table["draw"].isin(part)].reset_index(drop=True),
                seeds=np.asarray(draws.seeds)[positions],
                weights=np.asarray(draws.weights)[positions],
                uniforms=np.asarray(draws.uniforms)[positions],
            )
        )
    return parts


def evaluate_distributed(
    world: World,
    draws: Draws,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    chunk: int = MIN_CHUNK,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Evaluate ``draws`` with the exact evaluator on a dask cluster; the outcomes of :func:`evaluate_exact`,
    sorted by draw, region and element. ``progress(done, total)`` counts finished chunks."""
    from dask.distributed import Client, LocalCluster, as_completed

    parts = chunks(draws, chunk)
    cluster = None
    if scheduler is None:
        if workers < 1:
            raise UsageError(f"--workers must be at least 1, got {workers}")
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        with Client(scheduler or cluster) as client:
            shared_world = client.scatter(world, broadcast=True)
            futures = [client.submit(_evaluate_chunk, shared_world, part, pure=False) for part in parts]
            results = []
            for done, future in enumerate(as_completed(futures), start=1):
                results.append(future.result())
                if progress:
                    progress(done, len(futures))
    finally:
        if cluster is not None:
            cluster.close()
    outcomes = pd.concat(results, ignore_index=True) if results else pd.DataFrame(columns=OUTCOME_COLUMNS)
    return outcomes.sort_values(["draw", "region", "element"], ignore_index=True)


def _evaluate_chunk(world: World, part: Draws) -> pd.DataFrame:
    return evaluate_exact(world, part)
