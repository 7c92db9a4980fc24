"""Scale the evaluation of draws out on dask.distributed: a LocalCluster of ``workers`` processes by default,
or an existing cluster at ``scheduler`` (``tcp://host:port``).

Draws are split into chunks (at least 100 draws each is advised, unless the study is smaller: below that the
scheduling overhead outweighs the work); each task evaluates one chunk and returns what the caller keeps of it
(its outcomes, or a :class:`critmin.risk.chunk.ChunkResult`), so no array of every price of every draw is ever
gathered. Every path restarts from the reference basis (:mod:`critmin.simulate.draws`), so a draw's outcome
does not depend on its chunk or worker: the same seed gives the same numbers whatever the number of workers.

:func:`map_chunks` is the general form (results yielded as chunks finish, in process when one worker is asked
for); :func:`evaluate_distributed` gathers the exact evaluator's outcomes of every draw.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import pandas as pd

from critmin.errors import UsageError
from critmin.risk.evaluate import OUTCOME_COLUMNS, evaluate_exact
from critmin.risk.sample import Draws
from critmin.world.model import World

MIN_CHUNK = 100  # draws per task: below this the scheduling overhead outweighs the work
MAX_DEFAULT_WORKERS = 8  # the default worker count: the machine's CPUs, at most this many


def default_workers() -> int:
    """The default number of worker processes: ``os.cpu_count()``, at most ``MAX_DEFAULT_WORKERS`` (8): past
    that a LocalCluster's start-up and memory (one world and one solver per process) outweigh the gain on
    most machines; ask for more with ``workers=`` or use a cluster (``scheduler=``)."""
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS))


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


@contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None) -> Iterator:
    """A ``dask.distributed.Client``: on a LocalCluster of ``workers`` single-threaded processes (no
    dashboard), closed on exit, or on the existing cluster at ``scheduler``."""
    from dask.distributed import Client, LocalCluster

    cluster = None
    if scheduler is None:
        workers = default_workers() if workers is None else workers
        if workers < 1:
            raise UsageError(f"--workers must be at least 1, got {workers}")
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        with Client(scheduler or cluster) as client:
            yield client
    finally:
        if cluster is not None:
            cluster.close()


def map_chunks(
    world: World,
    parts: Sequence[Draws],
    task: Callable,
    *args,
    workers: int | None = None,
    scheduler: str | None = None,
) -> Iterator[tuple[int, object]]:
    """``(i, task(world, parts[i], *args))`` for every part, yielded as each finishes (in any order).

    ``workers == 1`` without a scheduler evaluates the parts in this process, in order; otherwise on dask
    (:func:`dask_client`): the world is sent to every worker once, each part is one task, and each result is
    fetched and released as it finishes, so only finished, unconsumed results are held. ``task`` must be a
    module-level function (workers import it)."""
    if scheduler is None and workers == 1:
        for i, part in enumerate(parts):
            yield i, task(world, part, *args)
        return
    if not parts:
        return
    from dask.distributed import as_completed

    with dask_client(workers, scheduler) as client:
        shared_world = client.scatter(world, broadcast=True)
        index = {client.submit(task, shared_world, part, *args, pure=False): i for i, part in enumerate(parts)}
        for future in as_completed(list(index)):
            result = future.result()
            i = index.pop(future)
            future.release()
            yield i, result


def evaluate_distributed(
    world: World,
    draws: Draws,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    chunk: int = MIN_CHUNK,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Evaluate ``draws`` with the exact evaluator on a dask cluster (in this process for ``workers=1``); the
    outcomes of :func:`evaluate_exact`, sorted by draw, region and element. ``progress(done, total)`` counts
    finished chunks."""
    if scheduler is None and workers < 1:
        raise UsageError(f"--workers must be at least 1, got {workers}")
    parts = chunks(draws, chunk)
    results = []
    spread = map_chunks(world, parts, _evaluate_chunk, workers=workers, scheduler=scheduler)
    for done, (_, outcomes) in enumerate(spread, start=1):
        results.append(outcomes)
        if progress:
            progress(done, len(parts))
    outcomes = pd.concat(results, ignore_index=True) if results else pd.DataFrame(columns=OUTCOME_COLUMNS)
    return outcomes.sort_values(["draw", "region", "element"], ignore_index=True)


def _evaluate_chunk(world: World, part: Draws) -> pd.DataFrame:
    return evaluate_exact(world, part)
