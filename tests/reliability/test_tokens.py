"""Issue 11, defect 5: a token of one space was accepted for a public bind, with no minimum length and no
slow-down after wrong tokens."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from critmin.server.app import create_app
from critmin.server.config import MIN_TOKEN_LENGTH, InsecureBindError, ServerConfig, check_bind
from critmin.server.security import FailedAttempts

GOOD = "a-token-of-24-characters"


@pytest.mark.parametrize("token", [None, "", " ", " " * 20, "x" * (MIN_TOKEN_LENGTH - 1), " short-token "])
def test_public_binds_refuse_missing_blank_and_short_tokens(token):
    with pytest.raises(InsecureBindError):
        check_bind("0.0.0.0", token)


def test_public_binds_accept_a_long_token_and_loopback_needs_none():
    check_bind("0.0.0.0", "x" * MIN_TOKEN_LENGTH)
    check_bind("127.0.0.1", None)


def test_each_wrong_token_waits_twice_as_long_up_to_a_ceiling_and_a_right_one_clears_it():
    attempts = FailedAttempts(first_delay=0.25, max_delay=2.0)
    assert [attempts.failed("10.0.0.1") for _ in range(6)] == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]
    assert attempts.failed("10.0.0.2") == 0.25  # per client
    attempts.succeeded("10.0.0.1")
    assert attempts.failed("10.0.0.1") == 0.25


def test_the_api_and_the_sign_in_form_slow_down_wrong_tokens(tmp_path):
    config = ServerConfig(db=tmp_path / "t.duckdb", token=GOOD, wrong_token_delay_s=0.05)
    with TestClient(create_app(config)) as client:
        wrong = {"Authorization": "Bearer wrong-token-guess"}
        assert client.get("/api/health", headers=wrong).status_code == 401  # the first wrong guess
        started = time.monotonic()
        statuses = [client.get("/api/runs", headers=wrong).status_code for _ in range(2)]
        statuses.append(client.post("/login", data={"token": "another-guess"}).status_code)
        waited = time.monotonic() - started
        assert statuses == [401, 401, 401]
        assert waited >= 0.05 + 0.1 + 0.2  # the 2nd, 3rd and 4th wrong guess of this client (or later ones)
        assert client.get("/api/runs", headers={"Authorization": f"Bearer {GOOD}"}).status_code == 200
