"""The plausibility guard: flags raised on real runs of tiny worlds, stored with the run, and shown by the CLI,
the REST API and the dashboard."""

from __future__ import annotations

import datetime as dt
import io
import json

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from critmin.cli.main import app
from critmin.scenario import Scenario
from critmin.server import ServerConfig, create_app
from critmin.simulate.loop import simulate
from critmin.simulate.plausibility import FLAG_COLUMNS, FLAG_KINDS, plausibility_flags
from critmin.testing import tiny_world

BIG = 1e6
BAN_MONTHS = [dt.date(2025, 3, 1), dt.date(2025, 4, 1), dt.date(2025, 5, 1)]


def coproduct_world():
    """A mine in A yields ore that separates into X (60 %, used in A) and Y (40 %, used only in B)."""
    return tiny_world(
        ["A", "B"],
        [
            {"id": "ore", "stage": "mine", "form": "concentrate"},
            {"id": "X_ox", "stage": "separation", "element": "Nd"},
            {"id": "Y_ox", "stage": "separation", "element": "La"},
        ],
        composition=[
            {"product": "ore", "element": "Nd", "share": 60.0},
            {"product": "ore", "element": "La", "share": 40.0},
        ],
        reference_price=[
            {"product": "ore", "price": 10.0},
            {"product": "X_ox", "price": 15.0},
            {"product": "Y_ox", "price": 5.0},
        ],
        supply_curve=[
            {
                "region": "A",
                "process": "extract",
                "product": "ore",
                "ref_cost": 10.0,
                "ref_quantity": 100.0,
                "elasticity": 1.0,
            },
            {
                "region": "A",
                "process": "separate",
                "product": "ore",
                "ref_cost": 0.0,
                "ref_quantity": 100.0,
                "elasticity": 1.0,
            },
        ],
        capacity=[{"region": "A", "product": p, "capacity": BIG} for p in ("ore", "X_ox", "Y_ox")],
        demand=[
            {"region": "A", "sector": "other", "product": "X_ox", "quantity": 60.0, "elasticity": -1.0},
            {"region": "B", "sector": "other", "product": "Y_ox", "quantity": 40.0, "elasticity": -1.0},
        ],
        trade_cost=[{"origin": "A", "destination": "B", "product": "Y_ox", "freight": 0.5}],
    )


def one_product_world(capacity: float = BIG):
    """A sells x to itself and to B; ``capacity`` (t/yr) caps A's output."""
    return tiny_world(
        ["A", "B"],
        [{"id": "x", "stage": "separation", "element": "Dy"}],
        reference_price=[{"product": "x", "price": 10.0}],
        supply_curve=[
            {
                "region": "A",
                "process": "extract",
                "product": "x",
                "ref_cost": 10.0,
                "ref_quantity": 200.0,
                "elasticity": 1.0,
            }
        ],
        capacity=[{"region": "A", "product": "x", "capacity": capacity}],
        demand=[
            {"region": "A", "sector": "other", "product": "x", "quantity": 100.0, "elasticity": -1.0},
            {"region": "B", "sector": "other", "product": "x", "quantity": 100.0, "elasticity": -0.5},
        ],
        trade_cost=[{"origin": "A", "destination": "B", "product": "x", "freight": 1.0}],
    )


BAN_SHOCK = {
    "type": "export_control", "name": "Y ban", "exporter": {"regions": ["A"]}, "products": ["Y_ox"],
    "mode": "ban", "start": "2025-03-01", "end": "2025-05-31",
}  # fmt: skip
# producers hold no reservation price here, so Y that nobody may buy is thrown away at a zero price
NO_RESERVATION = {"curves": "stepwise", "reservation_multiple": 0.0}


def scenario(shocks=(), **extra) -> Scenario:
    return Scenario.model_validate(
        {"name": "plausibility", "start": "2025-01-01", "end": "2025-06-30", "shocks": list(shocks), **extra}
    )


def only(flags: pd.DataFrame, kind: str) -> pd.DataFrame:
    return flags[flags["kind"] == kind].reset_index(drop=True)


@pytest.fixture(scope="module")
def ban_run():
    return simulate(coproduct_world(), scenario([BAN_SHOCK], market=NO_RESERVATION))


def test_clean_run_has_no_flags_and_the_documented_columns():
    run = simulate(coproduct_world(), scenario())
    flags = plausibility_flags(run)
    assert list(flags.columns) == FLAG_COLUMNS
    assert flags.empty
    # the run is genuinely clean: prices within [1 %, 20x] of reference, no baseline shortfall
    price = run.series("scenario", "price")
    ratio = price / run.inputs.ref_price.rename_axis("product").to_xarray().reindex(product=price["product"])
    assert float(ratio.min()) > 0.5 and float(ratio.max()) < 2


def test_a_ban_that_zeros_a_price_is_a_price_floor(ban_run):
    price = ban_run.series("scenario", "price").sel(region="A", product="Y_ox").to_series()
    assert (price.loc[pd.to_datetime(BAN_MONTHS)].abs() < 1e-9).all()  # really zero under the ban
    assert (price.drop(pd.to_datetime(BAN_MONTHS)) > 4).all()  # and not before or after
    floor = only(plausibility_flags(ban_run), "price_floor")
    assert len(floor) == 1
    f = floor.iloc[0]
    assert (f.path, f.region, f["product"], f.unit) == ("scenario", "A", "Y_ox", "USD/kg")
    assert (f.first_date, f.last_date, f.months) == (BAN_MONTHS[0], BAN_MONTHS[-1], 3)
    assert f.worst_value == pytest.approx(0.0, abs=1e-9)
    assert f.threshold == pytest.approx(0.01 * 5.0)
    assert f.message == (
        "Y_ox in A at 0.00 USD/kg (≤ 1% of reference 5.00 USD/kg) in 3 months from 2025-03 to 2025-05, scenario path"
    )
    # the baseline path keeps its price: no baseline floor
    assert set(floor["path"]) == {"scenario"}


def test_price_spike_follows_the_scenarios_threshold(ban_run):
    price_b = ban_run.series("scenario", "price").sel(region="B", product="Y_ox").to_series()
    peak = float(price_b.max())
    assert peak == pytest.approx(10.0, rel=1e-6)  # B pays twice the reference price of 5 under the ban
    assert only(plausibility_flags(ban_run), "price_spike").empty  # below the default 20x
    ban_run.scenario.checks.max_price_multiple = 1.5
    try:
        spike = only(plausibility_flags(ban_run), "price_spike")
    finally:
        ban_run.scenario.checks.max_price_multiple = 20.0
    assert list(zip(spike["region"], spike["product"], strict=True)) == [("B", "Y_ox")]
    s = spike.iloc[0]
    assert (s.path, s.months, s.first_date, s.last_date) == ("scenario", 3, BAN_MONTHS[0], BAN_MONTHS[-1])
    assert s.worst_value == pytest.approx(peak) and s.threshold == pytest.approx(7.5)
    assert "> 1.5× reference 5.00 USD/kg" in s.message


def test_discarded_output_is_a_balance_residual(ban_run):
    """With no reservation price the banned Y is thrown away: the node's balance does not close."""
    residual = np.asarray(ban_run.balance_residual["scenario"])
    assert len(residual) == 6 and residual.max() > 0.5
    flags = only(plausibility_flags(ban_run), "balance_residual")
    assert list(flags["path"]) == ["scenario"]
    f = flags.iloc[0]
    assert f.months == int((residual > 1e-6).sum()) == 3
    assert (f.first_date, f.last_date) == (BAN_MONTHS[0], BAN_MONTHS[-1])
    assert f.worst_value == pytest.approx(residual.max()) and f.threshold == 1e-6
    assert pd.isna(f.region) and pd.isna(f["product"])


def test_balance_residuals_aggregate_any_months(ban_run):
    """Months need not be consecutive: one record with the first and last month, the count and the worst."""
    saved = ban_run.balance_residual
    ban_run.balance_residual = {"baseline": [0, 3e-6, 0, 0, 2e-5, np.nan], "scenario": []}
    try:
        flags = only(plausibility_flags(ban_run), "balance_residual")
    finally:
        ban_run.balance_residual = saved
    assert len(flags) == 1
    f = flags.iloc[0]
    assert (f.path, f.months, f.worst_value) == ("baseline", 2, pytest.approx(2e-5))
    assert (f.first_date, f.last_date) == (dt.date(2025, 2, 1), dt.date(2025, 5, 1))


def test_baseline_shortfall_matches_the_baseline_path():
    """A's output capped at a quarter of what A and B want: the baseline leaves demand unmet, and each
    region x product above 0.1 % of its reference demand is one flag with the worst share and its months."""
    run = simulate(one_product_world(capacity=50.0), scenario())
    short = run.series("baseline", "shortfall").sum("sector")
    demand = (run.series("baseline", "consumption") + run.series("baseline", "shortfall")).sum("sector")
    pct = (short / demand * 100).sel(product="x").transpose("region", "date")
    expected = {
        str(region): (float(pct.sel(region=region).max()), int((pct.sel(region=region) > 0.1).sum()))
        for region in pct["region"].values
        if bool((pct.sel(region=region) > 0.1).any())
    }
    assert expected and max(worst for worst, _ in expected.values()) > 1  # the baseline really is short
    flags = only(plausibility_flags(run), "baseline_shortfall")
    assert list(flags["region"]) == sorted(expected)
    assert set(flags["path"]) == {"baseline"} and set(flags["product"]) == {"x"}
    for f in flags.itertuples():
        worst, months = expected[f.region]
        assert f.worst_value == pytest.approx(worst) and f.months == months
        assert f.threshold == 0.1 and f.unit == "%"
        assert f"% of x demand in {f.region} unmet (> 0.1% of reference demand) in {months} month" in f.message
        shown = float(f.message.removeprefix("baseline leaves up to ").split("%")[0].replace(",", ""))
        assert shown == pytest.approx(worst, rel=5e-3)
    # a higher threshold drops them all
    run.scenario.checks.baseline_shortfall_pct = max(worst for worst, _ in expected.values()) + 1
    assert only(plausibility_flags(run), "baseline_shortfall").empty


def test_a_stockpile_priced_out_is_policy_inactive():
    policy = {
        "type": "stockpile_policy", "name": "reserve", "where": {"regions": ["B"]}, "products": ["x"],
        "target_days": 60, "build_months": 3, "max_buy_multiple": 0.5, "start": "2025-02-01", "end": "2025-06-30",
    }  # fmt: skip
    run = simulate(one_product_world(), scenario([policy]))
    [report] = run.policy_reports
    assert report["acted"] is False and report["bought_t"] == pytest.approx(0.0, abs=1e-9)
    assert report["target_t"] > 0
    flags = only(plausibility_flags(run), "policy_inactive")
    assert len(flags) == 1
    f = flags.iloc[0]
    assert (f.path, f.region, f["product"], f.unit) == ("scenario", "B", "x", "t")
    assert (f.first_date, f.last_date, f.months) == (dt.date(2025, 2, 1), dt.date(2025, 6, 1), 5)
    assert f.threshold == pytest.approx(report["target_t"]) and f.worst_value == pytest.approx(0.0, abs=1e-9)
    assert f.message == f"reserve (stockpile_policy) for x in B did not act: {report['reason']}"
    # a policy that buys is not flagged
    policy["max_buy_multiple"] = 3.0
    acting = simulate(one_product_world(), scenario([policy]))
    assert acting.policy_reports[0]["acted"] is True and acting.policy_reports[0]["bought_t"] > 0
    assert only(plausibility_flags(acting), "policy_inactive").empty


def test_checks_are_validated_and_in_the_schema():
    with pytest.raises(ValueError, match="min_price_multiple"):
        scenario(checks={"min_price_multiple": -1})
    with pytest.raises(ValueError, match="Extra inputs"):
        scenario(checks={"min_price": 0.1})
    props = Scenario.model_json_schema()["$defs"]["Checks"]["properties"]
    assert set(props) == {"min_price_multiple", "max_price_multiple", "baseline_shortfall_pct", "balance_tolerance"}
    assert scenario().checks.max_price_multiple == 20.0


BAN_YAML = """\
name: y-ban
start: 2025-01-01
end: 2025-06-30
market: {curves: stepwise, reservation_multiple: 0.0}
shocks:
  - type: export_control
    name: Y ban
    exporter: {regions: [A]}
    products: [Y_ox]
    mode: ban
    start: 2025-03-01
    end: 2025-05-31
  - type: stockpile_policy
    name: reserve
    where: {regions: [B]}
    products: [Y_ox]
    target_days: 60
    build_months: 3
    max_buy_multiple: 0.5
    start: 2025-01-01
"""


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    root = tmp_path_factory.mktemp("plausibility")
    folder, db, path = root / "world", root / "runs.duckdb", root / "y-ban.yaml"
    coproduct_world().to_folder(folder)
    path.write_text(BAN_YAML)
    runner = CliRunner()
    shown = runner.invoke(app, ["run", str(path), "--world", str(folder), "--db", str(db)])
    assert shown.exit_code == 0, shown.output
    as_json = runner.invoke(app, ["run", str(path), "--world", str(folder), "--db", str(db), "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    return folder, db, shown.stdout, as_json


def test_critmin_run_prints_the_flags_after_the_summary(stored):
    _, _, out, _ = stored
    assert out.index("Plausibility flags") > out.index("run ")
    assert "price_floor" in out and "policy_inactive" in out and "balance_residual" in out
    assert "Y_ox in A at 0.00 USD/kg" in out
    assert "Policies" in out and "reserve" in out


def test_critmin_run_json_stays_a_list_of_summary_records(stored):
    _, _, _, result = stored
    records = json.loads(result.stdout)
    assert isinstance(records, list) and {"region", "element", "run_id"} <= set(records[0])
    assert "plausibility flag(s)" in result.stderr and "critmin runs flags" in result.stderr


def test_stored_flags_in_runs_show_flags_and_export(stored, tmp_path):
    _, db, _, _ = stored
    runner = CliRunner()
    shown = runner.invoke(app, ["runs", "show", "latest", "--db", str(db)])
    assert shown.exit_code == 0, shown.output
    assert "Plausibility flags (3)" in shown.stdout and "Y_ox in A at 0.00 USD/kg" in shown.stdout
    flags = json.loads(runner.invoke(app, ["runs", "flags", "latest", "--db", str(db), "--format", "json"]).stdout)
    assert [f["kind"] for f in flags] == ["price_floor", "balance_residual", "policy_inactive"]
    floor = flags[0]
    assert floor["first_date"] == "2025-03-01" and floor["last_date"] == "2025-05-01" and floor["months"] == 3
    assert floor["region"] == "A" and floor["product"] == "Y_ox" and floor["threshold"] == pytest.approx(0.05)
    assert set(FLAG_COLUMNS) <= set(floor) and all(f["kind"] in FLAG_KINDS for f in flags)
    policies = json.loads(
        runner.invoke(app, ["runs", "policies", "latest", "--db", str(db), "--format", "json"]).stdout
    )
    assert [(p["name"], p["region"], p["product"], p["acted"]) for p in policies] == [("reserve", "B", "Y_ox", False)]
    out = tmp_path / "export"
    assert runner.invoke(app, ["runs", "export", "latest", "--out", str(out), "--db", str(db)]).exit_code == 0
    exported = pd.read_csv(out / "flags.csv")
    assert list(exported["kind"]) == ["price_floor", "balance_residual", "policy_inactive"]
    assert len(pd.read_csv(out / "policies.csv")) == 1


def test_api_summary_flags_and_results_page(stored):
    folder, db, _, _ = stored
    with TestClient(create_app(ServerConfig(db=db, world=folder))) as client:
        body = client.get("/api/runs/latest/summary").json()
        assert body["records"] and body["total"] == len(body["records"])
        assert [f["kind"] for f in body["flags"]] == ["price_floor", "balance_residual", "policy_inactive"]
        assert body["flags"][0]["message"].startswith("Y_ox in A at 0.00 USD/kg")
        assert body["policies"][0]["name"] == "reserve" and body["policies"][0]["acted"] is False
        page = client.get("/api/runs/latest/flags").json()
        assert page["total"] == 3 and page["records"] == body["flags"]
        csv = pd.read_csv(io.StringIO(client.get("/api/runs/latest/flags", params={"fmt": "csv"}).text))
        assert list(csv["kind"]) == ["price_floor", "balance_residual", "policy_inactive"]
        detail = client.get("/api/runs/latest").json()
        assert detail["flags"] == body["flags"] and detail["policies"] == body["policies"]
        run_id = body["records"][0]["run_id"]
        html = client.get(f"/runs/{run_id}").text
        assert "Plausibility flags" in html and "Y_ox in A at 0.00 USD/kg" in html
        assert 'id="policies-table"' in html and "reserve" in html
