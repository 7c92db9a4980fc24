"""Risk studies (issue 13): sample a disruption model, evaluate the draws in chunks (in this process or on
dask.distributed), keep each chunk on disk as it finishes, analyse, and store the tables in DuckDB.

A study is identified by what determines its numbers: its id is a short hash of the model text, the world's
data version, the draws, seed, sampler, chunk size and engine (not the workers: results are identical whatever
their number). Running the same study again resumes it: chunks already on disk are not evaluated again, and a
study already complete in the store is returned as it is.

Files: ``<directory>/chunks/chunk-NNNNN.parquet`` (outcomes), ``.hist.parquet`` (price-ratio histogram) and
``.json`` (the marker, written last), see :mod:`critmin.risk.study_files`; the directory defaults to
``<db stem>-studies/<study_id>/`` next to the DuckDB file. Tables: :mod:`critmin.risk.study_tables`; storage:
:mod:`critmin.risk.study_store`.

>>> study_key("name: x", "0123abcd", draws=100, seed=1, sampler="mc", chunk=50, engine="exact")
'411ba6ab7fc7'
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from critmin._version import __version__
from critmin.errors import UsageError
from critmin.record_ids import RecordKind, resolve_record
from critmin.risk import engines
from critmin.risk.model import RiskModel
from critmin.risk.sample import MAX_DRAWS, SAMPLERS, Draws, sample
from critmin.risk.scale import chunks, default_workers, map_chunks
from critmin.risk.study_files import is_done, prepare, summed_markers, write_chunk
from critmin.risk.study_store import (
    STUDY_COLUMNS,
    StudyIncompleteError,
    StudyNotFoundError,
    ensure_study_tables,
    put_row,
    read_table,
    save_study,
    study_row,
)
from critmin.risk.study_tables import STUDY_TABLES, study_tables
from critmin.store import Store, data_version
from critmin.world.model import World

__all__ = [
    "DEFAULT_CHUNK",
    "STUDY_ENGINES",
    "STUDY_TABLES",
    "StudyIncompleteError",
    "StudyNotFoundError",
    "compare_studies",
    "default_directory",
    "list_studies",
    "resolve_study",
    "run_study",
    "study_info",
    "study_key",
    "study_table",
]

log = logging.getLogger(__name__)

DEFAULT_CHUNK = 500  # draws per chunk (task); at least MIN_CHUNK (100) is advised
STUDY_ENGINES = engines.ENGINES  # fast (the batch engine), exact (every draw through the LP time loop)
COMPARED = ("expected_loss", "cvar_95", "prob_any_shortfall")


def study_key(
    model_text: str, data_version: str, *, draws: int, seed: int, sampler: str, chunk: int, engine: str
) -> str:
    """A study's id: the first 12 hex digits of the SHA-256 of its model text's SHA-256, the world's data
    version, draws, seed, sampler, chunk size and engine (everything its numbers depend on)."""
    model_hash = hashlib.sha256(model_text.encode("utf-8")).hexdigest()
    key = [model_hash, data_version, int(draws), int(seed), sampler, int(chunk), engine]
    return hashlib.sha256(json.dumps(key).encode("utf-8")).hexdigest()[:12]


def default_directory(db_path: str | Path, study_id: str) -> Path:
    """Where a study's chunk files go by default: ``<db stem>-studies/<study_id>/`` beside the DuckDB file."""
    db_path = Path(db_path)
    return db_path.parent / f"{db_path.stem}-studies" / study_id


@contextmanager
def _opened(store: Store | str | Path | None) -> Iterator[Store]:
    """``store`` as is when it is an open Store, else the store at that path (None: the default store), opened
    for the block only."""
    if isinstance(store, Store):
        yield store
        return
    with Store(store) as opened:
        yield opened


def _check(draws, seed, sampler, engine, chunk, workers, scheduler) -> None:
    if sampler not in SAMPLERS:
        raise UsageError(f"--sampler: unknown sampler {sampler!r}; use one of {', '.join(SAMPLERS)}")
    if engine not in engines.ENGINES:
        raise UsageError(f"--engine: unknown engine {engine!r}; use one of {', '.join(engines.ENGINES)}")
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise UsageError(f"--chunk must be a whole number of draws, at least 1, got {chunk!r}")
    if isinstance(draws, bool) or not isinstance(draws, int) or not 1 <= draws <= MAX_DRAWS:
        raise UsageError(f"--draws must be a whole number from 1 to {MAX_DRAWS:,}, got {draws!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise UsageError(f"--seed must be a whole number from 0 to 2**63 - 1, got {seed!r}")
    if workers is not None and scheduler is not None:
        raise UsageError("--workers and --scheduler exclude each other: a scheduler's cluster has its own workers")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise UsageError(f"--workers must be a whole number, at least 1, got {workers!r}")


def run_study(
    world: World,
    model: RiskModel,
    *,
    model_text: str,
    draws: int,
    seed: int,
    sampler: str = "mc",
    engine: str = "fast",
    workers: int | None = None,
    scheduler: str | None = None,
    chunk: int = DEFAULT_CHUNK,
    store: Store | str | Path | None,
    directory: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    name: str | None = None,
) -> str:
    """Run (or resume) a risk study and store it; returns its id.

    ``draws`` draws of ``model`` (whose YAML is ``model_text``) are sampled with ``sampler`` (mc, lhs, sobol)
    from ``seed``, split into chunks of ``chunk`` draws (at least 100 advised: below that the overhead of a
    task outweighs its work), and each chunk is evaluated by ``engine`` (fast, exact). ``workers == 1`` without
    ``scheduler`` evaluates in this process; otherwise on dask.distributed: a LocalCluster of ``workers``
    single-threaded processes (default: the machine's CPUs, at most 8; never more than there are chunks to
    evaluate) or the cluster at ``scheduler`` (``tcp://host:port``; not with ``workers``).

    As each chunk finishes its outcomes and histogram go to Parquet files under ``directory`` (default
    :func:`default_directory` beside the store's DuckDB file) and ``progress(done_draws, total_draws)`` is
    called; a first call reports the draws resumed from an earlier run of the same study, if any. At the end
    the tables of ``STUDY_TABLES`` are computed from the files, one region at a time, and written with the
    ``risk_studies`` row in one transaction.

    ``store``: an open :class:`critmin.store.Store`, or the path of one (None: the default store): then the store
    is opened only at the start and at the end, so other processes (a server, the CLI) can use it while the
    study runs. A study already complete in the store is returned at once (logged at INFO). Results are
    identical whatever the number of workers.
    """
    started = time.perf_counter()
    _check(draws, seed, sampler, engine, chunk, workers, scheduler)
    version = data_version(world)
    sid = study_key(model_text, version, draws=draws, seed=seed, sampler=sampler, chunk=chunk, engine=engine)
    with _opened(store) as opened:
        previous = study_row(opened, sid)
        if previous is not None and previous["status"] == "complete":
            log.info("study %s is already complete in the store %s", sid, opened.path)
            return sid
        folder = Path(directory) if directory is not None else default_directory(opened.path, sid)
        row = {
            "study_id": sid, "name": name or model.name, "model": model.name,
            "model_hash": hashlib.sha256(model_text.encode("utf-8")).hexdigest()[:16], "model_yaml": model_text,
            "data_version": version, "critmin_version": __version__, "draws": draws, "seed": seed,
            "sampler": sampler, "engine": engine, "chunk": chunk, "workers": None, "scheduler": scheduler,
            "created_at": previous["created_at"] if previous is not None else _now(), "wall_s": None,
            "status": "running", "directory": str(folder.resolve()), "notes": None,
        }  # fmt: skip
        put_row(opened, row)
    try:
        prepare(folder, {key: row[key] for key in ("study_id", "model", "model_hash", "data_version", "draws",
                                                   "seed", "sampler", "chunk", "engine")})  # fmt: skip
        parts = chunks(sample(model, draws, seed, sampler), chunk)
        count = len(parts)
        pending = [i for i, part in enumerate(parts) if not is_done(folder, i, part, sid)]
        resumed = count - len(pending)
        skipped = set(range(count)) - set(pending)
        done = resumed_draws = sum(len(parts[i]) for i in skipped)
        if progress and done:
            progress(done, draws)
        used = _workers(workers, scheduler, len(pending))
        row["workers"] = used
        con = duckdb.connect()
        try:
            todo = [parts[i] for i in pending]
            for k, (result, wall) in map_chunks(world, todo, _evaluate, engine, workers=used, scheduler=scheduler):
                write_chunk(con, folder, pending[k], todo[k], result, wall, sid)
                todo[k] = None  # the chunk's draws are no longer needed
                done += len(parts[pending[k]])
                del result
                if progress:
                    progress(done, draws)
        finally:
            con.close()
        del parts, todo
        tables = study_tables(world, model, folder, count)
        notes = summed_markers(folder, count)
        notes.update(chunks=count, chunks_resumed=resumed, chunks_evaluated=len(pending),
                     draws_evaluated=draws - resumed_draws)  # fmt: skip
        row.update(status="complete", wall_s=round(time.perf_counter() - started, 3), notes=json.dumps(notes))
        with _opened(store) as opened:
            save_study(opened, row, tables)
    except BaseException as exc:
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        row.update(status=status, wall_s=round(time.perf_counter() - started, 3),
                   notes=json.dumps({"error": f"{type(exc).__name__}: {exc}"}))  # fmt: skip
        try:
            with _opened(store) as opened:
                put_row(opened, row)
        except Exception:  # the store may be what failed; the original error is the one to report
            log.warning("could not mark study %s as %s", sid, status, exc_info=True)
        raise
    return sid


def _workers(workers: int | None, scheduler: str | None, pending: int) -> int | None:
    """Worker processes for this run: None on a scheduler's cluster; else those asked for (default: the CPUs, at
    most 8), never more than the chunks to evaluate (one chunk: in process)."""
    if scheduler is not None:
        return None
    asked = default_workers() if workers is None else workers
    return max(1, min(asked, pending))


def _evaluate(world: World, part: Draws, engine: str):
    """One chunk through ``engine`` (a task: module level, so dask workers import it), with its wall time."""
    started = time.perf_counter()
    result = engines.evaluate_chunk(world, part, engine)
    return result, time.perf_counter() - started


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# --- reading stored studies ----------------------------------------------------------------------------------


def list_studies(store: Store) -> pd.DataFrame:
    """Every stored study: study_id, name, model, draws, seed, sampler, engine, workers (processes used; empty
    on a scheduler's cluster), created_at (UTC), wall_s (s, of the run that completed it) and status
    (complete, running, failed, interrupted), oldest first."""
    ensure_study_tables(store)
    return store.con.execute(
        "SELECT study_id, name, model, draws, seed, sampler, engine, workers, created_at, "
        "round(wall_s, 2) AS wall_s, status FROM risk_studies ORDER BY created_at, study_id"
    ).df()


STUDY_KIND = RecordKind("risk_studies", "study_id", "study", "study",
                        "no studies in the store yet: run one with `critmin risk run`", "critmin risk list")


def resolve_study(store: Store, study_id: str) -> str:
    """A study id from its id, a unique prefix of it, or ``latest`` (the most recently created). Raises
    :class:`StudyNotFoundError` (a NotFoundError) for an unknown id or a prefix of several."""
    ensure_study_tables(store)
    return resolve_record(store.con, STUDY_KIND, study_id, StudyNotFoundError)


def study_info(store: Store, study_id: str) -> dict:
    """A study's ``risk_studies`` row (``study_id`` may be a unique prefix or ``latest``) with its notes
    unpacked: ``notes`` becomes the list of the engine's distinct notes, and ``engine_stats`` (the engine's
    counters summed over chunks), ``chunks``, ``chunks_resumed``, ``chunks_evaluated``, ``draws_evaluated``
    (by the run that completed it), ``evaluation_s`` (evaluation time summed over chunks, s) and, for a failed
    study, ``error`` are added. ``created_at`` is an ISO timestamp (UTC)."""
    sid = resolve_study(store, study_id)
    row = study_row(store, sid)
    info = {key: _plain(row[key]) for key in STUDY_COLUMNS}
    extra = json.loads(row["notes"]) if isinstance(row["notes"], str) and row["notes"] else {}
    info["notes"] = extra.pop("notes", [])
    info.update(extra)
    return info


def _plain(value):
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


def study_table(store: Store, study_id: str, table: str) -> pd.DataFrame:
    """One table of a complete study (``table`` in ``STUDY_TABLES``), with its documented columns, sorted by its
    keys; dates as ISO strings (YYYY-MM-DD). ``study_id`` may be a unique prefix or ``latest``."""
    if table not in STUDY_TABLES:
        raise UsageError(f"--table: unknown study table {table!r}; choose from: {', '.join(STUDY_TABLES)}")
    sid = resolve_study(store, study_id)
    status = study_row(store, sid)["status"]
    if status != "complete":
        raise StudyIncompleteError(
            f"study {sid} has status {status}: its tables are written when it completes; run the same "
            "`critmin risk run` again to resume it"
        )
    return read_table(store, sid, table)


def compare_studies(store: Store, a: str, b: str) -> pd.DataFrame:
    """Two complete studies' risk measures side by side per region x element x loss: study_a, study_b, unit,
    and for expected_loss, cvar_95 and prob_any_shortfall the value of A (``_a``), of B (``_b``) and the
    difference B - A (``_change``). Cells of one study only have empty values for the other."""
    ids = resolve_study(store, a), resolve_study(store, b)
    left, right = (study_table(store, sid, "measures") for sid in ids)
    key = ["region", "element", "loss"]
    merged = left.merge(right, on=key, suffixes=("_a", "_b"), how="outer", sort=True)
    out = merged[key].copy()
    out["unit"] = merged["unit_a"].fillna(merged["unit_b"])
    out["study_a"], out["study_b"] = ids
    for measure in COMPARED:
        out[f"{measure}_a"] = merged[f"{measure}_a"]
        out[f"{measure}_b"] = merged[f"{measure}_b"]
        out[f"{measure}_change"] = merged[f"{measure}_b"] - merged[f"{measure}_a"]
    return out.reset_index(drop=True)
