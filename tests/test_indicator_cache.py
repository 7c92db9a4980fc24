"""`critmin indicators` keeps every record of the store's active world in the store: a second call answers
from it with the same output, and a world that is not the base layer alone is always computed."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from critmin import api, indicator_cache
from critmin.cli.main import app
from critmin.store import Store


def indicators(db, *args: str) -> list[dict]:
    result = CliRunner().invoke(app, ["indicators", "--db", str(db), "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def cached_rows(db) -> int:
    with Store(db) as store:
        store.con.execute(indicator_cache.DDL)
        return store.con.execute("SELECT count(*) FROM indicator_cache").fetchone()[0]


def test_the_second_call_answers_from_the_store_with_the_same_records(tmp_path, bundled):
    db = tmp_path / "cache.duckdb"
    first = indicators(db)
    assert cached_rows(db) == len(first) > 0
    with Store(db) as store:  # what the second call reads is what was computed
        assert indicator_cache.cached_indicators(store) is not None
    assert indicators(db) == first
    computed = api.indicators(bundled)
    assert len(first) == len(computed)
    assert first[:3] == [
        {k: (None if v != v else v) for k, v in row.items()} for row in computed.head(3).to_dict("records")
    ]  # NaN (no region) reads as null


def test_filtered_calls_are_computed_and_match_the_full_table(tmp_path):
    db = tmp_path / "filtered.duckdb"
    japan = indicators(db, "--region", "JPN", "--indicator", "import_reliance")
    assert cached_rows(db) == 0  # a filtered call stores nothing
    everything = indicators(db)
    assert japan == [r for r in everything if r["region"] == "JPN" and r["indicator"] == "import_reliance"]


def test_a_world_with_an_override_layer_is_never_served_from_the_cache(tmp_path, bundled):
    db = tmp_path / "override.duckdb"
    indicators(db)  # cached for the base world
    layer = tmp_path / "layer"
    layer.mkdir()
    row = bundled.table("production").iloc[0]
    (layer / "production.csv").write_text(
        "region,product,route,quantity,source,year,unit,confidence,note\n"
        f"{row['region']},{row['product']},{row['route']},{row['quantity'] * 2},{row['source']},2024,{row['unit']},"
        "assumption,doubled\n",
        encoding="utf-8",
    )
    with Store(db) as store:
        store.import_folder(layer, override="doubled")
        assert indicator_cache.base_version(store) is None
        assert indicator_cache.cached_indicators(store) is None
        changed = api.indicators(store.active_world(), indicator="production")
    served = [r for r in indicators(db) if r["indicator"] == "production"]
    assert [r["value"] for r in served] == list(changed["value"])
