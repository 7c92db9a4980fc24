"""Calibration error of a world against the observed targets in ``data/calibration_targets.csv``."""

from __future__ import annotations

import math
from importlib import resources

import pandas as pd

from critmin.metrics.formulas import net_import_reliance
from critmin.world.flows import ElementFlows, element_flows
from critmin.world.model import World


def load_targets() -> pd.DataFrame:
    path = resources.files("critmin.data").joinpath("calibration_targets.csv")
    with path.open(encoding="utf-8") as handle:
        frame = pd.read_csv(handle, dtype=str, keep_default_na=False)
    frame["observed"] = frame["observed"].astype(float)
    frame["tolerance"] = pd.to_numeric(frame["tolerance"].replace("", None))
    return frame


def _split(text: str) -> list[str]:
    return text.split("|") if text else []


def _members(flows: ElementFlows, elements: list[str]) -> list[str]:
    out = []
    for e in elements:
        out += flows.element_groups.get(e, [e])
    return out


def _select(frame: pd.DataFrame, column: str, value: str) -> pd.DataFrame:
    return frame if value in ("", "*") else frame[frame[column] == value]


def modelled_value(world: World, flows: ElementFlows, target: pd.Series) -> float:
    kind = target["kind"]
    stages, elements = _split(target["stage"]), _members(flows, _split(target["element"]))
    prod = flows.production[flows.production["stage"].isin(stages) & flows.production["element"].isin(elements)]
    trade = flows.trade[flows.trade["stage"].isin(stages) & flows.trade["element"].isin(elements)]
    if kind == "production_share":
        total = prod["quantity"].sum()
        return (
            float(prod.loc[prod["region"] == target["region"], "quantity"].sum() / total * 100) if total else math.nan
        )
    if kind == "production":
        return float(prod.loc[prod["region"] == target["region"], "quantity"].sum())
    if kind in ("product_share", "product_production"):
        rows = world.table("production")
        rows = rows[rows["product"].isin(_split(target["product"]))]
        own = rows.loc[rows["region"] == target["region"], "quantity"].sum()
        if kind == "product_production":
            return float(own)
        total = rows["quantity"].sum()
        return float(own / total * 100) if total else math.nan
    if kind == "product_trade":
        rows = world.table("trade_flow")
        rows = rows[rows["product"].isin(_split(target["product"]))]
        rows = _select(_select(rows, "origin", target["region"]), "destination", target["partner"])
        return float(rows["quantity"].sum())
    if kind == "trade":
        rows = _select(_select(trade, "origin", target["region"]), "destination", target["partner"])
        return float(rows["quantity"].sum())
    if kind == "use":
        use = flows.use[flows.use["stage"].isin(stages) & flows.use["element"].isin(elements)]
        return float(use.loc[use["region"] == target["region"], "quantity"].sum())
    if kind == "import_share":
        imports = trade[trade["destination"] == target["region"]]
        total = imports["quantity"].sum()
        return (
            float(imports.loc[imports["origin"] == target["partner"], "quantity"].sum() / total * 100)
            if total
            else math.nan
        )
    if kind == "import_reliance":
        region = target["region"]
        made = prod.loc[prod["region"] == region, "quantity"].sum()
        imports = trade.loc[trade["destination"] == region, "quantity"].sum()
        exports = trade.loc[trade["origin"] == region, "quantity"].sum()
        if made + imports - exports <= 0:
            return math.nan
        return float(net_import_reliance(made, imports, exports) * 100)
    raise ValueError(f"unknown calibration target kind {kind!r}")


def calibration_report(world: World) -> pd.DataFrame:
    """Per target: observed, modelled, error (modelled - observed), relative error, tolerance, status."""
    flows = element_flows(world)
    targets = load_targets()
    targets["modelled"] = [modelled_value(world, flows, t) for _, t in targets.iterrows()]
    targets["error"] = targets["modelled"] - targets["observed"]
    targets["relative_error_pct"] = targets["error"] / targets["observed"].where(targets["observed"] != 0) * 100
    has_tol = targets["tolerance"].notna()
    targets["status"] = "context"
    targets.loc[has_tol, "status"] = (targets.loc[has_tol, "error"].abs() <= targets.loc[has_tol, "tolerance"]).map(
        {True: "ok", False: "MISS"}
    )
    cols = [
        "id",
        "description",
        "observed",
        "modelled",
        "error",
        "relative_error_pct",
        "unit",
        "tolerance",
        "status",
        "confidence",
        "source",
    ]
    return targets[cols]
