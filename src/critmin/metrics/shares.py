"""Production shares, concentration and import reliance per stage and element, over one world's flows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from critmin.metrics.cache import cached
from critmin.metrics.formulas import herfindahl_hirschman_index, net_import_reliance, top_n_share
from critmin.world.flows import PRODUCING_STAGES, ElementFlows


def production_shares(flows: ElementFlows) -> pd.DataFrame:
    """region, stage, element, quantity, share (fraction of the stage x element world total)."""
    if "production_shares" not in flows.cache:
        flows.cache["production_shares"] = _production_shares(flows)
    return flows.cache["production_shares"]


def _production_shares(flows: ElementFlows) -> pd.DataFrame:
    prod = flows.with_aggregates(flows.production)
    prod = prod.groupby(["stage", "element", "region"], as_index=False)["quantity"].sum()
    totals = prod.groupby(["stage", "element"])["quantity"].transform("sum")
    prod["share"] = np.where(totals > 0, prod["quantity"] / totals.where(totals > 0, 1.0), 0.0)
    return prod[prod["quantity"] > 0].reset_index(drop=True)


def concentration(flows: ElementFlows) -> pd.DataFrame:
    """HHI and top-3 share per stage x element: indicator, stage, element, region (None), value."""
    records = []
    for (stage, element), group in production_shares(flows).groupby(["stage", "element"], sort=False):
        records.append(("hhi", stage, element, None, herfindahl_hirschman_index(group["share"])))
        records.append(("top3_share", stage, element, None, top_n_share(group["share"], 3)))
    return pd.DataFrame(records, columns=["indicator", "stage", "element", "region", "value"])


def stage_balances(flows: ElementFlows) -> pd.DataFrame:
    """Per region, stage, element: production, imports, exports and apparent consumption."""
    prod = flows.with_aggregates(flows.production).groupby(["region", "stage", "element"])["quantity"].sum()
    trade = flows.with_aggregates(flows.trade)
    imports = (
        trade.groupby(["destination", "stage", "element"])["quantity"].sum().rename_axis(["region", "stage", "element"])
    )
    exports = (
        trade.groupby(["origin", "stage", "element"])["quantity"].sum().rename_axis(["region", "stage", "element"])
    )
    frame = pd.concat({"production": prod, "imports": imports, "exports": exports}, axis=1).fillna(0.0)
    frame["apparent_consumption"] = frame["production"] + frame["imports"] - frame["exports"]
    return frame.reset_index()


def import_reliance(flows: ElementFlows) -> pd.DataFrame:
    """Net import reliance per region x stage x element, in %: indicator, stage, element, region, value."""
    bal = stage_balances(flows)
    scale = bal.groupby(["stage", "element"])["apparent_consumption"].transform("max")
    bal = bal[bal["apparent_consumption"] > 1e-9 * scale.clip(lower=1.0)]
    value = net_import_reliance(bal["production"], bal["imports"], bal["exports"]) * 100.0
    return pd.DataFrame(
        {
            "indicator": "import_reliance",
            "stage": bal["stage"],
            "element": bal["element"],
            "region": bal["region"],
            "value": value.to_numpy(),
        }
    )


def by_region(flows: ElementFlows) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Production per stage x element (rows) and region (columns, all of ``flows.regions``): the total, 0 where
    a region makes none; and the share of it that is primary, 1 where it makes none (the rest is secondary:
    recycled scrap and balancing supply, which has no upstream). One groupby for the world; the sums are the
    ones a groupby per stage x element gives."""

    def compute():
        prod = flows.production
        keys = ["stage", "element", "region"]
        total = prod.groupby(keys)["quantity"].sum()
        primary = prod[prod["route"] == "primary"].groupby(keys)["quantity"].sum()
        fraction = (primary.reindex(total.index, fill_value=0.0) / total.where(total > 0)).fillna(1.0)
        regions = flows.regions
        return (
            total.unstack("region").reindex(columns=regions).fillna(0.0),
            fraction.unstack("region").reindex(columns=regions).fillna(1.0),
        )

    return cached(flows, ("by_region",), compute)


def production_table(flows: ElementFlows) -> pd.DataFrame:
    shares = production_shares(flows)
    prod = pd.DataFrame(
        {
            "indicator": "production",
            "stage": shares["stage"],
            "element": shares["element"],
            "region": shares["region"],
            "value": shares["quantity"],
        }
    )
    share = prod.assign(indicator="production_share", value=shares["share"] * 100.0)
    return pd.concat([prod, share], ignore_index=True)


def stage_sort_key(series: pd.Series) -> pd.Series:
    order = {s: i for i, s in enumerate(PRODUCING_STAGES)}
    return series.map(lambda s: order.get(s, len(order)))
