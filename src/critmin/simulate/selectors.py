"""Resolve scenario selectors to sets of world ids (regions, products)."""

from __future__ import annotations

import pandas as pd

from critmin.scenario.schema import Goods, Places
from critmin.world.model import World


class Resolver:
    def __init__(self, world: World, content: pd.DataFrame):
        self.regions = world.table("region")["id"].tolist()
        groups = world.table("region_group")
        self.members = groups.groupby("group")["region"].apply(list).to_dict()
        products = world.table("product")
        self.products = products["id"].tolist()
        self.stage = products.set_index("id")["stage"]
        self.content = content  # product x element

    def places(self, places: Places) -> list[str]:
        if not places.regions and not places.groups:
            return list(self.regions)
        chosen = set(places.regions)
        for g in places.groups:
            chosen |= set(self.members.get(g, []))
        return [r for r in self.regions if r in chosen]

    def goods(self, goods: Goods) -> list[str]:
        chosen = set(goods.products) if goods.products else set()
        if goods.elements:
            cols = [e for e in goods.elements if e in self.content.columns]
            containing = self.content.index[(self.content[cols] > 0).any(axis=1)] if cols else []
            chosen |= set(containing)
        if not goods.products and not goods.elements:
            chosen = set(self.products)
        if goods.stages:
            chosen = {p for p in chosen if self.stage.get(p) in goods.stages}
        return [p for p in self.products if p in chosen]
