"""Run GSIM between two dates of a trade world's tariff schedule, as tidy tables with units.

The 2024 flows are first carried to the baseline date's regime (``date_before``) by the model itself, then
the regime of ``date_after`` is applied to that baseline: "before" is the equilibrium under the baseline
schedule, "after" under the evaluated one, and every change is after less before. With the default baseline
(the flows' year end) the first step changes nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from critmin.trade.data import TradeWorld, _date
from critmin.trade.gsim import GsimResult, solve_gsim

UNITS = {
    "flow_before_musd": "MUSD", "flow_after_musd": "MUSD", "change_musd": "MUSD", "change_pct": "%",
    "creation_musd": "MUSD", "diversion_musd": "MUSD", "rate_before_pct": "%", "rate_after_pct": "%",
    "world_price_pct": "%", "domestic_price_pct": "%", "consumer_surplus_musd": "MUSD",
    "producer_surplus_musd": "MUSD", "revenue_musd": "MUSD", "total_musd": "MUSD",
    "revenue_before_musd": "MUSD", "revenue_after_musd": "MUSD",
}  # fmt: skip


@dataclass(frozen=True)
class TradeRun:
    """GSIM between two tariff regimes of a trade world. Tables (MUSD, % as named):

    * ``flows``: importer, exporter, good, rate_before_pct, rate_after_pct, flow_before_musd, flow_after_musd
      (at each regime's world prices), change_musd, change_pct, creation_musd and diversion_musd (volume, at
      baseline world prices);
    * ``prices``: exporter, good, world_price_pct (change of the exporter's world price);
    * ``domestic_prices``: importer, exporter, good, domestic_price_pct (tariff-inclusive);
    * ``welfare``: country, consumer_surplus_musd, producer_surplus_musd, revenue_musd, total_musd;
    * ``revenue``: importer, revenue_before_musd, revenue_after_musd.
    """

    world: str
    date_before: dt.date
    date_after: dt.date
    flows: pd.DataFrame
    prices: pd.DataFrame
    domestic_prices: pd.DataFrame
    welfare: pd.DataFrame
    revenue: pd.DataFrame
    result: GsimResult

    units = UNITS

    def flow(self, importer: str, exporter: str, good: str) -> pd.Series:
        """One arc's row of ``flows``."""
        f = self.flows
        return f[(f.importer == importer) & (f.exporter == exporter) & (f.good == good)].iloc[0]


def run_trade(world: TradeWorld, date_before=None, date_after=None, between=None) -> TradeRun:
    """GSIM from the schedule in force on ``date_before`` (default: the last day of the flows' year) to the one
    in force on ``date_after`` (default: today). ``between``: only the arcs among these countries (both ways)
    move to the later regime, every other arc keeps the earlier one (a bilateral deal, isolated from what
    changed elsewhere between the two dates).

    >>> from critmin.trade.load import load_trade_world
    >>> run = run_trade(load_trade_world(), "2025-04-01", "2025-10-01")
    >>> bool(run.flow("USA", "JPN", "passenger_vehicles").change_musd < 0)   # 2.5% -> 15%
    True
    """
    before = _date(date_before) if date_before is not None else dt.date(world.year, 12, 31)
    after = _date(date_after) if date_after is not None else dt.date.today()
    V0 = world.flow_array()
    E_m, E_s, E_x = world.elasticity_arrays()
    T_base, T_before, T_after = (world.wedges_on(d) for d in (dt.date(world.year, 12, 31), before, after))
    if between is not None:
        unknown = sorted(set(between) - set(world.country_ids))
        if unknown:
            raise ValueError(f"countries {unknown} are not in the trade world ({', '.join(world.country_ids)})")
        inside = np.isin(world.country_ids, list(between))
        arcs = (inside[:, None] & inside[None, :])[..., None]  # importer x exporter, every good
        T_after = np.where(arcs, T_after, T_before)
    start = solve_gsim(V0, T_base, T_before, E_m, E_s, E_x)
    # the baseline equilibrium, its world prices taken as 1: its flows are the new quantities
    V = start.V1
    res = solve_gsim(V, T_before, T_after, E_m, E_s, E_x)
    ids, goods = world.country_ids, world.good_ids
    i, r, g = np.meshgrid(np.arange(len(ids)), np.arange(len(ids)), np.arange(len(goods)), indexing="ij")
    keep = (V > 0).ravel()
    flows = pd.DataFrame({
        "importer": np.array(ids)[i.ravel()], "exporter": np.array(ids)[r.ravel()],
        "good": np.array(goods)[g.ravel()],
        "rate_before_pct": (T_before.ravel() - 1) * 100, "rate_after_pct": (T_after.ravel() - 1) * 100,
        "flow_before_musd": V.ravel(), "flow_after_musd": res.V1.ravel(),
        "change_musd": (res.V1 - V).ravel(),
        "creation_musd": res.creation.ravel(), "diversion_musd": res.diversion.ravel(),
    })[keep].reset_index(drop=True)  # fmt: skip
    flows.insert(7, "change_pct", 100 * flows["change_musd"] / flows["flow_before_musd"])
    rr, gg = np.meshgrid(np.arange(len(ids)), np.arange(len(goods)), indexing="ij")
    exports = (V.sum(axis=0) > 0).ravel()
    prices = pd.DataFrame(
        {"exporter": np.array(ids)[rr.ravel()], "good": np.array(goods)[gg.ravel()],
         "world_price_pct": 100 * res.world_price.ravel()}
    )[exports].reset_index(drop=True)  # fmt: skip
    domestic = pd.DataFrame({
        "importer": np.array(ids)[i.ravel()], "exporter": np.array(ids)[r.ravel()],
        "good": np.array(goods)[g.ravel()], "domestic_price_pct": 100 * res.domestic_price.ravel(),
    })[keep].reset_index(drop=True)  # fmt: skip
    w = res.welfare()
    welfare = pd.DataFrame({"country": ids, "consumer_surplus_musd": w["consumer_surplus"],
                            "producer_surplus_musd": w["producer_surplus"], "revenue_musd": w["revenue"],
                            "total_musd": w["total"]})  # fmt: skip
    revenue = pd.DataFrame({"importer": ids, "revenue_before_musd": res.revenue0.sum(axis=1),
                            "revenue_after_musd": res.revenue1.sum(axis=1)})  # fmt: skip
    return TradeRun(world.name, before, after, flows, prices, domestic, welfare, revenue, res)
