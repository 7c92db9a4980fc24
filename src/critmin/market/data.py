"""Step data: every coefficient and bound of one clearing step, as labelled arrays on the model's grids.

The model structure (which variables and constraints exist) comes from the inputs alone; a step only changes
these numbers, so the time loop updates them in place instead of rebuilding the model.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import xarray as xr

from critmin.market.inputs import MarketInputs
from critmin.market.settings import PROCESSES

HOLDERS = ("public", "private")


@dataclass(frozen=True)
class StepData:
    """Quantities are per step (t of the product's unit); costs and prices in USD/kg."""

    step_years: float
    activity_cap: xr.DataArray  # process, region, product
    activity_lin: xr.DataArray
    activity_quad: xr.DataArray  # USD/kg per t of activity per step
    activity_ref: xr.DataArray  # marginal cost at the reference point, USD/kg
    activity_subsidy: xr.DataArray  # per-unit support (price floors), USD/kg, shifts the cost curve down
    yields: xr.DataArray  # concentrate, product
    recipe: xr.DataArray  # output, product
    arc_cap: xr.DataArray  # origin, destination, product (inf where open, NaN where no arc)
    arc_cost: xr.DataArray
    demand: xr.DataArray  # region, sector, product (NaN where none)
    curtail_lin: xr.DataArray
    curtail_quad: xr.DataArray
    curtail_floor: xr.DataArray  # most negative curtailment (consumption above reference at a zero price)
    curtail_cap: xr.DataArray
    voll: xr.DataArray
    stock_level: xr.DataArray  # region, product, holder
    restock_cap: xr.DataArray
    release_price: xr.DataArray
    restock_price: xr.DataArray

    def with_(self, **changes) -> StepData:
        return replace(self, **changes)


def _grid(coords: dict[str, list[str]], fill: float = np.nan) -> xr.DataArray:
    shape = tuple(len(v) for v in coords.values())
    return xr.DataArray(np.full(shape, fill), coords=coords, dims=list(coords))


def base_step_data(inputs: MarketInputs, step_years: float = 1.0) -> StepData:
    """Reference coefficients for a step of ``step_years`` years (1/12 for a month)."""
    R, P, S = inputs.regions, inputs.products, inputs.sectors
    dt = step_years
    act = {"process": list(PROCESSES), "region": R, "product": P}
    cap, lin, quad, ref = _grid(act), _grid(act), _grid(act), _grid(act)
    for a in inputs.activities.itertuples(index=False):
        key = {"process": a.process, "region": a.region, "product": a.product}
        ref_q = a.ref_quantity * dt
        if ref_q > 0:
            lin.loc[key] = a.ref_cost * (1 - 1 / a.elasticity)
            quad.loc[key] = a.ref_cost / (a.elasticity * ref_q)
        else:
            lin.loc[key], quad.loc[key] = a.ref_cost, 0.0
        cap.loc[key] = a.capacity * dt
        ref.loc[key] = a.ref_cost

    yields = _grid({"concentrate": P, "product": P}, 0.0)
    for y in inputs.yields.itertuples(index=False):
        yields.loc[{"concentrate": y.concentrate, "product": y.product}] = y.share
    recipe = _grid({"output": P, "product": P}, 0.0)
    for r in inputs.recipe.itertuples(index=False):
        recipe.loc[{"output": r.output, "product": r.input}] = r.quantity

    arcs = {"origin": R, "destination": R, "product": P}
    arc_cap, arc_cost = _grid(arcs), _grid(arcs)
    for a in inputs.arcs.itertuples(index=False):
        key = {"origin": a.origin, "destination": a.destination, "product": a.product}
        arc_cap.loc[key] = np.inf
        arc_cost.loc[key] = a.freight + a.tariff_pct / 100 * inputs.ref_price[a.product]

    dem = {"region": R, "sector": S, "product": P}
    demand, elasticity, voll = _grid(dem), _grid(dem), _grid(dem)
    for d in inputs.demand.itertuples(index=False):
        key = {"region": d.region, "sector": d.sector, "product": d.product}
        demand.loc[key] = d.quantity * dt
        elasticity.loc[key] = d.elasticity
        voll.loc[key] = d.voll
    price = xr.DataArray(inputs.ref_price.reindex(P).to_numpy(), coords={"product": P}, dims=["product"])

    st = {"region": R, "product": P, "holder": list(HOLDERS)}
    level, restock_cap, release_price, restock_price = _grid(st), _grid(st), _grid(st), _grid(st)
    for s in inputs.stocks.itertuples(index=False):
        key = {"region": s.region, "product": s.product, "holder": s.holder}
        level.loc[key] = s.quantity
        release_price.loc[key] = s.release_price
        restock_price.loc[key] = s.restock_price
        restock_cap.loc[key] = 0.0
    data = StepData(
        step_years=dt,
        activity_cap=cap,
        activity_lin=lin,
        activity_quad=quad,
        activity_ref=ref,
        activity_subsidy=xr.zeros_like(cap),
        yields=yields,
        recipe=recipe,
        arc_cap=arc_cap,
        arc_cost=arc_cost,
        demand=demand,
        curtail_lin=price.broadcast_like(demand).where(demand.notnull()),
        curtail_quad=_curtail_quad(price, demand, elasticity),
        curtail_floor=-(elasticity * demand),
        curtail_cap=_curtail_cap(price, demand, elasticity, voll),
        voll=voll,
        stock_level=level,
        restock_cap=restock_cap,
        release_price=release_price,
        restock_price=restock_price,
    )
    return data


def _curtail_quad(price, demand, elasticity) -> xr.DataArray:
    """Slope of the linear inverse demand curve through (reference price, reference quantity):
    price rises by p0 / (|e| q0) per unit of demand given up. Zero elasticity: no curtailment at all."""
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = price / (elasticity * demand)
    return slope.where(np.isfinite(slope), 0.0).where(demand.notnull())


def _curtail_cap(price, demand, elasticity, voll) -> xr.DataArray:
    """Curtailment up to the quantity at which the demand curve reaches the value of lost load (the rest is
    rationed at VOLL), and never beyond the whole demand."""
    return np.minimum(demand, elasticity * demand * (voll / price - 1)).where(demand.notnull())


def with_demand(data: StepData, demand: xr.DataArray, reference: StepData) -> StepData:
    """Shift demand curves horizontally to new reference quantities, keeping their slopes: the price at which
    consumption falls to zero and the rationing point keep their distance from the new reference."""
    return data.with_(demand=demand, curtail_cap=np.minimum(demand, reference.curtail_cap))
