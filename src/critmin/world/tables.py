"""Reading and writing component tables as CSV, typed by the schema, losslessly.

A table is a pandas DataFrame whose columns are the component's attributes in schema order, plus two
hidden bookkeeping columns, ``_file`` and ``_line``, that say where each row came from so that later
checks can point at it.
"""

from __future__ import annotations

import csv
import datetime
import io
import math
import re

import pandas as pd

from critmin.schema import Attribute, Component
from critmin.world.problems import Problem

HIDDEN = ("_file", "_line")
_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def empty_table(comp: Component) -> pd.DataFrame:
    frame = pd.DataFrame({a.name: pd.Series([], dtype=_dtype(a)) for a in comp.attributes})
    frame["_file"] = pd.Series([], dtype=object)
    frame["_line"] = pd.Series([], dtype="int64")
    return frame


def _dtype(attr: Attribute) -> str | type:
    return {"float": "float64", "int": "Int64"}.get(attr.type, object)


def typed(comp: Component, frame: pd.DataFrame, file: str | None = None) -> pd.DataFrame:
    """Coerce a frame's columns to the schema's dtypes (missing text as None), adding bookkeeping columns."""
    out = pd.DataFrame(index=range(len(frame)))
    for attr in comp.attributes:
        column = frame[attr.name].reset_index(drop=True) if attr.name in frame else pd.Series([None] * len(frame))
        if attr.type in ("float", "int"):
            out[attr.name] = pd.to_numeric(column).astype(_dtype(attr))
        else:
            column = column.astype(object)
            out[attr.name] = column.where(column.notna(), None)
    out["_file"] = frame["_file"].to_numpy() if "_file" in frame else file
    out["_line"] = frame["_line"].to_numpy().astype("int64") if "_line" in frame else range(2, len(frame) + 2)
    return out


def _parse_value(attr: Attribute, raw: str) -> tuple[object, str | None]:
    """Return (value, error reason)."""
    text = raw.strip()
    if text == "":
        text = attr.default
    if text == "":
        return (None, "required value is missing") if attr.required else (None, None)
    if attr.type == "float":
        try:
            value = float(text)
        except ValueError:
            return None, f"{text!r} is not a number"
        if not math.isfinite(value):
            return None, f"{text!r} is not a finite number"
    elif attr.type == "int":
        try:
            value = int(text)
        except ValueError:
            return None, f"{text!r} is not an integer"
    elif attr.type == "date":
        if not _valid_date(text):
            return None, f"{text!r} is not a date (YYYY-MM-DD, or YYYY-MM / YYYY where the day is unknown)"
        value = text
    else:
        value = text
    if attr.allowed and value not in attr.allowed:
        return None, f"{value!r} is not one of {', '.join(attr.allowed)}"
    if attr.min is not None and isinstance(value, int | float) and value < attr.min:
        what = "negative" if attr.min == 0 else f"below the minimum {attr.min:g}"
        return None, f"{value:g} is {what} (must be >= {attr.min:g}{_unit(attr)})"
    if attr.max is not None and isinstance(value, int | float) and value > attr.max:
        return None, f"{value:g} is above the maximum {attr.max:g}{_unit(attr)}"
    return value, None


def _valid_date(text: str) -> bool:
    match = _DATE.fullmatch(text)
    if not match:
        return False
    year, month, day = (int(g) if g else 1 for g in match.groups())
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


def _unit(attr: Attribute) -> str:
    return f" {attr.unit}" if attr.unit and "{" not in attr.unit and attr.unit != "-" else ""


def parse_csv(comp: Component, text: str, file: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Parse one component file. Returns the typed table and every problem found in it."""
    problems: list[Problem] = []
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return empty_table(comp), [Problem(file, 1, None, "file is empty: expected a header row")]
    header = [h.strip() for h in header]
    known = set(comp.columns)
    for col in {c for c in header if header.count(c) > 1}:
        problems.append(Problem(file, 1, col, "column appears more than once in the header"))
    for col in header:
        if col not in known:
            problems.append(Problem(file, 1, col, f"unknown column for {comp.name}; expected {comp.columns}"))
    for attr in comp.attributes:
        if attr.required and not attr.default and attr.name not in header:
            problems.append(Problem(file, 1, attr.name, "required column is missing"))
    if problems:
        return empty_table(comp), problems
    position = {name: i for i, name in enumerate(header)}
    records, lines = [], []
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(Problem(file, line, None, f"malformed CSV: {exc}"))
            break
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(Problem(file, line, None, f"has {len(row)} fields, header has {len(header)}"))
            continue
        record = {}
        for attr in comp.attributes:
            raw = row[position[attr.name]] if attr.name in position else ""
            value, reason = _parse_value(attr, raw)
            if reason:
                problems.append(Problem(file, line, attr.name, reason))
            record[attr.name] = value
        records.append(record)
        lines.append(line)
    frame = empty_table(comp)
    if records:
        frame = pd.DataFrame.from_records(records, columns=comp.columns)
        for attr in comp.attributes:
            frame[attr.name] = frame[attr.name].astype(_dtype(attr))
        frame["_file"] = file
        frame["_line"] = pd.Series(lines, dtype="int64")
    return frame, problems


def format_value(attr: Attribute, value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if attr.type == "float":
        number = float(value)
        if number.is_integer() and abs(number) < 1e15:
            return str(int(number))
        return repr(number)
    if attr.type == "int":
        return str(int(value))
    return str(value)


def to_csv_text(comp: Component, frame: pd.DataFrame) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(comp.columns)
    attrs = comp.attributes
    for row in frame[comp.columns].itertuples(index=False, name=None):
        writer.writerow([format_value(a, v) for a, v in zip(attrs, row, strict=True)])
    return out.getvalue()
