"""Mass balance of a cleared step, checked at every region x product node:

    made + separated + stock release + imports + switched in
        = consumption + exports + intake (separation, recipes) + stock build + switched out

A positive residual is product thrown away (the balance allows free disposal); producer stocks should leave
none, so any residual above tolerance is flagged. Computed from the results and the step data alone (not from
the solver's row activities), so it checks the solver and the write-back together.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from critmin.market.data import StepData, values_in
from critmin.market.lp import CONVERT, MADE, SEPARATE
from critmin.market.results import StepResult


def _array(a: xr.DataArray, *dims: str) -> np.ndarray:
    """Values in the order of ``dims``, NaN (no such flow) as 0."""
    return np.nan_to_num(values_in(a, *dims))


def node_flows(result: StepResult, d: StepData) -> tuple[np.ndarray, np.ndarray]:
    """Inflow and outflow per region x product (arrays on the result's region and product coordinates)."""
    act = _array(result.activity, "process", "region", "product")
    separate, converted = act[SEPARATE], act[CONVERT]
    separated = separate @ _array(d.yields, "concentrate", "product")
    intake = separate + converted @ _array(d.recipe, "output", "product")
    trade = _array(result.trade, "origin", "destination", "product")
    switch = _array(result.switch, "region", "source", "product")
    consumption = _array(result.consumption, "region", "sector", "product").sum(axis=1)
    release = _array(result.release, "region", "product", "holder").sum(axis=2)
    restock = _array(result.restock, "region", "product", "holder").sum(axis=2)
    inflow = act[MADE].sum(axis=0) + separated + release + trade.sum(axis=0) + switch.sum(axis=1)
    outflow = consumption + trade.sum(axis=1) + intake + restock + switch.sum(axis=2)
    return inflow, outflow


def balance_residual(result: StepResult, d: StepData) -> float:
    """Largest residual relative to its node's throughput (-), over nodes that move anything."""
    inflow, outflow = node_flows(result, d)
    throughput = np.maximum(inflow, outflow)
    scale = float(throughput.max(initial=0.0))
    if scale <= 0:
        return 0.0
    # nodes moving less than 1e-9 of the largest are solver noise, not product
    active = throughput > 1e-9 * scale
    if not active.any():
        return 0.0
    return float((np.abs(inflow - outflow)[active] / throughput[active]).max())
