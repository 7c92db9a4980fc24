"""schemathesis fuzzes every operation of the OpenAPI spec: no input may produce a 5xx."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from critmin.server import ServerConfig, create_app

# Bounds kept small so a fuzzed scenario that happens to be valid cannot tie the worker up.
_DB = Path(tempfile.mkdtemp(prefix="critmin-fuzz-")) / "critmin.duckdb"
app = create_app(ServerConfig(db=_DB, max_run_seconds=5, max_run_months=3))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case):
    case.call_and_validate(checks=[not_a_server_error])


def teardown_module():
    app.state.ctx.close()
