"""CEPII BACI bilateral trade (HS6): ``t, i, j, k, v, q`` with i (exporter) and j (importer) numeric country
codes, k the HS6 product, v the value in thousand USD and q the quantity in tonnes (BACI leaves q empty or NA
where it has none: such rows are skipped and counted). Country codes come from BACI's country_codes_V*.csv
(``country_code, country_iso3, ...``) when given, else from critmin's own table (the world's countries and
the EU members; any other code is outside the world, so ROW)."""

from __future__ import annotations

from pathlib import Path

from critmin.world.importers.common import (
    ImportFileError,
    ImportResult,
    TradeRecord,
    builtin_codes,
    choose_year,
    hs6,
    hs_map,
    number,
    read_codes,
    read_rows,
    region_of,
    source_row,
    trade_layer,
    write_layer,
)
from critmin.world.problems import Problem

DATABASE = "cepii-baci"
CITATION = "CEPII BACI, bilateral trade flows at the HS6 level (Gaulier and Zignago 2010)"
URL = "www.cepii.fr/CEPII/en/bdd_modele/bdd_modele_item.asp?id=37"


def read_baci(path: Path, codes: Path | None, world_regions: set[str]) -> tuple[list[TradeRecord], dict[str, int]]:
    """Region-level records of the rows whose HS code hs_map.csv maps, and counts of the rows skipped."""
    path = Path(path)
    table = read_codes(codes) if codes else None
    known = builtin_codes()
    mapped = set(hs_map()["hs6"])
    _, rows = read_rows(path, ("t", "i", "j", "k", "v", "q"))
    records, problems, skipped = [], [], {}

    def region(value: str, column: str, line: int) -> str | None:
        if not value.isdigit():
            problems.append(Problem(str(path), line, column, f"not a numeric country code: {value!r}"))
            return None
        code = str(int(value))
        if table is not None:
            if code not in table:
                problems.append(Problem(str(path), line, column, f"country code {code} is not in {codes}"))
                return None
            return region_of(table[code], world_regions)
        return region_of(known.get(code, "ROW"), world_regions)

    for line, row in rows:
        bad = len(problems)
        year = row.get("t", "")
        if not (year.isdigit() and 1900 <= int(year) <= 2100):
            problems.append(Problem(str(path), line, "t", f"not a year: {year!r}"))
        exporter = region(row.get("i", ""), "i", line)
        importer = region(row.get("j", ""), "j", line)
        try:
            code = hs6(row.get("k", ""))
        except ValueError as exc:
            problems.append(Problem(str(path), line, "k", str(exc)))
        values = {}
        for column, optional in (("v", True), ("q", True)):
            try:
                values[column] = number(row.get(column), optional=optional)
            except ValueError as exc:
                problems.append(Problem(str(path), line, column, str(exc)))
        if len(problems) > bad:
            continue
        if code not in mapped:
            skipped["HS code not in hs_map.csv"] = skipped.get("HS code not in hs_map.csv", 0) + 1
            continue
        if values["q"] is None:
            skipped["no quantity (q)"] = skipped.get("no quantity (q)", 0) + 1
            continue
        value = None if values["v"] is None else values["v"] * 1000  # thousand USD
        records.append(TradeRecord(line, int(year), exporter, importer, code, values["q"], value))
    if problems:
        raise ImportFileError(problems)
    return records, skipped


def import_baci(
    store,
    path: str | Path,
    *,
    override: str,
    codes: str | Path | None = None,
    year: int | None = None,
    allocation: str = "composition",
) -> ImportResult:
    """Import a BACI file as override layer ``override`` (trade_flow rows plus the source row they cite), all
    or nothing. Shared HS codes are split by ``allocation`` (composition or unit_value)."""
    path = Path(path)
    world = store.world()
    regions = set(world.table("region")["id"])
    records, skipped = read_baci(path, Path(codes) if codes else None, regions)
    chosen = choose_year({r.year for r in records}, year, path)
    records = [r for r in records if r.year == chosen]
    source_id, source = source_row(
        DATABASE, path, CITATION, URL, f"year {chosen}; shared HS codes split by the {allocation} rule"
    )
    flows = trade_layer(
        records, world, allocation=allocation, source_id=source_id, database="BACI", file=str(path), skipped=skipped
    )
    merged, version = write_layer(
        store,
        {"source": source, "trade_flow": flows},
        override=override,
        origin=f"{path.resolve()} [baci {chosen}, allocation={allocation}]",
    )
    return ImportResult(override, merged, version, "trade_flow", len(flows), source_id, allocation, chosen, skipped)
