"""Issue 11, defect 1: a world folder of header-only CSVs was committed (the active world replaced by an empty
one) and then crashed the balance report; `world check` crashed too."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from critmin.cli.main import app
from critmin.store import Store, data_version

CORE = ("source.csv", "region.csv", "element.csv", "product.csv")


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def exported(tmp_path, db) -> Path:
    folder = tmp_path / "world"
    assert cli("world", "export", str(folder), "--db", str(db)).exit_code == 0
    return folder


def headers_only(folder: Path, keep: tuple[str, ...] = ()) -> None:
    for path in folder.glob("*.csv"):
        if path.name not in keep:
            path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")


def test_a_header_only_world_is_refused_and_the_store_keeps_its_world(exported, db):
    with Store(db) as store:
        before = data_version(store.world())
    headers_only(exported)
    result = cli("world", "import", str(exported), "--db", str(db))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    for name in CORE:
        assert f"{name}: no rows: a world needs at least one" in result.output
    with Store(db) as store:
        assert data_version(store.world()) == before
    assert cli("world", "check", "--db", str(db)).exit_code in (0, 1)


def test_a_world_of_core_tables_alone_imports_and_checks_without_a_traceback(exported, db):
    headers_only(exported, keep=CORE)
    imported = cli("world", "import", str(exported), "--db", str(db))
    assert imported.exit_code == 0, imported.output
    checked = cli("world", "check", "--db", str(db))
    assert checked.exception is None or isinstance(checked.exception, SystemExit), checked.output
    assert "Traceback" not in checked.output


def test_a_world_built_without_validation_is_checked_when_loaded_into_the_store(tmp_path, bundled):
    from critmin.world.model import World
    from critmin.world.problems import WorldValidationError

    empty_regions = {**bundled.tables, "region": bundled.tables["region"].iloc[0:0]}
    with Store(tmp_path / "unchecked.duckdb") as store:
        store.load(bundled, origin="bundled")
        before = data_version(store.world())
        with pytest.raises(WorldValidationError, match="no rows: a world needs at least one region"):
            store.load(World(empty_regions, validate=False), origin="test")
        assert data_version(store.world()) == before


def test_an_override_layer_s_problems_come_in_one_round(tmp_path):
    """Issue 11, defect 10 for override layers: a bad row, a duplicate key and a reference to an unknown region
    in one layer are all reported by one import, and nothing is written."""
    from critmin.world import World, WorldValidationError

    bundled = World.bundled()
    row = bundled.table("capacity").iloc[0]
    keep = f"{row['source']},2025,{row['unit']},assumption,"
    layer = tmp_path / "layer"
    layer.mkdir()
    (layer / "capacity.csv").write_text(
        "region,product,capacity,source,year,unit,confidence,note\n"
        f"{row['region']},{row['product']},1,{keep}\n"
        f"{row['region']},{row['product']},2,{keep}\n"  # duplicate key
        f"{row['region']},{row['product']},not-a-number,{keep}\n"  # bad value
        f"ATLANTIS,{row['product']},5,{keep}\n",  # unknown region
        encoding="utf-8",
    )
    with Store(tmp_path / "s.duckdb") as store:
        store.world()
        with pytest.raises(WorldValidationError) as refused:
            store.import_folder(layer, override="all-at-once")
        messages = [str(p) for p in refused.value.problems]
        assert any("duplicate key" in m for m in messages), messages
        assert any(":4:" in m and "capacity" in m for m in messages), messages
        assert any("ATLANTIS" in m for m in messages), messages
        assert list(store.layers()["name"]) == ["base"]
