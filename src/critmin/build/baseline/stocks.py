"""Stocks: JOGMEC's public stockpile, private stocks outside China, producers' working inventory."""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from critmin.build import assumptions as A
from critmin.build import response
from critmin.build.baseline.magnet import Magnets
from critmin.build.baseline.rows import DECIMALS, Baseline
from critmin.build.baseline.use import Use
from critmin.build.catalogue import prov
from critmin.build.facts import Sources


def stocks(
    src: Sources, base: Baseline, magnets: Magnets, use_oxide: Use, use_metal: Use, magnet_use: pd.Series
) -> None:
    """Every stock row; producers' stocks come from the production rows, so this runs after all of them."""
    _public_stocks(src, base, magnets.per_magnet, use_oxide, use_metal, magnet_use)
    _private_stocks(src, base, magnets.output, magnets.per_magnet, magnet_use)
    _producer_stocks(src, base)


def _public_stocks(src, base, per_magnet, use_oxide, use_metal, magnet_use) -> None:
    """JOGMEC's stockpile: days of Japan's modelled use of each stockpiled product."""
    jogmec = src.assumption(f"JOGMEC holds {A.JOGMEC_DAYS:g} days of Japan's use (DESIGN.md; holdings confidential)")
    for product in A.JOGMEC_PRODUCTS:
        e = product.split("_")[0]
        use = use_oxide.get(("JPN", e), 0.0) + use_metal.get(("JPN", e), 0.0)
        use += magnet_use.get("JPN", 0.0) * per_magnet.get(e, 0.0)
        base.stock.append(
            {
                "region": "JPN",
                "product": product,
                "holder": "public",
                "quantity": round(use * A.JOGMEC_DAYS / 365.0, DECIMALS),
                "days_of_cover_target": A.JOGMEC_DAYS,
                **prov(
                    jogmec,
                    "t REO",
                    "assumption",
                    f"{A.JOGMEC_DAYS:g} days of Japan's modelled 2024 use of {e} ({use:.1f} t REO/yr)",
                ),
            }
        )


def _producer_stocks(src, base) -> None:
    """Producers' working inventory: days of each region's 2024 output of separated, metal and magnet products."""
    working = src.assumption(
        f"producers hold about {A.PRODUCER_STOCK_DAYS:g} days of output as working inventory (no published figure)"
    )
    output: dict[tuple[str, str], float] = defaultdict(float)
    for row in base.production:
        output[(row["region"], row["product"])] += row["quantity"]
    for (region, product), qty in sorted(output.items()):
        if _stage_of(product) not in A.PRODUCER_STOCK_STAGES or qty <= 0:
            continue
        unit = next(r["unit"] for r in base.production if r["product"] == product).removesuffix("/yr")
        base.stock.append(
            {
                "region": region,
                "product": product,
                "holder": "producer",
                "quantity": round(qty * A.PRODUCER_STOCK_DAYS / 365.0, DECIMALS),
                "days_of_cover_target": None,
                **prov(
                    working,
                    unit,
                    "assumption",
                    f"critmin assumption, no published figure: {A.PRODUCER_STOCK_DAYS:g} days of the region's "
                    f"modelled 2024 output ({qty:.1f} {unit}/yr)",
                ),
            }
        )


def _stage_of(product: str) -> str:
    if product.startswith("NdFeB"):
        return "magnet"
    if product.endswith("_oxide") or product in ("Ga_primary", "graphite_processed"):
        return "separation"
    if product.endswith("_metal") or product == "Ga_refined":
        return "metal"
    return "mine"


def _private_stocks(src, base, magnet_prod, per_magnet, magnet_demand) -> None:
    """Private inventories outside China: magnet makers' metal intake and magnet users' magnets, in days of use."""
    makers = src.cite(*response.JMB_INVENTORY)
    users = src.cite(*response.AUTOS_2025)
    for region, made in magnet_prod.items():
        if region == "CHN" or made <= 0:
            continue
        days = A.MAGNET_MAKER_STOCK_DAYS.get(region, A.MAGNET_MAKER_STOCK_DAYS["default"])
        for e in A.MAGNET_STOCK_ELEMENTS:
            use = made * per_magnet[e]
            base.stock.append(
                {
                    "region": region,
                    "product": f"{e}_metal",
                    "holder": "private",
                    "quantity": round(use * days / 365.0, DECIMALS),
                    "days_of_cover_target": days,
                    **prov(
                        makers,
                        "t REO",
                        "assumption",
                        f"critmin assumption, no published figure: magnet makers hold {days:g} days of their "
                        f"modelled 2024 intake of {e} metal ({use:.1f} t REO/yr)"
                        + (
                            "; Japanese makers keep stocks above consumption for security"
                            if region == "JPN"
                            else "; the JOGMEC target taken for other makers"
                        ),
                    ),
                }
            )
    for region, used in magnet_demand.items():
        if region == "CHN" or used <= 0:
            continue
        for grade, gshare in base.grades.shares.items():
            use = used * gshare
            base.stock.append(
                {
                    "region": region,
                    "product": grade,
                    "holder": "private",
                    "quantity": round(use * A.MAGNET_USER_STOCK_DAYS / 365.0, DECIMALS),
                    "days_of_cover_target": A.MAGNET_USER_STOCK_DAYS,
                    **prov(
                        users,
                        "t",
                        "assumption",
                        f"critmin assumption, no published figure: magnet users hold {A.MAGNET_USER_STOCK_DAYS:g} "
                        f"days of their modelled 2024 use ({use:.0f} t/yr): just-in-time parts stocks run 2-4 weeks, "
                        "plants began to stop about two months after the 2025-04-04 licensing",
                    ),
                }
            )
