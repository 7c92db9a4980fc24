"""schemathesis fuzzes every operation of the OpenAPI spec: no input may produce a 5xx."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from critmin.server import ServerConfig, create_app

# Bounds kept small so a fuzzed scenario that happens to be valid cannot tie the worker up.
_DB = Path(tempfile.mkdtemp(prefix="critmin-fuzz-")) / "critmin.duckdb"
app = create_app(ServerConfig(db=_DB, max_run_seconds=5, max_run_months=3, max_risk_seconds=5, max_risk_workers=1))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)
UNTIMED = {"deadline": None, "suppress_health_check": list(HealthCheck)}


# every operation with a small budget in every run; the full budget below runs with --slow (make test-slow)
@schema.parametrize()
@settings(max_examples=10, **UNTIMED)
def test_no_server_errors(case):
    case.call_and_validate(checks=[not_a_server_error])


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=40, **UNTIMED)
def test_no_server_errors_full(case):
    case.call_and_validate(checks=[not_a_server_error])


def teardown_module():
    app.state.ctx.close()
