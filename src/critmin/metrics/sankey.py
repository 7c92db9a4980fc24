"""Supply-chain links for a Sankey: element content moving mine -> separation -> metal -> magnet -> use,
region by region, with each stage's input traced pro rata to the regions that supplied its pool."""

from __future__ import annotations

import pandas as pd

from critmin.metrics.cache import grouped
from critmin.metrics.lookthrough import supply_mix
from critmin.vocabulary import STAGES
from critmin.world.flows import ElementFlows

LINK_COLUMNS = ["source_stage", "source_region", "target_stage", "target_region", "quantity"]
SECONDARY = "secondary"  # recycled or balancing output, which has no upstream


def _pool_links(flows: ElementFlows, element: str, upstream: str, takers: pd.Series, stage: str) -> list[tuple]:
    """Links from the producers of ``upstream`` to each taking region, ``takers`` (region -> quantity) split by
    the origin mix of the taker's pool."""
    mix = supply_mix(flows, upstream, element)
    rows = []
    for region, quantity in takers.items():
        if quantity <= 0 or region not in mix.index:
            continue
        for origin, share in mix.loc[region].items():
            if share > 1e-12:
                rows.append((upstream, origin, stage, region, quantity * share))
    return rows


def supply_chain_links(flows: ElementFlows, element: str) -> pd.DataFrame:
    """Element content (in the element's unit per year) from each (stage, region) to each (stage, region).
    The input of a stage is taken equal to its output (losses in conversion are not in the world data)."""
    members = flows.element_groups.get(element, [element])
    empty = pd.DataFrame(columns=["region", "route", "quantity"])
    rows: list[tuple] = []
    for member in members:
        for stage in STAGES[1:-1]:
            produced = grouped(flows, "production").get((stage, member), empty)
            upstream = flows.input_stage.get((stage, member))
            primary = produced[produced["route"] == "primary"].groupby("region")["quantity"].sum()
            secondary = produced[produced["route"] != "primary"].groupby("region")["quantity"].sum()
            if upstream:
                rows += _pool_links(flows, member, upstream, primary, stage)
            rows += [(SECONDARY, r, stage, r, q) for r, q in secondary.items() if q > 0]
        use = flows.use[flows.use["element"] == member]
        for upstream, taken in use.groupby("stage"):
            rows += _pool_links(flows, member, upstream, taken.groupby("region")["quantity"].sum(), "use")
    frame = pd.DataFrame(rows, columns=LINK_COLUMNS)
    return frame.groupby(LINK_COLUMNS[:-1], as_index=False, sort=False)["quantity"].sum()


def top_regions(links: pd.DataFrame, top: int) -> pd.DataFrame:
    """Keep the ``top`` regions by throughput at each stage; fold the rest into ``Other``."""
    ends = pd.concat(
        [
            links[["source_stage", "source_region", "quantity"]].set_axis(["stage", "region", "quantity"], axis=1),
            links[["target_stage", "target_region", "quantity"]].set_axis(["stage", "region", "quantity"], axis=1),
        ]
    )
    size = ends.groupby(["stage", "region"])["quantity"].sum().reset_index()
    size["rank"] = size.groupby("stage")["quantity"].rank(ascending=False, method="first")
    kept = set(zip(size.loc[size["rank"] <= top, "stage"], size.loc[size["rank"] <= top, "region"], strict=True))
    out = links.copy()
    for end in ("source", "target"):
        keep = [(s, r) in kept for s, r in zip(out[f"{end}_stage"], out[f"{end}_region"], strict=True)]
        out[f"{end}_region"] = out[f"{end}_region"].where(keep, "Other")
    return out.groupby(LINK_COLUMNS[:-1], as_index=False, sort=False)["quantity"].sum()
