"""Exposure indicators: concentration (HHI, top-3 share), import reliance, look-through origin, and the
EU CRM supply-risk score. Pure functions over :class:`critmin.world.flows.ElementFlows`.

Conventions (documented in docs/indicators.md):
- shares are of the stage's element content (t REO for rare earths) across the world's regions;
- HHI = sum of squared percentage shares, 0..10,000;
- import reliance = net imports / apparent consumption of the stage's product, 0 for net exporters;
- look-through origin assumes each region's pool of a product (own output kept plus imports) is used
  proportionally by everything that draws on it (the standard pro-rata assumption of MRIO analysis).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from critmin.indicator_units import INDICATOR_UNITS as INDICATOR_UNITS  # re-exported
from critmin.world.flows import PRODUCING_STAGES, ElementFlows

UPSTREAM_ORDER = ("use", "magnet", "metal", "separation", "mine", "secondary")


# --- textbook formulas -----------------------------------------------------------------------------------


def herfindahl_hirschman_index(shares: Iterable[float]) -> float:
    """HHI of fractional shares, on the 0..10,000 scale."""
    arr = np.asarray(list(shares), dtype=float)
    return float(((arr * 100.0) ** 2).sum())


def top_n_share(shares: Iterable[float], n: int = 3) -> float:
    """Combined share of the n largest, in %."""
    arr = np.sort(np.asarray(list(shares), dtype=float))[::-1]
    return float(arr[:n].sum() * 100.0)


def scaled_wgi(wgi: float) -> float:
    """World Governance Indicator (-2.5 good governance .. 2.5 bad inverted) on the EU's 0..10 risk scale."""
    return 5.0 - 2.0 * wgi


def eu_supply_risk(
    global_shares: dict[str, float],
    sourcing_shares: dict[str, float],
    wgi: dict[str, float],
    import_reliance: float,
    eol_rir: float,
    substitution_index: float,
) -> float:
    """EU CRM supply risk (2017 methodology, without trade-restriction adjustment):

        SR = [HHI_WGI(global) * IR/2 + HHI_WGI(sourcing) * (1 - IR/2)] * (1 - EOL_RIR) * SI

    with HHI_WGI = sum_i s_i^2 * WGI_scaled_i over fractional shares s_i.
    """

    def hhi_wgi(shares: dict[str, float]) -> float:
        return sum(s * s * scaled_wgi(wgi[r]) for r, s in shares.items() if s > 0)

    ir = min(max(import_reliance, 0.0), 1.0)
    return (
        (hhi_wgi(global_shares) * ir / 2 + hhi_wgi(sourcing_shares) * (1 - ir / 2)) * (1 - eol_rir) * substitution_index
    )


# --- tables ---------------------------------------------------------------------------------------------


def net_import_reliance(production, imports, exports):
    """Net imports over apparent consumption (production + imports - exports), 0 for net exporters; as a
    fraction. Works on scalars and arrays alike."""
    apparent = production + imports - exports
    return np.clip(np.maximum(imports - exports, 0.0) / apparent, None, 1.0)


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


def supply_mix(flows: ElementFlows, stage: str, element: str) -> pd.DataFrame:
    """Where each region's pool of the stage's product comes from: rows destination, columns origin, rows sum
    to 1 (own output kept plus imports). Regions without a pool have no row."""
    key = ("supply_mix", stage, element)
    if key not in flows.cache:
        flows.cache[key] = _supply_mix(flows, stage, element)
    return flows.cache[key]


def _grouped(flows: ElementFlows, name: str) -> dict:
    if ("grouped", name) not in flows.cache:
        frame = getattr(flows, name)
        flows.cache[("grouped", name)] = dict(tuple(frame.groupby(["stage", "element"])))
    return flows.cache[("grouped", name)]


def _supply_mix(flows: ElementFlows, stage: str, element: str) -> pd.DataFrame:
    """Pro-rata origin of each region's pool, re-exports included. With x = production + imports and T the
    trade matrix (origin x destination), the shares S (destination x producing region) solve

        diag(x) S - T' S = diag(production)

    i.e. a region's pool is its own output plus what it imports, each import carrying its exporter's mix.
    Solved as a linear system; no inverse is formed."""
    regions = flows.regions
    index = {r: i for i, r in enumerate(regions)}
    n = len(regions)
    empty = pd.DataFrame(columns=["region", "origin", "destination", "quantity"])
    prod = _grouped(flows, "production").get((stage, element), empty).groupby("region")["quantity"].sum()
    produced = prod.reindex(regions, fill_value=0.0).to_numpy(dtype=float)
    trade = np.zeros((n, n))
    for (origin, destination), q in (
        _grouped(flows, "trade")
        .get((stage, element), empty)
        .groupby(["origin", "destination"])["quantity"]
        .sum()
        .items()
    ):
        trade[index[origin], index[destination]] += q
    throughput = produced + trade.sum(axis=0)
    has_pool = throughput > 1e-12 * max(throughput.max(initial=0.0), 1.0)
    system = np.diag(np.where(has_pool, throughput, 1.0)) - np.where(has_pool[:, None], trade.T, 0.0)
    try:
        shares = np.linalg.solve(system, np.diag(np.where(has_pool, produced, 0.0)))
    except np.linalg.LinAlgError:
        raise ValueError(f"{element} at {stage}: trade goes round in a cycle with no output or use") from None
    frame = pd.DataFrame(shares, index=regions, columns=regions)
    return frame[has_pool]


def _primary_fraction(flows: ElementFlows, stage: str, element: str) -> pd.Series:
    """Share of each region's output at a stage that is primary (the rest is secondary: recycled scrap and
    balancing supply, which has no upstream)."""
    empty = pd.DataFrame(columns=["region", "route", "quantity"])
    prod = _grouped(flows, "production").get((stage, element), empty)
    total = prod.groupby("region")["quantity"].sum()
    primary = prod[prod["route"] == "primary"].groupby("region")["quantity"].sum()
    return (primary.reindex(total.index, fill_value=0.0) / total.where(total > 0)).fillna(1.0)


def _origins_single(flows: ElementFlows, region: str, element: str, stage: str) -> tuple[dict, float]:
    """Origin shares {(origin_stage, origin_region): share} for one element, and the node's input quantity."""
    regions = flows.regions
    index = {r: i for i, r in enumerate(regions)}
    reach: dict[str, np.ndarray] = {}

    def mix(u: str) -> np.ndarray:
        return supply_mix(flows, u, element).reindex(index=regions, columns=regions).fillna(0.0).to_numpy()

    if stage == "use":
        use = flows.use[(flows.use["region"] == region) & (flows.use["element"] == element)]
        use = use.groupby("stage")["quantity"].sum()
        quantity = float(use.sum())
        for u, q in use.items():
            if q > 0:
                reach[u] = reach.get(u, 0.0) + (q / quantity) * mix(u)[index[region]]
    else:
        prod = _grouped(flows, "production").get((stage, element))
        own = prod[(prod["region"] == region) & (prod["route"] == "primary")] if prod is not None else prod
        quantity = float(own["quantity"].sum()) if own is not None else 0.0
        reach[stage] = np.eye(len(regions))[index[region]] if quantity > 0 else np.zeros(len(regions))
    origins: dict[tuple[str, str], float] = {}
    for s in UPSTREAM_ORDER[1:]:
        if s not in reach:
            continue
        vector = reach[s]
        if s != stage:
            origins.update({(s, r): float(vector[i]) for i, r in enumerate(regions) if vector[i] > 1e-12})
            primary = _primary_fraction(flows, s, element).reindex(regions, fill_value=1.0).to_numpy()
            for i, r in enumerate(regions):
                if vector[i] * (1 - primary[i]) > 1e-12:
                    key = ("secondary", r)
                    origins[key] = origins.get(key, 0.0) + float(vector[i] * (1 - primary[i]))
            vector = vector * primary
        upstream = flows.input_stage.get((s, element))
        if upstream:
            reach[upstream] = reach.get(upstream, 0.0) + vector @ mix(upstream)
    return origins, quantity


def look_through_origin(flows: ElementFlows, region: str, element: str, stage: str = "use") -> pd.DataFrame:
    """For ``region`` taking in ``element`` at ``stage`` (``use`` = final consumption), the share that
    originates in each region at each upstream stage: region, element, stage, origin_stage, origin_region,
    share (fraction; at each origin stage the shares sum to the fraction of the input that passed through it)."""
    members = flows.element_groups.get(element, [element])
    total: dict[tuple[str, str], float] = {}
    weight = 0.0
    for member in members:
        origins, quantity = _origins_single(flows, region, member, stage)
        weight += quantity
        for key, share in origins.items():
            total[key] = total.get(key, 0.0) + share * quantity
    rows = [(region, element, stage, s, r, v / weight) for (s, r), v in total.items()] if weight > 0 else []
    frame = pd.DataFrame(rows, columns=["region", "element", "stage", "origin_stage", "origin_region", "share"])
    order = {s: i for i, s in enumerate(UPSTREAM_ORDER)}
    frame["_o"] = frame["origin_stage"].map(order)
    return frame.sort_values(["_o", "share"], ascending=[True, False]).drop(columns="_o").reset_index(drop=True)


def supply_risk(
    flows: ElementFlows,
    wgi: dict[str, float],
    eol_rir_pct: dict[str, float],
    substitution: dict[str, float],
    regions: Iterable[str],
    elements: Iterable[str],
    stages: Iterable[str] = ("mine", "separation"),
) -> pd.DataFrame:
    """EU-style supply risk per consuming region x element x stage, with sourcing taken look-through."""
    shares = production_shares(flows)
    records = []
    for element in elements:
        members = flows.element_groups.get(element, [element])
        if any(m not in eol_rir_pct for m in members):
            continue
        weights = flows.production.query("element in @members").groupby("element")["quantity"].sum()
        eol = float(sum(eol_rir_pct[m] * weights.get(m, 0.0) for m in members) / max(weights.sum(), 1e-12)) / 100.0
        si = float(np.mean([substitution.get(m, 1.0) for m in members]))
        for region in regions:
            origins = look_through_origin(flows, region, element)
            if origins.empty:
                continue
            for stage in stages:
                glob = shares.query("stage == @stage and element == @element").set_index("region")["share"].to_dict()
                src = origins.query("origin_stage == @stage").set_index("origin_region")["share"]
                if not glob or src.empty or any(r not in wgi for r in [*glob, *src.index]):
                    continue
                src = src / src.sum()
                ir = 1.0 - float(src.get(region, 0.0))
                value = eu_supply_risk(glob, src.to_dict(), wgi, ir, eol, si)
                records.append(("eu_supply_risk", stage, element, region, value))
    return pd.DataFrame(records, columns=["indicator", "stage", "element", "region", "value"])


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
