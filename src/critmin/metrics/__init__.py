"""Exposure indicators: concentration (HHI, top-3 share), import reliance, look-through origin, and the
EU CRM supply-risk score. Pure functions over :class:`critmin.world.flows.ElementFlows`.

- :mod:`~critmin.metrics.formulas`: the textbook formulas, on plain numbers;
- :mod:`~critmin.metrics.shares`: production shares, concentration and import reliance per stage;
- :mod:`~critmin.metrics.lookthrough`: look-through origin and supply risk;
- :mod:`~critmin.metrics.sankey` and :mod:`~critmin.metrics.calibration`: supply-chain links for Sankey
  diagrams, and the comparison of the world's indicators with published figures.

Conventions (documented in docs/indicators.md):
- shares are of the stage's element content (t REO for rare earths) across the world's regions;
- HHI = sum of squared percentage shares, 0..10,000;
- import reliance = net imports / apparent consumption of the stage's product, 0 for net exporters;
- look-through origin assumes each region's pool of a product (own output kept plus imports) is used
  proportionally by everything that draws on it (the standard pro-rata assumption of MRIO analysis).
"""

from __future__ import annotations

from critmin.indicator_units import INDICATOR_UNITS
from critmin.metrics.formulas import (
    eu_supply_risk,
    herfindahl_hirschman_index,
    net_import_reliance,
    scaled_wgi,
    top_n_share,
)
from critmin.metrics.lookthrough import (
    UPSTREAM_ORDER,
    look_through_origin,
    supply_mix,
    supply_risk,
)
from critmin.metrics.shares import (
    concentration,
    import_reliance,
    production_shares,
    production_table,
    stage_balances,
    stage_sort_key,
)

__all__ = [
    "INDICATOR_UNITS",
    "UPSTREAM_ORDER",
    "concentration",
    "eu_supply_risk",
    "herfindahl_hirschman_index",
    "import_reliance",
    "look_through_origin",
    "net_import_reliance",
    "production_shares",
    "production_table",
    "scaled_wgi",
    "stage_balances",
    "stage_sort_key",
    "supply_mix",
    "supply_risk",
    "top_n_share",
]
