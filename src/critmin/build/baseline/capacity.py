"""Capacity: published where the facts have it, else 2024 output over an assumed utilisation."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from critmin.build import assumptions as A
from critmin.build.baseline.rows import DECIMALS, Baseline
from critmin.build.catalogue import prov
from critmin.build.facts import Sources, confidence, read_facts


def capacity(
    facts: Path, src: Sources, base: Baseline, mined: dict[tuple[str, str], float], magnet_output: pd.Series
) -> None:
    """Mine and magnet capacity from output / utilisation; gallium and Lynas Malaysia capacity as published."""
    util = src.assumption(f"capacity = 2024 output / utilisation {A.UTILISATION:g} where none is published")
    for (region, product), qty in mined.items():
        if qty > 0:
            base.capacity.append(
                {
                    "region": region,
                    "product": product,
                    "capacity": round(qty / A.UTILISATION, DECIMALS),
                    **prov(util, "t REO/yr", "assumption", "output / utilisation"),
                }
            )
    for region, qty in magnet_output.items():
        for grade, gshare in base.grades.shares.items():
            base.capacity.append(
                {
                    "region": region,
                    "product": grade,
                    "capacity": round(qty * gshare / A.UTILISATION, DECIMALS),
                    **prov(
                        util,
                        "t/yr",
                        "assumption",
                        "output / utilisation (magnet lines split in the world grade shares)",
                    ),
                }
            )
    for fact in read_facts(facts, "production.csv"):
        if (
            fact["material"] == "gallium"
            and fact["stage"] == "primary_production_capacity"
            and fact["country_iso3"] != "WLD"
        ):
            region = A.COUNTRY_TO_REGION.get(fact["country_iso3"], fact["country_iso3"])
            base.capacity.append(
                {
                    "region": region,
                    "product": "Ga_primary",
                    "capacity": float(fact["quantity"]),
                    **prov(
                        src.cite(fact["source"], fact["confirmed"]),
                        "t Ga/yr",
                        confidence(fact["confirmed"]),
                        fact["note"],
                    ),
                }
            )
    for fact in read_facts(facts, "projects.csv"):
        if fact["name"].startswith("Lynas Malaysia (Gebeng"):
            sid = src.cite(fact["source"], fact["confirmed"])
            for e, share in zip(("Nd", "Pr"), A.ND_TO_PR, strict=True):
                base.capacity.append(
                    {
                        "region": "MYS",
                        "product": f"{e}_oxide",
                        "capacity": 10500.0 * share,
                        **prov(
                            sid,
                            "t REO/yr",
                            confidence(fact["confirmed"]),
                            f"10,500 t/yr NdPr oxide capacity split {share:.0%} {e}",
                        ),
                    }
                )
