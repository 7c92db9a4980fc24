"""The command line, driven as a user would, against a real DuckDB store in a temporary folder."""

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from critmin.cli.main import app

runner = CliRunner()


def run(*args, code=0):
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result


def test_help_for_every_command():
    for args in (
        [],
        ["data"],
        ["world"],
        ["indicators"],
        ["exposure"],
        ["overview"],
        ["data", "sources"],
        ["world", "import"],
        ["world", "export"],
        ["world", "check"],
    ):
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output, args


def test_data_load_then_overview(db):
    assert "loaded the bundled world" in run("data", "load").output
    assert db.exists()
    out = run("overview").output
    for needle in ("NdPr", "Dy", "Tb", "Ga", "graphite", "JPN", "USA", "CHN"):
        assert needle in out


def test_overview_json(db):
    records = json.loads(run("overview", "--format", "json").stdout)
    exposure = [r for r in records if r["table"] == "exposure"]
    assert {(r["region"], r["element"]) for r in exposure} == {
        ("JPN", "Dy"),
        ("JPN", "Tb"),
        ("USA", "Dy"),
        ("USA", "Tb"),
    }


def test_exposure_json_japan_dysprosium(db):
    records = json.loads(run("exposure", "--region", "JPN", "--element", "Dy", "--format", "json").stdout)
    assert set(records[0]) == {"region", "element", "stage", "origin_stage", "origin_region", "share"}
    china = [r for r in records if r["origin_stage"] == "separation" and r["origin_region"] == "CHN"]
    assert china[0]["share"] > 0.8


def test_indicators_json_mine_ree(db):
    records = json.loads(run("indicators", "--stage", "mine", "--element", "REE", "--format", "json").stdout)
    hhi = [r for r in records if r["indicator"] == "hhi"]
    assert len(hhi) == 1 and hhi[0]["region"] is None and 4900 < hhi[0]["value"] < 4950
    assert {"indicator", "stage", "element", "region", "value"} <= set(hhi[0])


def test_csv_format_parses(db):
    rows = list(csv.DictReader(io.StringIO(run("indicators", "-i", "top3_share", "--format", "csv").stdout)))
    assert rows and {"indicator", "stage", "element", "region", "value", "unit"} == set(rows[0])


def test_sources_and_assumptions(db):
    sources = json.loads(run("data", "sources", "--format", "json").stdout)
    assert any("USGS" in s["citation"] for s in sources)
    assumptions = json.loads(run("data", "sources", "--assumptions", "--format", "json").stdout)
    assert assumptions and all(a["confidence"] == "assumption" for a in assumptions)
    assert {"component", "key", "unit", "source", "note"} <= set(assumptions[0])
    only = json.loads(run("data", "sources", "--assumptions", "-c", "stock", "--format", "json").stdout)
    assert {a["component"] for a in only} == {"stock"}


def test_sources_events_list_the_2025_26_timeline_with_sources(db):
    events = json.loads(run("data", "sources", "--events", "--since", "2025-01-01", "--format", "json").stdout)
    ids = {e["id"] for e in events}
    # the suspensions, the DoD-MP floor, the US-Australia framework, Vietnam's ore ban, the dual-use ban on
    # Japanese military users, Project Vault, the Minamitorishima trial and RESourceEU (issue 16)
    wanted = {"2025-11-07-chn-1", "2025-11-09-chn-1", "2025-07-10-usa-1", "2025-10-20-usa-aus-1", "2025-12-11-vnm-1",
              "2026-01-06-chn-1", "2026-02-02-usa-1", "2026-01-12-jpn-1", "2025-12-03-eu-1"}  # fmt: skip
    assert wanted <= ids
    assert all(e["citation"] and e["confidence"] in ("confirmed", "secondary", "assumption") for e in events)
    assert all((e["effective"] or e["announced"]) >= "2025-01-01" for e in events)
    run("data", "sources", "--events", "--since", "last-year", code=2)


def test_world_export_import_round_trip_and_check(db, tmp_path):
    run("world", "export", str(tmp_path / "w"))
    run("world", "export", str(tmp_path / "w"), code=2)  # refuses to overwrite without --force
    run("world", "import", str(tmp_path / "w"))
    run("world", "export", str(tmp_path / "w2"))
    for path in (tmp_path / "w").glob("*.csv"):
        assert path.read_text() == (tmp_path / "w2" / path.name).read_text()
    out = run("world", "check").output
    assert "within tolerance" in out and "iea-separation-CHN" in out


def test_bad_import_names_file_and_line_and_changes_nothing(db, tmp_path):
    run("world", "export", str(tmp_path / "w"))
    before = run("world", "layers", "--format", "json").stdout
    path = tmp_path / "w" / "capacity.csv"
    lines = path.read_text().splitlines()
    fields = lines[3].split(",")
    fields[2] = "-42"
    lines[3] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["world", "import", str(tmp_path / "w")])
    assert result.exit_code == 1
    assert f"{path}:4: capacity: -42 is negative" in result.output
    assert json.loads(run("world", "layers", "--format", "json").stdout) == json.loads(before)


def test_unknown_choice_is_a_clear_error(db):
    result = runner.invoke(app, ["exposure", "--region", "JPN", "--element", "Xx"])
    assert result.exit_code == 2 and "unknown element 'Xx'" in result.output


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_every_format_for_layers(db, fmt):
    run("data", "load")
    assert "base" in run("world", "layers", "--format", fmt).output


def test_check_without_calibration_on_a_textbook_world(db, tmp_path):
    from test_indicators import chain_world

    chain_world().to_folder(tmp_path / "chain")
    run("world", "check", "--world", str(tmp_path / "chain"), "--no-calibration")
    assert runner.invoke(app, ["world", "check", "--world", str(tmp_path / "chain")]).exit_code == 1


def test_exposure_rejects_the_mine_stage(db):
    result = runner.invoke(app, ["exposure", "--region", "JPN", "--element", "Dy", "--stage", "mine"])
    assert result.exit_code == 2 and "unknown stage" in result.output


def test_a_directory_as_database_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["world", "layers", "--db", str(tmp_path)])
    assert result.exit_code == 2 and "error:" in result.output
