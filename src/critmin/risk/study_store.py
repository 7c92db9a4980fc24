"""Risk studies in the DuckDB store: the ``risk_studies`` row (provenance, status) and one table per analysis
table (``risk_study_measures``, ``risk_study_ranking``, ...), each keyed by ``study_id``. A finished study's
tables and row are written in one transaction, as :func:`critmin.runs.save_run` writes a run."""

from __future__ import annotations

import pandas as pd

from critmin.errors import NotFoundError
from critmin.risk.study_tables import COLUMNS, SORT, STUDY_TABLES
from critmin.store import Store

STUDY_COLUMNS = [
    "study_id", "name", "model", "model_hash", "model_yaml", "data_version", "critmin_version", "draws", "seed",
    "sampler", "engine", "chunk", "workers", "scheduler", "created_at", "wall_s", "status", "directory", "notes",
]  # fmt: skip
STUDY_DDL = """CREATE TABLE IF NOT EXISTS risk_studies (
    study_id VARCHAR PRIMARY KEY, name VARCHAR, model VARCHAR, model_hash VARCHAR, model_yaml VARCHAR,
    data_version VARCHAR, critmin_version VARCHAR, draws BIGINT, seed UBIGINT, sampler VARCHAR, engine VARCHAR,
    chunk BIGINT, workers BIGINT, scheduler VARCHAR, created_at TIMESTAMP, wall_s DOUBLE, status VARCHAR,
    directory VARCHAR, notes VARCHAR)"""
TYPES = {
    "draws": "BIGINT", "weight": "DOUBLE", "rank": "BIGINT", "on_reference_list": "BOOLEAN", "date": "DATE",
    "region": "VARCHAR", "element": "VARCHAR", "loss": "VARCHAR", "unit": "VARCHAR", "product": "VARCHAR",
    "column": "VARCHAR",
}  # fmt: skip
# statuses of a study's row: complete (tables written), running (started, or stopped without a word: run it
# again to resume), failed and interrupted (the error is in notes; run it again to resume)
STATUSES = ("running", "complete", "failed", "interrupted")


def table_name(table: str) -> str:
    return f"risk_study_{table}"


def _ddl(table: str) -> str:
    columns = ", ".join(f'"{c}" {TYPES.get(c, "DOUBLE")}' for c in COLUMNS[table])
    return f"CREATE TABLE IF NOT EXISTS {table_name(table)} (study_id VARCHAR, {columns})"


def ensure_study_tables(store: Store) -> None:
    """Create the study tables if missing; once per store object."""
    if getattr(store, "study_tables_ready", False):
        return
    store.con.execute(STUDY_DDL)
    for table in STUDY_TABLES:
        store.con.execute(_ddl(table))
    store.study_tables_ready = True


class StudyNotFoundError(NotFoundError, KeyError):
    """No stored study of that id, or a prefix that more than one study id starts with."""

    def __str__(self) -> str:
        return str(self.args[0])


class StudyIncompleteError(NotFoundError, ValueError):
    """A study whose tables are not written yet (running, failed or interrupted)."""


def study_row(store: Store, study_id: str) -> dict | None:
    ensure_study_tables(store)
    frame = store.con.execute("SELECT * FROM risk_studies WHERE study_id = ?", [study_id]).df()
    return None if frame.empty else frame.iloc[0].to_dict()


def put_row(store: Store, row: dict) -> None:
    """Insert or replace a study's row (its own statement: a status change outside the final transaction)."""
    ensure_study_tables(store)
    _replace_row(store, row)


def _replace_row(store: Store, row: dict) -> None:
    store.con.execute("DELETE FROM risk_studies WHERE study_id = ?", [row["study_id"]])
    placeholders = ", ".join("?" for _ in STUDY_COLUMNS)
    store.con.execute(
        f"INSERT INTO risk_studies ({', '.join(STUDY_COLUMNS)}) VALUES ({placeholders})",
        [row.get(c) for c in STUDY_COLUMNS],
    )


def save_study(store: Store, row: dict, tables: dict[str, pd.DataFrame]) -> None:
    """Write a finished study's tables and its row in one transaction (replacing any earlier rows of it)."""
    ensure_study_tables(store)
    con = store.con
    sid = row["study_id"]
    con.execute("BEGIN TRANSACTION")
    try:
        for table in STUDY_TABLES:
            name = table_name(table)
            con.execute(f"DELETE FROM {name} WHERE study_id = ?", [sid])
            frame = tables[table]
            if frame.empty:
                continue
            columns = ", ".join(f'"{c}"' for c in COLUMNS[table])
            con.register("study_view", frame[COLUMNS[table]])
            con.execute(f"INSERT INTO {name} (study_id, {columns}) SELECT ?, {columns} FROM study_view", [sid])
            con.unregister("study_view")
        _replace_row(store, row)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def read_table(store: Store, study_id: str, table: str) -> pd.DataFrame:
    """A stored table's rows (its documented columns, sorted by its keys; dates as ISO strings)."""
    ensure_study_tables(store)
    columns = ", ".join(f'"{c}"' for c in COLUMNS[table])
    order = ", ".join(f'"{c}"' for c in SORT[table])
    frame = store.con.execute(
        f"SELECT {columns} FROM {table_name(table)} WHERE study_id = ? ORDER BY {order}", [study_id]
    ).df()
    if "date" in frame:
        frame["date"] = pd.to_datetime(frame["date"]).dt.date.map(lambda d: d.isoformat())
    for column in ("draws", "rank"):
        if column in frame:
            frame[column] = frame[column].astype("int64")
    if "on_reference_list" in frame:
        frame["on_reference_list"] = frame["on_reference_list"].astype(bool)
    return frame.reset_index(drop=True)
