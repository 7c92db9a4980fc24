"""Issue 11, defect 4: YAML nested 3,000 deep gave HTTP 500 with a 3,000-line traceback (the CLI said
"maximum recursion depth exceeded"), and {"yaml": "\\ud800"} gave 500. Depth and size are bounded and every
such input is refused with 422 (server) or a file:line message (CLI)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from critmin.cli.main import app
from critmin.scenario.load import MAX_DEPTH, MAX_SCENARIO_CHARS
from critmin.server.app import create_app
from critmin.server.config import ServerConfig

DEEP_FLOW = "name: deep\na: " + "[" * 3000 + "]" * 3000 + "\n"
LEVELS = MAX_DEPTH + 5
DEEP_BLOCK = "name: deep\n" + "".join("  " * i + f"k{i}:\n" for i in range(LEVELS)) + "  " * LEVELS + "x\n"
HUGE = "name: huge\n# " + "x" * MAX_SCENARIO_CHARS + "\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = tmp_path_factory.mktemp("hostile") / "s.duckdb"
    with TestClient(create_app(ServerConfig(db=db)), raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize("path", ["/api/jobs", "/api/scenarios/validate"])
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"yaml": "\\ud800"}', "valid string"),
        ('{"yaml": "name: x\\nnote: \\"\\ud800\\"\\n"}', "valid string"),
        (json.dumps({"yaml": DEEP_FLOW}), f"nested more than {MAX_DEPTH} levels deep"),
        (json.dumps({"yaml": DEEP_BLOCK}), f"nested more than {MAX_DEPTH} levels deep"),
    ],
    ids=["lone-surrogate", "surrogate-in-a-value", "deep-flow", "deep-block"],
)
def test_hostile_yaml_is_a_422_not_a_500(server, path, body, message):
    response = server.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert message in response.text
    assert "Traceback" not in response.text and len(response.text) < 5000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (DEEP_FLOW, f"nested more than {MAX_DEPTH} levels deep"),
        (DEEP_BLOCK, f"nested more than {MAX_DEPTH} levels deep"),
        (HUGE, "characters, over the"),
    ],
    ids=["deep-flow", "deep-block", "huge"],
)
def test_hostile_yaml_files_are_refused_by_the_cli(tmp_path, db, text, message):
    path = tmp_path / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(path), "--db", str(db)])
    assert result.exit_code == 1, result.output
    assert f"{path}" in result.output and message in result.output
    assert "Traceback" not in result.output and "recursion" not in result.output
