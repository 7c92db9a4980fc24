"""Shared pieces of the routes: the app context, id patterns, tidy records and JSON/CSV output."""

from __future__ import annotations

import json
from typing import Any, Literal

import pandas as pd
from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from critmin.server.context import AppContext
from critmin.server.errors import api_error

# Names are ids, never paths: no slashes, no leading dot.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_]{0,31}$"
RUN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
SCENARIO_NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,127}$"
OutputFormat = Literal["json", "csv"]


def context(request: Request) -> AppContext:
    return request.app.state.ctx


class Page(BaseModel):
    """A page of tidy records. Units are in the column names (``price_usd_per_kg``) or a ``unit`` column."""

    records: list[dict[str, Any]]
    total: int = Field(description="Rows matching the filters, over all pages.")
    limit: int | None = None
    offset: int = 0


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe records: NaN -> null, dates -> ISO strings (a plain date where there is no time of day),
    numpy scalars -> Python."""
    frame = frame.copy()
    for column in frame.columns[[pd.api.types.is_datetime64_any_dtype(t) for t in frame.dtypes]]:
        values = frame[column]
        pattern = "%Y-%m-%d" if (values.dropna() == values.dropna().dt.normalize()).all() else "%Y-%m-%dT%H:%M:%S"
        frame[column] = values.dt.strftime(pattern).astype(object).where(values.notna(), None)
    return json.loads(frame.to_json(orient="records", date_format="iso"))


def tabular(frame: pd.DataFrame, fmt: OutputFormat, *, total: int | None = None, limit=None, offset: int = 0):
    if fmt == "csv":
        return Response(frame.to_csv(index=False), media_type="text/csv; charset=utf-8")
    return Page(records=records(frame), total=len(frame) if total is None else total, limit=limit, offset=offset)


def check_member(value: str | None, valid, loc: list, what: str) -> None:
    if value is not None and value not in valid:
        shown = ", ".join(sorted(valid)[:40])
        raise api_error(422, loc, f"unknown {what} {value!r}; choose from: {shown}")


def world_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """A world table without its internal bookkeeping columns (_file, _line)."""
    return frame.drop(columns=[c for c in frame.columns if c.startswith("_")])
