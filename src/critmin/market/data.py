"""Step data: every coefficient and bound of one clearing step, as labelled arrays on the model's grids.

The model structure (which variables and constraints exist) comes from the inputs alone; a step only changes
these numbers, so the time loop updates them in place instead of rebuilding the model. Arrays are filled
with numpy fancy indexing from the tidy input tables (one vectorised write per table, not a cell loop).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import xarray as xr

from critmin.market.inputs import MarketInputs
from critmin.schema import component
from critmin.vocabulary import PROCESSES

# vocabularies declared once, in the schema (schema.csv)
HOLDERS = component("stock").attribute("holder").allowed
TIERS = ("contract", "spot")
RELIEF_OPTIONS = component("demand_response").attribute("option").allowed


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
    arc_cap: xr.DataArray  # origin, destination, product: most that may move (inf where open, NaN where no arc)
    arc_contract: xr.DataArray  # recorded (calibrated) volume per step, 0 where none
    arc_cost: xr.DataArray  # spot tier: freight + tariff + the calibration margin
    arc_contract_cost: xr.DataArray  # contract tier: tariff - the calibration margin
    demand: xr.DataArray  # region, sector, product (NaN where none)
    curtail_lin: xr.DataArray
    curtail_quad: xr.DataArray
    curtail_floor: xr.DataArray  # most negative curtailment (consumption above reference at a zero price)
    curtail_cap: xr.DataArray
    voll: xr.DataArray
    relief_cost: xr.DataArray  # region, sector, product, option: thrift / substitute, USD/kg displaced
    relief_share: xr.DataArray  # most of the reference demand each option can displace (-)
    switch_cost: xr.DataArray  # region, source, product: serving demand for product with source, USD/kg
    switch_share: xr.DataArray  # most of the product's regional demand served that way (-)
    stock_level: xr.DataArray  # region, product, holder
    restock_cap: xr.DataArray
    release_price: xr.DataArray
    restock_price: xr.DataArray

    def with_(self, **changes) -> StepData:
        return replace(self, **changes)

    @property
    def relief_cap(self) -> xr.DataArray:
        return (self.relief_share * self.demand).where(self.relief_share.notnull())

    @property
    def switch_cap(self) -> xr.DataArray:
        regional = self.demand.sum("sector", min_count=1).fillna(0)
        return (self.switch_share * regional).where(self.switch_share.notnull())


def ordered(a: xr.DataArray, *dims: str) -> xr.DataArray:
    """``a`` with its dims in this order (itself when they already are: xarray's transpose copies metadata,
    which the time loop cannot afford on every array of every step)."""
    return a if a.dims == dims else a.transpose(*dims)


def values_in(a: xr.DataArray, *dims: str) -> np.ndarray:
    """The values of ``a`` with its dims in this order."""
    return ordered(a, *dims).values


def on_grid(template: xr.DataArray, values: np.ndarray) -> xr.DataArray:
    """``values`` as a labelled array on ``template``'s grid. The coordinates are shared, not copied: xarray's
    public copy rebuilds the indexes (~70 us), which ten arrays a step, hundreds of steps a run, add up to."""
    replace = getattr(template, "_replace", None)
    if replace is None:  # xarray without the internal constructor: the public route
        return template.copy(deep=False, data=values)
    return replace(variable=xr.Variable(template.dims, values))


def _grid(coords: dict[str, list[str]], fill: float = np.nan) -> xr.DataArray:
    shape = tuple(len(v) for v in coords.values())
    return xr.DataArray(np.full(shape, fill), coords=coords, dims=list(coords))


def _fill(coords: dict[str, list[str]], frame: pd.DataFrame, columns: list[str], value, fill: float = np.nan):
    """A grid on ``coords`` with ``value`` (a column name, array or scalar) written at the rows' keys."""
    out = _grid(coords, fill)
    if len(frame) == 0:
        return out
    index = tuple(
        pd.Index(labels).get_indexer(frame[col].to_numpy())
        for col, labels in zip(columns, coords.values(), strict=True)
    )
    keep = np.all([i >= 0 for i in index], axis=0)
    values = frame[value].to_numpy(dtype=float) if isinstance(value, str) else np.broadcast_to(value, len(frame))
    out.values[tuple(i[keep] for i in index)] = np.asarray(values, dtype=float)[keep]
    return out


def base_step_data(inputs: MarketInputs, step_years: float = 1.0) -> StepData:
    """Reference coefficients for a step of ``step_years`` years (1/12 for a month)."""
    R, P, S = inputs.regions, inputs.products, inputs.sectors
    dt = step_years
    acts = inputs.activities
    act_coords = {"process": list(PROCESSES), "region": R, "product": P}
    act_key = ["process", "region", "product"]
    ref_q = acts["ref_quantity"].to_numpy(dtype=float) * dt
    ref_cost = acts["ref_cost"].to_numpy(dtype=float)
    elasticity = acts["elasticity"].to_numpy(dtype=float)
    curved = ref_q > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        lin_values = np.where(curved, ref_cost * (1 - 1 / elasticity), ref_cost)
        quad_values = np.where(curved, ref_cost / (elasticity * ref_q), 0.0)
    cap = _fill(act_coords, acts, act_key, acts["capacity"].to_numpy(dtype=float) * dt)
    lin = _fill(act_coords, acts, act_key, lin_values)
    quad = _fill(act_coords, acts, act_key, quad_values)
    ref = _fill(act_coords, acts, act_key, ref_cost)

    yields = _fill({"concentrate": P, "product": P}, inputs.yields, ["concentrate", "product"], "share", 0.0)
    recipe = _fill({"output": P, "product": P}, inputs.recipe, ["output", "input"], "quantity", 0.0)

    arcs = inputs.arcs
    arc_coords = {"origin": R, "destination": R, "product": P}
    arc_key = ["origin", "destination", "product"]
    tariff = arcs["tariff_pct"].to_numpy(dtype=float) / 100 * arcs["product"].map(inputs.ref_price).to_numpy()
    margin = arcs["margin"].to_numpy(dtype=float)
    arc_cap = _fill(arc_coords, arcs, arc_key, np.inf)
    arc_cost = _fill(arc_coords, arcs, arc_key, arcs["freight"].to_numpy(dtype=float) + tariff + margin)
    arc_contract_cost = _fill(arc_coords, arcs, arc_key, tariff - margin)
    arc_contract = _fill(arc_coords, arcs, arc_key, arcs["contract"].to_numpy(dtype=float) * dt)

    dem = inputs.demand
    dem_coords = {"region": R, "sector": S, "product": P}
    dem_key = ["region", "sector", "product"]
    demand = _fill(dem_coords, dem, dem_key, dem["quantity"].to_numpy(dtype=float) * dt)
    elasticity_grid = _fill(dem_coords, dem, dem_key, "elasticity")
    voll = _fill(dem_coords, dem, dem_key, "voll")
    price = xr.DataArray(inputs.ref_price.reindex(P).to_numpy(), coords={"product": P}, dims=["product"])

    relief = inputs.relief
    relief_coords = {**dem_coords, "option": list(RELIEF_OPTIONS)}
    relief_key = ["region", "sector", "product", "option"]
    relief_cost = _fill(relief_coords, relief, relief_key, "cost").where(demand.notnull())
    relief_share = _fill(relief_coords, relief, relief_key, "share").where(demand.notnull())

    switch = inputs.switches
    switch_coords = {"region": R, "source": P, "product": P}
    switch_key = ["region", "source", "product"]
    switch_cost = _fill(switch_coords, switch, switch_key, "cost")
    switch_share = _fill(switch_coords, switch, switch_key, "share")

    stocks = inputs.stocks
    st_coords = {"region": R, "product": P, "holder": list(HOLDERS)}
    st_key = ["region", "product", "holder"]
    restock_limit = np.where(stocks["holder"] == "producer", np.inf, 0.0) if len(stocks) else 0.0
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
        arc_contract=arc_contract,
        arc_cost=arc_cost,
        arc_contract_cost=arc_contract_cost,
        demand=demand,
        curtail_lin=price.broadcast_like(demand).where(demand.notnull()),
        curtail_quad=_curtail_quad(price, demand, elasticity_grid),
        curtail_floor=-(elasticity_grid * demand),
        curtail_cap=_curtail_cap(price, demand, elasticity_grid, voll),
        voll=voll,
        relief_cost=relief_cost,
        relief_share=relief_share,
        switch_cost=switch_cost,
        switch_share=switch_share,
        stock_level=_fill(st_coords, stocks, st_key, "quantity"),
        restock_cap=_fill(st_coords, stocks, st_key, restock_limit),
        release_price=_fill(st_coords, stocks, st_key, "release_price"),
        restock_price=_fill(st_coords, stocks, st_key, "restock_price"),
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


def trade_tiers(d: StepData) -> tuple[xr.DataArray, xr.DataArray]:
    """Upper bounds and costs of the two trade tiers (dim ``tier``): the calibrated contract volume first,
    then spot trade beyond it. ``arc_cap`` bounds their sum (export controls act there)."""
    contract = np.minimum(d.arc_contract.fillna(0), d.arc_cap)
    spot = (d.arc_cap - contract).clip(min=0)
    tiers = pd.Index(list(TIERS), name="tier")
    upper = xr.concat([contract, spot], dim=tiers).where(d.arc_cap.notnull())
    cost = xr.concat([d.arc_contract_cost, d.arc_cost], dim=tiers).where(d.arc_cap.notnull())
    return upper, cost
