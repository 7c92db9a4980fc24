"""Helpers for the server tests: a short scenario, a tiny risk model, a small plan, a live uvicorn server on a
free port, job polling."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import uvicorn
import yaml

REPO = Path(__file__).resolve().parents[1]
FLAGSHIP = REPO / "scenarios" / "china-2025-04-licensing.yaml"

# Waits end as soon as what they wait for happens; these limits only turn a hang into a failure. They are
# far above what a busy 2-core machine needs (a short run takes seconds, the full flagship well under a
# minute), so a slow machine never fails a test that is right.
PATIENCE_S = 600.0  # a run to finish (or be cancelled), a stream of its events to end
STARTUP_S = 120.0  # the test server to start listening


def short_flagship(months_end: str = "2025-06-30", name: str = "licensing-short") -> str:
    """The flagship scenario cut to a few months (a quick run that still has the April 2025 controls)."""
    text = FLAGSHIP.read_text(encoding="utf-8")
    return text.replace("end: 2027-12-31", f"end: {months_end}", 1).replace(
        "name: china-2025-04-licensing", f"name: {name}", 1
    )


# A disruption model small enough for a study of a few draws to run in seconds: a likely licensing episode of
# China's Dy and Tb exports (most draws have it, so Japan is short of Dy in most draws) and a short halt of its
# Dy and Tb shipments to Japan (two probabilities, so that a sensitivity screening has two inputs).
TINY_RISK_MODEL = """\
name: tiny-ree
description: A likely Chinese licensing episode for Dy and Tb (a test model).
start: 2026-01-01
years: 1
events:
  - id: ree-licensing
    type: export_control
    exporter: {regions: [CHN]}
    elements: [Dy, Tb]
    stages: [separation, metal, magnet]
    mode: licence
    lag_days: 30
    probability: 0.7
    start: {dist: uniform, low: 0, high: 3}
    duration: {dist: uniform, low: 3, high: 9}
    severity: {dist: uniform, low: 0.3, high: 0.9}
    source: a test
    reasoning: a test
    confidence: assumption
  - id: japan-halt
    type: export_control
    exporter: {regions: [CHN]}
    destinations: {regions: [JPN]}
    elements: [Dy, Tb]
    mode: ban
    probability: 0.3
    start: {dist: uniform, low: 0, high: 6}
    duration: {dist: uniform, low: 1, high: 3}
    severity: {dist: fixed, value: 1}
    source: a test
    reasoning: a test
    confidence: assumption
"""
# a tiny study: the exact engine, in-process, in two chunks
TINY_STUDY = {"model_yaml": TINY_RISK_MODEL, "draws": 12, "seed": 7, "engine": "exact", "workers": 1, "chunk": 6}


SMALL_PLAN_OPTIONS = ("us-magnet-recycling", "usa-dy-stock", "jpn-dy-stock")


def small_plan(**changes) -> str:
    """plans/us-japan-2025.yaml cut down as tests/test_plan_cli.py cuts it (3 scenarios, one yearly step, two
    stockpiles of different owners and one recycling project: seconds to run), its risk model named as a posted
    plan names it (the bundled model's id)."""
    plan = yaml.safe_load((REPO / "plans" / "us-japan-2025.yaml").read_text(encoding="utf-8"))
    plan.update(scenarios=3, years=1, step_months=12, risk_model="china-controls")
    plan["options"] = [o for o in plan["options"] if o["id"] in SMALL_PLAN_OPTIONS]
    plan.update(changes)
    return yaml.safe_dump(plan, sort_keys=False)


def wait_for_job(client, job_id: str, timeout: float = PATIENCE_S, prefix: str = "/api/jobs") -> dict:
    """Poll a job until it is done, failed or cancelled (``client``: a TestClient or an httpx.Client); risk
    study jobs with ``prefix="/api/risk/jobs"``."""
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"{prefix}/{job_id}").json()
        if job["status"] in ("done", "failed", "cancelled"):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job['status']} after {timeout} s")
        time.sleep(0.2)


def job_events(client, job_id: str, timeout: float = PATIENCE_S) -> list[str]:
    """The names of a job's server-sent events, read until its ``end`` event. The stream sends nothing while
    a run makes no progress, so it is read in a thread: a run that never ends fails after ``timeout`` s
    instead of hanging the test session."""
    events: list[str] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            with client.stream("GET", f"/api/jobs/{job_id}/events") as stream:
                for line in stream.iter_lines():
                    if line.startswith("event: "):
                        events.append(line.removeprefix("event: "))
                    if events and events[-1] == "end":
                        break
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    if reader.is_alive():
        raise AssertionError(f"no end event for job {job_id} after {timeout} s; got {events}")
    if errors:
        raise errors[0]
    return events


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """uvicorn serving ``app`` on loopback in a background thread."""

    def __init__(self, app):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + STARTUP_S
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def small_deal(**changes) -> str:
    """deals/us-japan-2025.yaml on :func:`small_plan` (posted with it as plan_yaml): a Dy stock of each side (3
    modules for Japan, 2 for the USA); ``plan`` names a file that is not bundled, so the posted plan is used."""
    deal = yaml.safe_load((REPO / "deals" / "us-japan-2025.yaml").read_text(encoding="utf-8"))
    deal.update(plan="plan.yaml", measures=[{"option": "jpn-dy-stock", "modules": 3},
                                            {"option": "usa-dy-stock", "modules": 2}])  # fmt: skip
    deal.update(changes)
    return yaml.safe_dump(deal, sort_keys=False, default_flow_style=None)
