"""`critmin plan`, driven as a user would: a small plan (derived from plans/us-japan-2025.yaml: 3 scenarios,
one yearly step, two stockpiles of different owners and one recycling project) run into a DuckDB store in a
temporary folder, then listed, shown, compared with a second run at another risk weight and exported; a bad
plan file gives exit code 2 with file:line: field."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from critmin.api import PLAN_TABLES, Store, list_plans, plan_info, read_plan_table
from critmin.cli.main import app

REPO = Path(__file__).resolve().parents[1]
KEPT = ("us-magnet-recycling", "usa-dy-stock", "jpn-dy-stock")
runner = CliRunner()


def invoke(*args, code=0):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


def small_plan(**changes) -> str:
    plan = yaml.safe_load((REPO / "plans" / "us-japan-2025.yaml").read_text(encoding="utf-8"))
    plan.update(scenarios=3, years=1, step_months=12, risk_model=str(REPO / "risks" / "china-controls.yaml"))
    plan["options"] = [o for o in plan["options"] if o["id"] in KEPT]
    plan.update(changes)
    return yaml.safe_dump(plan, sort_keys=False)


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """Two runs of the small plan through the CLI, at λ = 0.5 (tables) and λ = 0 (--json): (db, the first's
    stdout, the first's id, the second's JSON answer, folder)."""
    folder = tmp_path_factory.mktemp("plan-cli")
    db = folder / "x.duckdb"
    first, second = folder / "small.yaml", folder / "small-neutral.yaml"
    first.write_text(small_plan(), encoding="utf-8")
    second.write_text(small_plan(risk_weight=0.0), encoding="utf-8")
    out = invoke("plan", "run", first, "--db", db).stdout
    pid = re.search(r"stored plan id: (\S+)", out).group(1)
    answer = json.loads(invoke("plan", "run", second, "--db", db, "--json").stdout)
    return db, out, pid, answer, folder


def test_help_for_every_plan_command():
    for args in (["plan"], ["plan", "run"], ["plan", "list"], ["plan", "show"], ["plan", "compare"],
                 ["plan", "export"]):  # fmt: skip
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output, args
    text = runner.invoke(app, ["plan", "run", "--help"]).output
    for flag in ("--db", "--json", "--rerun", "EVPI", "MUSD"):
        assert flag in text, flag


def test_run_prints_portfolio_measures_cooperation_and_shortlist(ran):
    db, out, pid, answer, _ = ran
    lines = ("Joint portfolio (JPN+USA)", "public_cost_musd [MUSD]", "Value measures", "EVPI", "VSS",
             "CVaR premium", "value_musd [MUSD]", "Cooperation", "saving_musd [MUSD]", "Shapley",
             "shapley_musd [MUSD]", "joint saving", "superadditive: ", "Shortlist", "stored plan id: ")  # fmt: skip
    for line in lines:
        assert line in out, line
    assert re.fullmatch(r"us-japan-2025-[0-9a-f]{8}", pid)
    assert answer["already_stored"] is False and answer["plan"]["plan_id"] != pid
    assert answer["plan"]["risk_weight"] == 0.0
    assert set(answer["measures"]) == {"objective", "EVPI", "VSS", "CVaR premium"}
    shown = json.loads(invoke("plan", "show", pid, "--db", db, "--json").stdout)
    assert {"option", "owner", "instrument", "modules", "public_cost_musd"} <= set(shown["portfolio"][0])


def test_stored_run_is_whole_and_shapley_adds_up(ran):
    db, _, pid, _, _ = ran
    with Store(db) as store:
        assert list(list_plans(store)["plan_id"]).count(pid) == 1
        info = plan_info(store, pid)
        coalitions = read_plan_table(store, pid, "coalitions")
        shapley = read_plan_table(store, pid, "shapley")
        scenarios = read_plan_table(store, pid, "scenarios")
        options = read_plan_table(store, pid, "options")
        portfolio = read_plan_table(store, pid, "portfolio")
    assert info["scenarios"] == len(scenarios) and abs(scenarios["probability"].sum() - 1) < 1e-9
    assert list(coalitions["coalition"]) == ["none", "JPN", "USA", "JPN+USA"]
    grand = coalitions.set_index("coalition").loc["JPN+USA"]
    assert abs(shapley["shapley_musd"].sum() - grand["saving_musd"]) < 1e-6
    assert abs(grand["objective_musd"] - info["objective_musd"]) < 1e-9
    assert sorted(options["option"]) == sorted(KEPT)
    joint = portfolio[portfolio["coalition"] == "JPN+USA"]
    assert abs(joint["public_cost_musd"].sum() - grand["public_musd"]) < 1e-6
    assert info["superadditive"] == (not info["violations"]) and info["joint_saving_musd"] >= -1e-6


def test_running_again_shows_the_stored_run(ran):
    db, _, pid, _, folder = ran
    out = invoke("plan", "run", folder / "small.yaml", "--db", db).stdout
    assert "already stored" in out and pid in out


def test_list_and_show(ran):
    db, _, pid, _, _ = ran
    plans = json.loads(invoke("plan", "list", "--db", db, "--json").stdout)
    assert len(plans) == 2 and pid in [p["plan_id"] for p in plans]
    listed = invoke("plan", "list", "--db", db).stdout
    assert pid in listed and "[MUSD]" in listed and "[λ]" in listed
    for table in PLAN_TABLES:
        shown = json.loads(invoke("plan", "show", pid, "--table", table, "--db", db, "--json").stdout)
        assert shown["table"] == table and shown["plan"]["plan_id"] == pid
    summary = invoke("plan", "show", pid, "--db", db).stdout
    assert "Joint portfolio" in summary and "EVPI" in summary
    assert "probability [0-1]" in invoke("plan", "show", "latest", "-t", "scenarios", "--db", db).stdout
    missing = invoke("plan", "show", "nope", "--db", db, code=2)
    assert "no plan run 'nope'" in missing.output


def test_compare(ran):
    db, _, a, answer, _ = ran
    b = answer["plan"]["plan_id"]
    compared = json.loads(invoke("plan", "compare", a, b, "--db", db, "--json").stdout)
    measures = {m["measure"]: m for m in compared["measures"]}
    assert {"objective", "evpi", "vss", "joint_saving"} <= set(measures)
    assert measures["risk_weight"]["a"] == 0.5 and measures["risk_weight"]["b"] == 0.0
    assert sorted(o["option"] for o in compared["options"]) == sorted(KEPT)
    text = invoke("plan", "compare", a, b, "--db", db).stdout
    assert "modules_a [modules]" in text and "joint_saving" in text


def test_export_writes_every_table_all_or_nothing(ran, tmp_path):
    db, _, pid, _, _ = ran
    out = tmp_path / "export"
    invoke("plan", "export", pid, "--out", out, "--db", db)
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{t}.csv" for t in PLAN_TABLES] + ["plan.yaml",
                                                                                               "run.json"])  # fmt: skip
    with Store(db) as store:
        for table in PLAN_TABLES:
            with open(out / f"{table}.csv", newline="") as f:
                assert sum(1 for _ in csv.DictReader(f)) == len(read_plan_table(store, pid, table)), table
    record = json.loads((out / "run.json").read_text())
    assert record["plan"]["plan_id"] == pid and record["units"]
    assert yaml.safe_load((out / "plan.yaml").read_text())["scenarios"] == 3
    refused = invoke("plan", "export", pid, "--out", out, "--db", db, code=2)
    assert "--force" in refused.output
    invoke("plan", "export", pid, "--out", out, "--db", db, "--force")


def test_a_bad_plan_reports_file_line_and_field(tmp_path):
    text = small_plan().replace("region: JPN", "region: XXX", 1)
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index(next(ln for ln in text.splitlines() if "region: XXX" in ln)) + 1
    result = invoke("plan", "run", path, "--db", tmp_path / "b.duckdb", code=2)
    assert f"bad.yaml:{line}: options" in result.output and "region" in result.output
    assert "unknown region 'XXX'" in result.output
