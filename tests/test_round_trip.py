"""World folders round-trip exactly: through files, and through the DuckDB store."""

import pytest

from critmin.store import Store, StoreSchemaError, data_version
from critmin.testing import assert_world_equal, tiny_world
from critmin.world import World, WorldValidationError
from critmin.world.model import bundled_folder


def file_texts(folder):
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.csv"))}


def test_bundled_world_export_is_byte_identical(tmp_path, bundled):
    bundled.to_folder(tmp_path)
    assert file_texts(tmp_path) == file_texts(bundled_folder())


def test_import_then_export_through_the_store_is_byte_identical(tmp_path, bundled, db):
    source = tmp_path / "in"
    bundled.to_folder(source)
    with Store(db) as store:
        store.import_folder(source)
        store.active_world().to_folder(tmp_path / "out")
    assert file_texts(tmp_path / "out") == file_texts(source)


def test_awkward_values_round_trip(tmp_path, db):
    world = tiny_world(
        ["AAA", "BBB"],
        [{"id": "x_oxide", "stage": "separation", "element": "Dy", "unit": "t REO"}],
        production=[
            {"region": "AAA", "product": "x_oxide", "quantity": 1e-7, "note": 'quotes " and, commas\nand a newline'}
        ],
        capacity=[{"region": "BBB", "product": "x_oxide", "capacity": 123456789.123456789}],
        price=[
            {
                "material": "Dy oxide",
                "period": "2024",
                "price_low": 0.1 + 0.2,
                "price_high": 1.0,
                "unit": "USD/kg",
                "element": "Dy",
            }
        ],
    )
    world.to_folder(tmp_path / "a")
    with Store(db) as store:
        store.import_folder(tmp_path / "a")
        again = store.active_world()
    assert_world_equal(world, again)
    assert data_version(world) == data_version(again)
    again.to_folder(tmp_path / "b")
    assert file_texts(tmp_path / "a") == file_texts(tmp_path / "b")


def test_override_layer_replaces_by_key_and_appends(tmp_path, db, bundled):
    layer = tmp_path / "override"
    layer.mkdir()
    original = bundled.table("capacity").iloc[0]
    (layer / "capacity.csv").write_text(
        "region,product,capacity,source,year,unit,confidence,note\n"
        f"{original['region']},{original['product']},1,{original['source']},2025,{original['unit']},assumption,mine\n"
        f"THA,NdFeB_free,777,{original['source']},2025,t/yr,assumption,new plant\n",
        encoding="utf-8",
    )
    with Store(db) as store:
        store.world()
        store.import_folder(layer, override="scenario-a")
        capacity = store.active_world().table("capacity")
        assert len(capacity) == len(bundled.table("capacity")) + 1
        first = capacity.iloc[0]
        assert (first["region"], first["product"], first["capacity"]) == (original["region"], original["product"], 1)
        assert capacity.iloc[-1]["capacity"] == 777
        assert list(store.layers()["name"]) == ["base", "scenario-a"]
        store.drop_layer("scenario-a")
        assert_world_equal(store.active_world(), bundled)


def test_loading_a_world_replaces_overrides(tmp_path, db, bundled):
    layer = tmp_path / "override"
    layer.mkdir()
    (layer / "stock.csv").write_text((bundled_folder() / "stock.csv").read_text(encoding="utf-8"), encoding="utf-8")
    with Store(db) as store:
        store.load(bundled, origin="bundled")
        store.import_folder(layer, override="same-stocks")
        assert list(store.layers()["name"]) == ["base", "same-stocks"]
        store.load(World.bundled(), origin="again")
        assert list(store.layers()["name"]) == ["base"]


def _capacity_layer(folder, rows):
    folder.mkdir()
    header = "region,product,capacity,source,year,unit,confidence,note\n"
    (folder / "capacity.csv").write_text(header + "".join(f"{r}\n" for r in rows), encoding="utf-8")
    return folder


def test_override_names_are_ids(tmp_path, db):
    layer = _capacity_layer(tmp_path / "l", [])
    with Store(db) as store:
        store.world()
        for bad in ("", "base", "../up", "a b"):
            with pytest.raises(ValueError):
                store.import_folder(layer, override=bad)


def test_duplicate_keys_inside_an_override_are_reported(tmp_path, db, bundled):
    row = bundled.table("capacity").iloc[0]
    line = f"{row['region']},{row['product']},1,{row['source']},2025,{row['unit']},assumption,"
    layer = _capacity_layer(tmp_path / "l", [line, line.replace(",1,", ",2,")])
    with Store(db) as store:
        store.world()
        with pytest.raises(WorldValidationError, match="duplicate key"):
            store.import_folder(layer, override="dups")
        assert list(store.layers()["name"]) == ["base"]


def test_dropping_a_layer_that_others_need_is_refused(tmp_path, db, bundled):
    source = bundled.table("source")["id"].iloc[0]
    products = tmp_path / "products"
    products.mkdir()
    (products / "product.csv").write_text(
        "id,name,stage,form,element,source,year,unit,confidence,note\n"
        f"SmCo,SmCo magnets,magnet,magnet,,{source},2024,t,assumption,\n",
        encoding="utf-8",
    )
    capacity = _capacity_layer(tmp_path / "cap", [f"JPN,SmCo,100,{source},2024,t/yr,assumption,"])
    with Store(db) as store:
        store.world()
        store.import_folder(products, override="smco-product")
        store.import_folder(capacity, override="smco-capacity")
        with pytest.raises(WorldValidationError, match="unknown product 'SmCo'"):
            store.drop_layer("smco-product")
        assert list(store.layers()["name"]) == ["base", "smco-product", "smco-capacity"]
        store.drop_layer("smco-capacity")
        store.drop_layer("smco-product")
        assert_world_equal(store.active_world(), bundled)


def test_a_store_from_another_schema_asks_for_a_rebuild(db, bundled):
    with Store(db) as store:
        store.load(bundled, origin="bundled")
        store.con.execute("UPDATE meta SET value = 'older' WHERE key = 'schema_version'")
    with pytest.raises(StoreSchemaError, match="critmin data load"):
        Store(db)
    with Store(db, rebuild=True) as store:
        assert store.is_empty()
        store.load(bundled, origin="bundled")
        assert_world_equal(store.active_world(), bundled)
