import os
from pathlib import Path

import pytest

from critmin.world import World
from critmin.world.flows import element_flows

REPO = Path(__file__).resolve().parents[1]
FACTS = REPO.parent / "shared" / "data" / "facts"


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
def flows(bundled):
    return element_flows(bundled)


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
