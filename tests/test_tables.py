"""CSV parsing and lossless writing of single tables."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from critmin.schema import component
from critmin.world.tables import format_value, parse_csv, to_csv_text

CAPACITY = component("capacity")
HEADER = "region,product,capacity,source,year,unit,confidence,note\n"


def parse(text, comp=CAPACITY):
    return parse_csv(comp, text, "capacity.csv")


def test_parses_types_and_lines():
    frame, problems = parse(HEADER + 'USA,NdFeB_gbd,1000.5,s,2024,t/yr,assumption,"a, quoted note"\n')
    assert problems == []
    assert frame["capacity"].iloc[0] == 1000.5
    assert frame["year"].iloc[0] == 2024
    assert frame["note"].iloc[0] == "a, quoted note"
    assert frame["_line"].iloc[0] == 2


def test_line_numbers_count_multiline_fields():
    text = HEADER + 'USA,NdFeB_gbd,1,s,2024,t/yr,assumption,"two\nlines"\nJPN,NdFeB_gbd,-1,s,2024,t/yr,assumption,\n'
    _, problems = parse(text)
    assert [(p.line, p.column) for p in problems] == [(4, "capacity")]


@pytest.mark.parametrize(
    ("value", "text"),
    [(45000.0, "45000"), (0.1, "0.1"), (1e-07, "1e-07"), (123456.789, "123456.789"), (None, ""), (float("nan"), "")],
)
def test_format_value(value, text):
    assert format_value(CAPACITY.attribute("capacity"), value) == text


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=0, max_value=1e12))
def test_float_round_trip_is_exact(number):
    row = f"USA,NdFeB_gbd,{format_value(CAPACITY.attribute('capacity'), number)},s,2024,t/yr,assumption,\n"
    frame, problems = parse(HEADER + row)
    assert problems == []
    assert frame["capacity"].iloc[0] == number
    assert to_csv_text(CAPACITY, frame) == HEADER + row


def test_default_fills_empty_optional():
    demand = component("demand")
    text = "region,sector,product,quantity,source,year,unit,confidence\nUSA,wind,NdFeB_hree,10,s,2024,t/yr,assumption\n"
    frame, problems = parse_csv(demand, text, "demand.csv")
    assert problems == []
    assert frame["elasticity"].iloc[0] == -0.1 and frame["growth_pct"].iloc[0] == 0
    assert frame["note"].iloc[0] is None or (
        isinstance(frame["note"].iloc[0], float) and math.isnan(frame["note"].iloc[0])
    )
