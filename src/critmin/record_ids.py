"""Stored records (risk studies, plans, deals) are named by id, by a unique prefix of one, or ``latest``: one
resolver for every table of them."""

from __future__ import annotations

from dataclasses import dataclass


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
