"""What a shock handler is, and the step's numbers it works on.

Each shock type has one handler (:mod:`critmin.simulate.handlers`). A handler says what room the shock needs
in the model (``reserve``), compiles the shock against the world's grids once per path (``compile``), changes
one step's market numbers (``apply``), acts through the path's state (``apply_policy``: stockpiles, recycling)
and reports what it did (``report``). The time loop and one-step clearing call the same handlers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar

import numpy as np
import pandas as pd
import xarray as xr

from critmin.market.data import StepData, values_in
from critmin.scenario import schema as S
from critmin.simulate.calendar import overlap
from critmin.simulate.handlers.record import PathRecord
from critmin.simulate.policies import element_use
from critmin.simulate.selectors import Resolver

ARC_DIMS = ("origin", "destination", "product")


@dataclass(frozen=True)
class CompiledShock:
    shock: S.Shock
    mask: xr.DataArray | None  # boolean array on the grid the shock acts on
    # licence: per approval entry, which destinations it covers; and the destinations under a general licence
    approval_covers: np.ndarray | None = None  # entries x destinations, bool
    general_licence: np.ndarray | None = None  # destinations, bool
    arc_mask: np.ndarray | None = None  # trade shocks: the mask on origin x destination x product, as numpy


@dataclass(frozen=True)
class Reservation:
    """Room a shock needs in the model, built once for the whole path: activities (region, process, product,
    cost multiple) and stocks (region, product, holder) the baseline world may not have."""

    activities: tuple[tuple[str, str, str, float], ...] = ()
    stocks: tuple[tuple[str, str, str], ...] = ()


@dataclass
class MarketArrays:
    """Working copies of one step's numbers that market shocks change. Trade is on numpy arrays of the arc grid
    (origin x destination x product: the Monte Carlo inner loop), the rest on labelled arrays."""

    arc_present: np.ndarray
    arc_cap: np.ndarray
    arc_cost: np.ndarray
    contract_cost: np.ndarray
    activity_cap: xr.DataArray
    activity_quad: xr.DataArray
    demand: xr.DataArray
    subsidy: xr.DataArray
    baseline_trade: xr.DataArray | None
    _base_flow: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def of(cls, d: StepData, baseline_trade: xr.DataArray | None) -> MarketArrays:
        arc_cap = values_in(d.arc_cap, *ARC_DIMS)
        return cls(
            arc_present=~np.isnan(arc_cap),
            arc_cap=arc_cap,
            arc_cost=values_in(d.arc_cost, *ARC_DIMS),
            contract_cost=values_in(d.arc_contract_cost, *ARC_DIMS),
            activity_cap=d.activity_cap,
            activity_quad=d.activity_quad,
            demand=d.demand,
            subsidy=d.activity_subsidy,
            baseline_trade=baseline_trade,
        )

    def base_flow(self) -> np.ndarray:
        """The unshocked clearing's flows on the arc grid (what quotas are shares of; none without one)."""
        if self._base_flow is None:
            self._base_flow = (
                np.zeros_like(self.arc_cap) if self.baseline_trade is None
                else np.nan_to_num(values_in(self.baseline_trade, *ARC_DIMS))
            )  # fmt: skip
        return self._base_flow


@dataclass(frozen=True)
class StepContext:
    """The step a market shock acts in: its data before any shock, its dates and the reference prices."""

    data: StepData
    step_start: dt.date
    step_days: int
    ref_price: xr.DataArray

    @cached_property
    def arc_price(self) -> np.ndarray:
        """Reference price per product, broadcast on the arc grid."""
        return self.ref_price.values[None, None, :]

    def share(self, shock: S.Shock) -> float:
        """Share of the step's days inside the shock's window."""
        return overlap(self.step_start, shock.start, shock.end)


@dataclass
class PolicyContext:
    """The path's state a policy acts through, in one step."""

    date: dt.date
    stock_level: xr.DataArray
    in_use: xr.DataArray
    content: xr.DataArray  # element content, product x element
    lifetime: float
    ref_price: xr.DataArray
    demand_data: StepData  # the step's data (demand) that reference use is measured on

    @cached_property
    def use(self) -> xr.DataArray:
        """Reference use of each single-element product's element (computed once per step)."""
        return element_use(self.demand_data, self.content)


def isin(coord: str, values: list[str], all_values: list[str]) -> xr.DataArray:
    return xr.DataArray(np.isin(all_values, values), coords={coord: all_values}, dims=coord)


class ShockHandler:
    """How one type of shock acts; the base acts nowhere, so a handler overrides only what its shock does."""

    shock_type: ClassVar[type]
    # reports list stock policies first, then capacity additions (projects, recycling)
    report_group: ClassVar[int] = 0

    def reserve(self, shock: S.Shock, resolver: Resolver) -> Reservation:
        return Reservation()

    def mask(self, shock: S.Shock, resolver: Resolver, data: StepData) -> xr.DataArray | None:
        return None

    def compile(self, shock: S.Shock, resolver: Resolver, data: StepData) -> CompiledShock:
        return CompiledShock(shock, self.mask(shock, resolver, data))

    def apply(self, c: CompiledShock, arrays: MarketArrays, step: StepContext) -> None:
        """Change the step's market numbers in ``arrays`` (in place)."""

    def apply_policy(self, d: StepData, c: CompiledShock, policy: PolicyContext) -> StepData:
        """Act through the path's state (after the market shocks); returns the step's data."""
        return d

    def report(self, c: CompiledShock, path: PathRecord) -> list[dict]:
        """What the shock did on a finished path: records as in ``RunResult.policy_reports``."""
        return []


def region_product_mask(shock, resolver: Resolver) -> xr.DataArray:
    """Where a policy acts: its regions x its goods."""
    return isin("region", resolver.places(shock.where), resolver.regions) & isin(
        "product", resolver.goods(shock), resolver.products
    )


def as_frames(reservations: list[Reservation]) -> tuple[pd.DataFrame, pd.DataFrame]:
    acts = [a for r in reservations for a in r.activities]
    stocks = [s for r in reservations for s in r.stocks]
    return (
        pd.DataFrame(acts, columns=["region", "process", "product", "cost_multiple"]),
        pd.DataFrame(stocks, columns=["region", "product", "holder"]),
    )
