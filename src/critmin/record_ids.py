"""Stored records (risk studies, plans, deals): one row in a record table plus long result tables keyed by the
record's id. One resolver for ids (an id, a unique prefix of one, or ``latest``), and, for plans and deals, one
table creator and one all-or-nothing writer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RecordKind:
    """How a kind of record is stored and named in messages."""

    table: str  # e.g. plans
    column: str  # e.g. plan_id
    noun: str  # e.g. "plan run" (one record, in messages)
    id_noun: str  # e.g. "plan" ("3 plan ids")
    none_yet: str  # the message when there is none, e.g. "no plan runs in the store yet: run one with ..."
    list_command: str  # e.g. "critmin plan list"


def resolve_record(con, kind: RecordKind, value: str, error: type[Exception]) -> str:
    """The id ``value`` names: itself, the one id it starts, or (``latest``) the most recently created.
    Raises ``error`` for an unknown id, a prefix of several, or ``latest`` in an empty table."""
    if value == "latest":
        row = con.execute(
            f"SELECT {kind.column} FROM {kind.table} ORDER BY created_at DESC, {kind.column} LIMIT 1"
        ).fetchone()
        if row is None:
            raise error(kind.none_yet)
        return row[0]
    matches = [r[0] for r in con.execute(
        f"SELECT {kind.column} FROM {kind.table} WHERE starts_with({kind.column}, ?) ORDER BY {kind.column}",
        [value or ""],
    ).fetchall()]  # fmt: skip
    if value in matches:
        return value
    if len(matches) == 1 and value:
        return matches[0]
    if not matches or not value:
        raise error(f"no {kind.noun} {value!r} in the store: see `{kind.list_command}`")
    more = ", ..." if len(matches) > 5 else ""
    raise error(
        f"{value!r} is the start of {len(matches)} {kind.id_noun} ids ({', '.join(matches[:5])}{more}): give more "
        "of the id"
    )


def create_record_tables(con, kind: RecordKind, columns: dict[str, str], tables: dict[str, dict[str, str]],
                         prefix: str) -> None:  # fmt: skip
    """The record table (``columns``: name -> DuckDB type) and each result table ``prefix + name`` (keyed by
    the record's id, rows kept in order by ``_ord``), if missing."""
    ddl = ", ".join(f'"{c}" {t}' for c, t in columns.items())
    con.execute(f"CREATE TABLE IF NOT EXISTS {kind.table} ({ddl})")
    for table, types in tables.items():
        ddl = ", ".join(f'"{c}" {t}' for c, t in types.items())
        con.execute(f"CREATE TABLE IF NOT EXISTS {prefix}{table} ({kind.column} VARCHAR, {ddl}, _ord BIGINT)")


def write_record(con, kind: RecordKind, record_id: str, row: dict, columns: dict[str, str],
                 tables: dict[str, dict[str, str]], frames: dict, prefix: str) -> None:  # fmt: skip
    """A record's row and result tables written in one transaction, replacing any earlier ones of that id."""
    con.execute("BEGIN TRANSACTION")
    try:
        for table, types in tables.items():
            name = f"{prefix}{table}"
            con.execute(f"DELETE FROM {name} WHERE {kind.column} = ?", [record_id])
            frame = frames[table]
            if frame.empty:
                continue
            staged = frame[list(types)].copy()
            staged["_ord"] = np.arange(len(staged), dtype="int64")
            quoted = ", ".join(f'"{c}"' for c in [*types, "_ord"])
            con.register("record_view", staged)
            con.execute(f"INSERT INTO {name} ({kind.column}, {quoted}) SELECT ?, {quoted} FROM record_view",
                        [record_id])  # fmt: skip
            con.unregister("record_view")
        con.execute(f"DELETE FROM {kind.table} WHERE {kind.column} = ?", [record_id])
        quoted = ", ".join(f'"{c}"' for c in columns)
        con.execute(f"INSERT INTO {kind.table} ({quoted}) VALUES ({', '.join('?' for _ in columns)})",
                    [row[c] for c in columns])  # fmt: skip
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
