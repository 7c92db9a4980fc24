"""The one-step clearing model, and its linopy formulation (pure constraint-builder functions).

Spatial price equilibrium (Samuelson; Takayama-Judge): minimise production cost + trade cost + the consumer
value given up (curtailment along demand curves, rationing at the value of lost load) + stock release cost
- stock restocking value, subject to a balance at every region x product node. The balance duals are the
prices. Curves enter as segments (see :mod:`critmin.market.curves`).
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from critmin.market.curves import Segments, segments
from critmin.market.data import StepData, trade_tiers
from critmin.market.inputs import MarketInputs
from critmin.market.lp import StepLP
from critmin.market.settings import MarketSettings

if TYPE_CHECKING:  # linopy is imported only when a linopy model is built
    import linopy


class MarketModel:
    """One clearing step: the inputs and step data it is built from, the sparse model the solvers use
    (``lp``), and the linopy model (``model``), built on first use. Constraints added to ``model`` are
    honoured by :func:`critmin.market.solve.solve_market`."""

    def __init__(self, inputs: MarketInputs, settings: MarketSettings, data: StepData):
        self.inputs, self.settings, self.data = inputs, settings, data
        self._model: linopy.Model | None = None

    @cached_property
    def lp(self) -> StepLP:
        return StepLP(self.data, self.settings)

    @property
    def model(self) -> linopy.Model:
        if self._model is None:
            self._model = linopy_model(self.data, self.settings)
        return self._model

    @property
    def has_linopy_model(self) -> bool:
        return self._model is not None


def _finite(a: xr.DataArray, fill: float = 0.0) -> xr.DataArray:
    return a.where(np.isfinite(a) & a.notnull(), fill)


def activity_segments(d: StepData, settings: MarketSettings) -> Segments:
    lower = xr.zeros_like(d.activity_cap).where(d.activity_cap.notnull())
    seg = segments(lower, d.activity_cap, d.activity_lin, d.activity_quad, d.activity_ref, settings.curves)
    return replace(seg, lin=seg.lin - d.activity_subsidy)


def curtail_segments(d: StepData, settings: MarketSettings) -> Segments:
    return segments(d.curtail_floor, d.curtail_cap, d.curtail_lin, d.curtail_quad, d.curtail_lin, settings.curves)


def add_activities(m: linopy.Model, seg: Segments) -> linopy.Variable:
    return m.add_variables(
        lower=seg.lower.fillna(0), upper=seg.upper.fillna(0), name="activity", mask=seg.upper.notnull()
    )


def add_trade(m: linopy.Model, d: StepData) -> linopy.Variable:
    upper, _ = trade_tiers(d)
    return m.add_variables(lower=0, upper=upper.fillna(0), name="trade", mask=upper.notnull())


def add_switching(m: linopy.Model, d: StepData) -> None:
    """Grade switching (demand for ``product`` met with ``source``) and demand relief (thrift, substitute)."""
    switch_cap, relief_cap = d.switch_cap, d.relief_cap
    m.add_variables(lower=0, upper=switch_cap.fillna(0), name="switch", mask=switch_cap.notnull())
    m.add_variables(lower=0, upper=relief_cap.fillna(0), name="relief", mask=relief_cap.notnull())


def add_demand(m: linopy.Model, d: StepData, seg: Segments) -> None:
    mask = d.demand.notnull()
    curtail = m.add_variables(
        lower=seg.lower.fillna(0), upper=seg.upper.fillna(0), name="curtail", mask=seg.upper.notnull()
    )
    unserved = m.add_variables(lower=0, upper=d.demand.fillna(0), name="unserved", mask=mask)
    relief = m.variables["relief"].sum("option")
    m.add_constraints(
        curtail.sum("segment") + unserved + relief <= (d.demand - seg.offset).fillna(0),
        name="consumption_nonnegative",
        mask=mask,
    )


def add_stocks(m: linopy.Model, d: StepData) -> None:
    mask = d.stock_level.notnull()
    m.add_variables(lower=0, upper=d.stock_level.fillna(0), name="release", mask=mask)
    m.add_variables(lower=0, upper=d.restock_cap.fillna(0), name="restock", mask=mask)


def supply_terms(m: linopy.Model, d: StepData) -> linopy.LinearExpression:
    """What a node makes or releases: extraction, conversion, recycling, separation co-products, stock."""
    act = m.variables["activity"].sum("segment")
    made = act.sel(process=["extract", "convert", "recycle"]).sum("process")
    separated = (act.sel(process="separate", drop=True).rename(product="concentrate") * d.yields).sum("concentrate")
    return made + separated + m.variables["release"].sum("holder")


def add_balance(m: linopy.Model, d: StepData, seg: Segments, settings: MarketSettings) -> None:
    act, trade = m.variables["activity"].sum("segment"), m.variables["trade"].sum("tier")
    supply = supply_terms(m, d)
    imports = trade.sum("origin").rename(destination="region")
    exports = trade.sum("destination").rename(origin="region")
    converted = act.sel(process="convert", drop=True).rename(product="output")
    intake = act.sel(process="separate", drop=True) + (converted * d.recipe).sum("output")
    final = (
        m.variables["curtail"].sum(["segment", "sector"])
        + m.variables["unserved"].sum("sector")
        + m.variables["relief"].sum(["option", "sector"])
    )
    switch = m.variables["switch"]
    switched = switch.sum("source") - switch.sum("product").rename(source="product")
    lhs = supply + imports - exports - intake - m.variables["restock"].sum("holder") + final + switched
    rhs = (d.demand - seg.offset).sum("sector", min_count=1).fillna(0)
    mask = node_mask(d)
    # ">=": surplus co-products can be discarded (free disposal), so prices are never negative
    m.add_constraints(lhs >= rhs, name="balance", mask=mask)
    if not settings.allow_reexport:
        # only where a node can both import and export; elsewhere the balance already implies it, and a
        # duplicate constraint would make the price dual degenerate
        exporting = d.arc_cap.notnull().any("destination").rename(origin="region")
        importing = d.arc_cap.notnull().any("origin").rename(destination="region")
        m.add_constraints(exports <= supply, name="export_limit", mask=mask & exporting & importing)


def node_mask(d: StepData) -> xr.DataArray:
    """Nodes (region x product) where anything can happen."""
    made = d.activity_cap.notnull().any("process")
    separating = d.activity_cap.sel(process="separate", drop=True).notnull().rename(product="concentrate")
    coproduct = (separating & (d.yields > 0)).any("concentrate")
    converting = d.activity_cap.sel(process="convert", drop=True).notnull().rename(product="output")
    inputs = (converting & (d.recipe > 0)).any("output")
    traded = d.arc_cap.notnull().any("destination").rename(origin="region") | d.arc_cap.notnull().any("origin").rename(
        destination="region"
    )
    switching = d.switch_share.notnull().any("source") | d.switch_share.notnull().any("product").rename(
        source="product"
    )
    return (
        made
        | coproduct
        | inputs
        | d.demand.notnull().any("sector")
        | traded
        | d.stock_level.notnull().any("holder")
        | switching
    )


def set_objective(m: linopy.Model, d: StepData, act_seg: Segments, cur_seg: Segments) -> None:
    act, trade = m.variables["activity"], m.variables["trade"]
    curtail, unserved = m.variables["curtail"], m.variables["unserved"]
    release, restock = m.variables["release"], m.variables["restock"]
    _, arc_cost = trade_tiers(d)
    objective = (
        (_finite(act_seg.lin) * act).sum()
        + (_finite(arc_cost) * trade).sum()
        + (_finite(d.switch_cost) * m.variables["switch"]).sum()
        + (_finite(d.relief_cost) * m.variables["relief"]).sum()
        + (_finite(cur_seg.lin) * curtail).sum()
        + (_finite(d.voll) * unserved).sum()
        + (_finite(d.release_price) * release).sum()
        - (_finite(d.restock_price) * restock).sum()
    )
    if bool((act_seg.quad.fillna(0) > 0).any() | (cur_seg.quad.fillna(0) > 0).any()):
        objective = objective + (
            (0.5 * _finite(act_seg.quad) * act * act).sum() + (0.5 * _finite(cur_seg.quad) * curtail * curtail).sum()
        )
    m.add_objective(objective)


def linopy_model(data: StepData, settings: MarketSettings) -> linopy.Model:
    """The clearing step as a linopy model (the reference formulation of :mod:`critmin.market.lp`)."""
    import linopy
    from linopy.config import LinopySemanticsWarning

    m = linopy.Model(force_dim_names=True)
    act_seg, cur_seg = activity_segments(data, settings), curtail_segments(data, settings)
    with warnings.catch_warnings():
        # masked slots are meant to drop out of sums (linopy's legacy semantics)
        warnings.simplefilter("ignore", LinopySemanticsWarning)
        add_activities(m, act_seg)
        add_trade(m, data)
        add_switching(m, data)
        add_demand(m, data, cur_seg)
        add_stocks(m, data)
        add_balance(m, data, cur_seg, settings)
        set_objective(m, data, act_seg, cur_seg)
    return m


def build_market(inputs: MarketInputs, data: StepData, settings: MarketSettings | None = None) -> MarketModel:
    """The clearing step of ``data``; the linopy model is built only when ``.model`` is first used."""
    return MarketModel(inputs, settings or MarketSettings(), data)
