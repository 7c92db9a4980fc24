"""Helpers for the server tests: a short scenario, a live uvicorn server on a free port, job polling."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import uvicorn

REPO = Path(__file__).resolve().parents[1]
FLAGSHIP = REPO / "scenarios" / "china-2025-04-licensing.yaml"


def short_flagship(months_end: str = "2025-06-30", name: str = "licensing-short") -> str:
    """The flagship scenario cut to a few months (a quick run that still has the April 2025 controls)."""
    text = FLAGSHIP.read_text(encoding="utf-8")
    return text.replace("end: 2027-12-31", f"end: {months_end}", 1).replace(
        "name: china-2025-04-licensing", f"name: {name}", 1
    )


def wait_for_job(client, job_id: str, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {job['status']} after {timeout} s")


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
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
