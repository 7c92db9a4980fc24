"""What the trade and production importers share: reading CSV with line numbers, countries to critmin's
regions, HS codes to products (``critmin/data/hs_map.csv``), the allocation rules for shared codes, and the
override layer written through the store's all-or-nothing import."""

from __future__ import annotations

import csv
import hashlib
import itertools
import math
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd

from critmin._version import __version__
from critmin.errors import DataError, UsageError
from critmin.schema import components
from critmin.world.model import World
from critmin.world.problems import Problem, ProblemList
from critmin.world.tables import typed

ALLOCATIONS = ("composition", "unit_value")
CONFIDENCE = "secondary"


class ImportFileError(ProblemList, DataError, ValueError):
    """A file given to a trade or production importer has bad rows (file:line: field: reason). Nothing was
    written."""

    subject = "the imported file"


@dataclass
class ImportResult:
    """What an importer wrote: the layer, its rows, what it skipped and why, and the allocation rule used."""

    layer: str
    world: World
    data_version: str
    table: str
    rows: int
    source_id: str
    allocation: str | None = None
    year: int | None = None
    skipped: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "layer": self.layer,
            "table": self.table,
            "rows": self.rows,
            "source": self.source_id,
            "allocation": self.allocation,
            "year": self.year,
            "data_version": self.data_version,
            "skipped": dict(self.skipped),
        }


# --- reading --------------------------------------------------------------------------------------------


def read_rows(path: Path, required: tuple[str, ...]) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """Header (lower-cased) and an iterator of (line number, row by lower-cased column). A missing required
    column raises ImportFileError naming it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise ImportFileError([Problem(str(path), line, None, "not UTF-8 text: save the file as UTF-8")]) from None
    reader = csv.reader(text.splitlines())
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ImportFileError([Problem(str(path), None, None, "empty file: no header row")]) from None
    missing = [c for c in required if c not in header]
    if missing:
        raise ImportFileError(
            [Problem(str(path), 1, c, f"column missing (the header has: {', '.join(header)})") for c in missing]
        )

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            yield reader.line_num, dict(zip(header, (v.strip() for v in values), strict=False))

    return header, rows()


MISSING = {"", "na", "n/a", "nan", "..."}


def number(value: str | None, *, optional: bool = False) -> float | None:
    """A finite number, or None where the value is missing and ``optional``. Raises ValueError (the reason)."""
    text = (value or "").strip().replace(",", "")
    if text.lower() in MISSING:
        if optional:
            return None
        raise ValueError("missing value")
    try:
        out = float(text)
    except ValueError:
        raise ValueError(f"not a number: {value!r}") from None
    if not math.isfinite(out) or out < 0:
        raise ValueError(f"not a finite non-negative number: {value!r}")
    return out


def hs6(value: str) -> str:
    """A six-digit HS code from '284690', '2846.90' or '28469' (a leading zero lost by a spreadsheet)."""
    digits = value.replace(".", "").strip()
    if not digits.isdigit() or not 5 <= len(digits) <= 6:
        raise ValueError(f"not a six-digit HS code: {value!r}")
    return digits.zfill(6)


# --- countries to regions -------------------------------------------------------------------------------


@cache
def _country_table() -> pd.DataFrame:
    with resources.files("critmin.data").joinpath("country_codes.csv").open(encoding="utf-8") as f:
        return pd.read_csv(f, dtype=str)


def eu_members() -> frozenset[str]:
    table = _country_table()
    return frozenset(table.loc[table["eu"] == "yes", "country_iso3"])


def builtin_codes() -> dict[str, str]:
    """Numeric country code (UN M49, with BACI's and Comtrade's own variants such as 842 for the USA) to ISO3,
    for the world's countries and the EU members; any other code is a country outside the world: ROW."""
    table = _country_table()
    return dict(zip(table["country_code"], table["country_iso3"], strict=True))


def country_names() -> dict[str, str]:
    table = _country_table()
    return {name.lower(): iso for name, iso in zip(table["name"], table["country_iso3"], strict=True)}


def read_codes(path: Path) -> dict[str, str]:
    """A country-code file in BACI's layout (country_codes_V*.csv: country_code, country_iso3, ...)."""
    _, rows = read_rows(path, ("country_code", "country_iso3"))
    codes, problems = {}, []
    for line, row in rows:
        code, iso = row.get("country_code", ""), row.get("country_iso3", "").upper()
        if not code.isdigit():
            problems.append(Problem(str(path), line, "country_code", f"not a numeric code: {code!r}"))
        elif not re.fullmatch(r"[A-Z0-9]{3}", iso):
            problems.append(Problem(str(path), line, "country_iso3", f"not a three-letter code: {iso!r}"))
        else:
            codes[str(int(code))] = iso
    if problems:
        raise ImportFileError(problems)
    return codes


def region_of(iso3: str, world_regions: set[str]) -> str:
    """critmin's region for a country: itself if the world has it, EU for an EU member, else ROW."""
    iso3 = iso3.upper()
    if iso3 in world_regions:
        return iso3
    return "EU" if iso3 in eu_members() else "ROW"


# --- HS codes to products -------------------------------------------------------------------------------


@cache
def hs_map() -> pd.DataFrame:
    """The bundled HS-to-product mapping: hs6, product, share (all or split), factor (product units per t of
    traded weight), note, source, confidence."""
    with resources.files("critmin.data").joinpath("hs_map.csv").open(encoding="utf-8") as f:
        table = pd.read_csv(f, dtype={"hs6": str})
    table["hs6"] = table["hs6"].str.zfill(6)
    return table


def _reference_shares(world: World, products: list[str], origin: str, destination: str) -> tuple[dict, str]:
    flows = world.table("trade_flow")
    flows = flows[flows["product"].isin(products)]
    arc = flows[(flows["origin"] == origin) & (flows["destination"] == destination)]
    for basis, frame in (("arc", arc), ("global", flows)):
        totals = frame.groupby("product")["quantity"].sum()
        if totals.sum() > 0:
            return (totals / totals.sum()).to_dict(), f"{basis} trade shares"
    return dict.fromkeys(products, 1 / len(products)), "equal shares (no reference trade)"


def _unit_value_shares(world: World, candidates: pd.DataFrame, value_usd: float | None, tonnes: float):
    """Quantity shares so that the mix's reference price (per kg traded) equals the flow's unit value: all to
    the nearest candidate outside the candidates' price range, else between the two that bracket it."""
    if value_usd is None or tonnes <= 0:
        return None, "no trade value"
    prices = world.table("reference_price").set_index("product")["price"]
    priced = candidates[candidates["product"].isin(prices.index)]
    if priced.empty:
        return None, "no reference prices"
    per_kg = (prices.reindex(priced["product"]).to_numpy() * priced["factor"].to_numpy()).tolist()
    order = sorted(zip(per_kg, priced["product"], strict=True))
    uv = value_usd / (tonnes * 1000)
    note = f"unit value {uv:.4g} USD/kg"
    if uv <= order[0][0]:
        return {order[0][1]: 1.0}, note
    if uv >= order[-1][0]:
        return {order[-1][1]: 1.0}, note
    for (p_lo, lo), (p_hi, hi) in itertools.pairwise(order):
        if p_lo <= uv <= p_hi and p_hi > p_lo:
            upper = (uv - p_lo) / (p_hi - p_lo)
            return {lo: 1 - upper, hi: upper}, note
    return {order[0][1]: 1.0}, note  # pragma: no cover (prices all equal)


@dataclass
class TradeRecord:
    line: int
    year: int
    exporter: str  # critmin region
    importer: str
    hs6: str
    tonnes: float
    value_usd: float | None


def trade_layer(
    records: list[TradeRecord],
    world: World,
    *,
    allocation: str,
    source_id: str,
    database: str,
    file: str,
    skipped: dict[str, int],
) -> pd.DataFrame:
    """trade_flow rows from region-level records: aggregated by arc and HS code, mapped to products, shared
    codes split by ``allocation``, then summed by (origin, destination, product)."""
    if allocation not in ALLOCATIONS:
        raise UsageError(f"allocation {allocation!r}: choose one of {', '.join(ALLOCATIONS)}")
    mapping = hs_map()
    units = world.table("product").set_index("id")["unit"].to_dict()
    arcs: dict[tuple, list] = defaultdict(lambda: [0.0, 0.0, False, 0, 0])  # t, USD, value missing, year, n
    for r in records:
        if r.exporter == r.importer:
            skipped["within one region (EU or ROW)"] = skipped.get("within one region (EU or ROW)", 0) + 1
            continue
        acc = arcs[(r.exporter, r.importer, r.hs6)]
        acc[0] += r.tonnes
        acc[1] += r.value_usd or 0.0
        acc[2] = acc[2] or r.value_usd is None
        acc[3] = r.year
        acc[4] += 1
    out: dict[tuple, dict] = {}
    for (origin, destination, code), (tonnes, value, no_value, year, n) in sorted(arcs.items()):
        candidates = mapping[mapping["hs6"] == code]
        candidates = candidates[candidates["product"].isin(units)]
        if candidates.empty or tonnes <= 0:
            continue
        if len(candidates) == 1:
            shares, how = {candidates["product"].iat[0]: 1.0}, "single product"
        elif allocation == "unit_value":
            shares, how = _unit_value_shares(world, candidates, None if no_value else value, tonnes)
            if shares is None:
                shares, basis = _reference_shares(world, list(candidates["product"]), origin, destination)
                how = f"composition ({basis}; unit value unusable: {how})"
            else:
                how = f"unit_value ({how})"
        else:
            shares, basis = _reference_shares(world, list(candidates["product"]), origin, destination)
            how = f"composition ({basis})"
        factors = candidates.set_index("product")["factor"]
        for product, share in shares.items():
            if share <= 0:
                continue
            key = (origin, destination, product)
            row = out.setdefault(
                key,
                {
                    "origin": origin,
                    "destination": destination,
                    "product": product,
                    "quantity": 0.0,
                    "source": source_id,
                    "year": year,
                    "unit": f"{units[product]}/yr",
                    "confidence": CONFIDENCE,
                    "notes": [],
                    "_file": file,
                    "_line": 0,
                },
            )
            row["quantity"] += tonnes * share * float(factors[product])
            row["notes"].append(f"HS {code} {share:.1%} by {how}; {tonnes:g} t from {n} row(s)")
    rows = []
    for row in out.values():
        row["note"] = f"{database}: " + " | ".join(row.pop("notes"))
        rows.append(row)
    frame = pd.DataFrame(rows, columns=[*components()["trade_flow"].columns, "_file", "_line"])
    frame["_line"] = range(2, len(frame) + 2)
    return typed(components()["trade_flow"], frame)


def source_row(database: str, path: Path, citation: str, url: str, extra: str) -> tuple[str, pd.DataFrame]:
    """The source.csv row every imported row cites: the file's name and the database."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:6]
    slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")[:40] or "file"
    source_id = f"{database}-{slug}-{digest}"
    frame = pd.DataFrame(
        [
            {
                "id": source_id,
                "citation": f"{citation}, file {path.name} (sha256 {digest}), "
                f"imported by critmin {__version__}; {extra}",
                "url": url,
                "confirmed_raw": CONFIDENCE,
                "_file": str(path),
                "_line": 0,
            }
        ]
    )
    return source_id, typed(components()["source"], frame)


def write_layer(store, tables: dict[str, pd.DataFrame], *, override: str, origin: str) -> tuple[World, str]:
    """Through the store's all-or-nothing layer import (validated with the active world first)."""
    return store.import_tables(tables, override=override, origin=origin)


def choose_year(years: set[int], year: int | None, path: Path) -> int:
    if year is not None:
        if year not in years:
            found = ", ".join(map(str, sorted(years))) or "none"
            raise UsageError(f"{path}: no rows for year {year} (years in the file: {found})")
        return year
    if len(years) > 1:
        raise UsageError(f"{path} holds several years ({', '.join(map(str, sorted(years)))}): choose one with --year")
    if not years:
        raise UsageError(f"{path}: no data rows")
    return next(iter(years))
