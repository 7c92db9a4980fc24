"""Read a trade world: a YAML file naming CSV tables next to it, every problem reported as ``file:line: field:
reason`` (the scenario loader's line-tracking YAML reader is reused, as risk models do).

.. code-block:: yaml

    name: us-japan-2025
    year: 2024                # the flows' year; --against defaults to its last day
    description: ...
    tables:                   # CSV files, relative to this file
      countries: countries.csv        # id, name, note
      goods: goods.csv                # id, name, hs, note
      sources: sources.csv            # id, citation, url, note
      flows: flows.csv                # importer, exporter, good, value_musd, year, unit, source, confidence, note
      tariffs: tariffs.csv            # importer, exporter, good, rate_pct, start, end, measure, basis, status,
                                      # announced, source, confidence, note
      elasticities: elasticities.csv  # kind, country, good, value, source, confidence, note
"""

from __future__ import annotations

import csv
import datetime as dt
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from critmin import errors
from critmin.scenario import load as scenario_load
from critmin.trade.data import ALL, TABLES, TradeWorld
from critmin.world.problems import Problem, ProblemList

MAX_CSV_BYTES = 5_000_000


class TradeWorldError(ProblemList, errors.DataError, ValueError):
    """A trade world with problems; ``problems`` carry file, line and field."""

    subject = "the trade world"


class _Tables(BaseModel):
    model_config = ConfigDict(extra="forbid")
    countries: str
    goods: str
    sources: str
    flows: str
    tariffs: str
    elasticities: str


class _Header(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    year: int = Field(ge=1990, le=2100)
    description: str = ""
    tables: _Tables


def bundled_trade_world() -> Path:
    """The bundled trade world's YAML file (US–Japan 2025)."""
    return Path(str(resources.files("critmin") / "data" / "trade" / "us-japan-2025" / "trade.yaml"))


def load_trade_world(path: str | Path | None = None) -> TradeWorld:
    """Read and validate a trade world (the bundled one if ``path`` is None). Raises TradeWorldError listing
    every problem with file, line and field.

    >>> w = load_trade_world()
    >>> w.name, len(w.countries), len(w.goods)
    ('us-japan-2025', 8, 8)
    >>> w.rate_on(dt.date(2025, 10, 1), "USA", "JPN", "passenger_vehicles")[0]
    15.0
    """
    path = Path(path) if path is not None else bundled_trade_world()
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TradeWorldError([Problem(file, None, None, f"cannot read: {exc}")]) from exc
    try:
        root, data = scenario_load._read_yaml(text)
    except scenario_load._BadScalarError as exc:
        line = exc.node.start_mark.line + 1
        raise TradeWorldError([Problem(file, line, scenario_load._field(exc.path), exc.reason)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = f"not valid YAML: {getattr(exc, 'problem', exc)}"
        raise TradeWorldError([Problem(file, mark.line + 1 if mark else None, None, reason)]) from exc
    if not isinstance(data, dict):
        raise TradeWorldError([Problem(file, 1, None, "a trade world is a YAML mapping (name, year, tables)")])
    try:
        header = _Header.model_validate(data)
    except ValidationError as exc:
        raise TradeWorldError([
            Problem(file, scenario_load._line(root, e["loc"]), scenario_load._field(e["loc"]),
                    scenario_load._message(e))
            for e in exc.errors()
        ]) from exc  # fmt: skip
    problems: list[Problem] = []
    rows: dict[str, list] = {}
    lines: dict[str, list[int]] = {}
    files: dict[str, str] = {}
    for name, model in TABLES.items():
        csv_path = path.parent / getattr(header.tables, name)
        files[name] = str(csv_path)
        rows[name], lines[name] = _read_table(csv_path, model, problems)
    if not problems:
        problems += _cross_check(header, rows, lines, files)
    if problems:
        raise TradeWorldError(problems)
    return TradeWorld(name=header.name, year=header.year, description=header.description, path=file, **rows)


def _read_table(path: Path, model, problems: list[Problem]) -> tuple[list, list[int]]:
    file = str(path)
    try:
        if path.stat().st_size > MAX_CSV_BYTES:
            problems.append(Problem(file, None, None, f"over {MAX_CSV_BYTES:,} bytes"))
            return [], []
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        problems.append(Problem(file, None, None, f"cannot read: {exc}"))
        return [], []
    out, where = [], []
    with handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        fields = model.model_fields
        required = [k for k, f in fields.items() if f.is_required()]
        missing = [c for c in required if c not in columns]
        unknown = [c for c in columns if c not in fields]
        for c in missing:
            problems.append(Problem(file, 1, c, "required column is missing"))
        for c in unknown:
            problems.append(Problem(file, 1, c, f"unknown column; known: {', '.join(fields)}"))
        if missing or unknown:
            return [], []
        try:
            for record in reader:
                line = reader.line_num
                if None in record:
                    problems.append(Problem(file, line, None, "more cells than columns"))
                    continue
                values = {k: v for k, v in record.items() if v is not None and not (v == "" and k in ("end",
                          "announced", "note", "url", "hs"))}  # fmt: skip
                try:
                    out.append(model.model_validate(values))
                    where.append(line)
                except ValidationError as exc:
                    for e in exc.errors():
                        column = str(e["loc"][0]) if e["loc"] else None
                        problems.append(Problem(file, line, column, scenario_load._message(e)))
        except (csv.Error, UnicodeDecodeError) as exc:
            problems.append(Problem(file, reader.line_num, None, f"not valid CSV: {exc}"))
    return out, where


def _cross_check(header: _Header, rows: dict, lines: dict, files: dict) -> list[Problem]:
    problems: list[Problem] = []

    def unique(name: str) -> set[str]:
        seen: set[str] = set()
        for row, line in zip(rows[name], lines[name], strict=True):
            if row.id in seen:
                problems.append(Problem(files[name], line, "id", f"duplicate id {row.id!r}"))
            seen.add(row.id)
        return seen

    countries, goods, sources = unique("countries"), unique("goods"), unique("sources")

    def known(name, row, line, column, values, wildcard=False):
        value = getattr(row, column)
        if not (value in values or (wildcard and value == ALL)):
            hint = ", ".join(sorted(values)) + (", *" if wildcard else "")
            problems.append(Problem(files[name], line, column, f"unknown {value!r}; known: {hint}"))

    for name in ("flows", "tariffs", "elasticities"):
        for row, line in zip(rows[name], lines[name], strict=True):
            known(name, row, line, "source", sources)
            if name == "elasticities":
                known(name, row, line, "country", countries, wildcard=True)
                known(name, row, line, "good", goods, wildcard=True)
                continue
            known(name, row, line, "importer", countries)
            known(name, row, line, "exporter", countries, wildcard=name == "tariffs")
            known(name, row, line, "good", goods, wildcard=name == "tariffs")
            if name == "flows" and row.year != header.year:
                problems.append(Problem(files[name], line, "year", f"{row.year}, not the world's year {header.year}"))
    for kind in ("import_demand", "substitution", "export_supply"):
        given = {(e.country, e.good) for e in rows["elasticities"] if e.kind == kind}
        for c in countries:
            for g in goods:
                if not given & {(c, g), (c, ALL), (ALL, g), (ALL, ALL)}:
                    problems.append(Problem(files["elasticities"], None, "kind", f"no {kind} elasticity for {c}/{g}"))
                    break
    return problems


def as_date(value: str | dt.date) -> dt.date:
    """A date from ISO text (2025-10-01) or a date."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
