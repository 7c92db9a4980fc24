"""The baseline's tables as rows, and the USGS country figures summed by critmin region."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from critmin.build import assumptions as A
from critmin.build.catalogue import prov
from critmin.build.facts import Sources, confidence, read_facts
from critmin.build.grades import GradeContents

DECIMALS = 3  # kg precision in t


@dataclass
class Baseline:
    """The rows of the baseline's components, appended stage by stage."""

    composition: list[dict] = field(default_factory=list)
    recipe: list[dict] = field(default_factory=list)
    production: list[dict] = field(default_factory=list)
    trade_flow: list[dict] = field(default_factory=list)
    demand: list[dict] = field(default_factory=list)
    capacity: list[dict] = field(default_factory=list)
    stock: list[dict] = field(default_factory=list)
    grades: GradeContents | None = None

    def add_production(self, region, product, qty, unit, source, conf, note, route="primary"):
        if qty > 0:
            self.production.append(
                {
                    "region": region,
                    "product": product,
                    "route": route,
                    "quantity": round(qty, DECIMALS),
                    **prov(source, unit, conf, note),
                }
            )

    def add_flows(self, flows: pd.DataFrame, product, unit, source, conf, note):
        for o, d, q in flows.itertuples(index=False, name=None):
            if round(q, DECIMALS) > 0:
                self.trade_flow.append(
                    {
                        "origin": o,
                        "destination": d,
                        "product": product,
                        "quantity": round(q, DECIMALS),
                        **prov(source, unit, conf, note),
                    }
                )

    def add_demand(self, region, sector, product, qty, unit, source, note, growth=0.0):
        if round(qty, DECIMALS) > 0:
            self.demand.append(
                {
                    "region": region,
                    "sector": sector,
                    "product": product,
                    "quantity": round(qty, DECIMALS),
                    "elasticity": A.DEMAND_ELASTICITY,
                    "growth_pct": growth,
                    **prov(source, unit, "assumption", note),
                }
            )


def identity_recipe(base: Baseline, src: Sources, output: str, input_: str, unit: str, note: str) -> None:
    """A one-to-one recipe between stages (quantities counted in the same equivalent unit on both sides)."""
    ident = src.assumption("one-to-one recipes between stages in oxide-equivalent units")
    base.recipe.append({"output": output, "input": input_, "quantity": 1.0, **prov(ident, unit, "assumption", note)})


def by_region(facts: list[dict[str, str]], field: str = "quantity") -> tuple[dict[str, float], dict[str, str]]:
    """Confirmed country figures summed by critmin region (world rows skipped), plus the last row used."""
    out: dict[str, float] = defaultdict(float)
    fact_row = {}
    for fact in facts:
        if confidence(fact["confirmed"]) != "confirmed" or fact["country_iso3"] == "WLD" or not fact[field]:
            continue
        region = A.COUNTRY_TO_REGION.get(fact["country_iso3"], fact["country_iso3"])
        out[region] += float(fact[field])
        fact_row = fact
    return dict(out), fact_row


def usgs_2024(facts: Path, material: str, stage: str) -> tuple[dict[str, float], dict[str, str]]:
    """USGS 2024 figures by critmin region (aggregates summed), plus one fact row for provenance."""
    rows = read_facts(facts, "production.csv")
    return by_region([f for f in rows if (f["material"], f["year"], f["stage"]) == (material, str(A.YEAR), stage)])
