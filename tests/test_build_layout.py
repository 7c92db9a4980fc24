"""The calibration targets are data with provenance, and a bad row is reported by file, line and field.

That a rebuild reproduces the bundled world and targets file byte for byte is
``test_build.py::test_rebuilding_from_facts_reproduces_the_bundled_world``.
"""

import csv
import re

import pytest

from critmin.build import assumptions as A
from critmin.build.targets import SPEC, SPEC_COLUMNS, TargetError, build_targets, read_specs


def _rows() -> list[dict]:
    with SPEC.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_target_carries_source_year_unit_and_confidence():
    rows = _rows()
    assert len(rows) == len(read_specs())  # the shipped file passes validation
    for line, row in enumerate(rows, start=2):
        assert row["source"] and row["unit"], f"{SPEC.name}:{line} lacks a source or unit"
        assert row["year"].isdigit(), f"{SPEC.name}:{line} year {row['year']!r}"
        assert row["confidence"] in ("confirmed", "secondary", "assumption"), f"{SPEC.name}:{line}"


def test_pinned_magnet_exports_are_the_flows_the_baseline_pins():
    """The targets file and the baseline's pins state the same published flows; a change to one must reach both."""
    pins = {(r["region"], r["partner"]): float(r["value"]) for r in _rows() if r["id"].startswith("magnet-exports-")}
    assert pins == A.MAGNET_PINNED


GOOD = {c: "" for c in SPEC_COLUMNS} | {
    "id": "t1",
    "description": "a target",
    "kind": "production",
    "unit": "t",
    "year": "2024",
    "confidence": "assumption",
    "source": "critmin assumption",
    "value": "1",
}


def _write(path, *rows: dict, header=SPEC_COLUMNS):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([row[c] for c in header])
    return path


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("source", ""),
        ("unit", ""),
        ("year", "mid-2024"),
        ("confidence", "likely"),
        ("kind", "share"),
        ("tolerance", "half"),
        ("value", "1,000"),
        ("match", "material rare_earths"),
        ("rule", "sum"),
    ],
)
def test_a_malformed_row_names_file_line_and_field(tmp_path, field, bad):
    path = _write(tmp_path / "targets.csv", GOOD, GOOD | {"id": "t2", field: bad})
    with pytest.raises(TargetError) as err:
        read_specs(path)
    assert str(err.value).startswith(f"{path}:3: {field}: ")


def test_a_citation_without_a_number_is_refused(tmp_path):
    path = _write(tmp_path / "targets.csv", GOOD | {"value": ""})
    with pytest.raises(TargetError, match=rf"^{re.escape(str(path))}:2: value: needed"):
        read_specs(path)


def test_a_repeated_id_is_refused(tmp_path):
    path = _write(tmp_path / "targets.csv", GOOD, GOOD)
    with pytest.raises(TargetError, match=rf"^{re.escape(str(path))}:3: id: 't1' already on line 2"):
        read_specs(path)


def test_a_short_row_or_wrong_header_is_refused(tmp_path):
    path = tmp_path / "targets.csv"
    path.write_text(",".join(SPEC_COLUMNS) + "\nt1,a target\n", encoding="utf-8")
    with pytest.raises(TargetError, match=rf"^{re.escape(str(path))}:2: row: "):
        read_specs(path)
    _write(path, GOOD, header=[c for c in SPEC_COLUMNS if c != "year"])
    with pytest.raises(TargetError, match=rf"^{re.escape(str(path))}:1: header: "):
        read_specs(path)


def test_a_declared_confidence_or_year_the_fact_does_not_carry_is_refused(tmp_path, facts):
    (us,) = [r for r in _rows() if r["id"] == "usgs-us-consumption"]  # a confirmed USGS 2024 figure
    assert us["confidence"] == "confirmed"
    path = _write(tmp_path / "targets.csv", GOOD, us | {"confidence": "secondary"})
    with pytest.raises(TargetError, match=rf"^{re.escape(str(path))}:3: confidence: secondary declared"):
        build_targets(facts, path)
    _write(path, us | {"year": "2023"})
    with pytest.raises(TargetError, match=rf"^{re.escape(str(path))}:2: year: 2023 declared"):
        build_targets(facts, path)
    _write(path, us | {"match": "region_iso3=USA; year=1900"})
    with pytest.raises(TargetError, match=rf"^{re.escape(str(path))}:2: match: no row in consumption.csv"):
        build_targets(facts, path)
    _write(path, us | {"field": "valeu"})
    with pytest.raises(TargetError, match=rf"^{re.escape(str(path))}:2: field: consumption.csv has no column"):
        build_targets(facts, path)
