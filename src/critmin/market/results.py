"""Write back a solved step: flows, prices (balance duals), activities, shortfall and stock changes as
labelled arrays, and as tidy records for the CLI and the store."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr


@dataclass(frozen=True)
class StepResult:
    """One cleared step. Quantities per step in the product's unit; prices in USD/kg."""

    status: str
    objective: float  # thousand USD (t x USD/kg)
    price: xr.DataArray  # region, product
    activity: xr.DataArray  # process, region, product
    trade: xr.DataArray  # origin, destination, product
    consumption: xr.DataArray  # region, sector, product
    shortfall: xr.DataArray  # region, sector, product: reference demand not consumed (curtailed + rationed)
    unserved: xr.DataArray  # region, sector, product: rationed at the value of lost load
    release: xr.DataArray  # region, product, holder
    restock: xr.DataArray  # region, product, holder
    relief: xr.DataArray  # region, sector, product, option: demand displaced by thrifting or substitution
    switch: xr.DataArray  # region, source, product: demand for product met with source

    def prices(self) -> pd.DataFrame:
        frame = self.price.to_dataframe("price").reset_index().dropna(subset=["price"])
        return frame[["region", "product", "price"]].reset_index(drop=True)

    def flows(self, tolerance: float = 1e-9) -> pd.DataFrame:
        frame = self.trade.to_dataframe("quantity").reset_index()
        frame = frame[frame["quantity"].abs() > tolerance]
        return frame[["origin", "destination", "product", "quantity"]].reset_index(drop=True)

    def production(self, tolerance: float = 1e-9) -> pd.DataFrame:
        frame = self.activity.to_dataframe("quantity").reset_index()
        return frame[frame["quantity"].abs() > tolerance][["region", "process", "product", "quantity"]].reset_index(
            drop=True
        )

    def shortfalls(self, tolerance: float = 1e-9) -> pd.DataFrame:
        frame = xr.Dataset(
            {"consumption": self.consumption, "shortfall": self.shortfall, "unserved": self.unserved}
        ).to_dataframe()
        frame = frame.reset_index().dropna(subset=["consumption"])
        return frame[["region", "sector", "product", "consumption", "shortfall", "unserved"]].reset_index(drop=True)


def _values(var) -> xr.DataArray:
    sol = var.solution
    return sol.where(var.labels != -1)


def write_back(model, data, offset, status: str, objective: float) -> StepResult:
    """Read the solution of a solved linopy model built by :func:`critmin.market.build.build_market`."""
    m = model
    price = m.constraints["balance"].dual.where(m.constraints["balance"].labels != -1)
    curtail = _values(m.variables["curtail"]).sum("segment", min_count=1) + offset
    unserved = _values(m.variables["unserved"])
    return assemble(
        status,
        objective,
        price=price,
        activity=_values(m.variables["activity"]).sum("segment", min_count=1),
        trade=_values(m.variables["trade"]).sum("tier", min_count=1),
        curtail=curtail,
        unserved=unserved,
        release=_values(m.variables["release"]),
        restock=_values(m.variables["restock"]),
        relief=_values(m.variables["relief"]),
        switch=_values(m.variables["switch"]),
        demand=data.demand,
    )


def assemble(status, objective, *, price, activity, trade, curtail, unserved, release, restock, relief, switch, demand):
    relieved = relief.sum("option", min_count=1).fillna(0)
    consumption = demand - curtail - unserved - relieved
    shortfall = np.maximum(curtail, 0) + unserved + relieved
    return StepResult(
        status=status,
        objective=float(objective),
        price=price,
        activity=activity,
        trade=trade,
        consumption=consumption.where(demand.notnull()),
        shortfall=shortfall.where(demand.notnull()),
        unserved=unserved.where(demand.notnull()),
        release=release,
        restock=restock,
        relief=relief,
        switch=switch,
    )
