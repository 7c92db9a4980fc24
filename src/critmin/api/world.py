"""The world side of the API: load a world, and its indicators, exposure and supply chain."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from critmin import metrics as ind
from critmin.errors import NotFoundError
from critmin.indicator_units import INDICATORS
from critmin.vocabulary import INTAKE_STAGES, ORIGIN_STAGES
from critmin.world.flows import PRODUCING_STAGES, ElementFlows, element_flows
from critmin.world.model import World

OVERVIEW_ELEMENTS = ("NdPr", "Dy", "Tb", "Ga", "graphite")


def load_world(folder: str | Path | None = None, *, db: str | Path | None = None) -> World:
    """A world folder if given; else the store's active world if ``db`` is given; else the bundled world."""
    if folder is not None:
        return World.from_folder(folder)
    if db is not None:
        from critmin.store import Store

        with Store(db) as store:
            return store.world()
    return World.bundled()


class UnknownChoiceError(NotFoundError, ValueError):
    """A region, element, stage or indicator the world does not have."""


def _check_choice(name: str, value: str | None, valid) -> None:
    if value is not None and value not in valid:
        raise UnknownChoiceError(f"unknown {name} {value!r}; choose from: {', '.join(sorted(valid))}")


def indicators(
    world: World,
    *,
    indicator: str | None = None,
    stage: str | None = None,
    element: str | None = None,
    region: str | None = None,
    flows: ElementFlows | None = None,
) -> pd.DataFrame:
    """Tidy indicator records: indicator, stage, element, region (None where not regional), value, unit.
    ``flows`` (``element_flows(world)``) may be passed in by callers that reuse it."""
    flows = flows or element_flows(world)
    elements = set(world.table("element")["id"])
    _check_choice("indicator", indicator, INDICATORS)
    _check_choice("stage", stage, PRODUCING_STAGES)
    _check_choice("element", element, elements)
    _check_choice("region", region, set(world.table("region")["id"]))
    parts = []

    def wanted(name: str) -> bool:
        return indicator in (None, name)

    if wanted("production") or wanted("production_share"):
        parts.append(ind.production_table(flows))
    if wanted("hhi") or wanted("top3_share"):
        parts.append(ind.concentration(flows))
    if wanted("import_reliance"):
        parts.append(ind.import_reliance(flows))
    if wanted("eu_supply_risk"):
        params = world.table("element_parameter")
        by = {p: dict(zip(g["element"], g["value"], strict=True)) for p, g in params.groupby("parameter")}
        wgi = world.table("region_parameter").query("parameter == 'wgi_mean'")
        regions = [region] if region else sorted(set(flows.use["region"]))
        chosen = [element] if element else sorted(set(flows.production["element"]) | set(flows.element_groups))
        stages = [stage] if stage in ("mine", "separation") else ("mine", "separation") if stage is None else ()
        parts.append(
            ind.supply_risk(
                flows,
                dict(zip(wgi["region"], wgi["value"], strict=True)),
                by.get("eol_rir_pct", {}),
                by.get("substitution_index", {}),
                regions,
                chosen,
                stages,
            )
        )
    table = (
        pd.concat([p for p in parts if len(p)], ignore_index=True)
        if any(len(p) for p in parts)
        else pd.DataFrame(columns=["indicator", "stage", "element", "region", "value"])
    )
    mask = pd.Series(True, index=table.index)
    for column, value in (("indicator", indicator), ("stage", stage), ("element", element)):
        if value is not None:
            mask &= table[column] == value
    if region is not None:
        mask &= table["region"].isna() | (table["region"] == region)
    table = table[mask].copy()
    table["unit"] = table["indicator"].map(ind.INDICATOR_UNITS)
    table["region"] = table["region"].astype(object).where(table["region"].notna(), None)
    table["_i"] = table["indicator"].map({name: i for i, name in enumerate(INDICATORS)})
    table["_s"] = ind.stage_sort_key(table["stage"])
    table = table.sort_values(["_i", "_s", "element", "value"], ascending=[True, True, True, False])
    return table.drop(columns=["_i", "_s"]).reset_index(drop=True)


def exposure(
    world: World, *, region: str, element: str, stage: str = "use", flows: ElementFlows | None = None
) -> pd.DataFrame:
    """Look-through origin: region, element, stage, origin_stage, origin_region, share (fraction).

    Where Japan's dysprosium comes from at the mine stage (bundled 2024 world):

    >>> world = load_world()
    >>> mines = exposure(world, region="JPN", element="Dy").query("origin_stage == 'mine'")
    >>> round(float(mines["share"].sum()), 6)  # the shares of one stage add up to the whole
    1.0
    >>> sorted(mines.nlargest(2, "share")["origin_region"])
    ['CHN', 'MMR']
    """
    _check_choice("region", region, set(world.table("region")["id"]))
    _check_choice("element", element, set(world.table("element")["id"]))
    _check_choice("stage", stage, INTAKE_STAGES)
    return ind.look_through_origin(flows or element_flows(world), region, element, stage)


def exposure_through(
    world: World,
    *,
    origin_region: str,
    origin_stage: str,
    flows: ElementFlows | None = None,
    origins=None,
) -> pd.DataFrame:
    """How much of each region's final use of each element passed through ``origin_region`` at
    ``origin_stage``: region, element, share_pct (% of the region's use), for every region and single element
    with use. ``origins(region, element, stage)`` may be a cached :func:`exposure` (the dashboard's)."""
    flows = flows or element_flows(world)
    _check_choice("region", origin_region, set(world.table("region")["id"]))
    _check_choice("stage", origin_stage, ORIGIN_STAGES)
    origins = origins or (lambda r, e, s: exposure(world, region=r, element=e, stage=s, flows=flows))
    used = set(flows.use["element"])
    singles = [e for e in world.table("element")["id"] if e in used]
    rows = []
    for region in sorted(set(flows.use["region"])):
        for element in singles:
            traced = origins(region, element, "use")
            if len(traced):
                rows.append(
                    {
                        "region": region,
                        "element": element,
                        "share_pct": through_share(traced, origin_region, origin_stage),
                    }
                )
    return pd.DataFrame(rows, columns=["region", "element", "share_pct"])


def through_share(origins: pd.DataFrame, origin_region: str, origin_stage: str) -> float:
    """The share (%) of final use in a look-through table that passed through ``origin_region`` at
    ``origin_stage``."""
    hit = (origins["origin_region"] == origin_region) & (origins["origin_stage"] == origin_stage)
    return 100 * float(origins.loc[hit, "share"].sum())


def element_units(world: World) -> dict[str, str]:
    """The quantity unit of each element's content (t REO for rare earths and their aggregates)."""
    products = world.table("product")
    single = products.dropna(subset=["element"]).drop_duplicates("element")
    units = dict(zip(single["element"], single["unit"], strict=True))
    for group, members in world.table("element_group").groupby("group")["element"]:
        units[group] = units.get(members.iloc[0], "t")
    return units


def supply_chain(world: World, element: str, *, top: int = 8, flows: ElementFlows | None = None) -> pd.DataFrame:
    """Sankey links of ``element`` content: source_stage, source_region, target_stage, target_region, quantity,
    unit (the element's unit per year). The ``top`` regions per stage are kept; the rest are ``Other``."""
    from critmin.metrics.sankey import supply_chain_links, top_regions

    _check_choice("element", element, set(world.table("element")["id"]) | set(world.table("element_group")["group"]))
    links = top_regions(supply_chain_links(flows or element_flows(world), element), top)
    return links.assign(unit=element_units(world).get(element, "t") + "/yr")


def overview(
    world: World,
    *,
    elements=OVERVIEW_ELEMENTS,
    top: int = 3,
    exposure_regions=("JPN", "USA"),
    exposure_elements=("Dy", "Tb"),
) -> dict[str, pd.DataFrame]:
    """Top producers per stage for key elements, and look-through exposure to China."""
    flows = element_flows(world)
    shares = ind.production_shares(flows)
    shares = shares[shares["element"].isin(elements)].copy()
    shares["rank"] = shares.groupby(["element", "stage"])["share"].rank(ascending=False, method="first")
    producers = shares[shares["rank"] <= top].copy()
    producers["_s"] = ind.stage_sort_key(producers["stage"])
    producers["_e"] = producers["element"].map({e: i for i, e in enumerate(elements)})
    producers = producers.sort_values(["_e", "_s", "rank"]).drop(columns=["_s", "_e"])
    producers["share_pct"] = producers["share"] * 100.0
    producers["unit"] = producers["element"].map(element_units(world)) + "/yr"
    rows = []
    for region in exposure_regions:
        for element in exposure_elements:
            origins = ind.look_through_origin(flows, region, element)
            china = origins[origins["origin_region"] == "CHN"].set_index("origin_stage")["share"]
            for stage in reversed(ORIGIN_STAGES):
                # no use of the element at all: the share is undefined, not zero
                share = float(china.get(stage, 0.0)) * 100.0 if len(origins) else None
                rows.append({"region": region, "element": element, "origin_stage": stage, "china_share_pct": share})
    return {
        "producers": producers[["element", "stage", "rank", "region", "quantity", "unit", "share_pct"]].reset_index(
            drop=True
        ),
        "exposure": pd.DataFrame(rows),
    }
