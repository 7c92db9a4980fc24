"""Issue 11, defects 2 and 7: scenarios whose market or dynamics numbers validated but could not run (an
infinite value of lost load held the server's job worker forever; a zero elasticity divided by zero; negative,
NaN or infinite parameters ended in 'HiGHS returned kNotset'). Every number is now finite and within its
declared range, and what validates runs."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from critmin.cli.main import app
from critmin.market import MarketSettings, clear
from critmin.scenario import ScenarioError, parse_scenario
from critmin.testing import tiny_world

SCENARIO = """\
name: hostile
start: 2025-01-01
end: 2025-03-31
{extra}
shocks: []
"""

REFUSED = [
    ("market: {voll_multiple: .inf}", "market.voll_multiple", "finite"),
    ("market: {supply_elasticity: {extract: 0}}", "market.supply_elasticity.extract", "greater than or equal to 0.01"),
    ("market: {supply_elasticity: {extract: .nan}}", "market.supply_elasticity.extract", "finite"),
    ("market: {default_freight_pct: -5}", "market.default_freight_pct", "greater than or equal to 0"),
    ("market: {capacity_headroom: .inf}", "market.capacity_headroom", "finite"),
    ("market: {voll_multiple_by_sector: {magnets: 0.5}}", "market.voll_multiple_by_sector.magnets", "greater than 1"),
    ("dynamics: {product_lifetime_yr: .nan}", "dynamics.product_lifetime_yr", "finite"),
    ("checks: {max_price_multiple: .inf}", "checks.max_price_multiple", "finite"),
]


@pytest.mark.parametrize(("extra", "field", "reason"), REFUSED)
def test_numbers_that_cannot_run_are_refused_at_validation_with_line_and_field(tmp_path, db, extra, field, reason):
    path = tmp_path / "hostile.yaml"
    path.write_text(SCENARIO.format(extra=extra), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(path.read_text(encoding="utf-8"), file=str(path))
    assert any(p.column == field and reason in p.reason and p.line == 4 for p in caught.value.problems), str(
        caught.value
    )
    result = CliRunner().invoke(app, ["validate", str(path), "--db", str(db)])
    assert result.exit_code == 1 and f"{path}:4: {field}:" in result.output and "Traceback" not in result.output


def two_region_world():
    return tiny_world(
        ["A", "B"],
        [{"id": "x", "stage": "separation", "element": "Dy"}],
        reference_price=[{"product": "x", "price": 10.0}],
        production=[{"region": "A", "product": "x", "route": "primary", "quantity": 100.0}],
        demand=[{"region": "B", "sector": "magnets", "product": "x", "quantity": 100.0, "elasticity": 0.3}],
        trade_flow=[{"origin": "A", "destination": "B", "product": "x", "quantity": 100.0}],
    )


finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    elasticity=st.floats(0.01, 100),
    headroom=finite.filter(lambda v: 0 < v <= 10),
    voll=st.floats(1, 1000, exclude_min=True),
    freight=st.floats(0, 1000),
    curves=st.just("stepwise"),  # the form runs use; exact linear curves: see the known failure below
)
def test_any_market_settings_that_validate_clear(elasticity, headroom, voll, freight, curves):
    settings_ = MarketSettings.model_validate(
        {"curves": curves, "supply_elasticity": {p: elasticity for p in ("extract", "separate", "convert", "recycle")},
         "capacity_headroom": headroom, "voll_multiple": voll, "default_freight_pct": freight}
    )  # fmt: skip
    result = clear(two_region_world(), settings_)
    assert result.status == "optimal"


def test_validate_in_json_and_csv_reports_problems_as_records(tmp_path, db):
    """Issue 11, defect 10: `validate -f json` printed text."""
    import json

    path = tmp_path / "bad.yaml"
    path.write_text(SCENARIO.format(extra="market: {voll_multiple: .inf}"), encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(path), "--db", str(db), "--format", "json"])
    assert result.exit_code == 1
    [record] = json.loads(result.stdout)
    assert record["valid"] is False and record["file"] == str(path)
    assert record["problems"] == [
        {"file": str(path), "line": 4, "field": "market.voll_multiple", "reason": "Input should be a finite number"}
    ]
    result = CliRunner().invoke(app, ["validate", str(path), "--db", str(db), "--format", "csv"])
    assert result.exit_code == 1
    row = f"{path},4,market.voll_multiple,Input should be a finite number"
    assert result.stdout.splitlines() == ["file,line,field,reason", row]


@pytest.mark.xfail(strict=True, reason="known defect: the exact (linear-curve) interior-point QP stalls on this "
                   "ordinary two-region case and its polish finds no exact point; the stepwise form clears it")
def test_exact_linear_curves_clear_a_small_world_at_ordinary_settings():
    """Found by the property test above when it also drew linear curves (about 1 in 100 draws). Kept as a strict
    expected failure so that it is tracked, and turns into a pass the day the exact solver handles it."""
    settings_ = MarketSettings.model_validate(
        {"curves": "linear", "supply_elasticity": {p: 1.2 for p in ("extract", "separate", "convert", "recycle")},
         "capacity_headroom": 1.2, "voll_multiple": 1.2, "default_freight_pct": 1.2}
    )  # fmt: skip
    assert clear(two_region_world(), settings_).status == "optimal"
