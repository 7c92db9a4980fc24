"""Calibration targets: observed 2024 figures from the facts that the baseline is compared against.

Written to ``critmin/data/calibration_targets.csv``; evaluated by :mod:`critmin.metrics.calibration`.
A target with a tolerance is an acceptance test of the baseline; one without is reported for context.
"""

from __future__ import annotations

import csv
from pathlib import Path

from critmin.build import assumptions as A
from critmin.build.baseline import _usgs_2024
from critmin.build.facts import confidence, read_facts

NDFEB = "|".join(A.MAGNET_GRADES)  # targets over all magnet grades: their sum

COLUMNS = [
    "id",
    "description",
    "kind",
    "stage",
    "element",
    "region",
    "partner",
    "product",
    "observed",
    "unit",
    "tolerance",
    "confidence",
    "source",
]


def _fact(facts: Path, name: str, **match) -> dict:
    for row in read_facts(facts, name):
        if all(row.get(k) == v for k, v in match.items()):
            return row
    raise LookupError(f"no row in {name} matching {match}")


def build_targets(facts: Path) -> list[dict]:
    rows = []

    def add(tid, description, kind, observed, unit, fact, tolerance=None, **spec):
        rows.append(
            {
                "id": tid,
                "description": description,
                "kind": kind,
                "observed": observed,
                "unit": unit,
                "tolerance": tolerance,
                "confidence": confidence(fact["confirmed"]),
                "source": " ".join(fact["source"].split()),
                **spec,
            }
        )

    mine, fact = _usgs_2024(facts, "rare_earths", "mine_production")
    total = sum(mine.values())
    for region, qty in sorted(mine.items(), key=lambda kv: -kv[1]):
        if qty > 0:
            add(
                f"usgs-mine-share-{region}",
                f"{region} share of 2024 REE mine output (USGS, of the country sum "
                f"{total:,.0f} t; USGS world total is rounded to 390,000 t)",
                "production_share",
                round(qty / total * 100, 6),
                "%",
                fact,
                0.5,
                stage="mine",
                element="REE",
                region=region,
            )
    sep = _fact(facts, "processing.csv", material="rare_earths", stage="separation_refining", year="2024")
    add(
        "iea-separation-CHN",
        "China share of rare-earth separation 2024 (IEA)",
        "production_share",
        float(sep["share_pct"]),
        "%",
        sep,
        1.0,
        stage="separation",
        element="REE",
        region="CHN",
    )
    mag = _fact(facts, "processing.csv", material="ndfeb_magnets", stage="magnet_manufacturing", year="2024")
    add(
        "iea-magnet-CHN",
        "China share of NdFeB magnet making 2024 (IEA), all grades, measured by NdPr content (equal in every grade)",
        "production_share",
        float(mag["share_pct"]),
        "%",
        mag,
        1.0,
        stage="magnet",
        element="NdPr",
        region="CHN",
    )
    ga = _fact(facts, "processing.csv", material="gallium", year="2024")
    add(
        "usgs-ga-primary-CHN",
        "China share of primary low-purity gallium 2024 (USGS)",
        "production_share",
        float(ga["share_pct"]),
        "%",
        ga,
        1.0,
        stage="separation",
        element="Ga",
        region="CHN",
    )
    gr = _fact(facts, "processing.csv", material="graphite_natural", year="2024")
    add(
        "usgs-graphite-mine-CHN",
        "China share of natural graphite mining 2024 (USGS)",
        "production_share",
        float(gr["share_pct"]),
        "%",
        gr,
        1.0,
        stage="mine",
        element="graphite",
        region="CHN",
    )
    magshare = _fact(
        facts, "processing.csv", material="magnet_rare_earths", stage="mining", country_iso3="CHN", year="2023"
    )
    add(
        "iea-magnet-ree-mining-CHN",
        "China share of Nd, Pr, Dy, Tb mining (IEA, 2023 figure)",
        "production_share",
        float(magshare["share_pct"]),
        "%",
        magshare,
        stage="mine",
        element="Nd|Pr|Dy|Tb",
        region="CHN",
    )
    smm = _fact(facts, "consumption.csv", region_iso3="CHN", metric="NdFeB production (expected)")
    add(
        "smm-ndfeb-CHN",
        "China NdFeB output 2024 (SMM, expected), all grades",
        "product_production",
        float(smm["value"]),
        "t",
        smm,
        product=NDFEB,
        region="CHN",
    )
    exports = _fact(
        facts, "trade_flows.csv", exporter_iso3="CHN", importer_iso3="WLD", year="2024", hs_code="8505.11 (+alloys)"
    )
    add(
        "gac-magnet-exports-CHN",
        "China NdFeB exports 2024 (GAC via Adamas), all grades",
        "product_trade",
        float(exports["quantity"]),
        "t",
        exports,
        product=NDFEB,
        region="CHN",
        partner="*",
    )
    for dest, qty in A.MAGNET_PINNED.items():
        add(
            f"magnet-exports-CHN-{dest[1]}",
            f"China NdFeB exports to {dest[1]} 2024, all grades",
            "product_trade",
            qty,
            "t",
            {"confirmed": "secondary", "source": "trade_flows.csv and consumption.csv (see trade_flow.csv rows)"},
            product=NDFEB,
            region="CHN",
            partner=dest[1],
        )
    dy = _fact(facts, "consumption.csv", region_iso3="CHN", metric="medium/heavy RE oxide production (monthly)")
    add(
        "smm-dy-oxide-CHN",
        "China Dy oxide output (June 2024 x 12)",
        "production",
        float(dy["value"]) * 12,
        "t REO",
        dy,
        stage="separation",
        element="Dy",
        region="CHN",
    )
    add(
        "smm-tb-oxide-CHN",
        "China Tb oxide output (June 2024 x 12; Tb 40.8 t/month in the note)",
        "production",
        40.8 * 12,
        "t REO",
        dy,
        stage="separation",
        element="Tb",
        region="CHN",
    )
    ndpr = _fact(facts, "consumption.csv", region_iso3="CHN", metric="PrNd oxide production (expected)")
    add(
        "smm-ndpr-oxide-CHN",
        "China PrNd oxide output 2024 (expected, mid of 44,500-45,500 t)",
        "production",
        45000.0,
        "t REO",
        ndpr,
        stage="separation",
        element="NdPr",
        region="CHN",
    )
    usc = _fact(
        facts,
        "consumption.csv",
        region_iso3="USA",
        year="2024",
        metric="apparent consumption, rare-earth compounds and metals",
    )
    add(
        "usgs-us-consumption",
        "US apparent consumption of RE compounds and metals 2024",
        "use",
        float(usc["value"]),
        "t REO",
        usc,
        stage="separation|metal",
        element="REE",
        region="USA",
    )
    usx = _fact(facts, "trade_flows.csv", exporter_iso3="USA", importer_iso3="WLD", year="2024")
    add(
        "usgs-us-exports",
        "US exports of RE ores and compounds 2024",
        "trade",
        float(usx["quantity"]),
        "t REO",
        usx,
        stage="mine|separation",
        element="REE",
        region="USA",
        partner="*",
    )
    nir = _fact(
        facts, "consumption.csv", region_iso3="USA", year="2024", metric="net import reliance, compounds and metals"
    )
    add(
        "usgs-us-import-reliance",
        "US net import reliance, RE compounds and metals 2024",
        "import_reliance",
        float(nir["value"]),
        "%",
        nir,
        stage="separation",
        element="REE",
        region="USA",
    )
    eu = _fact(facts, "trade_flows.csv", exporter_iso3="WLD", importer_iso3="EU27", year="2024")
    add(
        "eurostat-eu-imports",
        "EU imports of rare earths REE+ 2024 (all forms, t)",
        "trade",
        float(eu["quantity"]),
        "t",
        eu,
        stage="separation|metal",
        element="REE",
        region="*",
        partner="EU",
    )
    jp = _fact(facts, "import_sources.csv", importer_iso3="JPN", exporter_iso3="CHN", period="2024")
    add(
        "jpn-import-share-CHN",
        "Share of Japan's rare-earth imports from China 2024",
        "import_share",
        float(jp["share_pct"]),
        "%",
        jp,
        stage="separation|metal",
        element="REE",
        region="JPN",
        partner="CHN",
    )
    lynas = _fact(facts, "trade_flows.csv", exporter_iso3="AUS", importer_iso3="CHN", year="2024")
    add(
        "lynas-ndpr-CHN",
        "Lynas NdPr oxide sold to China 2024 (separated in Malaysia)",
        "trade",
        float(lynas["quantity"]),
        "t REO",
        lynas,
        stage="separation",
        element="NdPr",
        region="MYS",
        partner="CHN",
    )
    return rows


def write_targets(rows: list[dict], path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in COLUMNS})
    return path
