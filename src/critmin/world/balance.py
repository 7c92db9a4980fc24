"""Mass balance at every node (region x product), checked with a tolerance scaled to the data.

    production + imports = exports + intake by downstream recipes + final demand (+ stock build)

Concentrates feed separation through their composition, so separated (primary) oxide output must also
match the concentrate pool times its element split: the co-production check.

Tolerance per node: 1 ppm of the node's largest term plus half the rounding unit of the data (0.0005)
for every figure that enters the node.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from critmin.world.model import World

RELATIVE_TOLERANCE = 1e-6
ROUNDING_HALF_UNIT = 5e-4


def _sum(frame: pd.DataFrame, keys: list[str], rename: dict | None = None) -> tuple[pd.Series, pd.Series]:
    grouped = frame.rename(columns=rename or {}).groupby(keys)["quantity"]
    return grouped.sum(), grouped.count()


def node_balances(world: World) -> pd.DataFrame:
    """One row per region x product with every term, the residual, its tolerance and whether it passes."""
    production = world.table("production")
    trade = world.table("trade_flow")
    demand = world.table("demand")
    recipes = world.table("recipe")
    products = world.table("product").set_index("id")
    concentrates = set(world.table("composition")["product"])
    keys = ["region", "product"]
    prod, n_prod = _sum(production, keys)
    imp, n_imp = _sum(trade, keys, {"destination": "region"})
    exp, n_exp = _sum(trade, keys, {"origin": "region"})
    dem, n_dem = _sum(demand, keys)
    # secondary (recycled) output draws no primary inputs through the recipes
    primary = production[production["route"] == "primary"]
    intake_rows = primary.merge(recipes, left_on="product", right_on="output", suffixes=("", "_recipe"))
    intake_rows = intake_rows.assign(
        product=intake_rows["input"], quantity=intake_rows["quantity"] * intake_rows["quantity_recipe"]
    )
    intake, n_int = _sum(intake_rows[["region", "product", "quantity"]], keys)
    terms = pd.concat(
        {"production": prod, "imports": imp, "exports": exp, "intake": intake, "final_demand": dem}, axis=1
    ).fillna(0.0)
    counts = pd.concat([n_prod, n_imp, n_exp, n_int, n_dem], axis=1).fillna(0).sum(axis=1)
    terms["residual"] = (
        terms["production"] + terms["imports"] - terms["exports"] - terms["intake"] - terms["final_demand"]
    )
    concentrate = terms.index.get_level_values("product").isin(list(concentrates))
    # concentrate pools are consumed by separation: their 'intake' is what remains, checked in co-production
    terms.loc[concentrate, "intake"] = terms.loc[concentrate, "residual"].clip(lower=0.0)
    terms.loc[concentrate, "residual"] = terms.loc[concentrate, "residual"].clip(upper=0.0)
    scale = terms[["production", "imports", "exports", "intake", "final_demand"]].abs().max(axis=1)
    terms["tolerance"] = RELATIVE_TOLERANCE * scale + ROUNDING_HALF_UNIT * counts.reindex(terms.index).fillna(1)
    terms["ok"] = terms["residual"].abs() <= terms["tolerance"]
    out = terms.reset_index()
    out.insert(0, "check", "node")
    out["unit"] = out["product"].map(products["unit"]).astype(object) + "/yr"  # object: an empty world too
    return out


def coproduction_balances(world: World, nodes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Primary oxide output vs concentrate pool x composition, per region x element."""
    nodes = node_balances(world) if nodes is None else nodes
    comp = world.table("composition")
    pools = nodes[nodes["product"].isin(set(comp["product"]))][["region", "product", "intake"]]
    expected = pools.merge(comp[["product", "element", "share"]], on="product")
    expected["quantity"] = expected["intake"] * expected["share"] / 100.0
    expected = expected.groupby(["region", "element"])["quantity"].agg(["sum", "count"])
    products = world.table("product")
    oxides = products[(products["stage"] == "separation") & products["element"].isin(set(comp["element"]))]
    production = world.table("production")
    primary = production[(production["route"] == "primary") & production["product"].isin(oxides["id"])]
    primary = primary.merge(oxides[["id", "element"]], left_on="product", right_on="id")
    made = primary.groupby(["region", "element"])["quantity"].agg(["sum", "count"])
    frame = pd.concat({"expected": expected["sum"], "production": made["sum"]}, axis=1).fillna(0.0)
    counts = expected["count"].reindex(frame.index).fillna(0) + made["count"].reindex(frame.index).fillna(0)
    frame["residual"] = frame["production"] - frame["expected"]
    frame["tolerance"] = (
        RELATIVE_TOLERANCE * frame[["expected", "production"]].max(axis=1) + ROUNDING_HALF_UNIT * counts
    )
    frame["ok"] = frame["residual"].abs() <= frame["tolerance"]
    out = frame.reset_index().rename(columns={"element": "product"})
    out["product"] = out["product"] + "_oxide"
    out.insert(0, "check", "coproduction")
    out["unit"] = "t REO/yr"
    return out


def balance_report(world: World) -> pd.DataFrame:
    """Every node and co-production check. Columns: check, region, product, unit, the terms, residual,
    tolerance, ok."""
    nodes = node_balances(world)
    coprod = coproduction_balances(world, nodes)
    cols = [
        "check",
        "region",
        "product",
        "unit",
        "production",
        "imports",
        "exports",
        "intake",
        "final_demand",
        "expected",
        "residual",
        "tolerance",
        "ok",
    ]
    report = pd.concat([nodes, coprod], ignore_index=True).reindex(columns=cols)
    report["ok"] = report["ok"].astype(bool)
    return report.replace({np.nan: None})
