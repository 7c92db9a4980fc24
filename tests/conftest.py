import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from critmin.world import World
from critmin.world.flows import element_flows

REPO = Path(__file__).resolve().parents[1]
FACTS = REPO.parent / "shared" / "data" / "facts"
SCENARIOS = REPO / "scenarios"

# Hypothesis: no wall-clock limits (a deadline or the too_slow health check fails a correct test on a busy
# machine). The default profile keeps budgets small for `make test`; --slow loads the `slow` profile, and the
# property tests' full budgets (tests/property_budget.py) run only then.
_UNTIMED = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("default", max_examples=10, **_UNTIMED)
settings.register_profile("slow", max_examples=100, **_UNTIMED)
SLOW_REASON = "slow: run with `pytest --slow -m slow` (or `make test-slow`)"


def pytest_addoption(parser):
    parser.addoption(
        "--slow",
        action="store_true",
        default=False,
        help="also run the tests marked slow (full hypothesis budgets); `-m slow` runs only those",
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long runs (full property-test budgets); skipped without --slow")
    settings.load_profile("slow" if config.getoption("--slow") else "default")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason=SLOW_REASON)
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _isolated_store(tmp_path_factory):
    """No test reads or writes the user's own store: commands without --db use a session store."""
    previous = os.environ.get("CRITMIN_DB")
    os.environ["CRITMIN_DB"] = str(tmp_path_factory.mktemp("store") / "critmin.duckdb")
    yield
    if previous is None:
        os.environ.pop("CRITMIN_DB", None)
    else:
        os.environ["CRITMIN_DB"] = previous


@pytest.fixture(scope="session")
def bundled() -> World:
    return World.bundled()


@pytest.fixture(scope="session")
def bundled_folder_copy(tmp_path_factory, bundled):
    """``copy(dest)``: the bundled world written out as CSV files at ``dest``. Written once per session,
    then copied (a copy of the same bytes ``bundled.to_folder(dest)`` writes)."""
    import shutil

    written = tmp_path_factory.mktemp("bundled-world") / "world"
    bundled.to_folder(written)

    def copy(dest: Path) -> Path:
        shutil.copytree(written, dest)
        return dest

    return copy


@pytest.fixture(scope="session")
def flows(bundled):
    return element_flows(bundled)


@pytest.fixture(scope="session")
def run_bundled(bundled):
    """``run_bundled(name)``: ``simulate`` of scenarios/NAME.yaml on the bundled world, run at most once per
    session. Every test that asks for the same scenario gets the same RunResult: read it, never change it."""
    from critmin.scenario import load_scenario
    from critmin.simulate.loop import simulate

    runs = {}

    def run(name: str):
        if name not in runs:
            runs[name] = simulate(bundled, load_scenario(SCENARIOS / f"{name}.yaml"))
        return runs[name]

    return run


@pytest.fixture
def db(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "critmin.duckdb"
    monkeypatch.setenv("CRITMIN_DB", str(path))
    return path


@pytest.fixture(scope="session")
def facts() -> Path:
    if not FACTS.is_dir():
        pytest.skip(f"facts folder {FACTS} not present")
    return FACTS
