"""Monthly steps and how much of each step a dated window covers."""

from __future__ import annotations

import datetime as dt

import pandas as pd


def month_starts(start: dt.date, end: dt.date) -> list[dt.date]:
    return [d.date() for d in pd.date_range(pd.Timestamp(start).replace(day=1), pd.Timestamp(end), freq="MS")]


def step_end(step_start: dt.date) -> dt.date:
    return (pd.Timestamp(step_start) + pd.offsets.MonthEnd(0)).date()


def overlap(step_start: dt.date, start: dt.date, end: dt.date | None) -> float:
    """Share of the step (a calendar month) inside the window [start, end]."""
    last = step_end(step_start)
    lo = max(step_start, start)
    hi = min(last, end) if end is not None else last
    if hi < lo:
        return 0.0
    return ((hi - lo).days + 1) / ((last - step_start).days + 1)


def days_between(a: dt.date, b: dt.date) -> int:
    return (b - a).days
