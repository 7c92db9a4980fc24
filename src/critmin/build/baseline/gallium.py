"""Gallium, mine to use: primary low-purity output (separation stage), refined high-purity (metal stage), use."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from critmin.build import assumptions as A
from critmin.build.allocation import allocate_trade
from critmin.build.baseline.rows import Baseline, identity_recipe, usgs_2024
from critmin.build.facts import Sources


def gallium(facts: Path, src: Sources, base: Baseline, modelled: str) -> None:
    """Primary low-purity Ga (USGS) refined to high purity (world 320 t) and used in electronics."""
    identity_recipe(base, src, "Ga_refined", "Ga_primary", "t Ga/t Ga", "refining yield losses not modelled")
    primary, fact = usgs_2024(facts, "gallium", "primary_production_low_purity")
    usgs = src.cite(fact["source"], fact["confirmed"])
    for region, qty in primary.items():
        base.add_production(
            region, "Ga_primary", qty, "t Ga/yr", usgs, "confirmed", "USGS MCS2025 2024 primary low-purity gallium"
        )
    refined = pd.Series({r: s / 100.0 * A.GA_REFINED_T for r, s in A.GA_REFINED_SHARE.items()})
    for region, qty in refined.items():
        base.add_production(
            region,
            "Ga_refined",
            qty,
            "t Ga/yr",
            modelled,
            "assumption",
            f"{A.GA_REFINED_SHARE[region]:g}% of world high-purity output 320 t (USGS); split assumed",
        )
    unrefined = sum(primary.values()) - A.GA_REFINED_T
    base.add_demand(
        "CHN",
        "other",
        "Ga_primary",
        unrefined,
        "t Ga/yr",
        modelled,
        "primary gallium not refined to high purity: inventory build and low-purity uses (balancing item)",
    )
    intake = refined.copy()
    intake["CHN"] += unrefined
    base.add_flows(
        allocate_trade(pd.Series(primary), intake),
        "Ga_primary",
        "t Ga/yr",
        modelled,
        "assumption",
        "RAS fit to output and refiners' intake",
    )
    use = pd.Series({r: s / 100.0 * A.GA_REFINED_T for r, s in A.GA_DEMAND_SHARE.items()})
    for region, qty in use.items():
        base.add_demand(
            region,
            "electronics",
            "Ga_refined",
            qty,
            "t Ga/yr",
            modelled,
            f"{A.GA_DEMAND_SHARE[region]:g}% of world high-purity gallium use (assumed)",
        )
    base.add_flows(
        allocate_trade(refined, use), "Ga_refined", "t Ga/yr", modelled, "assumption", "RAS fit to output and use"
    )
