"""Use stage (other than magnets): what supply magnets leave, split among regions, sectors and forms."""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from critmin.build import assumptions as A
from critmin.build.baseline.magnet import Magnets
from critmin.build.baseline.rows import Baseline

Use = dict[tuple[str, str], float]  # (region, element) -> t REO/yr


def use(primary: pd.DataFrame, magnets: Magnets, base: Baseline, modelled: str) -> tuple[Use, Use]:
    """Non-magnet demand rows; returns the oxide and the metal taken by final use, by (region, element)."""
    supply = primary.sum(axis=0)
    for e, q in magnets.secondary.items():
        supply[e] += q
    magnet_need = pd.Series({e: magnets.world * magnets.per_magnet[e] for e in supply.index})
    non_magnet = (supply - magnet_need).clip(lower=0.0)
    total_non_magnet = non_magnet.sum()
    region_share = {r: q / total_non_magnet for r, q in A.NON_MAGNET_DEMAND.items()}
    region_share["CHN"] = 1.0 - sum(region_share.values())  # China takes the remainder
    oxide: Use = defaultdict(float)
    metal: Use = defaultdict(float)
    for region, rshare in region_share.items():
        for e, qty in non_magnet.items():
            for sector, form, pct in A.END_USE_SPLIT[e]:
                q = qty * rshare * pct / 100.0
                (metal if form == "metal" else oxide)[(region, e)] += q
                base.add_demand(
                    region,
                    sector,
                    f"{e}_{form}",
                    q,
                    "t REO/yr",
                    modelled,
                    f"{rshare:.2%} of world non-magnet use of {e}; {pct}% of it to {sector}",
                )
    return oxide, metal
