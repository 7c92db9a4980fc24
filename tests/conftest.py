from pathlib import Path

import pytest

from critmin.world import World
from critmin.world.flows import element_flows

REPO = Path(__file__).resolve().parents[1]
FACTS = REPO.parent / "shared" / "data" / "facts"


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
