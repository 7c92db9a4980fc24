"""Natural graphite, mine to use: mine output, processing where routed, use by sector."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pandas as pd

from critmin.build import assumptions as A
from critmin.build.allocation import allocate_trade
from critmin.build.baseline.rows import Baseline, identity_recipe, usgs_2024
from critmin.build.facts import Sources


def graphite(facts: Path, src: Sources, base: Baseline, modelled: str) -> None:
    """Natural graphite (USGS) processed where ``GRAPHITE_ROUTING`` sends it, and used by sector."""
    identity_recipe(
        base, src, "graphite_processed", "graphite_natural", "t/t", "processed graphite counted as feed equivalent"
    )
    natural, fact = usgs_2024(facts, "graphite_natural", "mine_production")
    usgs = src.cite(fact["source"], fact["confirmed"])
    processed: dict[str, float] = defaultdict(float)
    for region, qty in natural.items():
        base.add_production(
            region,
            "graphite_natural",
            qty,
            "t/yr",
            usgs,
            "confirmed",
            "USGS MCS2025 2024 natural graphite mine production"
            + (" (sum of member countries)" if region in A.AGGREGATE_REGIONS else ""),
        )
        for dest, share in A.GRAPHITE_ROUTING.get(region, {region: 100.0}).items():
            processed[dest] += qty * share / 100.0
            if dest != region:
                base.add_flows(
                    pd.DataFrame([(region, dest, qty * share / 100.0)]),
                    "graphite_natural",
                    "t/yr",
                    modelled,
                    "assumption",
                    f"{share:g}% of {region} flake processed in {dest}",
                )
    for region, qty in processed.items():
        base.add_production(
            region,
            "graphite_processed",
            qty,
            "t/yr",
            modelled,
            "assumption",
            "natural graphite processed where routed (feed equivalent)",
        )
    total = sum(processed.values())
    use = pd.Series({r: s / 100.0 * total for r, s in A.GRAPHITE_DEMAND_SHARE.items()})
    for region, qty in use.items():
        for sector, pct in A.GRAPHITE_SECTORS.items():
            base.add_demand(
                region,
                sector,
                "graphite_processed",
                qty * pct / 100.0,
                "t/yr",
                modelled,
                f"{A.GRAPHITE_DEMAND_SHARE[region]:g}% of world use; {pct:g}% to {sector}",
            )
    base.add_flows(
        allocate_trade(pd.Series(processed), use),
        "graphite_processed",
        "t/yr",
        modelled,
        "assumption",
        "RAS fit to output and use",
    )
