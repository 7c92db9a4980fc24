"""`critmin risk`, driven as a user would: run a small study into a DuckDB store in a temporary folder, list,
show, compare and export it; wrong flags and a bad model give clear errors and exit codes."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from critmin.cli.main import app
from test_risk_evaluate import ONE_CONTROL

runner = CliRunner()
RUN = ["--draws", "12", "--seed", "1", "--workers", "1", "--chunk", "6", "--engine", "exact"]


def invoke(*args, code=0):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "one-control.yaml"
    path.write_text(ONE_CONTROL, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def ran(model_file, tmp_path_factory):
    """A study run through the CLI with --json: (db, its JSON answer)."""
    db = tmp_path_factory.mktemp("risk-cli") / "critmin.duckdb"
    result = invoke("risk", "run", model_file, *RUN, "--db", db, "--json")
    return db, json.loads(result.stdout)


def test_help_for_every_risk_command():
    for args in (["risk"], ["risk", "run"], ["risk", "list"], ["risk", "show"], ["risk", "compare"],
                 ["risk", "export"]):  # fmt: skip
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output, args
    text = runner.invoke(app, ["risk", "run", "--help"]).output
    for flag in ("--draws", "--seed", "--workers", "--scheduler", "--sampler", "--chunk", "--engine", "--region",
                 "--name", "--db", "--json"):  # fmt: skip
        assert flag in text, flag


def test_run_json_gives_the_study_its_ranking_and_tails(ran):
    _, answer = ran
    assert len(answer["study_id"]) == 12 and answer["status"] == "complete"
    assert (answer["draws"], answer["seed"], answer["engine"], answer["workers"]) == (12, 1, "exact", 1)
    assert answer["already_complete"] is False and answer["draws_evaluated"] == 12 and answer["draws_per_min"] > 0
    assert answer["region"] == "JPN" and answer["ranking"] and answer["cvar"]
    assert {"element", "expected_cost", "share", "rank", "on_reference_list"} <= set(answer["ranking"][0])
    assert {"region", "element", "expected_pct", "p_any_shortfall", "var95_pct", "cvar95_pct"} == set(answer["cvar"][0])
    assert all(row["cvar95_pct"] >= row["var95_pct"] for row in answer["cvar"])
    assert answer["units"]["cvar95_pct"] == "% of baseline demand"


def test_running_it_again_says_it_is_complete_and_shows_it(ran, model_file):
    db, answer = ran
    out = invoke("risk", "run", model_file, *RUN, "--db", db, "--region", "USA").stdout
    assert f"study {answer['study_id']}" in out and "already complete" in out
    assert "Elements by expected shortfall cost to USA" in out and "expected_cost [USD]" in out
    assert "CVaR95" in out and "cvar95_pct [%]" in out


def test_list_and_show(ran):
    db, answer = ran
    sid = answer["study_id"]
    studies = json.loads(invoke("risk", "list", "--db", db, "--json").stdout)
    assert [s["study_id"] for s in studies] == [sid] and studies[0]["status"] == "complete"
    assert sid in invoke("risk", "list", "--db", db).stdout
    for table in ("measures", "ranking", "fan", "exceedance", "durations"):
        shown = json.loads(invoke("risk", "show", sid[:4], "--table", table, "--db", db, "--json").stdout)
        assert shown["table"] == table and shown["rows"] and shown["study"]["study_id"] == sid
    out = invoke("risk", "show", "latest", "--db", db, "-t", "exceedance", "-r", "JPN", "-e", "Dy").stdout
    assert "% of baseline demand" in out and "exceedance_prob [0-1]" in out
    assert "q50 [ratio]" in invoke("risk", "show", sid, "--db", db, "-t", "fan", "--limit", "3").stdout
    missing = invoke("risk", "show", "nope", "--db", db, code=2)
    assert "no study 'nope'" in missing.output


def test_compare(ran):
    db, answer = ran
    sid = answer["study_id"]
    rows = json.loads(invoke("risk", "compare", sid, "latest", "--db", db, "--json").stdout)
    assert rows and all(r["expected_loss_change"] == 0 for r in rows)
    assert {"expected_loss_a", "cvar_95_b", "prob_any_shortfall_change", "unit"} <= set(rows[0])
    out = invoke("risk", "compare", sid, sid, "--db", db, "-r", "JPN").stdout
    assert "prob_any_shortfall" in out and "change" in out


def test_export_every_format_and_refuse_to_overwrite(ran, tmp_path):
    db, answer = ran
    sid = answer["study_id"]
    invoke("risk", "export", sid, "--out", tmp_path / "s.csv", "--db", db)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(f"s.{t}.csv" for t in ("study", "measures", "ranking", "fan", "exceedance", "durations"))
    with open(tmp_path / "s.measures.csv", newline="") as f:
        assert {"region", "element", "loss", "unit", "cvar_95"} <= set(next(csv.DictReader(f)))
    refused = invoke("risk", "export", sid, "--out", tmp_path / "s.csv", "--db", db, code=2)
    assert "--force" in refused.output
    invoke("risk", "export", sid, "--out", tmp_path / "s.csv", "--db", db, "--force")
    invoke("risk", "export", sid, "--out", tmp_path / "s.json", "--db", db)
    payload = json.loads((tmp_path / "s.json").read_text())
    assert payload["study"]["study_id"] == sid and set(payload) >= {"measures", "fan", "durations"}
    invoke("risk", "export", sid, "--out", tmp_path / "x" / "s.xlsx", "--db", db)
    invoke("risk", "export", sid, "--out", tmp_path / "p" / "s.parquet", "--db", db)
    assert (tmp_path / "x" / "s.xlsx").is_file() and (tmp_path / "p" / "s.fan.parquet").is_file()
    wrong = invoke("risk", "export", sid, "--out", tmp_path / "s.txt", "--db", db, code=2)
    assert ".csv" in wrong.output and ".xlsx" in wrong.output


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "--workers"),
        (["--workers", "0"], "--workers"),
        (["--sampler", "grid"], "--sampler"),
        (["--engine", "quick"], "--engine"),
        (["--chunk", "0"], "--chunk"),
    ],
)
def test_bad_flags_name_the_flag(model_file, tmp_path, args, flag):
    result = invoke("risk", "run", model_file, "--draws", "4", "--seed", "1", *args, "--db", tmp_path / "x.duckdb",
                    code=2)  # fmt: skip
    assert flag in result.output
    assert not (tmp_path / "x-studies").exists()


def test_missing_draws_or_seed(model_file, tmp_path):
    assert "--draws" in invoke("risk", "run", model_file, "--seed", "1", code=2).output
    assert "--seed" in invoke("risk", "run", model_file, "--draws", "4", code=2).output


def test_a_bad_model_reports_file_line_and_field(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(ONE_CONTROL.replace("regions: [CHN]", "regions: [XXX]"), encoding="utf-8")
    result = invoke("risk", "run", path, "--draws", "4", "--seed", "1", "--db", tmp_path / "b.duckdb", code=1)
    assert "bad.yaml:7:" in result.output and "unknown region 'XXX'" in result.output
