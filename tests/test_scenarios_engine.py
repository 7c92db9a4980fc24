"""Scenario language, time loop and stored runs, on the bundled world and on tiny worlds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from critmin.api import bundled_scenarios
from critmin.cli.main import app
from critmin.scenario import ScenarioError, load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[1]
LICENSING = ROOT / "scenarios" / "china-2025-04-licensing.yaml"


@pytest.fixture(scope="module")
def world(bundled):
    return bundled


def test_every_bundled_scenario_is_valid(world):
    names = set(bundled_scenarios())
    assert {
        "baseline-2024", "china-2025-04-licensing", "china-2025-10-expansion", "china-embargo-us-jpn-12m",
        "myanmar-clay-outage", "us-japan-framework-2025",
    } <= names  # fmt: skip
    for path in bundled_scenarios().values():
        text = path.read_text()
        assert text.startswith("#"), f"{path.name} needs a comment block citing its events"
        load_scenario(path, world)


BAD = """\
name: bad
start: 2025-01-01
end: 2025-12-31
shocks:
  - type: export_control
    exporter: {regions: [CHN]}
    elements: [Dy, Unobtainium]
    mode: quota
    magnitude: 0.5
    start: 2025-04-04
"""


@pytest.mark.parametrize(
    ("edit", "line", "field", "reason"),
    [
        (lambda t: t, 7, "shocks[0].elements[1]", "unknown element 'Unobtainium'"),
        (lambda t: t.replace("Unobtainium", "Tb") + "    end: 2025-03-01\n", 11, "shocks[0].end", "before start"),
        (
            lambda t: t.replace("Unobtainium", "Tb").replace("0.5", "-0.5"),
            9,
            "shocks[0].magnitude",
            "greater than or equal to 0",
        ),
        (
            lambda t: t.replace("Unobtainium", "Tb").replace("quota", "embargo"),
            8,
            "shocks[0].mode",
            "'ban', 'quota', 'delay' or 'licence'",
        ),
        (
            lambda t: t.replace("Unobtainium", "Tb").replace("type: export_control", "type: meteor"),
            5,
            "shocks[0]",
            "does not match",
        ),
        (
            lambda t: t.replace("Unobtainium", "Tb").replace("name: bad", "name: bad\nhorizon: 3"),
            2,
            "horizon",
            "Extra inputs",
        ),
    ],
)
def test_invalid_scenarios_name_file_line_and_field(world, edit, line, field, reason):
    with pytest.raises(ScenarioError) as info:
        parse_scenario(edit(BAD), "bad.yaml", world)
    problem = info.value.problems[0]
    assert (problem.file, problem.line, problem.column) == ("bad.yaml", line, field)
    assert reason in problem.reason


def test_validate_cli_reports_file_line_field(tmp_path, world):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert f"{path}:7: shocks[0].elements[1]: unknown element 'Unobtainium'" in result.output


def test_scenario_schema_is_json_schema():
    result = CliRunner().invoke(app, ["scenario", "schema"])
    schema = json.loads(result.stdout)
    assert "shocks" in schema["properties"]
    types = set()
    for definition in schema["$defs"].values():
        tag = definition.get("properties", {}).get("type", {})
        types |= {tag["const"]} if "const" in tag else set(tag.get("enum", []))
    assert types == {
        "export_control", "tariff", "outage", "demand_shift", "project", "stockpile_policy",
        "recycling_policy", "price_floor", "offtake", "ally_preference",
    }  # fmt: skip


@pytest.fixture(scope="module")
def licensing_run(tmp_path_factory):
    db = tmp_path_factory.mktemp("store") / "runs.duckdb"
    only = ["-r", "JPN", "-r", "USA", "-e", "Dy", "-e", "Tb"]
    result = CliRunner().invoke(app, ["run", str(LICENSING), "--db", str(db), *only, "--format", "json"])
    assert result.exit_code == 0, result.output
    return db, json.loads(result.stdout)


def test_licensing_run_shows_shortfall_or_price_rise_and_recovery(licensing_run):
    _, records = licensing_run
    assert {(r["region"], r["element"]) for r in records} == {(r, e) for r in ("JPN", "USA") for e in ("Dy", "Tb")}
    for r in records:
        assert set(r) >= {
            "region",
            "element",
            "max_shortfall_pct",
            "cumulative_shortfall_t",
            "peak_price_ratio",
            "tts_days",
            "ttr_days",
        }
        assert r["max_shortfall_pct"] > 1 or r["peak_price_ratio"] > 1.05
        assert r["short_from"] >= "2025-04-01"
        assert r["recovered_on"] is not None and r["recovered_on"] > r["short_from"]
        assert r["ttr_days"] > r["tts_days"]


def test_ex_china_price_above_in_china_price_under_licensing(licensing_run):
    import duckdb

    db, records = licensing_run
    run_id = records[0]["run_id"]
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT date, region, price_usd_per_kg FROM run_prices WHERE run_id = ? AND path = 'scenario' "
            "AND product = 'Dy_oxide' AND region IN ('CHN', 'JPN', 'USA') "
            "AND date BETWEEN '2025-05-01' AND '2025-12-01'",
            [run_id],
        ).fetchall()
    by_date: dict = {}
    for date, region, price in rows:
        by_date.setdefault(date, {})[region] = price
    assert by_date
    for prices in by_date.values():
        assert prices["JPN"] > prices["CHN"] and prices["USA"] > prices["CHN"]


def test_runs_list_show_compare_export(licensing_run, tmp_path):
    db, records = licensing_run
    runner = CliRunner()
    listed = json.loads(runner.invoke(app, ["runs", "list", "--db", str(db), "--format", "json"]).stdout)
    assert listed[0]["scenario"] == "china-2025-04-licensing"
    assert listed[0]["data_version"] and listed[0]["scenario_hash"] and listed[0]["solver_status"] == "optimal"
    shown = json.loads(runner.invoke(app, ["runs", "show", "latest", "--db", str(db), "--format", "json"]).stdout)
    jpn_dy = next(r for r in shown if (r["region"], r["element"]) == ("JPN", "Dy"))
    original = next(r for r in records if (r["region"], r["element"]) == ("JPN", "Dy"))
    assert jpn_dy["max_shortfall_pct"] == pytest.approx(original["max_shortfall_pct"])
    compared = json.loads(
        runner.invoke(app, ["runs", "compare", "latest", "latest", "--db", str(db), "--format", "json"]).stdout
    )
    assert all(r["max_shortfall_pct_change"] in (0, None) for r in compared)
    out = tmp_path / "export"
    assert runner.invoke(app, ["runs", "export", "latest", "--out", str(out), "--db", str(db)]).exit_code == 0
    assert {p.name for p in out.iterdir()} >= {"runs.csv", "prices.csv", "summary.csv", "shortfall.csv", "flows.csv"}
    missing = runner.invoke(app, ["runs", "show", "no-such-run", "--db", str(db)])
    assert missing.exit_code == 2 and "no run" in missing.output
