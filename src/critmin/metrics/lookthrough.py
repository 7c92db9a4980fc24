"""Look-through origin: where a region's element comes from at each upstream stage, with the pro-rata
assumption of MRIO analysis (each region's pool of a product is used proportionally by all that draw on it),
and the supply-risk scores built on it."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from critmin.errors import DataError
from critmin.metrics.cache import cached, frozen, grouped
from critmin.metrics.formulas import eu_supply_risk
from critmin.metrics.shares import by_region, production_shares
from critmin.world.flows import ElementFlows

UPSTREAM_ORDER = ("use", "magnet", "metal", "separation", "mine", "secondary")


def supply_mix(flows: ElementFlows, stage: str, element: str) -> pd.DataFrame:
    """Where each region's pool of the stage's product comes from: rows destination, columns origin, rows sum
    to 1 (own output kept plus imports). Regions without a pool have no row."""

    def compute() -> pd.DataFrame:
        shares, has_pool = _supply_solution(flows, stage, element)
        frame = pd.DataFrame(shares, index=flows.regions, columns=flows.regions)
        return frame[has_pool]

    return cached(flows, ("supply_mix", stage, element), compute)


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

    return cached(flows, ("trade_arcs",), compute)


def _supply_solution(flows: ElementFlows, stage: str, element: str) -> tuple[np.ndarray, np.ndarray]:
    """Pro-rata origin of each region's pool, re-exports included. With x = production + imports and T the
    trade matrix (origin x destination), the shares S (destination x producing region) solve

        diag(x) S - T' S = diag(production)

    i.e. a region's pool is its own output plus what it imports, each import carrying its exporter's mix.
    Solved as a linear system; no inverse is formed. Returns S over all regions and which regions have a pool."""

    def compute():
        regions = flows.regions
        n = len(regions)
        totals = by_region(flows)[0]
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
            raise DataError(f"{element} at {stage}: trade goes round in a cycle with no output or use") from None
        return frozen(shares), frozen(has_pool)

    return cached(flows, ("supply_solution", stage, element), compute)


def _mix_matrix(flows: ElementFlows, stage: str, element: str) -> np.ndarray:
    """:func:`supply_mix` as a dense regions x regions array (zeros where a region has no pool)."""

    def compute():
        shares, has_pool = _supply_solution(flows, stage, element)
        dense = np.where(has_pool[:, None], shares, 0.0)
        dense[np.isnan(dense)] = 0.0
        # column-major, as the pandas table it replaces was: ``vector @ matrix`` sums in a layout-dependent
        # order, and the indicators are kept identical to the last bit
        return frozen(np.asfortranarray(dense))

    return cached(flows, ("mix_matrix", stage, element), compute)


def _primary_vector(flows: ElementFlows, stage: str, element: str) -> np.ndarray:
    """The primary share of each region's output at a stage (1 where a region has no output)."""

    def compute():
        fractions = by_region(flows)[1]
        if (stage, element) not in fractions.index:
            return frozen(np.ones(len(flows.regions)))
        return frozen(fractions.loc[(stage, element)].to_numpy(dtype=float))

    return cached(flows, ("primary_vector", stage, element), compute)


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

    return cached(flows, ("use_by_stage",), compute)


def _origins_single(flows: ElementFlows, region: str, element: str, stage: str) -> tuple[dict, float]:
    """Origin shares {(origin_stage, origin_region): share} for one element, and the node's input quantity.
    Cached per flows object; callers must not change the dict."""
    return cached(
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
        prod = grouped(flows, "production").get((stage, element))
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

    return cached(flows, ("origin_shares", region, element, stage), compute)


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
