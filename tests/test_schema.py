"""The schema tables drive validation, DuckDB tables and docs/data.md."""

import duckdb

from conftest import REPO
from critmin.schema import CONFIDENCE_LEVELS, component, components, render_markdown

EXPECTED = {
    "region",
    "product",
    "recipe",
    "capacity",
    "supply_curve",
    "demand",
    "trade_cost",
    "stock",
    "project",
    "policy_event",
    "price",
    "source",
}


def test_every_issue_component_is_declared():
    assert set(components()) >= EXPECTED


def test_every_data_component_carries_provenance():
    for comp in components().values():
        if comp.name == "source":
            assert not comp.provenance
            continue
        assert {"source", "year", "unit", "confidence"} <= set(comp.columns), comp.name
        assert comp.attribute("confidence").allowed == CONFIDENCE_LEVELS
        assert comp.key, f"{comp.name} declares no key"


def test_attributes_have_type_and_description():
    for comp in components().values():
        for attr in comp.attributes:
            assert attr.type in {"str", "int", "float", "bool", "date"}
            assert attr.description, f"{comp.name}.{attr.name} lacks a description"


def test_ddl_creates_every_column_in_duckdb():
    con = duckdb.connect()
    for comp in components().values():
        con.execute(comp.ddl(f"t_{comp.name}"))
        columns = [row[0] for row in con.execute(f"DESCRIBE t_{comp.name}").fetchall()]
        assert columns == comp.columns
    types = {row[0]: row[1] for row in con.execute("DESCRIBE t_capacity").fetchall()}
    assert types["capacity"] == "DOUBLE" and types["year"] == "BIGINT" and types["region"] == "VARCHAR"


def test_docs_data_md_is_generated_from_the_schema():
    assert (REPO / "docs" / "data.md").read_text(encoding="utf-8") == render_markdown(), (
        "docs/data.md is stale: run `make docs`"
    )


def test_references_point_at_declared_attributes():
    for comp in components().values():
        for attr in comp.attributes:
            if attr.references:
                target, column = attr.references.split(".")
                assert column in component(target).columns
