"""Shortage-response tables: sectors and their value of lost load, grade switching, demand response
(thrift, substitution) and producers' reservation prices. Figures are critmin assumptions resting on the
publications cited here (see ``assumptions.py``)."""

from __future__ import annotations

from pathlib import Path

from critmin.build import assumptions as A
from critmin.build.catalogue import REE_ORDER, prov
from critmin.build.facts import Sources, read_facts

# Publications found for these tables (not in the facts files): (citation, confirmation flag, url).
MAINRICH_COMPARISON = (
    "Mainrich International, 'GBD vs Bulk Alloyed NdFeB' (engineering comparison): grain-boundary diffusion "
    "uses roughly 30-60% less heavy rare earth at the same coercivity; Tb penetration typically 3-6 mm per "
    "face; the diffusion anneal adds 5-15% to processing cost; GBD dominates thin-section traction magnets, "
    "thick blocks still need bulk alloying",
    "secondary",
    "https://www.mainrichinternational.com/compare/gbd-vs-bulk-alloyed-ndfeb-magnet",
)
HONDA_DAIDO = (
    "Reuters 2016-07-12: Honda and Daido Steel develop the first hybrid-car motor with no heavy rare earths "
    "(joint work from 2012, Freed minivan 2016)",
    "secondary",
    "http://in.reuters.com/article/honda-rareearths-idINT9N18R02G",
)
IDTECHEX_MOTORS = (
    "E-Mobility Engineering, 'Reduced rare earth and magnet-free motors', citing IDTechEx: in 2020 about 77% "
    "of BEV and PHEV propulsion motors were permanent-magnet machines, 17% induction, 6% externally excited "
    "synchronous (BMW, Renault)",
    "secondary",
    "https://www.emobility-engineering.com/reduced-rare-earth-and-magnet-free-motors/",
)
AUTOS_2025 = (
    "Reuters 2025-06-09, 'Auto companies in full panic over rare-earths bottleneck' (reprint on financetom.com): "
    "automakers stockpiling; suppliers said factories could idle by mid-July without backup magnets",
    "secondary",
    "https://www.financetom.com/business/auto-companies-in-full-panic-over-rareearths-bottleneck-384841.htm",
)
JMB_INVENTORY = (
    "Japan Metal Bulletin (2009), 'Japan rare metal inventory adjustment to take more time': Japanese magnet "
    "makers tend to build rare-earth inventory above consumption for security",
    "secondary",
    "http://www.japanmetalbulletin.com/?p=6773",
)
BENCHMARK_2024 = (
    "Benchmark Mineral Intelligence, Q2 2024 review, 'Higher prices are key to develop ex-China rare earths "
    "supply': NdPr oxide at four-year lows (~54 USD/kg in China), too low for planned ex-China projects",
    "secondary",
    "https://benchmark-source-core.pages.dev/article/higher-prices-needed-to-develop-ex-china-rare-earths-supply",
)

MAGNET_SECTORS = tuple(A.MAGNET_SECTORS)
REE = set(REE_ORDER)


def _cite(src: Sources, ref: tuple[str, str, str]) -> str:
    return src.cite(ref[0], ref[1], ref[2])


def sectors(facts: Path, src: Sources) -> list[dict]:
    spike = next(r for r in read_facts(facts, "prices.csv") if r["spec"].startswith("price multiple 2011 vs pre-spike"))
    civil = src.cite(spike["source"], spike["confirmed"])
    defence = src.assumption(
        "defence value of lost load 30x the reference price: magnets are a negligible share of weapon-system "
        "cost and programmes pay far above market to keep running"
    )
    rows = []
    for sid, name in A.SECTORS.items():
        voll = A.VOLL_MULTIPLE_BY_SECTOR.get(sid, A.VOLL_MULTIPLE)
        if sid in A.VOLL_MULTIPLE_BY_SECTOR:
            source, note = defence, "critmin assumption (engine default before sector.csv): 3x the civil value"
        else:
            source = civil
            note = (
                f"critmin assumption: {voll:g}x, the low end of the 10-20x rise of Nd and Dy prices in 2011 "
                "that buyers still paid (abrasivesunion.com 2013); no published value of lost load"
            )
        rows.append({"id": sid, "name": name, "voll_multiple": voll, **prov(source, "-", "assumption", note)})
    return rows


def product_switches(src: Sources) -> list[dict]:
    gbd = _cite(src, MAINRICH_COMPARISON)
    redesign = _cite(src, HONDA_DAIDO)
    upgrade = src.assumption("a magnet grade with more Dy/Tb meets any spec of a grade with less, at no extra cost")
    notes = {
        ("NdFeB_hree", "NdFeB_gbd"): (
            gbd,
            "critmin reading: diffusion anneal (+5-15% processing) and requalification ~10% of the magnet price; "
            "Tb penetrates 3-6 mm per face, so thick blocks keep bulk alloying: at most 60% of the demand",
        ),
        ("NdFeB_gbd", "NdFeB_free"): (
            redesign,
            "critmin assumption: Dy/Tb-free magnets need a motor redesigned for a cooler magnet (Honda-Daido took "
            "2012-2016); costly and at most 20% within a step",
        ),
        ("NdFeB_hree", "NdFeB_free"): (
            redesign,
            "critmin assumption: replacing a bulk-alloyed high-coercivity magnet by a Dy/Tb-free one needs the "
            "deepest redesign; highest cost, at most 10% within a step",
        ),
    }
    rows = []
    for (product, alternative), (multiple, cap) in A.PRODUCT_SWITCH.items():
        sid, note = notes.get((product, alternative), (upgrade, "upgrade: the price gap is the only cost"))
        cost = round(multiple * A.NDFEB_PRICE, 4)
        if multiple:
            note = f"{multiple:g} x NdFeB reference {A.NDFEB_PRICE:g} USD/kg; " + note
        rows.append(
            {
                "product": product,
                "alternative": alternative,
                "cost": cost,
                "max_share_pct": cap,
                **prov(sid, "USD/kg", "assumption", note),
            }
        )
    return rows


def demand_responses(src: Sources, reference_prices: list[dict]) -> list[dict]:
    price = {r["product"]: r["price"] for r in reference_prices}
    thrift = src.assumption(
        "thrift: less magnet per unit by design optimisation within months, 5-10% of demand at 1.5-3x the "
        "magnet price (Dy thrift precedents: Nissan Leaf -40% Dy by 2012, NEDO -40%)"
    )
    substitute = _cite(src, IDTECHEX_MOTORS)
    basis = {
        "ev_motors": "shift to the ~23% of EV motors already magnet-free (induction, EESM: BMW, Renault; Tesla IM)",
        "wind": "geared DFIG turbines instead of direct-drive PMG; order books fixed in the short run",
        "industrial_motors": "induction motors are the industrial standard; PM motors the premium-efficiency option",
        "electronics": "ferrite in speakers and small motors; none for HDD actuators or phones",
        "defence": "SmCo or redesign only after requalification",
        "other": "ferrite and induction motors in appliances, pumps, e-bikes",
    }
    rows = []
    for sector in MAGNET_SECTORS:
        voll = A.VOLL_MULTIPLE_BY_SECTOR.get(sector, A.VOLL_MULTIPLE)
        for grade in A.MAGNET_GRADES:
            for option, (multiple, cap) in A.DEMAND_RESPONSE[sector].items():
                if multiple >= voll:
                    raise ValueError(f"{sector} {option} costs {multiple}x, not below the VOLL multiple {voll}x")
                note = f"{multiple:g} x {grade} reference {price[grade]:g} USD/kg (VOLL {voll:g}x); "
                if option == "thrift":
                    sid = thrift
                    note += "critmin assumption: design optimisation, small short-run cap"
                else:
                    sid = substitute
                    note += f"critmin assumption: {basis[sector]}"
                rows.append(
                    {
                        "sector": sector,
                        "product": grade,
                        "option": option,
                        "cost": round(multiple * price[grade], 4),
                        "max_share_pct": cap,
                        **prov(sid, "USD/kg", "assumption", note),
                    }
                )
    return rows


def reservation_prices(src: Sources, products: list[dict]) -> list[dict]:
    ree = _cite(src, BENCHMARK_2024)
    other = src.assumption(
        "reservation prices: producers hold output rather than sell at or below ~70% of the 2024 reference "
        "price (oxides, metals, gallium, graphite) or ~80% (magnets, made to order); no published figure"
    )
    rows = []
    for p in products:
        if p["stage"] not in A.RESERVATION_STAGES:
            continue
        key = "magnet" if p["stage"] == "magnet" else "default"
        multiple = A.RESERVATION_MULTIPLE[key]
        if key == "magnet":
            source = other
            note = (
                "critmin assumption: magnets are made to order and their cash cost (rare-earth content ~55% of the "
                "price plus processing) is close to the price"
            )
        elif p.get("element") in REE:
            source = ree
            note = (
                "critmin assumption: producers kept selling at 2024's four-year-low prices, so cash cost is "
                "below the reference; ~70% of it taken; in 2014 China's State Reserve Bureau, not producers, "
                "bought the surplus above market (Bloomberg 2014-08-05)"
            )
        else:
            source, note = other, "critmin assumption: ~70% of the 2024 reference price, as for rare earths"
        rows.append({"product": p["id"], "multiple": multiple, **prov(source, "-", "assumption", note)})
    return rows
