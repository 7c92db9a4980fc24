"""Issue 11, defect 12: unknown query parameters were ignored (`/api/runs/latest/summary?region=USA` returned
every row; `limit` was ignored on /api/world/flows and /api/exposure). They are refused with 422 naming the
parameter and what the endpoint takes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from critmin.server.app import create_app
from critmin.server.config import ServerConfig


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    db = tmp_path_factory.mktemp("query") / "q.duckdb"
    with TestClient(create_app(ServerConfig(db=db))) as c:
        yield c


@pytest.mark.parametrize(
    ("url", "unknown"),
    [
        ("/api/runs?region=USA", "region"),
        ("/api/world/flows?limit=5", "limit"),
        ("/api/exposure?region=JPN&element=Dy&limit=3", "limit"),
        ("/api/indicators?elemnt=Dy", "elemnt"),
    ],
)
def test_unknown_query_parameters_are_refused(client, url, unknown):
    response = client.get(url)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", unknown] and error["type"] == "unknown_parameter"
    assert f"unknown query parameter {unknown!r}" in error["msg"] and "this endpoint takes:" in error["msg"]


def test_declared_query_parameters_still_work(client):
    response = client.get("/api/indicators?element=Dy&fmt=json")
    assert response.status_code == 200 and {r["element"] for r in response.json()["records"]} == {"Dy"}
