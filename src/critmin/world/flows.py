"""Element-level flows derived from a world: what each product contains, and production, trade and use
of every element at every stage as tidy tables and labelled arrays (dims region, stage, element)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import pandas as pd

from critmin.errors import DataError
from critmin.vocabulary import STAGES
from critmin.world.model import World

if TYPE_CHECKING:
    import xarray as xr

PRODUCING_STAGES = STAGES[:-1]  # mine, separation, metal, magnet


def element_content(world: World) -> pd.DataFrame:
    """Element content per unit of each product (product x element), from composition, recipes and the
    product's own element. Multi-level recipes are resolved recursively."""
    products = world.table("product").set_index("id")
    comp = world.table("composition")
    recipes = world.table("recipe")
    content: dict[str, dict[str, float]] = {}

    def resolve(pid: str, trail: tuple[str, ...] = ()) -> dict[str, float]:
        if pid in content:
            return content[pid]
        if pid in trail:
            raise DataError(f"recipe cycle through {' -> '.join((*trail, pid))}")
        element = products.at[pid, "element"]
        if isinstance(element, str):
            result = {element: 1.0}
        elif (comp["product"] == pid).any():
            rows = comp[comp["product"] == pid]
            result = dict(zip(rows["element"], rows["share"] / 100.0, strict=True))
        else:
            result = {}
            for _, r in recipes[recipes["output"] == pid].iterrows():
                for e, q in resolve(r["input"], (*trail, pid)).items():
                    result[e] = result.get(e, 0.0) + q * r["quantity"]
        content[pid] = result
        return result

    for pid in products.index:
        resolve(pid)
    frame = pd.DataFrame(content).T.fillna(0.0)
    frame.index.name, frame.columns.name = "product", "element"
    return frame


def _to_elements(rows: pd.DataFrame, content: pd.DataFrame, stage_of: pd.Series, keys: list[str]) -> pd.DataFrame:
    if rows.empty:
        return pd.DataFrame(columns=[*keys, "stage", "element", "quantity"])
    long = content.stack().rename("per_unit").reset_index()
    long = long[long["per_unit"] != 0]
    merged = rows.merge(long, on="product")
    merged["quantity"] = merged["quantity"] * merged["per_unit"]
    merged["stage"] = merged["product"].map(stage_of)
    return merged.groupby([*keys, "stage", "element"], as_index=False, sort=False)["quantity"].sum()


@dataclass(frozen=True)
class ElementFlows:
    """Element content of production, trade and final use. Quantities in the element's product unit per year
    (t REO for rare earths, t Ga, t graphite)."""

    production: pd.DataFrame  # region, route, stage, element, quantity
    trade: pd.DataFrame  # origin, destination, stage, element, quantity
    use: pd.DataFrame  # region, sector, stage (of the product consumed), element, quantity
    input_stage: dict[tuple[str, str], str]  # (stage, element) -> stage its inputs come from
    element_groups: dict[str, list[str]]
    cache: dict = field(default_factory=dict, compare=False, repr=False)  # derived tables, keyed by name

    @cached_property
    def regions(self) -> list[str]:
        return sorted(
            set(self.production["region"])
            | set(self.trade["origin"])
            | set(self.trade["destination"])
            | set(self.use["region"])
        )

    def production_array(self) -> xr.DataArray:
        """Production as a DataArray with dims (region, stage, element), aggregates included."""
        return _array(self.with_aggregates(self.production), ["region", "stage", "element"])

    def trade_array(self) -> xr.DataArray:
        return _array(self.with_aggregates(self.trade), ["origin", "destination", "stage", "element"])

    def with_aggregates(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Append aggregate elements (REE, NdPr) as sums of their members."""
        keys = [c for c in frame.columns if c not in ("element", "quantity")]
        extra = []
        for group, members in self.element_groups.items():
            part = frame[frame["element"].isin(members)]
            if len(part):
                summed = part.groupby(keys, as_index=False, sort=False)["quantity"].sum()
                summed["element"] = group
                extra.append(summed)
        return pd.concat([frame, *extra], ignore_index=True) if extra else frame


def _array(frame: pd.DataFrame, dims: list[str]) -> xr.DataArray:
    import xarray as xr  # here, not at the top: the indicators and the command line do without it

    series = frame.groupby(dims)["quantity"].sum()
    return xr.DataArray.from_series(series).fillna(0.0)


def element_flows(world: World) -> ElementFlows:
    """The world's production and trade as element content (t of element, t REO for rare earths) by stage,
    the input of every indicator."""
    content = element_content(world)
    products = world.table("product").set_index("id")
    stage_of = products["stage"]
    production = world.table("production")[["region", "route", "product", "quantity"]]
    trade = world.table("trade_flow")[["origin", "destination", "product", "quantity"]]
    demand = world.table("demand")[["region", "sector", "product", "quantity"]]
    links = [
        (stage_of[r["output"]], e, stage_of[r["input"]])
        for _, r in world.table("recipe").iterrows()
        for e, q in content.loc[r["input"]].items()
        if q
    ]
    # separated oxides come from the concentrate stage
    links += [("separation", r["element"], stage_of[r["product"]]) for _, r in world.table("composition").iterrows()]
    input_stage: dict[tuple[str, str], str] = {}
    for stage, element, upstream in links:
        if input_stage.setdefault((stage, element), upstream) != upstream:
            raise DataError(
                f"{element} at the {stage} stage draws on both the {upstream} and the "
                f"{input_stage[(stage, element)]} stage; look-through supports one upstream stage per stage"
            )
    groups = world.table("element_group").groupby("group")["element"].apply(list).to_dict()
    return ElementFlows(
        production=_to_elements(production, content, stage_of, ["region", "route"]),
        trade=_to_elements(trade, content, stage_of, ["origin", "destination"]),
        use=_to_elements(demand, content, stage_of, ["region", "sector"]),
        input_stage=input_stage,
        element_groups=groups,
    )
