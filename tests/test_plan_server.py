"""The plan REST API against a real app, store and solver: a small plan (3 scenarios, one yearly step, three
options) posted as YAML, run as a job polled to done (progress by phase), its record and every table read back
with units; the same plan posted again is found stored; 422s on bad plans (the problem's line and field), on a
risk model that is not bundled and over the scenario and horizon limits; 404s in the uniform error body."""

from __future__ import annotations

import io

import pandas as pd
import pytest
import yaml
from fastapi.testclient import TestClient

from critmin import api
from critmin.server import ServerConfig, create_app
from server_support import small_plan, wait_for_job

PLAN_JOBS = "/api/plans/jobs"
JOB_FIELDS = ["job_id", "plan", "status", "phase", "done_items", "total_items", "plan_id", "error", "submitted_at",
              "started_at", "finished_at", "wall_s"]  # fmt: skip


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    db = tmp_path_factory.mktemp("plan-api") / "critmin.duckdb"
    with TestClient(create_app(ServerConfig(db=db, max_plan_scenarios=5, max_run_months=24))) as c:
        yield c


@pytest.fixture(scope="module")
def planned(client) -> dict:
    """The small plan run through the job queue; its finished job."""
    response = client.post("/api/plans", json={"plan_yaml": small_plan()})
    assert response.status_code == 202, response.text
    job = response.json()
    assert list(job) == JOB_FIELDS
    assert job["status"] in ("queued", "running") and job["plan"] == "us-japan-2025" and job["plan_id"] is None
    done = wait_for_job(client, job["job_id"], prefix=PLAN_JOBS)
    assert done["status"] == "done", done
    assert done["plan_id"].startswith("us-japan-2025-") and done["wall_s"] > 0 and done["error"] is None
    assert done["phase"] == "storing" and done["done_items"] == done["total_items"] == 1
    return done


def test_a_small_plan_runs_as_a_job_and_is_stored(client, planned):
    pid = planned["plan_id"]
    listed = client.get("/api/plans").json()
    row = next(r for r in listed["records"] if r["plan_id"] == pid)
    assert row["scenarios"] == 3 and row["players"] and row["name"] == "us-japan-2025"
    assert listed["units"]["objective_musd"] == "MUSD" and listed["units"]["wall_s"] == "s"
    assert any(j["job_id"] == planned["job_id"] for j in client.get(PLAN_JOBS).json())
    # the risk-study and scenario-run jobs stay lists of their own
    assert all(j["job_id"] != planned["job_id"] for j in client.get("/api/risk/jobs").json())
    assert all(j["job_id"] != planned["job_id"] for j in client.get("/api/jobs").json())


def test_the_plan_reads_back_with_every_table_and_units(client, planned):
    pid = planned["plan_id"]
    answer = client.get(f"/api/plans/{pid}").json()
    info = answer["plan"]
    assert info["plan_id"] == pid and yaml.safe_load(info["plan_yaml"])["scenarios"] == 3
    assert info["risk_model"].endswith("china-controls.yaml")
    assert isinstance(info["superadditive"], bool) and isinstance(info["violations"], list)
    assert set(answer["tables"]) == set(api.PLAN_TABLES)
    assert answer["units"]["plan"]["evpi_musd"] == "MUSD"
    for table in api.PLAN_TABLES:
        assert set(answer["units"][table]) <= set(pd.DataFrame(answer["tables"][table]).columns) or not answer[
            "tables"
        ][table], table
    coalitions = pd.DataFrame(answer["tables"]["coalitions"]).set_index("coalition")
    joint = "+".join(sorted(info["players"].split("+")))
    assert coalitions.loc[joint, "objective_musd"] == pytest.approx(info["objective_musd"])
    shapley = pd.DataFrame(answer["tables"]["shapley"])
    assert shapley["shapley_musd"].sum() == pytest.approx(coalitions.loc[joint, "saving_musd"], abs=1e-6)
    frontier = pd.DataFrame(answer["tables"]["frontier"])
    assert info["risk_weight"] in set(frontier["risk_weight"]) and answer["units"]["frontier"]["cvar_musd"] == "MUSD"
    # the same as the store's own reading; a unique prefix and 'latest' find it too
    with api.Store(client.app.state.ctx.config.db) as store:
        assert api.plan_info(store, pid)["objective_musd"] == info["objective_musd"]
    assert client.get(f"/api/plans/{pid[:-3]}").json()["plan"]["plan_id"] == pid
    assert client.get("/api/plans/latest").json()["plan"]["plan_id"] == pid


@pytest.mark.parametrize("table", list(api.PLAN_TABLES))
def test_every_table_reads_back_as_json_and_csv(client, planned, table):
    pid = planned["plan_id"]
    page = client.get(f"/api/plans/{pid}/{table}").json()
    assert page["total"] == len(page["records"]) and page["offset"] == 0
    assert all(c in pd.DataFrame(page["records"]).columns for c in page["units"]) or not page["records"]
    csv = client.get(f"/api/plans/{pid}/{table}", params={"fmt": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    if page["total"]:
        assert len(pd.read_csv(io.StringIO(csv.text))) == page["total"]
    assert page["units"]  # every table has a column in MUSD at least


def test_the_scenarios_table_and_its_units(client, planned):
    page = client.get(f"/api/plans/{planned['plan_id']}/scenarios").json()
    assert page["total"] == 3 and page["units"]["probability"] == "probability (0-1)"
    assert sum(r["probability"] for r in page["records"]) == pytest.approx(1.0)
    one = client.get(f"/api/plans/{planned['plan_id']}/scenarios", params={"limit": 1, "offset": 1}).json()
    assert len(one["records"]) == 1 and one["total"] == 3 and one["records"][0] == page["records"][1]


def test_posting_the_same_plan_again_finds_it_stored(client, planned):
    job = client.post("/api/plans", json={"plan_yaml": small_plan()}).json()
    done = wait_for_job(client, job["job_id"], prefix=PLAN_JOBS)
    assert done["status"] == "done" and done["plan_id"] == planned["plan_id"] and done["phase"] == "stored", done


@pytest.mark.parametrize(
    ("url", "loc"),
    [
        ("/api/plans/no-such-plan", ["path", "plan_id"]),
        ("/api/plans/no-such-plan/portfolio", ["path", "plan_id"]),
        ("/api/plans/jobs/0123456789ab", ["path", "job_id"]),
    ],
)
def test_unknown_plans_and_jobs_are_404_in_the_uniform_body(client, url, loc):
    response = client.get(url)
    assert response.status_code == 404, response.text
    (entry,) = response.json()["detail"]
    assert entry["loc"] == loc and entry["msg"] and entry["type"] in ("not_found", "value_error"), entry
    assert client.delete(f"{PLAN_JOBS}/0123456789ab").status_code == 404


def test_an_unknown_table_is_422(client, planned):
    assert client.get(f"/api/plans/{planned['plan_id']}/prices").status_code == 422


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_a_bad_plan_is_422_with_its_line_and_field(client):
    text = small_plan().replace("region: JPN", "region: XXX", 1)
    response = client.post("/api/plans", json={"plan_yaml": text})
    assert response.status_code == 422, response.text
    (entry,) = response.json()["detail"]
    assert entry["line"] == line_of(text, "region: XXX") and entry["type"] == "plan_error", entry
    assert entry["field"].startswith("options[") and entry["field"].endswith("].region")
    assert "unknown region 'XXX'" in entry["msg"] and entry["loc"][:3] == ["body", "plan_yaml", "options"]
    # a schema problem and broken YAML
    bad = small_plan().replace("step_months: 12", "step_months: 5")
    entry = client.post("/api/plans", json={"plan_yaml": bad}).json()["detail"][0]
    assert entry["line"] == line_of(bad, "step_months: 5") and entry["field"] == "step_months", entry
    broken = client.post("/api/plans", json={"plan_yaml": "name: [x\n"})
    assert broken.status_code == 422 and "not valid YAML" in broken.json()["detail"][0]["msg"]


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"scenarios": 6}, "scenarios", "over this server's limit of 5"),
        ({"years": 3}, "years", "36 months is over this server's limit of 24"),
        ({"risk_model": "/etc/passwd"}, "risk_model", "not a bundled disruption model"),
        ({"risk_model": "../risks/no-such-model.yaml"}, "risk_model", "china-controls"),
    ],
    ids=["too-many-scenarios", "too-long", "not-bundled", "unknown-model"],
)
def test_limits_and_the_risk_model_are_enforced(client, changes, field, says):
    text = small_plan(**changes)
    response = client.post("/api/plans", json={"plan_yaml": text})
    assert response.status_code == 422, response.text
    (entry,) = response.json()["detail"]
    assert says in entry["msg"] and entry["field"] == field and entry["loc"] == ["body", "plan_yaml", field]
    assert entry["line"] == line_of(text, f"{field}:"), entry


def test_a_risk_model_named_by_its_bundled_path_is_accepted_and_bodies_are_checked(client):
    assert client.post("/api/plans", json={"plan_yaml": small_plan(), "colour": "red"}).status_code == 422
    assert client.post("/api/plans", json={}).status_code == 422
    # the bundled plan's own spelling (a path relative to plans/): queued, then cancelled before it costs anything
    job = client.post("/api/plans", json={"plan_yaml": small_plan(risk_model="../risks/china-controls.yaml",
                                                                  seed=2)})  # fmt: skip
    assert job.status_code == 202, job.text
    cancelled = client.delete(f"{PLAN_JOBS}/{job.json()['job_id']}").json()
    done = wait_for_job(client, cancelled["job_id"], prefix=PLAN_JOBS)
    assert done["status"] == "cancelled" and done["plan_id"] is None, done
