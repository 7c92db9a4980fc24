"""The risk REST API against a real app, store and solver: bundled models, a tiny study submitted as a job and
polled to done, every table of it read back (with units and filters), 404s in the uniform error body, and 422s
on bad bodies (the YAML's problems with their line)."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from critmin import api
from critmin.server import ServerConfig, create_app
from critmin.server.jobs import Job
from server_support import REPO, TINY_RISK_MODEL, TINY_STUDY, wait_for_job

RISK_JOBS = "/api/risk/jobs"
COLUMNS = {
    "measures": ["region", "element", "loss", "unit", "draws", "weight", "expected_loss", "prob_any_shortfall",
                 "var_95", "cvar_95", "var_99", "cvar_99"],
    "ranking": ["region", "element", "expected_cost", "unit", "share", "rank", "on_reference_list"],
    "fan": ["region", "element", "product", "date", "mean", "q05", "q25", "q50", "q75", "q95",
            "baseline_price_usd_per_kg"],
    "exceedance": ["region", "element", "loss", "level", "exceedance_prob"],
    "durations": ["region", "element", "column", "unit", "draws", "share_defined", "mean", "min", "q05", "q25",
                  "q50", "q75", "q95", "max"],
}  # fmt: skip


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    db = tmp_path_factory.mktemp("risk-api") / "critmin.duckdb"
    with TestClient(create_app(ServerConfig(db=db, max_risk_draws=1000, max_risk_workers=2))) as c:
        yield c


@pytest.fixture(scope="module")
def study(client) -> dict:
    """A tiny study (12 draws, the exact engine) run through the job queue; its finished job."""
    response = client.post("/api/risk/studies", json=TINY_STUDY)
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["status"] in ("queued", "running") and job["model"] == "tiny-ree" and job["total_draws"] == 12
    assert job["study_id"] is None
    done = wait_for_job(client, job["job_id"], prefix=RISK_JOBS)
    assert done["status"] == "done", done
    assert done["done_draws"] == done["total_draws"] == 12 and done["study_id"] and done["wall_s"] > 0
    return done


def test_bundled_models_are_listed_with_their_yaml(client, bundled):
    models = {m["id"]: m for m in client.get("/api/risk/models").json()}
    assert {"china-controls", "global-baseline"} <= set(models)
    for model_id, info in models.items():
        model = api.load_risk_model(REPO / "risks" / f"{model_id}.yaml", bundled)
        assert info["name"] == model.name and info["years"] == model.years
        assert info["events"] == len(model.events) and info["causes"] == len(model.causes)
    one = client.get("/api/risk/models/china-controls").json()
    assert one["yaml"] == (REPO / "risks" / "china-controls.yaml").read_text(encoding="utf-8")
    assert {e["id"] for e in one["event_list"]} >= {"china-ree-licensing", "china-japan-halt"}
    assert all(0 <= e["probability"] <= 1 for e in one["event_list"])
    missing = client.get("/api/risk/models/no-such-model")
    assert missing.status_code == 404
    assert missing.json()["detail"][0]["loc"] == ["path", "model_id"]


def test_a_tiny_study_runs_as_a_job_and_is_listed(client, study):
    sid = study["study_id"]
    listed = client.get("/api/risk/studies").json()
    row = next(r for r in listed["records"] if r["study_id"] == sid)
    assert row["model"] == "tiny-ree" and row["draws"] == 12 and row["seed"] == 7 and row["engine"] == "exact"
    assert listed["units"]["wall_s"] == "s"
    info = client.get(f"/api/risk/studies/{sid}").json()
    assert info["study"]["study_id"] == sid and info["study"]["draws"] == 12
    assert info["tables"] == list(COLUMNS)
    assert set(info["units"]) == set(COLUMNS)
    # a unique prefix finds the study too
    assert client.get(f"/api/risk/studies/{sid[:-2]}").json()["study"]["study_id"] == sid
    assert any(j["job_id"] == study["job_id"] for j in client.get(RISK_JOBS).json())
    # the scenario-run jobs stay a list of their own
    assert all(j["job_id"] != study["job_id"] for j in client.get("/api/jobs").json())


@pytest.mark.parametrize("table", list(COLUMNS))
def test_every_table_reads_back_with_units_and_filters(client, study, table):
    sid = study["study_id"]
    page = client.get(f"/api/risk/studies/{sid}/{table}").json()
    assert page["total"] == len(page["records"]) > 0
    frame = pd.DataFrame(page["records"])
    assert set(COLUMNS[table]) <= set(frame.columns)
    assert "unit" in frame.columns or "baseline_price_usd_per_kg" in frame.columns  # every table carries units
    assert page["units"] and all(c in frame.columns for c in page["units"])
    mine = client.get(f"/api/risk/studies/{sid}/{table}", params={"region": "JPN", "element": "Dy"}).json()
    assert mine["records"] and all(r["region"] == "JPN" and r["element"] == "Dy" for r in mine["records"])
    assert mine["total"] < page["total"]
    csv = client.get(f"/api/risk/studies/{sid}/{table}", params={"fmt": "csv", "region": "JPN"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert set(pd.read_csv(io.StringIO(csv.text))["region"]) == {"JPN"}


def test_japan_is_short_of_dysprosium_in_the_tiny_study(client, study):
    url = f"/api/risk/studies/{study['study_id']}"
    measures = pd.DataFrame(client.get(f"{url}/measures", params={"region": "JPN", "element": "Dy"}).json()["records"])
    pct = measures.set_index("loss").loc["shortfall_pct"]
    assert pct["unit"].startswith("%") and 0 < pct["prob_any_shortfall"] <= 1
    assert 0 < pct["expected_loss"] <= pct["cvar_95"] and pct["var_95"] <= pct["cvar_95"] <= pct["cvar_99"] + 1e-9
    exceedance = pd.DataFrame(
        client.get(f"{url}/exceedance", params={"region": "JPN", "element": "Dy"}).json()["records"]
    )
    curve = exceedance[exceedance["loss"] == "shortfall_pct"]
    assert set(curve["unit"]) == {pct["unit"]}
    assert curve["exceedance_prob"].is_monotonic_decreasing
    assert curve["exceedance_prob"].iloc[0] == pytest.approx(pct["prob_any_shortfall"])
    fan = pd.DataFrame(client.get(f"{url}/fan", params={"region": "JPN", "element": "Dy"}).json()["records"])
    assert len(fan) == 12  # one row per month of the one-year horizon
    assert ((fan["q05"] <= fan["q25"]) & (fan["q25"] <= fan["q50"]) & (fan["q50"] <= fan["q75"])).all()
    assert (fan["q75"] <= fan["q95"]).all() and (fan["baseline_price_usd_per_kg"] > 0).all()
    ranking = pd.DataFrame(client.get(f"{url}/ranking", params={"region": "JPN"}).json()["records"])
    assert ranking["rank"].tolist() == list(range(1, len(ranking) + 1)) and "Dy" in set(ranking["element"])


def test_compare_a_study_with_itself(client, study):
    sid = study["study_id"]
    page = client.get("/api/risk/compare", params={"a": sid, "b": sid}).json()
    frame = pd.DataFrame(page["records"])
    assert len(frame) and page["units"]
    changes = [c for c in frame.columns if c.endswith("_change")]
    assert changes and (frame[changes].fillna(0).abs() < 1e-12).all().all()


@pytest.mark.parametrize(
    ("url", "loc"),
    [
        ("/api/risk/studies/no-such-study", ["path", "study_id"]),
        ("/api/risk/studies/no-such-study/measures", ["path", "study_id"]),
        ("/api/risk/compare?a=no-such-study&b=no-such-study", ["query", "a"]),
        ("/api/risk/jobs/0123456789ab", ["path", "job_id"]),
    ],
)
def test_unknown_studies_and_jobs_are_404_in_the_uniform_body(client, url, loc):
    response = client.get(url)
    assert response.status_code == 404, response.text
    (entry,) = response.json()["detail"]
    assert entry["loc"] == loc and entry["msg"] and entry["type"] in ("not_found", "value_error"), entry
    assert client.delete("/api/risk/jobs/0123456789ab").status_code == 404


def test_a_screening_gives_morris_effects_of_the_probabilities(client, study):
    sid = study["study_id"]
    url = f"/api/risk/studies/{sid}/sensitivity"
    before = client.get(url, params={"region": "JPN", "element": "Dy"})
    assert before.status_code == 404 and "POST" in before.json()["detail"][0]["msg"]
    assert client.post(url, json={"draws": 4}).status_code == 422  # below the 8 a screening needs
    assert client.post("/api/risk/studies/no-such-study/sensitivity", json={}).status_code == 404
    job = client.post(url, json={"draws": 16, "engine": "exact", "chunk": 8})
    assert job.status_code == 202, job.text
    assert job.json()["kind"] == "sensitivity" and job.json()["study_id"] == sid
    done = wait_for_job(client, job.json()["job_id"], prefix=RISK_JOBS)
    assert done["status"] == "done" and done["done_draws"] == 16 and done["study_id"] == sid, done
    page = client.get(url, params={"region": "JPN", "element": "Dy"}).json()
    table = pd.DataFrame(page["records"])
    assert set(table["input"]) == {"ree-licensing", "japan-halt"}
    assert table["rank"].tolist() == [1, 2] and table["mu_star"].is_monotonic_decreasing
    assert (table["mu_star"] >= 0).all() and table["mu_star"].max() > 0 and (table["draws_with"] > 0).all()
    assert (table["low"] < table["probability"]).all() and (table["probability"] < table["high"]).all()
    assert page["units"]["mu_star"].startswith("% of baseline demand") and page["screening"]["draws"] == 16
    # another region and element reweight the same draws: no new job
    usa = client.get(url, params={"region": "USA", "element": "Tb", "trajectories": 4}).json()
    assert usa["records"] and {r["element"] for r in usa["records"]} == {"Tb"}
    assert len(client.get(RISK_JOBS).json()) == 2


def test_unknown_tables_filters_and_parameters_are_422(client, study):
    sid = study["study_id"]
    assert client.get(f"/api/risk/studies/{sid}/prices").status_code == 422
    bad_region = client.get(f"/api/risk/studies/{sid}/measures", params={"region": "XYZ"})
    assert bad_region.status_code == 422 and bad_region.json()["detail"][0]["loc"] == ["query", "region"]
    assert client.get(f"/api/risk/studies/{sid}/measures", params={"sector": "magnets"}).status_code == 422


def body(**changes) -> dict:
    return {**TINY_STUDY, **changes}


@pytest.mark.parametrize(
    ("payload", "loc", "says"),
    [
        (body(draws=0), ["body", "draws"], "greater than or equal to 1"),
        (body(draws=1001), ["body", "draws"], "limit of 1,000"),
        (body(workers=3), ["body", "workers"], "limit of 2"),
        (body(sampler="quasi"), ["body", "sampler"], "'mc'"),
        (body(engine="turbo"), ["body", "engine"], "'exact'"),
        (body(model="china-controls"), ["body"], "exactly one"),
        ({"draws": 10}, ["body"], "exactly one"),
        (body(seed=-1), ["body", "seed"], "greater than or equal to 0"),
        (body(colour="red"), ["body", "colour"], "Extra inputs"),
    ],
)
def test_bad_bodies_are_422_with_the_field(client, payload, loc, says):
    response = client.post("/api/risk/studies", json=payload)
    assert response.status_code == 422, response.text
    entry = response.json()["detail"][0]
    assert entry["loc"][: len(loc)] == loc and says in entry["msg"], entry


@pytest.mark.parametrize(
    ("text", "line", "field", "says"),
    [
        (TINY_RISK_MODEL.replace("probability: 0.7", "probability: 1.7"), 13, "events[0].probability", "less than"),
        (TINY_RISK_MODEL.replace("regions: [CHN]", "regions: [XYZ]"), 8, "events[0].exporter.regions[0]", "XYZ"),
        (TINY_RISK_MODEL.replace("lag_days: 30", "lag_days: [30"), None, None, "not valid YAML"),
        (TINY_RISK_MODEL.replace("years: 1", "years: 30"), None, None, "over this server's limit"),
    ],
    ids=["out-of-range", "unknown-region", "not-yaml", "too-long"],
)
def test_bad_model_yaml_is_422_with_its_line(client, text, line, field, says):
    response = client.post("/api/risk/studies", json=body(model_yaml=text))
    assert response.status_code == 422, response.text
    entry = response.json()["detail"][0]
    assert says in entry["msg"], entry
    if line is not None:
        assert entry["line"] == line and entry["field"] == field and entry["type"] == "risk_model_error", entry
        assert entry["loc"][:2] == ["body", "model_yaml"]
    if "not valid YAML" in says:
        assert entry["line"] is not None


def test_a_bundled_model_unknown_is_404(client):
    response = client.post("/api/risk/studies", json={"model": "no-such-model", "draws": 10})
    assert response.status_code == 404 and response.json()["detail"][0]["loc"] == ["path", "model_id"]


def test_cancel_and_time_limit(tmp_path):
    db = tmp_path / "critmin.duckdb"
    config = ServerConfig(db=db, max_risk_seconds=0.001)
    with TestClient(create_app(config)) as c:
        job = c.post("/api/risk/studies", json=body(draws=20, chunk=10)).json()
        done = wait_for_job(c, job["job_id"], prefix=RISK_JOBS)
        assert done["status"] == "failed" and "run-time limit" in done["error"], done
    with TestClient(create_app(ServerConfig(db=db))) as c:
        first = c.post("/api/risk/studies", json=body(draws=200, chunk=10)).json()
        second = c.post("/api/risk/studies", json=body(draws=200, chunk=10)).json()
        assert c.delete(f"{RISK_JOBS}/{second['job_id']}").json()["status"] == "cancelled"  # queued behind first
        cancelled = c.delete(f"{RISK_JOBS}/{first['job_id']}").json()
        assert cancelled["job_id"] == first["job_id"]
        done = wait_for_job(c, first["job_id"], prefix=RISK_JOBS)
        assert done["status"] == "cancelled" and done["study_id"] is None, done
        assert done["done_draws"] < 200
        studies = c.get("/api/risk/studies").json()["records"]
        assert [s for s in studies if s["status"] == "complete"] == []  # no tables stored (a row may say failed)


def test_scenario_jobs_keep_their_fields():
    """The scenario-run job JSON is a public interface: the generalised job manager leaves it as it was."""
    job = Job(job_id="0123456789ab", scenario="x")
    assert list(job.public()) == [
        "job_id", "scenario", "status", "done_steps", "total_steps", "run_id", "error", "submitted_at",
        "started_at", "finished_at", "wall_s",
    ]  # fmt: skip
