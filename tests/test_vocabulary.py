"""Issue 12, vocabularies declared once: critmin.vocabulary is the only place stages, processes, holders,
instruments and confidence levels are listed; the data schema and the scenario schema take them from it."""

from __future__ import annotations

import csv
import typing
from importlib import resources

import pytest

from critmin import vocabulary as V
from critmin.market.settings import MarketSettings
from critmin.scenario import schema as S
from critmin.schema import components


def schema_rows() -> list[dict[str, str]]:
    text = resources.files("critmin.data").joinpath("schema.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def test_the_data_schema_names_vocabularies_instead_of_repeating_them():
    named = [r for r in schema_rows() if r["allowed"].startswith("vocabulary:")]
    assert {r["allowed"] for r in named} >= {"vocabulary:stage", "vocabulary:process", "vocabulary:holder"}
    for row in named:
        owner = "production" if row["component"] == "_provenance" else row["component"]  # production has provenance
        attribute = components()[owner].attribute(row["attribute"])
        assert attribute.allowed == V.vocabulary(row["allowed"].removeprefix("vocabulary:"))
    spelled_out = {r["allowed"] for r in schema_rows() if "|" in r["allowed"]}
    for values in (V.STAGES, V.PROCESSES, V.HOLDERS, V.CONFIDENCE_LEVELS):
        assert "|".join(values) not in spelled_out


def test_the_scenario_and_market_schemas_use_the_same_types():
    stage = typing.get_args(S.Goods.model_fields["stages"].annotation)[0]
    assert stage is V.Stage
    process = typing.get_args(S.Outage.model_fields["processes"].annotation)[0]
    assert process is V.Process
    assert S.Project.model_fields["instrument"].annotation is V.Instrument
    assert typing.get_args(MarketSettings.model_fields["supply_elasticity"].annotation)[0] is V.Process


def test_an_unknown_vocabulary_is_refused_by_name():
    with pytest.raises(KeyError, match="no vocabulary 'colour'"):
        V.vocabulary("colour")
