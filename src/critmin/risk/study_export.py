"""A stored study written out for analysis: its provenance row and every table, as CSV, Parquet, Excel or
JSON, the format taken from the output file's suffix.

- ``.csv`` and ``.parquet``: one file per table beside ``out``, named ``<stem>.<table><suffix>``: ``--out
  jp.csv`` writes ``jp.study.csv``, ``jp.measures.csv``, ``jp.ranking.csv``, ``jp.fan.csv``,
  ``jp.exceedance.csv`` and ``jp.durations.csv`` (the tables' columns differ, so one long file would be mostly
  empty cells).
- ``.xlsx``: one workbook, one sheet per table.
- ``.json``: one object, ``{"study": {...}, "measures": [records], ...}``.

Numbers are rounded to 6 significant digits as run exports are (:mod:`critmin.run_export`); units are in the
tables' ``unit`` columns and column names. Existing files are kept unless ``force``; files appear only once
written in full (temporary names, then renamed).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from critmin.errors import UsageError
from critmin.risk.study import STUDY_TABLES, resolve_study, study_info, study_table
from critmin.risk.study_store import STUDY_COLUMNS
from critmin.run_export import round_significant, write_all_or_nothing
from critmin.store import Store

EXPORT_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".xlsx": "xlsx", ".json": "json"}
PER_TABLE = ("csv", "parquet")  # one file per table; the others write the one file ``out``


def export_tables(store: Store, study_id: str) -> dict[str, pd.DataFrame]:
    """A complete study's tables as exported: ``study`` (its risk_studies row) then ``STUDY_TABLES``, numbers
    rounded to 6 significant digits, dates as dates."""
    sid = resolve_study(store, study_id)
    info = study_info(store, sid)
    row = {key: info[key] for key in STUDY_COLUMNS}
    row["notes"] = store.con.execute("SELECT notes FROM risk_studies WHERE study_id = ?", [sid]).fetchone()[0]
    tables = {"study": pd.DataFrame([row])}
    for name in STUDY_TABLES:
        frame = study_table(store, sid, name)
        for column in frame.columns:
            if column == "date":
                frame[column] = pd.to_datetime(frame[column]).dt.date.astype(object)
            elif frame[column].dtype == "float64":
                frame[column] = round_significant(frame[column])
        tables[name] = frame
    return tables


def export_format(out: Path) -> str:
    """The export format named by ``out``'s suffix."""
    fmt = EXPORT_SUFFIXES.get(Path(out).suffix.lower())
    if fmt is None:
        raise UsageError(
            f"--out {out}: name a file ending in {', '.join(EXPORT_SUFFIXES)} (the suffix chooses the format)"
        )
    return fmt


def export_targets(out: Path, names: list[str]) -> list[Path]:
    """The files an export to ``out`` writes."""
    out = Path(out)
    if export_format(out) in PER_TABLE:
        return [out.with_name(f"{out.stem}.{name}{out.suffix}") for name in names]
    return [out]


def export_study(store: Store, study_id: str, out: Path, *, force: bool = False) -> list[Path]:
    """Write a complete study's provenance and tables to ``out`` (format from its suffix, see the module);
    returns the files written. Refuses to replace existing files unless ``force``."""
    out = Path(out)
    fmt = export_format(out)
    tables = export_tables(store, study_id)
    paths = export_targets(out, list(tables))

    def write_json(path: Path) -> None:
        payload = {"study": _records(tables["study"])[0]}
        payload.update({name: _records(tables[name]) for name in STUDY_TABLES})
        path.write_text(json.dumps(payload, indent=1, allow_nan=False) + "\n", encoding="utf-8")

    return write_all_or_nothing(tables, paths, fmt, out.parent, write_json, force=force)


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: _json_value(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _json_value(value):
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
