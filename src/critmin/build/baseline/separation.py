"""Separation stage: concentrates routed to separators, oxide output by co-production, oxide trade."""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from critmin.build import assumptions as A
from critmin.build.allocation import allocate_trade
from critmin.build.baseline.rows import Baseline


def separation(
    mined: dict[tuple[str, str], float],
    comp: dict[str, dict[str, float]],
    base: Baseline,
    usgs: str,
    modelled: str,
) -> pd.DataFrame:
    """Ship concentrate to its separators; primary oxide output (region x element, t REO) = intake x composition.

    The oxide rows themselves are written by :func:`oxides`, once the metal stage has fixed the oxide intake.
    """
    oxide: dict[tuple[str, str], float] = defaultdict(float)
    for (origin, product), qty in mined.items():
        routes = A.CONCENTRATE_ROUTING.get(origin, {A.DEFAULT_SEPARATOR: 100.0})
        for dest, share in routes.items():
            moved = qty * share / 100.0
            for element, frac in comp[product].items():
                oxide[(dest, element)] += moved * frac
            if dest != origin:
                proxy = origin not in A.CONCENTRATE_ROUTING
                base.add_flows(
                    pd.DataFrame([(origin, dest, moved)]),
                    product,
                    "t REO/yr",
                    usgs if proxy else modelled,
                    "secondary" if proxy else "assumption",
                    "USGS estimates this output from China's import data, so it is shipped to China"
                    if proxy
                    else f"concentrate routing: {share:.4g}% of {origin} output separated in {dest}",
                )
    for region, qty in A.SCANDIUM_OXIDE.items():
        oxide[(region, "Sc")] += qty
    return pd.Series(oxide).unstack(fill_value=0.0)


def oxides(
    primary: pd.DataFrame,
    secondary: dict[str, float],
    intake: dict[tuple[str, str], float],
    base: Baseline,
    modelled: str,
) -> None:
    """Oxide production (primary, and China's secondary NdPr) and its trade to the regions that take it in."""
    for (region, e), qty in primary.stack().items():
        base.add_production(
            region,
            f"{e}_oxide",
            qty,
            "t REO/yr",
            modelled,
            "assumption",
            "separated from concentrate intake x ore composition"
            if e != "Sc"
            else "scandium oxide by-product output (critmin estimate)",
        )
    for e, qty in secondary.items():
        base.add_production(
            "CHN",
            f"{e}_oxide",
            qty,
            "t REO/yr",
            modelled,
            "assumption",
            "secondary supply (magnet swarf recycling, undocumented feed) that closes the 2024 NdPr balance",
            route="secondary",
        )
    for e in primary.columns:
        out = primary[e].copy()
        if e in secondary:
            out["CHN"] += secondary[e]
        taken = pd.Series({r: q for (r, el), q in intake.items() if el == e})
        base.add_flows(
            allocate_trade(out, taken),
            f"{e}_oxide",
            "t REO/yr",
            modelled,
            "assumption",
            "RAS fit to oxide output and intake",
        )
