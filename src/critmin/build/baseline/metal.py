"""Metal stage: metal made where ``METAL_SHARE`` says, in the amounts magnet makers and metal users need."""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from critmin.build import assumptions as A
from critmin.build.allocation import allocate_trade
from critmin.build.baseline.magnet import Magnets
from critmin.build.baseline.rows import Baseline, identity_recipe
from critmin.build.baseline.use import Use
from critmin.build.catalogue import REE_ORDER
from critmin.build.facts import Sources


def metal(
    elements: pd.Index,
    magnets: Magnets,
    use_oxide: Use,
    use_metal: Use,
    src: Sources,
    base: Baseline,
    modelled: str,
) -> Use:
    """Metal recipes, output and trade; returns the oxide each region takes in (metal making and final use)."""
    for e in REE_ORDER:
        identity_recipe(base, src, f"{e}_metal", f"{e}_oxide", "t REO/t REO", "metal counted as oxide equivalent")
    oxide_intake: Use = defaultdict(float, use_oxide)
    for e in elements:
        need = pd.Series({r: magnets.output.get(r, 0.0) * magnets.per_magnet[e] for r in magnets.output.index})
        for (region, el), q in use_metal.items():
            if el == e:
                need[region] = need.get(region, 0.0) + q
        world_metal = need.sum()
        if world_metal <= 0:
            continue
        made = pd.Series({r: s / 100.0 * world_metal for r, s in A.METAL_SHARE.items()})
        for region, qty in made.items():
            base.add_production(
                region,
                f"{e}_metal",
                qty,
                "t REO/yr",
                modelled,
                "assumption",
                f"{A.METAL_SHARE[region]:g}% of world {e} metal (China ~90% commonly quoted, unsourced)",
            )
            oxide_intake[(region, e)] += qty
        base.add_flows(
            allocate_trade(made, need),
            f"{e}_metal",
            "t REO/yr",
            modelled,
            "assumption",
            "RAS fit to metal output and needs",
        )
    return oxide_intake
