"""Trend growth that keeps the baseline an equilibrium path: supply grows with the demand it serves.

Demand rows grow at their own ``growth_pct``. The use of each product, final demand plus what recipes draw
from it, follows from the grown demand by solving ``use = demand + recipe' use`` (recipes are acyclic and
small, so a dense solve of a products x products system is cheap). Every activity that makes a product, and
every recorded trade volume of it, grows with that product's use; separation and mining of a concentrate
grow with the value-weighted use of its co-products. Co-products whose own demand grows more slowly are
then in surplus and go to producer stocks at their reservation price: the trend, not an artefact.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from critmin.market.data import StepData


def demand_growth(world_demand, base: StepData) -> xr.DataArray:
    """Growth rate of each demand cell, %/yr (0 where the world gives none)."""
    g = xr.zeros_like(base.demand).fillna(0.0)
    index = tuple(g.indexes[dim].get_indexer(world_demand[dim].to_numpy()) for dim in ("region", "sector", "product"))
    keep = np.all([i >= 0 for i in index], axis=0)
    g.values[tuple(i[keep] for i in index)] = world_demand["growth_pct"].to_numpy(dtype=float)[keep]
    return g


def product_use(demand: xr.DataArray, recipe: xr.DataArray) -> np.ndarray:
    """Total use of each product: final demand plus recipe intake of everything made from it."""
    final = demand.sum(["region", "sector"]).fillna(0).to_numpy()
    coefficients = recipe.transpose("output", "product").to_numpy()  # output x input
    return np.linalg.solve(np.eye(len(final)) - coefficients.T, final)


def supply_scale(base: StepData, grown_demand: xr.DataArray, ref_price: np.ndarray) -> xr.DataArray:
    """Growth factor per product for the supply side (activities and recorded trade of that product)."""
    start = product_use(base.demand, base.recipe)
    now = product_use(grown_demand, base.recipe)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(start > 0, now / start, 1.0)
    yields = base.yields.transpose("concentrate", "product").to_numpy()
    value = yields * ref_price[None, :]
    weight = value.sum(axis=1)
    is_concentrate = weight > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        concentrate_factor = (value * factor[None, :]).sum(axis=1) / weight
    factor = np.where(is_concentrate, concentrate_factor, factor)
    products = base.demand.indexes["product"]
    return xr.DataArray(factor, coords={"product": products}, dims="product")
