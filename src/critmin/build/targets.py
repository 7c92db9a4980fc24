"""Calibration targets: observed 2024 figures that the baseline is compared against.

The targets are data, in ``build/data/targets.csv``, one row per target (or per family of targets). Each row
says what is compared (``kind``, ``stage``, ``element``, ``region``, ``partner``, ``product``), its ``unit``,
``year`` and ``confidence``, and where the number comes from:

- ``source`` a facts file, ``match`` the row in it (``key=value; key=value``; the first matching row) and
  ``field`` the column holding the number; or ``value`` when the number is written in the fact's note or is
  the middle of a published range (the matched row still gives the citation). The declared confidence must
  equal the fact's own flag, and the fact's year must start with the declared year;
- ``source`` a citation in words and an empty ``match``: the number is ``value`` itself;
- ``scale`` multiplies the number (12 turns a monthly figure into a year);
- ``rule=share_by_region`` makes one target per region with output: its share (%) of the confirmed country
  figures in the matching rows, summed by critmin region; ``{region}`` and ``{total}`` are filled in.

:func:`build_targets` writes them to ``critmin/data/calibration_targets.csv`` with the observed number and
full citation; :mod:`critmin.metrics.calibration` evaluates them. A target with a tolerance is an acceptance
test of the baseline; one without is reported for context.
"""

from __future__ import annotations

import csv
from pathlib import Path

from critmin.build.baseline.rows import by_region
from critmin.build.facts import confidence, read_facts
from critmin.vocabulary import CONFIDENCE_LEVELS

SPEC = Path(__file__).parent / "data" / "targets.csv"

# The columns of the written targets file (critmin/data/calibration_targets.csv), as calibration reads them.
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
SPEC_COLUMNS = [
    *(c for c in COLUMNS if c not in ("observed", "confidence", "source")),
    "year",
    "confidence",
    "source",
    "match",
    "field",
    "value",
    "scale",
    "rule",
]
KINDS = {
    "production_share",
    "production",
    "product_share",
    "product_production",
    "product_trade",
    "trade",
    "use",
    "import_share",
    "import_reliance",
}
RULES = {"", "share_by_region"}
REQUIRED = ("id", "description", "kind", "unit", "year", "confidence", "source")


class TargetError(ValueError):
    """A bad row in the targets file: the message names the file, line and field."""

    def __init__(self, path: Path, line: int, field: str, problem: str):
        super().__init__(f"{path}:{line}: {field}: {problem}")


def _number(text: str, path: Path, line: int, field: str) -> float | None:
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise TargetError(path, line, field, f"not a number: {text!r}") from None


def _match(text: str, path: Path, line: int) -> dict[str, str]:
    pairs = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        key, eq, value = part.partition("=")
        if not eq or not key.strip():
            raise TargetError(path, line, "match", f"{part!r} is not key=value")
        pairs[key.strip()] = value.strip()
    return pairs


def _check(spec: dict, path: Path, line: int) -> dict:
    """Validate one row and convert its numbers; returns the row with ``line`` and parsed fields added."""
    for name in REQUIRED:
        if not spec[name]:
            raise TargetError(path, line, name, "missing")
    if spec["kind"] not in KINDS:
        raise TargetError(path, line, "kind", f"{spec['kind']!r} is not one of {sorted(KINDS)}")
    if spec["confidence"] not in CONFIDENCE_LEVELS:
        raise TargetError(path, line, "confidence", f"{spec['confidence']!r} is not one of {sorted(CONFIDENCE_LEVELS)}")
    if spec["rule"] not in RULES:
        raise TargetError(path, line, "rule", f"{spec['rule']!r} is not one of {sorted(RULES)}")
    if not spec["year"].isdigit():
        raise TargetError(path, line, "year", f"not a year: {spec['year']!r}")
    out = {**spec, "line": line, "match": _match(spec["match"], path, line)}
    for name in ("tolerance", "value", "scale"):
        out[name] = _number(spec[name], path, line, name)
    if not out["match"] and out["value"] is None:
        raise TargetError(path, line, "value", "needed when the source is a citation, not a facts row")
    if out["match"] and out["value"] is None and not spec["field"]:
        raise TargetError(path, line, "field", "needed to read the number from the facts row")
    if spec["rule"] and not out["match"]:
        raise TargetError(path, line, "match", f"rule {spec['rule']} needs facts rows")
    return out


def read_specs(path: Path = SPEC) -> list[dict]:
    """Read and validate the targets file; a bad row raises :class:`TargetError` naming file, line and field."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != SPEC_COLUMNS:
            raise TargetError(path, 1, "header", f"expected {','.join(SPEC_COLUMNS)}")
        specs, seen = [], {}
        for spec in reader:
            line = reader.line_num
            if None in spec or None in spec.values():
                raise TargetError(path, line, "row", f"{len(SPEC_COLUMNS)} fields expected")
            if spec["id"] in seen:
                raise TargetError(path, line, "id", f"{spec['id']!r} already on line {seen[spec['id']]}")
            seen[spec["id"]] = line
            specs.append(_check(spec, path, line))
    return specs


def _target(spec: dict, observed: float, fact: dict | None, **fill) -> dict:
    """One written target; its citation is the fact's, or the row's own when no fact is behind it."""
    text = ("id", "description", "kind", "stage", "element", "region", "partner", "product", "unit")
    return {
        **{k: spec[k].format(**fill) if fill else spec[k] for k in text},
        "observed": observed,
        "tolerance": spec["tolerance"],
        "confidence": confidence(fact["confirmed"]) if fact else spec["confidence"],
        "source": " ".join((fact or spec)["source"].split()),
    }


def _facts_rows(facts: Path, spec: dict, path: Path) -> list[dict]:
    rows = [r for r in read_facts(facts, spec["source"]) if all(r.get(k) == v for k, v in spec["match"].items())]
    if not rows:
        raise TargetError(path, spec["line"], "match", f"no row in {spec['source']} matching {spec['match']}")
    if spec["field"] and spec["field"] not in rows[0]:
        raise TargetError(path, spec["line"], "field", f"{spec['source']} has no column {spec['field']!r}")
    return rows


def _checked_fact(fact: dict, spec: dict, path: Path) -> dict:
    """The fact must carry the confidence and year the targets file declares for it."""
    if confidence(fact["confirmed"]) != spec["confidence"]:
        raise TargetError(
            path, spec["line"], "confidence", f"{spec['confidence']} declared, the fact says {fact['confirmed']!r}"
        )
    year = fact.get("year", fact.get("period", spec["year"]))
    if not year.startswith(spec["year"]):
        raise TargetError(path, spec["line"], "year", f"{spec['year']} declared, the fact is for {year}")
    return fact


def _scaled(number: float, spec: dict) -> float:
    return number * spec["scale"] if spec["scale"] is not None else number


def _expand(facts: Path, spec: dict, path: Path) -> list[dict]:
    if not spec["match"]:
        return [_target(spec, _scaled(spec["value"], spec), None)]
    rows = _facts_rows(facts, spec, path)
    if spec["rule"] == "share_by_region":
        values, fact = by_region(rows, spec["field"])
        if not values:
            raise TargetError(path, spec["line"], "match", "no confirmed country figures among the matching rows")
        _checked_fact(fact, spec, path)
        total = sum(values.values())
        ranked = sorted(values.items(), key=lambda kv: -kv[1])
        return [
            _target(spec, round(qty / total * 100, 6), fact, region=region, total=total)
            for region, qty in ranked
            if qty > 0
        ]
    fact = _checked_fact(rows[0], spec, path)
    number = spec["value"] if spec["value"] is not None else _number(fact[spec["field"]], path, spec["line"], "field")
    return [_target(spec, _scaled(number, spec), fact)]


def build_targets(facts: Path, path: Path = SPEC) -> list[dict]:
    """The calibration targets in ``path`` with their observed numbers and citations read from the facts."""
    return [target for spec in read_specs(path) for target in _expand(facts, spec, path)]


def write_targets(rows: list[dict], path: Path) -> Path:
    """Write the targets in the columns :mod:`critmin.metrics.calibration` reads."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in COLUMNS})
    return path
