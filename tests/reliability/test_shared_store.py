"""Issue 11, defect 6: while `critmin serve` ran, every CLI command on the same store failed on DuckDB's lock,
read-only ones too, and a finished `critmin run` lost its result. Now the server opens the store per request
and per stored run; the CLI's commands succeed meanwhile, and the dashboard lists the new run without a
restart."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from critmin.store import Store

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = """\
name: shared-store
start: 2025-01-01
end: 2025-03-31
shocks:
  - type: export_control
    exporter: {regions: [CHN]}
    elements: [Tb]
    mode: quota
    magnitude: 0.5
    start: 2025-02-01
"""


def critmin(*args: str, db: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "critmin.cli.main", *args, "--db", str(db)]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture
def served(tmp_path):
    db = tmp_path / "shared.duckdb"
    with Store(db) as store:
        store.world()  # loaded before the server starts, as `critmin data load` would
    with httpx.Client() as probe:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = subprocess.Popen(
            [sys.executable, "-m", "critmin.cli.main", "serve", "--port", str(port), "--db", str(db)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 300
            while True:
                try:
                    if probe.get(f"{url}/api/health", timeout=5).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
                time.sleep(0.2)
            yield db, url, tmp_path
        finally:
            server.terminate()
            server.wait(timeout=60)


def test_the_cli_works_on_the_store_a_running_server_uses(served):
    db, url, folder = served
    listed = critmin("runs", "list", "--format", "json", db=db)
    assert listed.returncode == 0, listed.stderr
    scenario = folder / "shared.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    ran = critmin("run", str(scenario), "--format", "json", db=db)
    assert ran.returncode == 0, ran.stderr
    exported = folder / "world"
    assert critmin("world", "export", str(exported), db=db).returncode == 0
    imported = critmin("world", "import", str(exported), db=db)
    assert imported.returncode == 0, imported.stderr
    runs = httpx.get(f"{url}/api/runs", timeout=60).json()
    assert any(r["scenario"] == "shared-store" for r in runs["records"]), runs  # no restart needed
    page = httpx.get(f"{url}/runs", timeout=60)
    assert page.status_code == 200 and "shared-store" in page.text
