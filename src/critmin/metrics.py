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

    def compute() -> pd.DataFrame:
        shares, has_pool = _supply_solution(flows, stage, element)
        frame = pd.DataFrame(shares, index=flows.regions, columns=flows.regions)
        return frame[has_pool]

    return _cached(flows, ("supply_mix", stage, element), compute)


def _cached(flows: ElementFlows, key: tuple, compute):
    """``compute()`` once per flows object (one world): its derived tables live in ``flows.cache``."""
    if key not in flows.cache:
        flows.cache[key] = compute()
    return flows.cache[key]


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False  # shared through the cache: nobody may change it in place
    return array


def _grouped(flows: ElementFlows, name: str) -> dict:
    return _cached(flows, ("grouped", name), lambda: dict(tuple(getattr(flows, name).groupby(["stage", "element"]))))


def _by_region(flows: ElementFlows) -> tuple[pd.DataFrame, pd.DataFrame]:
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

    return _cached(flows, ("by_region",), compute)


def _trade_arcs(flows: ElementFlows) -> dict[tuple[str, str], list[tuple[int, int, float]]]:
    """{(stage, element): [(origin index, destination index, quantity), ...]} over ``flows.regions``, arcs
    summed, in (origin, destination) order."""

    def compute():
        index = {r: i for i, r in enumerate(flows.regions)}
        summed = flows.trade.groupby(["stage", "element", "origin", "destination"])["quantity"].sum()
        arcs: dict[tuple[str, str], list[tuple[int, int, float]]] = {}
        for (stage, element, origin, destination), q in summed.items():
            arcs.setdefault((stage, element), []).append((index[origin], index[destination], q))
        return arcs

    return _cached(flows, ("trade_arcs",), compute)


def _supply_solution(flows: ElementFlows, stage: str, element: str) -> tuple[np.ndarray, np.ndarray]:
    """Pro-rata origin of each region's pool, re-exports included. With x = production + imports and T the
    trade matrix (origin x destination), the shares S (destination x producing region) solve

        diag(x) S - T' S = diag(production)

    i.e. a region's pool is its own output plus what it imports, each import carrying its exporter's mix.
    Solved as a linear system; no inverse is formed. Returns S over all regions and which regions have a pool."""

    def compute():
        regions = flows.regions
        n = len(regions)
        totals = _by_region(flows)[0]
        produced = (
            totals.loc[(stage, element)].to_numpy(dtype=float) if (stage, element) in totals.index else np.zeros(n)
        )
        trade = np.zeros((n, n))
        for i, j, q in _trade_arcs(flows).get((stage, element), []):
            trade[i, j] += q
        throughput = produced + trade.sum(axis=0)
        has_pool = throughput > 1e-12 * max(throughput.max(initial=0.0), 1.0)
        system = np.diag(np.where(has_pool, throughput, 1.0)) - np.where(has_pool[:, None], trade.T, 0.0)
        try:
            shares = np.linalg.solve(system, np.diag(np.where(has_pool, produced, 0.0)))
        except np.linalg.LinAlgError:
            raise ValueError(f"{element} at {stage}: trade goes round in a cycle with no output or use") from None
        return _frozen(shares), _frozen(has_pool)

    return _cached(flows, ("supply_solution", stage, element), compute)


def _mix_matrix(flows: ElementFlows, stage: str, element: str) -> np.ndarray:
    """:func:`supply_mix` as a dense regions x regions array (zeros where a region has no pool)."""

    def compute():
        shares, has_pool = _supply_solution(flows, stage, element)
        dense = np.where(has_pool[:, None], shares, 0.0)
        dense[np.isnan(dense)] = 0.0
        # column-major, as the pandas table it replaces was: ``vector @ matrix`` sums in a layout-dependent
        # order, and the indicators are kept identical to the last bit
        return _frozen(np.asfortranarray(dense))

    return _cached(flows, ("mix_matrix", stage, element), compute)


def _primary_vector(flows: ElementFlows, stage: str, element: str) -> np.ndarray:
    """The primary share of each region's output at a stage (1 where a region has no output)."""

    def compute():
        fractions = _by_region(flows)[1]
        if (stage, element) not in fractions.index:
            return _frozen(np.ones(len(flows.regions)))
        return _frozen(fractions.loc[(stage, element)].to_numpy(dtype=float))

    return _cached(flows, ("primary_vector", stage, element), compute)


def _use_by_stage(flows: ElementFlows) -> dict[tuple[str, str], tuple[list[tuple[str, float]], float]]:
    """{(region, element): ([(stage of the product used, quantity), ...] by stage, total quantity)}, for every
    region and element with final use: one groupby for the world instead of a filter per region x element."""

    def compute():
        summed = flows.use.groupby(["region", "element", "stage"])["quantity"].sum()
        out = {}
        for (region, element), group in summed.groupby(level=["region", "element"], sort=False):
            by_stage = group.droplevel(["region", "element"])
            out[(region, element)] = (list(by_stage.items()), float(by_stage.sum()))
        return out

    return _cached(flows, ("use_by_stage",), compute)


def _origins_single(flows: ElementFlows, region: str, element: str, stage: str) -> tuple[dict, float]:
    """Origin shares {(origin_stage, origin_region): share} for one element, and the node's input quantity.
    Cached per flows object; callers must not change the dict."""
    return _cached(
        flows, ("origins", region, element, stage), lambda: _compute_origins_single(flows, region, element, stage)
    )


def _compute_origins_single(flows: ElementFlows, region: str, element: str, stage: str) -> tuple[dict, float]:
    regions = flows.regions
    index = {r: i for i, r in enumerate(regions)}
    reach: dict[str, np.ndarray] = {}

    def mix(u: str) -> np.ndarray:
        return _mix_matrix(flows, u, element)

    if stage == "use":
        use, quantity = _use_by_stage(flows).get((region, element), ([], 0.0))
        for u, q in use:
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
            primary = _primary_vector(flows, s, element)
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
    rows = [(region, element, stage, s, r, v) for (s, r), v in _origin_shares(flows, region, element, stage).items()]
    frame = pd.DataFrame(rows, columns=["region", "element", "stage", "origin_stage", "origin_region", "share"])
    order = {s: i for i, s in enumerate(UPSTREAM_ORDER)}
    frame["_o"] = frame["origin_stage"].map(order)
    return frame.sort_values(["_o", "share"], ascending=[True, False]).drop(columns="_o").reset_index(drop=True)


def _origin_shares(flows: ElementFlows, region: str, element: str, stage: str) -> dict[tuple[str, str], float]:
    """{(origin_stage, origin_region): share} behind :func:`look_through_origin`, unsorted; aggregates are
    weighted by their members' input quantities. Empty where the region takes none of the element in."""

    def compute() -> dict[tuple[str, str], float]:
        total: dict[tuple[str, str], float] = {}
        weight = 0.0
        for member in flows.element_groups.get(element, [element]):
            origins, quantity = _origins_single(flows, region, member, stage)
            weight += quantity
            for key, share in origins.items():
                total[key] = total.get(key, 0.0) + share * quantity
        return {key: v / weight for key, v in total.items()} if weight > 0 else {}

    return _cached(flows, ("origin_shares", region, element, stage), compute)


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
    stages = list(stages)
    by_stage_element = {key: group for key, group in production_shares(flows).groupby(["stage", "element"], sort=False)}
    records = []
    for element in elements:
        members = flows.element_groups.get(element, [element])
        if any(m not in eol_rir_pct for m in members):
            continue
        weights = flows.production[flows.production["element"].isin(members)].groupby("element")["quantity"].sum()
        eol = float(sum(eol_rir_pct[m] * weights.get(m, 0.0) for m in members) / max(weights.sum(), 1e-12)) / 100.0
        si = float(np.mean([substitution.get(m, 1.0) for m in members]))
        globs = {}
        for stage in stages:
            group = by_stage_element.get((stage, element))
            globs[stage] = {} if group is None else group.set_index("region")["share"].to_dict()
        for region in regions:
            origins = _origin_shares(flows, region, element, "use")
            if not origins:
                continue
            for stage in stages:
                glob = globs[stage]
                # the origin regions at this stage by share, largest first (ties in origin order): the order
                # look_through_origin's table has, which fixes the order of the sums below
                src = sorted(((r, v) for (s, r), v in origins.items() if s == stage), key=lambda rv: -rv[1])
                if not glob or not src or any(r not in wgi for r in [*glob, *(r for r, _ in src)]):
                    continue
                values = np.array([v for _, v in src])
                fractions = dict(zip((r for r, _ in src), (values / values.sum()).tolist(), strict=True))
                ir = 1.0 - float(fractions.get(region, 0.0))
                value = eu_supply_risk(glob, fractions, wgi, ir, eol, si)
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
