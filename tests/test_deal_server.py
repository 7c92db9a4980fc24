"""The trade and deal REST API against a real app: GET /api/trade on the bundled trade world (the deal's arcs
alone: Japan's cars from 27.5% to 15%), 422 on a bad date or country; a small deal posted with its small plan
(3 scenarios, one yearly step, the bundled risk model) run as a job polled to done, its result in the job (each
side's net = relief + security - cost); 422s on a deal whose plan is neither bundled nor posted, on a trade world,
on a posted plan whose risk model is not bundled, and on a measure the plan lacks."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from critmin.server import ServerConfig, create_app
from server_support import small_deal, small_plan, wait_for_job

DEAL_JOBS = "/api/deals/jobs"
JOB_FIELDS = ["job_id", "deal", "status", "phase", "done_items", "total_items", "result", "error", "submitted_at",
              "started_at", "finished_at", "wall_s"]  # fmt: skip
DEAL_DATES = {"date": "2025-10-01", "against": "2025-08-06"}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    db = tmp_path_factory.mktemp("deal-api") / "critmin.duckdb"
    with TestClient(create_app(ServerConfig(db=db, max_plan_scenarios=5, max_run_months=24))) as c:
        yield c


@pytest.fixture(scope="module")
def valued(client) -> dict:
    response = client.post("/api/deals", json={"deal_yaml": small_deal(), "plan_yaml": small_plan()})
    assert response.status_code == 202, response.text
    job = response.json()
    assert list(job) == JOB_FIELDS and job["deal"] == "us-japan-2025" and job["result"] is None
    done = wait_for_job(client, job["job_id"], prefix=DEAL_JOBS)
    assert done["status"] == "done", done
    assert done["error"] is None and done["wall_s"] > 0 and done["phase"] == "deal"
    assert done["done_items"] == done["total_items"] == 3
    return done


def test_trade_between_the_sides_moves_japans_cars_from_27_5_to_15_percent(client):
    response = client.get("/api/trade", params={**DEAL_DATES, "between": ["USA", "JPN"]})
    assert response.status_code == 200, response.text
    answer = response.json()
    head = answer["headline"]
    assert (head["importer"], head["exporter"], head["good"]) == ("USA", "JPN", "passenger_vehicles")
    assert (head["rate_before_pct"], head["rate_after_pct"]) == pytest.approx((27.5, 15.0))
    assert head["change_musd"] > 0 and answer["between"] == ["USA", "JPN"]
    assert (answer["date"], answer["against"]) == ("2025-10-01", "2025-08-06")
    assert answer["units"]["change_musd"] == "MUSD" and answer["units"]["world_price_pct"] == "%"
    # only the arcs between the sides change
    for f in answer["flows"]:
        if not {f["importer"], f["exporter"]} <= {"USA", "JPN"}:
            assert f["rate_before_pct"] == f["rate_after_pct"], f
    assert {w["country"] for w in answer["welfare"]} >= {"USA", "JPN"}
    for w in answer["welfare"]:
        parts = w["consumer_surplus_musd"] + w["producer_surplus_musd"] + w["revenue_musd"]
        assert w["total_musd"] == pytest.approx(parts, rel=1e-9, abs=1e-6)
    assert answer["prices"] and answer["revenue"]
    # every arc: more of them change
    everything = client.get("/api/trade", params=DEAL_DATES).json()
    assert everything["between"] is None
    assert sum(f["rate_before_pct"] != f["rate_after_pct"] for f in everything["flows"]) > sum(
        f["rate_before_pct"] != f["rate_after_pct"] for f in answer["flows"]
    )


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"date": "2025-13-01", "against": "2025-08-06"}, ["query", "date"]),
        ({"date": "2025-10-01", "against": "not-a-date"}, ["query", "against"]),
        ({**DEAL_DATES, "between": "XXX"}, ["query", "between"]),
        ({**DEAL_DATES, "colour": "red"}, ["query", "colour"]),
    ],
    ids=["bad-month", "not-a-date", "unknown-country", "unknown-parameter"],
)
def test_bad_trade_queries_are_422(client, params, loc):
    response = client.get("/api/trade", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == loc


def test_a_small_deal_runs_as_a_job_and_each_side_adds_up(client, valued):
    result = valued["result"]
    sides = {s["side"]: s for s in result["sides"]}
    assert list(sides) == ["USA", "JPN"]
    for s in sides.values():
        net = s["tariff_relief_musd_per_yr"] + s["security_expected_musd_per_yr"] - s["measures_cost_musd_per_yr"]
        assert s["net_musd_per_yr"] == pytest.approx(net, rel=1e-12)
        assert s["measures_cost_musd_per_yr"] > 0 and s["allied_purchases_musd_per_yr"] > 0
        assert s["break_even_premium_pct"] * s["allied_purchases_musd_per_yr"] / 100 == pytest.approx(
            s["net_musd_per_yr"], rel=1e-9)  # fmt: skip
    # the tariff relief is the trade welfare of the side's country, and the deal moved Japan's cars 27.5% -> 15%
    welfare = {w["country"]: w["total_musd"] for w in result["welfare"]}
    assert sides["JPN"]["tariff_relief_musd_per_yr"] == pytest.approx(welfare["JPN"])
    assert (result["headline"]["rate_before_pct"], result["headline"]["rate_after_pct"]) == pytest.approx((27.5, 15))
    assert all({f["importer"], f["exporter"]} <= {"USA", "JPN"} for f in result["flows"] if
               f["rate_before_pct"] != f["rate_after_pct"])  # fmt: skip
    # the distribution: five quantiles per side, non-decreasing; the scenarios' probabilities sum to 1
    for side in sides:
        q = [d["security_value_musd_per_yr"] for d in result["distribution"] if d["side"] == side]
        assert len(q) == 5 and np.all(np.diff(q) >= 0)
    assert sum(s["probability"] for s in result["scenarios"]) == pytest.approx(1.0)
    assert result["risk_model"] == "china-controls.yaml" and result["scenarios_count"] == 3
    assert result["units"]["net_musd_per_yr"] == "MUSD/yr" and result["units"]["break_even_premium_pct"] == "%"
    assert any(j["job_id"] == valued["job_id"] for j in client.get(DEAL_JOBS).json())
    assert all(j["job_id"] != valued["job_id"] for j in client.get("/api/plans/jobs").json())


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"deal_yaml": small_deal()}, "plan", "not a bundled plan"),
        ({"deal_yaml": small_deal(plan="/etc/passwd")}, "plan", "not a bundled plan"),
        (
            {"deal_yaml": small_deal(trade_world="/etc/trade.yaml"), "plan_yaml": small_plan()},
            "trade_world",
            "bundled trade world",
        ),
        (
            {"deal_yaml": small_deal(), "plan_yaml": small_plan(risk_model="/etc/passwd")},
            "risk_model",
            "not a bundled disruption model",
        ),
        ({"deal_yaml": small_deal(), "plan_yaml": small_plan(scenarios=6)}, "scenarios", "over this server's limit"),
        (
            {"deal_yaml": small_deal(measures=[{"option": "usa-tb-stock"}]), "plan_yaml": small_plan()},
            "measures.0.option",
            "unknown option 'usa-tb-stock'",
        ),
        ({"deal_yaml": small_deal(before="not-a-date"), "plan_yaml": small_plan()}, "before", "date"),
    ],
    ids=[
        "plan-not-bundled",
        "plan-a-path",
        "trade-world",
        "risk-model",
        "too-many-scenarios",
        "unknown-option",
        "bad-date",
    ],
)
def test_bad_deals_are_422(client, body, field, says):
    response = client.post("/api/deals", json=body)
    assert response.status_code == 422, response.text
    (entry,) = response.json()["detail"]
    assert says in entry["msg"] and entry["field"] == field, entry
    assert entry["line"] is not None or field == "measures.0.option", entry


def test_the_bundled_plan_by_its_path_is_accepted_and_a_job_cancels(client):
    job = client.post("/api/deals", json={"deal_yaml": small_deal(plan="../plans/us-japan-2025.yaml",
                                                                  measures=[{"option": "jpn-dy-stock"}])})  # fmt: skip
    assert job.status_code == 202, job.text
    cancelled = client.delete(f"{DEAL_JOBS}/{job.json()['job_id']}")
    assert cancelled.status_code == 200
    done = wait_for_job(client, job.json()["job_id"], prefix=DEAL_JOBS)
    assert done["status"] == "cancelled" and done["result"] is None, done
    assert client.get(f"{DEAL_JOBS}/0123456789ab").status_code == 404
    assert client.delete(f"{DEAL_JOBS}/0123456789ab").status_code == 404
