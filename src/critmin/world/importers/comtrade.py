"""UN Comtrade CSV exports (the data portal's and the API's column names): ``refYear, reporterCode and/or
reporterISO, flowCode, partnerCode and/or partnerISO, cmdCode, qty, netWgt, primaryValue, ...``. By default
the importer-reported flows (flowCode M) are read: the reporter is the destination, the partner the origin.
Quantities are netWgt (kg; qty where netWgt is empty and qtyUnitAbbr is kg), values primaryValue (USD).
Partner 'World' (code 0, W00) and rows without a weight are skipped and counted."""

from __future__ import annotations

from pathlib import Path

from critmin.errors import UsageError
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

DATABASE = "un-comtrade"
CITATION = "United Nations Comtrade database, HS commodity trade by reporter and partner"
URL = "comtradeplus.un.org"
WORLD = {"0", "W00", "WLD"}


def read_comtrade(
    path: Path, codes: Path | None, world_regions: set[str], flow: str = "M"
) -> tuple[list[TradeRecord], dict[str, int]]:
    path = Path(path)
    if flow not in ("M", "X"):
        raise UsageError(f"flow {flow!r}: choose M (imports) or X (exports)")
    header, rows = read_rows(path, ("refyear", "flowcode", "cmdcode", "netwgt", "primaryvalue"))
    problems, records, skipped = [], [], {}
    for side in ("reporter", "partner"):
        if f"{side}iso" not in header and f"{side}code" not in header:
            problems.append(Problem(str(path), 1, f"{side}Code", f"column missing: give {side}Code or {side}ISO"))
    if problems:
        raise ImportFileError(problems)
    table = read_codes(codes) if codes else None
    known = builtin_codes()
    mapped = set(hs_map()["hs6"])

    def count(reason: str) -> None:
        skipped[reason] = skipped.get(reason, 0) + 1

    def region(row: dict, side: str, line: int) -> str | None:
        iso = row.get(f"{side}iso", "").upper()
        code = row.get(f"{side}code", "")
        if iso in WORLD or code in WORLD:
            return "world"
        if iso:
            if len(iso) != 3 or not iso.isalnum():
                problems.append(Problem(str(path), line, f"{side}ISO", f"not a three-letter code: {iso!r}"))
                return None
            return region_of(iso, world_regions)
        if not code.isdigit():
            problems.append(Problem(str(path), line, f"{side}Code", f"not a numeric country code: {code!r}"))
            return None
        code = str(int(code))
        if table is not None and code not in table:
            problems.append(Problem(str(path), line, f"{side}Code", f"country code {code} is not in {codes}"))
            return None
        return region_of((table or known).get(code, "ROW"), world_regions)

    for line, row in rows:
        bad = len(problems)
        year = row.get("refyear", "")
        if not (year.isdigit() and 1900 <= int(year) <= 2100):
            problems.append(Problem(str(path), line, "refYear", f"not a year: {year!r}"))
        flow_code = row.get("flowcode", "").upper()
        if not flow_code:
            problems.append(Problem(str(path), line, "flowCode", "missing value"))
        reporter, partner = region(row, "reporter", line), region(row, "partner", line)
        try:
            code = hs6(row.get("cmdcode", ""))
        except ValueError as exc:
            problems.append(Problem(str(path), line, "cmdCode", str(exc)))
        numbers = {}
        for column, name in (("netwgt", "netWgt"), ("qty", "qty"), ("primaryvalue", "primaryValue")):
            try:
                numbers[column] = number(row.get(column), optional=True)
            except ValueError as exc:
                problems.append(Problem(str(path), line, name, str(exc)))
        if len(problems) > bad:
            continue
        if flow_code != flow:
            count(f"flowCode other than {flow}")
            continue
        if code not in mapped:
            count("HS code not in hs_map.csv")
            continue
        if "world" in (reporter, partner):
            count("partner or reporter is World")
            continue
        kg = numbers["netwgt"]
        if kg is None and row.get("qtyunitabbr", "").lower() == "kg":
            kg = numbers["qty"]
        if kg is None:
            count("no weight (netWgt)")
            continue
        origin, destination = (partner, reporter) if flow == "M" else (reporter, partner)
        records.append(TradeRecord(line, int(year), origin, destination, code, kg / 1000, numbers["primaryvalue"]))
    if problems:
        raise ImportFileError(problems)
    return records, skipped


def import_comtrade(
    store,
    path: str | Path,
    *,
    override: str,
    codes: str | Path | None = None,
    year: int | None = None,
    allocation: str = "composition",
    flow: str = "M",
) -> ImportResult:
    """Import a Comtrade export as override layer ``override``, all or nothing (see :func:`import_baci`)."""
    path = Path(path)
    world = store.world()
    regions = set(world.table("region")["id"])
    records, skipped = read_comtrade(path, Path(codes) if codes else None, regions, flow)
    chosen = choose_year({r.year for r in records}, year, path)
    records = [r for r in records if r.year == chosen]
    what = "importer-reported (M)" if flow == "M" else "exporter-reported (X)"
    source_id, source = source_row(
        DATABASE, path, CITATION, URL, f"year {chosen}, {what} flows; shared HS codes split by the {allocation} rule"
    )
    flows = trade_layer(
        records, world, allocation=allocation, source_id=source_id, database="Comtrade", file=str(path),
        skipped=skipped,
    )
    merged, version = write_layer(
        store,
        {"source": source, "trade_flow": flows},
        override=override,
        origin=f"{path.resolve()} [comtrade {chosen} {flow}, allocation={allocation}]",
    )
    return ImportResult(override, merged, version, "trade_flow", len(flows), source_id, allocation, chosen, skipped)
