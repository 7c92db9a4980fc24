"""USGS Mineral Commodity Summaries data release, world mine production (the release's world-data table,
MCS{year}_World_Data.csv style): one row per commodity and country, columns ``COMMODITY, COUNTRY, TYPE,
UNIT_MEAS`` and one column per year, ``PROD_<year>`` or ``PROD_EST_<year>`` (an estimate). Headers are read
case-insensitively. Cells USGS withholds or lacks (W, NA, --, empty) are skipped and counted.

Commodities read: rare earths (t REO; split over the region's mine concentrates by the world's production
shares, else monazite concentrate), natural graphite (graphite_natural) and gallium (Ga_primary). A country
outside the world's regions adds to ROW ("Other countries" too), an EU member to EU; world totals are skipped.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from critmin.errors import UsageError
from critmin.schema import components
from critmin.world.importers.common import (
    CONFIDENCE,
    ImportFileError,
    ImportResult,
    country_names,
    number,
    read_rows,
    region_of,
    source_row,
    write_layer,
)
from critmin.world.problems import Problem
from critmin.world.tables import typed

DATABASE = "usgs-mcs"
CITATION = "USGS Mineral Commodity Summaries data release, world mine production"
URL = "www.usgs.gov/centers/national-minerals-information-center/mineral-commodity-summaries"

# commodity (lower-case prefix) -> (candidate mine products, default product)
COMMODITIES = {
    "rare earth": (
        ("conc_bastnaesite_mp", "conc_bayan_obo", "conc_ionic_clay_hy", "conc_ionic_clay_ly", "conc_mount_weld",
         "conc_monazite"),
        "conc_monazite",
    ),
    "graphite": (("graphite_natural",), "graphite_natural"),
    "gallium": (("Ga_primary",), "Ga_primary"),
}
ALIASES = {
    "burma": "MMR", "myanmar": "MMR", "vietnam": "VNM", "viet nam": "VNM", "laos": "LAO", "russia": "RUS",
    "korea, republic of": "KOR", "south korea": "KOR", "korea": "KOR", "united states": "USA", "china": "CHN",
    "other countries": "ROW",
}
WITHHELD = {"w", "na", "--", "—", "-", "xx", ""}
_YEAR = re.compile(r"prod(?:_est)?_(\d{4})")


def _commodity(name: str) -> str | None:
    name = name.lower().strip()
    if name.startswith("graphite") and "synthetic" in name:
        return None
    return next((key for key in COMMODITIES if name.startswith(key)), None)


def _scale(unit: str) -> float | None:
    unit = unit.lower()
    if "kilogram" in unit or unit.strip() == "kg":
        return 0.001
    if "thousand metric ton" in unit or "thousand tonnes" in unit:
        return 1000.0
    if "metric ton" in unit or "tonne" in unit or unit.strip() in ("t", ""):
        return 1.0
    return None


def read_usgs(path: Path, world_regions: set[str], year: int | None):
    """((region, commodity) -> tonnes, the year read, skipped counts)."""
    path = Path(path)
    header, rows = read_rows(path, ("commodity", "country"))
    years = {}
    for column in header:
        match = _YEAR.fullmatch(column)
        if match:
            years.setdefault(int(match.group(1)), column)
    if not years:
        raise ImportFileError([Problem(str(path), 1, None, "no production column (PROD_<year> or PROD_EST_<year>)")])
    chosen = year if year is not None else max(years)
    if chosen not in years:
        raise UsageError(f"{path}: no production column for {chosen} (years: {', '.join(map(str, sorted(years)))})")
    column = years[chosen]
    names = country_names()
    totals, problems, skipped = {}, [], {}

    def count(reason: str) -> None:
        skipped[reason] = skipped.get(reason, 0) + 1

    for line, row in rows:
        commodity = _commodity(row.get("commodity", ""))
        if commodity is None:
            count("commodity not mapped")
            continue
        if "type" in row and row["type"] and "production" not in row["type"].lower():
            count("not a production row")
            continue
        country = row.get("country", "").strip()
        if not country:
            problems.append(Problem(str(path), line, "COUNTRY", "missing value"))
            continue
        if country.lower().startswith("world"):
            count("world total")
            continue
        scale = _scale(row.get("unit_meas", ""))
        if scale is None:
            problems.append(Problem(str(path), line, "UNIT_MEAS", f"unknown unit: {row.get('unit_meas')!r}"))
            continue
        raw = row.get(column, "")
        if raw.strip().lower() in WITHHELD:
            count("withheld or not available")
            continue
        try:
            tonnes = number(raw) * scale
        except ValueError as exc:
            problems.append(Problem(str(path), line, column.upper(), str(exc)))
            continue
        iso = ALIASES.get(country.lower()) or names.get(country.lower(), "XXX")
        region = "ROW" if iso == "ROW" else region_of(iso, world_regions)
        totals[(region, commodity)] = totals.get((region, commodity), 0.0) + tonnes
    if problems:
        raise ImportFileError(problems)
    return totals, chosen, skipped


def import_usgs(store, path: str | Path, *, override: str, year: int | None = None) -> ImportResult:
    """Import USGS mine production as override layer ``override`` (production rows, route primary)."""
    path = Path(path)
    world = store.world()
    totals, chosen, skipped = read_usgs(path, set(world.table("region")["id"]), year)
    source_id, source = source_row(DATABASE, path, CITATION, URL, f"mine production {chosen}")
    production = world.table("production")
    production = production[production["route"] == "primary"]
    units = world.table("product").set_index("id")["unit"].to_dict()
    rows = []
    for (region, commodity), tonnes in sorted(totals.items()):
        candidates, default = COMMODITIES[commodity]
        here = production[(production["region"] == region) & production["product"].isin(candidates)]
        shares = here.groupby("product")["quantity"].sum()
        if shares.sum() > 0:
            shares, how = shares / shares.sum(), "split by the world's production shares in the region"
        else:
            shares, how = pd.Series({default: 1.0}), "no mine product in the region: default product"
        for product, share in shares.items():
            if share > 0:
                rows.append(
                    {
                        "region": region, "product": product, "route": "primary", "quantity": tonnes * share,
                        "source": source_id, "year": chosen, "unit": f"{units[product]}/yr",
                        "confidence": CONFIDENCE, "note": f"USGS MCS {commodity} {tonnes:g} t; {share:.1%} {how}",
                        "_file": str(path), "_line": len(rows) + 2,
                    }
                )
    frame = typed(components()["production"], pd.DataFrame(rows, columns=[*components()["production"].columns,
                                                                          "_file", "_line"]))
    merged, version = write_layer(
        store, {"source": source, "production": frame}, override=override,
        origin=f"{path.resolve()} [usgs {chosen}]",
    )
    return ImportResult(override, merged, version, "production", len(frame), source_id, None, chosen, skipped)
