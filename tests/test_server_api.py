"""The REST API against a real app, store and solver: answers agree with the Python API, errors carry field
paths, bounds hold, and runs go through the job queue into the store."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from critmin import api
from critmin.server import ServerConfig, create_app
from critmin.server.security import CONTENT_SECURITY_POLICY
from server_support import job_events, short_flagship, wait_for_job


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    db = tmp_path_factory.mktemp("api") / "critmin.duckdb"
    with TestClient(create_app(ServerConfig(db=db))) as c:
        yield c


@pytest.fixture(scope="module")
def short_run(client) -> dict:
    response = client.post("/api/jobs", json={"yaml": short_flagship()})
    assert response.status_code == 202, response.text
    job = wait_for_job(client, response.json()["job_id"])
    assert job["status"] == "done", job
    return job


def test_health_and_security_headers(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "unsafe-eval" not in CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert client.get("/").headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_world_endpoints_carry_sources_and_units(client, bundled):
    regions = client.get("/api/world/regions").json()
    assert {r["id"] for r in regions["records"]} == set(bundled.table("region")["id"])
    capacities = client.get("/api/world/capacities", params={"region": "CHN"}).json()["records"]
    assert capacities and all(r["region"] == "CHN" and r["source"] and r["unit"] for r in capacities)
    assert all("_file" not in r for r in capacities)
    csv = client.get("/api/world/flows", params={"product": "Dy_oxide", "fmt": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    frame = pd.read_csv(io.StringIO(csv.text))
    expected = bundled.table("trade_flow").query("product == 'Dy_oxide'")
    assert len(frame) == len(expected) and frame["quantity"].sum() == pytest.approx(expected["quantity"].sum())
    sources = client.get("/api/world/sources").json()
    assert sources["total"] == len(bundled.table("source"))


def test_indicators_and_exposure_match_the_python_api(client, bundled):
    got = client.get("/api/indicators", params={"indicator": "hhi", "element": "Dy"}).json()["records"]
    want = api.indicators(bundled, indicator="hhi", element="Dy")
    assert {(r["stage"], round(r["value"], 9)) for r in got} == {
        (s, round(v, 9)) for s, v in zip(want["stage"], want["value"], strict=True)
    }
    exposure = client.get("/api/exposure", params={"region": "JPN", "element": "Dy"}).json()["records"]
    frame = pd.DataFrame(exposure)
    expected = api.exposure(bundled, region="JPN", element="Dy")
    pd.testing.assert_frame_equal(frame, expected, check_dtype=False)
    # at each origin stage the shares cannot exceed all of the intake
    assert (frame.groupby("origin_stage")["share"].sum() <= 1 + 1e-9).all()


def test_supply_chain_links_conserve_element_content(client, flows):
    links = pd.DataFrame(client.get("/api/supply-chain/Dy").json()["records"])
    assert set(links["unit"]) == {"t REO/yr"}
    into = links.groupby("target_stage")["quantity"].sum()
    out = links.groupby("source_stage")["quantity"].sum()
    for stage in ("separation", "metal", "magnet"):  # no stage losses in the data: what comes in goes out
        assert into[stage] == pytest.approx(out[stage], rel=1e-6)
    use = flows.use.query("element == 'Dy'")["quantity"].sum()
    assert into["use"] == pytest.approx(use, rel=1e-6)
    assert (links.groupby("target_stage")["target_region"].nunique() <= 9).all()  # top 8 per stage plus Other


@pytest.mark.parametrize(
    ("url", "status", "loc"),
    [
        ("/api/exposure?region=XXX&element=Dy", 422, ["query", "region"]),
        ("/api/exposure?region=JPN", 422, ["query", "element"]),
        ("/api/indicators?element=..%2F..%2Fetc", 422, ["query", "element"]),
        ("/api/indicators?stage=use", 422, ["query", "stage"]),
        ("/api/supply-chain/Xx", 422, ["path", "element"]),
        ("/api/runs/..%2F..%2Fpyproject.toml", 404, ["path"]),  # the server decodes %2F: no such route
        ("/api/runs/..secret", 422, ["path", "run_id"]),
        ("/api/runs/no-such-run", 404, ["path", "run_id"]),
        ("/api/runs/compare?a=latest", 422, ["query", "b"]),
        ("/api/scenarios/no-such-scenario", 404, ["path", "name"]),
        ("/api/jobs/0123456789ab", 404, ["path", "job_id"]),
        ("/api/world/capacities?region=ZZZ", 422, ["query", "region"]),
    ],
)
def test_bad_requests_get_4xx_with_field_paths(client, url, status, loc):
    response = client.get(url)
    assert response.status_code == status, response.text
    assert any(d["loc"][: len(loc)] == loc for d in response.json()["detail"]), response.json()


def test_path_traversal_never_reads_files(client):
    for url in ("/static/../pyproject.toml", "/static/%2e%2e/%2e%2e/pyproject.toml", "/static/vendor/..%2Fapp.py"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "[project]" not in response.text and "def create_app" not in response.text


def test_validate_reports_line_and_field(client):
    ok = client.post("/api/scenarios/validate", json={"yaml": short_flagship()})
    assert ok.status_code == 200 and ok.json()["months"] == 6
    bad_text = short_flagship().replace("start: 2025-01-01", "start: 2025-13-01", 1)
    line = next(i for i, t in enumerate(bad_text.splitlines(), 1) if t.startswith("start:"))
    bad = client.post("/api/scenarios/validate", json={"yaml": bad_text})
    assert bad.status_code == 422
    detail = bad.json()["detail"]
    assert any(d["loc"] == ["body", "yaml", "start"] and d["line"] == line for d in detail), detail
    unknown_region = short_flagship().replace("regions: [CHN]", "regions: [XYZ]", 1)
    unknown = client.post("/api/scenarios/validate", json={"yaml": unknown_region})
    assert unknown.status_code == 422 and "XYZ" in unknown.text
    assert client.post("/api/scenarios/validate", json={"yaml": "a: [1"}).status_code == 422
    assert client.post("/api/scenarios/validate", json={}).json()["detail"][0]["loc"] == ["body", "yaml"]


def test_oversized_bodies_are_refused(client):
    big = {"yaml": "x" * 300_000}
    assert client.post("/api/scenarios/validate", json=big).status_code == 413

    def chunks():  # no Content-Length: the streamed body is counted
        for _ in range(40):
            yield b"x" * 10_000

    assert client.post("/api/scenarios/validate", content=chunks()).status_code == 413


def test_run_job_stores_results_readable_as_json_and_csv(client, short_run):
    run_id = short_run["run_id"]
    assert short_run["done_steps"] == short_run["total_steps"] == 6
    body = client.get(f"/api/runs/{run_id}").json()
    assert body["run"]["scenario"] == "licensing-short" and body["run"]["steps"] == 6
    jpn_dy = next(r for r in body["summary"] if r["region"] == "JPN" and r["element"] == "Dy")
    assert jpn_dy["max_shortfall_pct"] > 0 or jpn_dy["peak_price_ratio"] > 1
    prices = client.get(
        f"/api/runs/{run_id}/tables/prices", params={"region": "JPN", "product": "Dy_oxide", "path": "scenario"}
    ).json()
    assert prices["total"] == 6 and all(r["price_usd_per_kg"] > 0 for r in prices["records"])
    page = client.get(f"/api/runs/{run_id}/tables/flows", params={"limit": 5, "offset": 5}).json()
    assert len(page["records"]) == 5 and page["total"] > 10
    csv = client.get(f"/api/runs/{run_id}/summary", params={"fmt": "csv"})
    assert pd.read_csv(io.StringIO(csv.text))["run_id"].eq(run_id).all()
    wrong = client.get(f"/api/runs/{run_id}/tables/prices", params={"sector": "wind"})
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"] == ["query", "sector"]
    listed = client.get("/api/runs").json()["records"]
    assert run_id in {r["run_id"] for r in listed}


def test_compare_two_runs(client, short_run):
    response = client.post("/api/jobs", json={"yaml": short_flagship("2025-05-31", "licensing-shorter")})
    other = wait_for_job(client, response.json()["job_id"])
    assert other["status"] == "done"
    rows = client.get("/api/runs/compare", params={"a": short_run["run_id"], "b": other["run_id"]}).json()["records"]
    row = next(r for r in rows if r["region"] == "JPN" and r["element"] == "Dy")
    assert row["run_a"] == short_run["run_id"] and row["run_b"] == other["run_id"]
    assert row["max_shortfall_pct_change"] == pytest.approx(row["max_shortfall_pct_b"] - row["max_shortfall_pct_a"])
    listed = {r["run_id"] for r in client.get("/api/runs").json()["records"]}  # the cached list was refreshed
    assert {short_run["run_id"], other["run_id"]} <= listed
    assert client.get("/api/runs/latest/summary").json()["records"][0]["run_id"] == other["run_id"]


def test_progress_streams_as_server_sent_events(client):
    job = client.post("/api/jobs", json={"yaml": short_flagship("2025-03-31", "licensing-sse")}).json()
    events = job_events(client, job["job_id"])
    assert events[-1] == "end" and events.count("end") == 1
    assert client.get(f"/api/jobs/{job['job_id']}").json()["status"] == "done"


def test_submit_needs_exactly_one_source_and_a_bundled_name(client):
    both = client.post("/api/jobs", json={"scenario": "baseline-2024", "yaml": "name: x"})
    assert both.status_code == 422
    neither = client.post("/api/jobs", json={})
    assert neither.status_code == 422
    path_like = client.post("/api/jobs", json={"scenario": "../scenarios/baseline-2024"})
    assert path_like.status_code == 422 and path_like.json()["detail"][0]["loc"] == ["body", "scenario"]
    missing = client.post("/api/jobs", json={"scenario": "no-such"})
    assert missing.status_code == 404


def test_cancel_time_limit_and_queue_bound(tmp_path):
    db = tmp_path / "jobs.duckdb"
    long_text = short_flagship("2026-12-31", "licensing-long")
    with TestClient(create_app(ServerConfig(db=db, max_pending_jobs=2, max_run_months=30))) as c:
        first = c.post("/api/jobs", json={"yaml": long_text}).json()
        second = c.post("/api/jobs", json={"yaml": long_text}).json()
        full = c.post("/api/jobs", json={"yaml": long_text})
        assert full.status_code == 429 and full.json()["detail"][0]["type"] == "queue_full"
        assert c.post(f"/api/jobs/{second['job_id']}/cancel").json()["status"] == "cancelled"  # still queued
        c.post(f"/api/jobs/{first['job_id']}/cancel")
        stopped = wait_for_job(c, first["job_id"])
        assert stopped["status"] == "cancelled" and stopped["run_id"] is None
        too_long = c.post("/api/jobs", json={"scenario": "china-2025-04-licensing"})  # 36 months > 30
        assert too_long.status_code == 422 and too_long.json()["detail"][0]["loc"] == ["body", "yaml", "end"]
        assert c.get("/api/runs").json()["total"] == 0  # nothing half-written
    with TestClient(create_app(ServerConfig(db=db, max_run_seconds=0.001))) as c:
        job = wait_for_job(c, c.post("/api/jobs", json={"yaml": short_flagship()}).json()["job_id"])
        assert job["status"] == "failed" and "run-time limit" in job["error"]


@pytest.mark.slow  # every dashboard page for every element (about 12 s): in `make test-slow`, which CI runs too
def test_every_page_renders_for_every_element(client, short_run):
    ctx = client.app.state.ctx
    for element in ctx.elements:
        assert client.get("/", params={"element": element}).status_code == 200, element
    elements = {r["element"] for r in client.get(f"/api/runs/{short_run['run_id']}/summary").json()["records"]}
    for element in sorted(elements):
        response = client.get(f"/runs/{short_run['run_id']}", params={"element": element})
        assert response.status_code == 200, element
    assert client.get("/exposure", params={"origin_region": "MMR", "origin_stage": "mine"}).status_code == 200
    assert client.get("/?element=Nope").status_code == 404
    assert client.get("/runs/no-such-run").status_code == 404
