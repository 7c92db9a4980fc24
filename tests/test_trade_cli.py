"""`critmin trade run`, driven as a user would: the bundled world at --date 2025-10-01 against 2025-04-01
prints Japan's passenger-vehicle exports to the US, their change and welfare per side; a bad trade file gives
file:line: field and exit code 2."""

from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from critmin.cli.main import app
from critmin.trade.load import bundled_trade_world

runner = CliRunner()


def test_trade_run_prints_the_japan_us_car_flow_and_welfare():
    result = runner.invoke(app, ["trade", "run", "--date", "2025-10-01", "--against", "2025-04-01"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Japan -> USA passenger vehicles: tariff 2.5% -> 15%" in out
    assert "MUSD" in out and "Welfare change per country" in out and "World price changes" in out
    for country in ("USA", "JPN"):
        assert country in out


def test_trade_run_json_and_filters():
    result = runner.invoke(app, ["trade", "run", "--date", "2025-10-01", "--against", "2025-04-01", "--json",
                                 "--exporter", "JPN", "--good", "passenger_vehicles"])  # fmt: skip
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["date"] == "2025-10-01" and answer["against"] == "2025-04-01"
    head = answer["headline"]
    assert head["flow_after_musd"] < head["flow_before_musd"] and head["change_pct"] < 0
    assert {r["exporter"] for r in answer["flows"]} == {"JPN"} and {r["good"] for r in answer["prices"]} == {
        "passenger_vehicles"
    }
    welfare = {r["country"]: r for r in answer["welfare"]}
    assert set(welfare) == {"USA", "JPN", "CHN", "EU", "KOR", "CAN", "MEX", "ROW"}
    for row in welfare.values():
        parts = row["consumer_surplus_musd"] + row["producer_surplus_musd"] + row["revenue_musd"]
        assert abs(row["total_musd"] - parts) < 1e-6
    assert answer["units"]["total_musd"] == "MUSD"


def test_a_bad_trade_file_gives_file_line_field_and_exit_2(tmp_path):
    folder = tmp_path / "world"
    shutil.copytree(bundled_trade_world().parent, folder)
    flows = folder / "flows.csv"
    lines = flows.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("USA,", "XXX,", 1)
    lines[5] = lines[5].replace(",MUSD,", ",tonnes,", 1)
    flows.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["trade", "run", str(folder / "trade.yaml"), "--date", "2025-10-01"])
    assert result.exit_code == 2, result.output
    assert f"{flows}:6: unit:" in result.output


def test_a_bad_reference_and_a_bad_date(tmp_path):
    folder = tmp_path / "world"
    shutil.copytree(bundled_trade_world().parent, folder)
    flows = folder / "flows.csv"
    lines = flows.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("USA,", "XXX,", 1)
    flows.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["trade", "run", str(folder / "trade.yaml")])
    assert result.exit_code == 2 and f"{flows}:4: importer: unknown 'XXX'" in result.output
    result = runner.invoke(app, ["trade", "run", "--date", "2025-13-01"])
    assert result.exit_code == 2 and "not a date" in result.output


def test_between_isolates_a_bilateral_change():
    from typer.testing import CliRunner

    from critmin.cli.main import app

    runner = CliRunner()
    args = ["trade", "run", "--date", "2025-10-01", "--against", "2025-08-06", "--json"]
    bilateral = runner.invoke(app, [*args, "--between", "USA", "--between", "JPN"])
    assert bilateral.exit_code == 0, bilateral.output
    flows = json.loads(bilateral.stdout)["flows"]
    moved = {(f["importer"], f["exporter"]) for f in flows if abs(f["rate_after_pct"] - f["rate_before_pct"]) > 1e-9}
    assert moved and moved <= {("USA", "JPN"), ("JPN", "USA")}
    bad = runner.invoke(app, [*args, "--between", "XXX"])
    assert bad.exit_code == 2 and "XXX" in bad.output
