"""Access control and the refusal to listen beyond loopback without a token."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from critmin.cli.main import app as cli
from critmin.server import ServerConfig, create_app
from critmin.server.config import InsecureBindError, check_bind
from critmin.server.security import TOKEN_COOKIE, tokens_match

TOKEN = "s3cret-token-for-tests"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    with TestClient(create_app(ServerConfig(db=tmp_path_factory.mktemp("sec") / "s.duckdb", token=TOKEN))) as c:
        yield c


def test_api_needs_the_token(guarded):
    assert guarded.get("/api/health").status_code == 401
    wrong = guarded.get("/api/health", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["detail"][0]["loc"] == ["header", "authorization"]
    assert guarded.get("/api/health", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert guarded.get(f"/api/health?token={TOKEN}").status_code == 401  # query strings end up in logs
    assert guarded.get("/openapi.json").status_code == 401


def test_pages_redirect_to_login_and_the_cookie_opens_them(guarded):
    guarded.cookies.clear()
    first = guarded.get("/", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/login"
    assert guarded.get("/login").status_code == 200
    assert guarded.post("/login", data={"token": "wrong"}, follow_redirects=False).status_code == 401
    ok = guarded.post("/login", data={"token": TOKEN}, follow_redirects=False)
    assert ok.status_code == 303
    cookie = ok.headers["set-cookie"]
    assert TOKEN_COOKIE in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert guarded.get("/", follow_redirects=False).status_code == 200
    guarded.cookies.clear()


def test_static_assets_stay_public(guarded):
    assert guarded.get("/static/app.css").status_code == 200


def test_token_comparison():
    assert tokens_match(TOKEN, TOKEN)
    assert not tokens_match(TOKEN[:-1], TOKEN)
    assert not tokens_match(None, TOKEN)
    assert not tokens_match("", TOKEN)


def test_config_repr_hides_the_token():
    assert TOKEN not in repr(ServerConfig(token=TOKEN))


def test_non_loopback_bind_needs_a_token(monkeypatch):
    check_bind("127.0.0.1", None)
    check_bind("0.0.0.0", TOKEN)
    with pytest.raises(InsecureBindError):
        check_bind("0.0.0.0", None)
    monkeypatch.delenv("CRITMIN_TOKEN", raising=False)
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--port", "1"])
    assert result.exit_code == 2
    assert "without a token" in result.output


def test_serve_help_names_the_defaults():
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    assert "127.0.0.1" in result.output and "8000" in result.output and "CRITMIN_TOKEN" in result.output
