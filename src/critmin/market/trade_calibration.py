"""Calibration error of bilateral trade: recorded flows (``trade_flow.csv``) against the flows of the unshocked
equilibrium, per arc (see docs/market.md, "Trade is calibrated to the recorded bilateral flows")."""

from __future__ import annotations

import pandas as pd

from critmin.market.build import build_market
from critmin.market.data import base_step_data
from critmin.market.inputs import market_inputs
from critmin.market.settings import MarketSettings
from critmin.market.step_solver import StepSolver
from critmin.world.model import World

TOLERANCE_PCT = 10.0  # an arc off its recorded flow by more than this is a miss
ARC_COLUMNS = ["origin", "destination", "product", "recorded", "equilibrium", "error_pct", "value_musd", "status"]


def arc_calibration(world: World, settings: MarketSettings | None = None) -> pd.DataFrame:
    """One unshocked monthly step, annualised, against every recorded arc. ``value_musd`` is the recorded flow
    at the product's reference price (million USD/yr); rows are sorted by it, largest first."""
    settings = settings or MarketSettings(curves="stepwise")
    inputs = market_inputs(world, settings)
    data = base_step_data(inputs, 1 / 12)
    result = StepSolver(build_market(inputs, data, settings)).solve(data)
    recorded = world.table("trade_flow").groupby(["origin", "destination", "product"])["quantity"].sum()
    equilibrium = (result.trade.to_series().dropna() * 12).reindex(recorded.index).fillna(0.0)
    frame = pd.DataFrame({"recorded": recorded, "equilibrium": equilibrium}).reset_index()
    frame = frame[frame["recorded"] > 0]
    frame["error_pct"] = (frame["equilibrium"] / frame["recorded"] - 1) * 100
    price = frame["product"].map(inputs.ref_price)
    frame["value_musd"] = frame["recorded"] * price / 1000  # t x USD/kg = kUSD
    frame["status"] = frame["error_pct"].abs().le(TOLERANCE_PCT).map({True: "ok", False: "MISS"})
    frame = frame.sort_values("value_musd", ascending=False).reset_index(drop=True)
    return frame[ARC_COLUMNS].round({"recorded": 3, "equilibrium": 3, "error_pct": 3, "value_musd": 3})
