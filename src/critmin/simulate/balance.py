"""Mass balance of a cleared step, checked at every region x product node:

    made + separated + stock release + imports + switched in
        = consumption + exports + intake (separation, recipes) + stock build + switched out

A positive residual is product thrown away (the balance allows free disposal); producer stocks should leave
none, so any residual above tolerance is flagged."""

from __future__ import annotations

import numpy as np
import xarray as xr

from critmin.market.data import StepData
from critmin.market.results import StepResult


def node_residual(result: StepResult, d: StepData) -> tuple[xr.DataArray, xr.DataArray]:
    """Residual and throughput (the larger side of the balance) per region x product, per step."""
    act = result.activity.fillna(0)
    made = act.sel(process=["extract", "convert", "recycle"]).sum("process")
    separate = act.sel(process="separate", drop=True)
    separated = (separate.rename(product="concentrate") * d.yields).sum("concentrate")
    converted = act.sel(process="convert", drop=True).rename(product="output")
    intake = separate + (converted * d.recipe).sum("output")
    trade = result.trade.fillna(0)
    imports = trade.sum("origin").rename(destination="region")
    exports = trade.sum("destination").rename(origin="region")
    switch = result.switch.fillna(0)
    switched_in = switch.sum("source")
    switched_out = switch.sum("product").rename(source="product")
    consumption = result.consumption.sum("sector", min_count=1).fillna(0)
    inflow = made + separated + result.release.fillna(0).sum("holder") + imports + switched_in
    outflow = consumption + exports + intake + result.restock.fillna(0).sum("holder") + switched_out
    return inflow - outflow, np.maximum(inflow, outflow)


def balance_residual(result: StepResult, d: StepData) -> float:
    """Largest residual relative to its node's throughput (-), over nodes that move anything."""
    residual, throughput = node_residual(result, d)
    scale = float(throughput.max())
    if scale <= 0:
        return 0.0
    # nodes moving less than 1e-9 of the largest are solver noise, not product
    active = throughput > 1e-9 * scale
    relative = (abs(residual) / throughput).where(active)
    return float(relative.max()) if bool(active.any()) else 0.0
