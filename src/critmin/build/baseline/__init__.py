"""The physical 2024 baseline: compositions, recipes, production, trade, demand, capacity and stocks.

Built stage by stage, one module each (all rare-earth quantities in t REO-equivalent):

1. :mod:`.mine`: USGS 2024 output per country, split into ore types (concentrate products) by ``ORE_MIX``;
2. :mod:`.separation`: concentrates routed to separators (``CONCENTRATE_ROUTING``), oxides = intake x
   composition; NdPr that magnets need beyond primary supply is a secondary (scrap-recycling) balancing
   item in China;
3. :mod:`.magnet`: world NdFeB output from China's 2024 output and its IEA share; recipe gives element needs;
   the calibrated recipe is split into three grades (:mod:`critmin.build.grades`) whose production-weighted
   mean equals it; every region makes, trades and uses the grades in the world shares;
4. :mod:`.metal`: the metal needed by magnet makers and metal-using sectors, made by ``METAL_SHARE``;
5. :mod:`.use`: non-magnet consumption split by region and sector (magnet use is in :mod:`.magnet`).

Gallium and graphite are built mine to use in :mod:`.gallium` and :mod:`.graphite`; capacity and stocks
follow from the flows (:mod:`.capacity`, :mod:`.stocks`).

Between stages, trade is fitted by :func:`critmin.build.allocation.allocate_trade`, so every node
balances: production + imports = exports + intake of the next stage + final demand.
"""

from __future__ import annotations

from pathlib import Path

from critmin.build.baseline.capacity import capacity
from critmin.build.baseline.gallium import gallium
from critmin.build.baseline.graphite import graphite
from critmin.build.baseline.magnet import magnet, magnet_trade
from critmin.build.baseline.metal import metal
from critmin.build.baseline.mine import compositions, mine
from critmin.build.baseline.rows import Baseline, by_region
from critmin.build.baseline.separation import oxides, separation
from critmin.build.baseline.stocks import stocks
from critmin.build.baseline.use import use
from critmin.build.facts import Sources

__all__ = ["Baseline", "build_baseline", "by_region"]


def build_baseline(facts: Path, src: Sources) -> Baseline:
    """Build the baseline from the facts folder, citing its sources in ``src``.

    The stages run in the order their quantities are known: magnet output sizes non-magnet use and the
    metal stage, and the metal stage fixes the oxide intake that oxide trade is fitted to. The order also
    fixes the order of the rows in each written table, so it is part of the output.
    """
    base = Baseline()
    comp = compositions(facts, src, base)
    modelled = src.assumption("2024 baseline construction (critmin.build.baseline; docs/data.md)")
    mined, usgs = mine(facts, src, base, modelled)
    primary = separation(mined, comp, base, usgs, modelled)
    magnets = magnet(primary, src, base)
    use_oxide, use_metal = use(primary, magnets, base, modelled)
    magnet_use = magnet_trade(magnets, src, base, modelled)
    oxide_intake = metal(primary.columns, magnets, use_oxide, use_metal, src, base, modelled)
    oxides(primary, magnets.secondary, oxide_intake, base, modelled)
    gallium(facts, src, base, modelled)
    graphite(facts, src, base, modelled)
    capacity(facts, src, base, mined, magnets.output)
    stocks(src, base, magnets, use_oxide, use_metal, magnet_use)
    return base
