"""A finished path, as the shock handlers' reports read it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import xarray as xr

from critmin.market.data import StepData
from critmin.market.results import StepResult


@dataclass(frozen=True)
class PathRecord:
    """A finished path, for reports: dates, each path's steps, the scenario path's step data and stock levels."""

    dates: list[dt.date]
    steps: dict[str, list[StepResult]]
    data: list[StepData]
    content: xr.DataArray
    levels: list[xr.DataArray]
