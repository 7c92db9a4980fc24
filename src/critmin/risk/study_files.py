"""A study's folder: each evaluated chunk of draws as Parquet files and a JSON marker, so a study's outcomes
never need to sit in memory together and an interrupted study resumes where it stopped.

Layout (``<folder>`` defaults to ``<db stem>-studies/<study_id>/`` next to the DuckDB file)::

    <folder>/study.json                    the study's parameters (its id, model hash, draws, seed, ...)
    <folder>/chunks/chunk-00000.parquet    outcomes: one row per draw x region x element (OUTCOME_COLUMNS)
    <folder>/chunks/chunk-00000.hist.parquet  the chunk's price-ratio histogram (HISTOGRAM_COLUMNS)
    <folder>/chunks/chunk-00000.json       the marker: chunk index, draw range, engine stats, notes, wall time

Every file is written under a temporary name and renamed into place (``os.replace``), and the marker last: a
chunk counts as done only when its marker names the same study and draw range and both Parquet files are
there. Parquet is written and read through DuckDB (no pyarrow needed).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from critmin.errors import UsageError
from critmin.risk.chunk import HISTOGRAM_COLUMNS, ChunkResult, merge_histograms
from critmin.risk.evaluate import OUTCOME_COLUMNS
from critmin.risk.sample import Draws

STUDY_FILE = "study.json"


def chunk_dir(folder: Path) -> Path:
    return Path(folder) / "chunks"


def outcomes_file(folder: Path, index: int) -> Path:
    return chunk_dir(folder) / f"chunk-{index:05d}.parquet"


def histogram_file(folder: Path, index: int) -> Path:
    return chunk_dir(folder) / f"chunk-{index:05d}.hist.parquet"


def marker_file(folder: Path, index: int) -> Path:
    return chunk_dir(folder) / f"chunk-{index:05d}.json"


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _write_json(path: Path, payload: dict) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(json.dumps(payload, indent=1, sort_keys=True, allow_nan=False, default=_plain), encoding="utf-8")
    os.replace(tmp, path)


def _plain(value):
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _write_parquet(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    con.register("chunk_view", frame)
    try:
        con.execute(f"COPY (SELECT * FROM chunk_view) TO '{_sql_path(tmp)}' (FORMAT parquet)")
    finally:
        con.unregister("chunk_view")
    os.replace(tmp, path)


def prepare(folder: Path, parameters: dict) -> None:
    """Create the folder (and its chunks/), or check that it holds this study: a folder of another study is
    refused rather than mixed in."""
    folder = Path(folder)
    chunk_dir(folder).mkdir(parents=True, exist_ok=True)
    path = folder / STUDY_FILE
    if path.exists():
        try:
            found = json.loads(path.read_text(encoding="utf-8")).get("study_id")
        except (OSError, ValueError, AttributeError):
            found = None
        if found != parameters["study_id"]:
            raise UsageError(
                f"{folder} holds the chunks of another study ({found or 'unreadable study.json'}), not of "
                f"{parameters['study_id']}; choose another directory or remove that one"
            )
        return
    _write_json(path, parameters)


def draw_range(part: Draws) -> tuple[int, int, int]:
    """The first and last draw index of a chunk and its number of draws."""
    ids = part.table["draw"].unique()
    return int(np.min(ids)), int(np.max(ids)), len(part)


def is_done(folder: Path, index: int, part: Draws, study_id: str) -> bool:
    """Whether chunk ``index`` was evaluated for this study: its marker is readable and names the study and
    the chunk's draws, and both Parquet files exist."""
    marker = read_marker(folder, index)
    if marker is None:
        return False
    first, last, count = draw_range(part)
    expected = {"study_id": study_id, "chunk": index, "first_draw": first, "last_draw": last, "draws": count}
    if any(marker.get(key) != value for key, value in expected.items()):
        return False
    return outcomes_file(folder, index).is_file() and histogram_file(folder, index).is_file()


def read_marker(folder: Path, index: int) -> dict | None:
    try:
        marker = json.loads(marker_file(folder, index).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def write_chunk(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    index: int,
    part: Draws,
    result: ChunkResult,
    wall_s: float,
    study_id: str,
) -> None:
    """Write chunk ``index``'s outcomes and histogram, then its marker (last, so a chunk whose writing was cut
    short is evaluated again on resume)."""
    marker_file(folder, index).unlink(missing_ok=True)  # a stale marker must not vouch for the new files
    _write_parquet(con, result.outcomes[OUTCOME_COLUMNS], outcomes_file(folder, index))
    _write_parquet(con, result.histogram[HISTOGRAM_COLUMNS], histogram_file(folder, index))
    first, last, count = draw_range(part)
    marker = {
        "study_id": study_id,
        "chunk": index,
        "first_draw": first,
        "last_draw": last,
        "draws": count,
        "stats": dict(result.stats),
        "notes": list(result.notes),
        "wall_s": round(float(wall_s), 3),
    }
    _write_json(marker_file(folder, index), marker)


def outcome_files(folder: Path, count: int) -> list[str]:
    """The outcome files of chunks 0 to count - 1, in order (an explicit list: a glob would also match the
    histogram files and any stale chunk beyond the study's)."""
    return [str(outcomes_file(folder, i)) for i in range(count)]


def merged_histogram(con: duckdb.DuckDBPyConnection, folder: Path, count: int) -> pd.DataFrame:
    """Every chunk's histogram summed, folded in chunk order (so the sums, to the last bit, do not depend on
    the order in which chunks finished or on the number of workers); one chunk in memory at a time."""
    merged = pd.DataFrame(columns=HISTOGRAM_COLUMNS)
    for i in range(count):
        part = con.execute(f"SELECT * FROM read_parquet('{_sql_path(histogram_file(folder, i))}')").df()
        merged = merge_histograms([merged, part])
    return merged


def summed_markers(folder: Path, count: int) -> dict:
    """The markers of chunks 0 to count - 1 summed: engine stats (numbers summed; text values kept, distinct),
    the distinct notes in order of appearance, and the evaluation time."""
    stats: dict = {}
    notes: list[str] = []
    wall = 0.0
    for i in range(count):
        marker = read_marker(folder, i) or {}
        for key, value in (marker.get("stats") or {}).items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                seen = stats.setdefault(key, [])
                if isinstance(seen, list) and value not in seen:
                    seen.append(value)
            else:
                stats[key] = stats.get(key, 0) + value
        notes += [n for n in marker.get("notes") or [] if n not in notes]
        wall += float(marker.get("wall_s") or 0.0)
    stats = {k: (v[0] if isinstance(v, list) and len(v) == 1 else v) for k, v in stats.items()}
    return {"engine_stats": stats, "notes": notes, "evaluation_s": round(wall, 3)}
