"""critmin.testing: the result comparators (assert_step_close, assert_run_close) and the hypothesis strategies
(critmin.testing.strategies)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr
import yaml
from hypothesis import strategies as st

from critmin.market import MarketSettings, clear
from critmin.scenario import parse_scenario
from critmin.schema import components
from critmin.simulate.loop import simulate
from critmin.testing import DEFAULT_ATOL, DEFAULT_RTOL, assert_run_close, assert_step_close, tiny_world
from critmin.testing import strategies as cst
from critmin.testing.compare import array_problems
from property_budget import property_test

SCENARIO = """\
name: quota
start: 2025-01-01
end: 2025-03-31
shocks:
  - {type: export_control, exporter: {regions: [A]}, destinations: {regions: [C]}, mode: quota, magnitude: 0.3,
     start: 2025-02-01}
"""


def _world():
    """A and B mine x, C only buys it (as tests/test_market_properties.py)."""
    return tiny_world(
        ["A", "B", "C"],
        [{"id": "x", "stage": "mine", "form": "mineral", "element": "Ga"}],
        reference_price=[{"product": "x", "price": 10.0}],
        supply_curve=[
            {"region": r, "process": "extract", "product": "x", "ref_cost": c, "ref_quantity": q, "elasticity": 0.5}
            for r, c, q in (("A", 10.0, 100.0), ("B", 14.0, 50.0))
        ],
        capacity=[{"region": r, "product": "x", "capacity": 1e6} for r in ("A", "B")],
        demand=[
            {"region": r, "sector": "other", "product": "x", "quantity": q, "elasticity": -0.3}
            for r, q in (("A", 60.0), ("B", 30.0), ("C", 60.0))
        ],
        trade_cost=[
            {"origin": o, "destination": d, "product": "x", "freight": 1.0}
            for o in ("A", "B", "C")
            for d in ("A", "B", "C")
            if o != d
        ],
    )


@pytest.fixture(scope="module")
def step():
    return clear(_world(), MarketSettings(curves="linear"))


@pytest.fixture(scope="module")
def run():
    return simulate(_world(), parse_scenario(SCENARIO), cache=None)


def _assertion(call) -> str:
    with pytest.raises(AssertionError) as caught:
        call()
    return str(caught.value)


# ---- assert_step_close ---------------------------------------------------------------------------------------


def test_step_close_passes_on_identical_and_within_tolerance(step):
    assert_step_close(step, step)
    assert_step_close(clear(_world(), MarketSettings(curves="linear")), step)  # a second solve
    # half the tolerance on every array and the objective
    nudged = {name: getattr(step, name) * (1 + DEFAULT_RTOL / 2) for name in ("price", "trade", "consumption")}
    assert_step_close(dataclasses.replace(step, objective=step.objective + DEFAULT_ATOL / 2, **nudged), step)


def test_step_close_names_field_coordinates_values_and_differences(step):
    trade = step.trade.copy()
    before = float(trade.loc["A", "C", "x"])
    trade.loc["A", "C", "x"] = before + 0.5
    message = _assertion(lambda: assert_step_close(dataclasses.replace(step, trade=trade), step))
    assert message.startswith("cleared steps differ in 1 field(s) (rtol=1e-06, atol=1e-06):"), message
    assert f"trade: 1 of {step.trade.size} values differ; worst 1:" in message, message
    line = f"origin=A destination=C product=x: actual {before + 0.5:.6g}, expected {before:.6g}, abs diff 0.5"
    assert line in message, message
    assert f"rel diff {0.5 / abs(before):.6g}" in message
    assert "price" not in message  # fields that agree are not listed


def test_step_close_reports_status_objective_and_every_differing_field(step):
    other = dataclasses.replace(step, status="infeasible", objective=step.objective + 1.0, price=step.price * 1.01)
    message = _assertion(lambda: assert_step_close(other, step))
    assert "differ in 3 field(s)" in message
    assert "status: actual 'infeasible', expected 'optimal'" in message
    assert f"objective: actual {step.objective + 1:.6g}, expected {step.objective:.6g}, abs diff 1" in message
    assert "price: 3 of 3 values differ; worst 3:" in message
    # fields limits what is compared (the status always is)
    assert_step_close(dataclasses.replace(step, price=step.price * 1.01), step, fields=["trade", "objective"])
    with pytest.raises(ValueError, match="unknown field"):
        assert_step_close(step, step, fields=["prices"])


def test_step_close_reports_missing_values_and_labels_but_not_label_order(step):
    # same labels in another order: aligned, not a difference
    assert_step_close(dataclasses.replace(step, price=step.price.sel(region=["C", "A", "B"])), step)
    gap = step.price.copy()
    gap.loc["B", "x"] = np.nan
    message = _assertion(lambda: assert_step_close(dataclasses.replace(step, price=gap), step))
    assert "region=B product=x: actual nan" in message and "(missing on one side)" in message
    fewer = dataclasses.replace(step, price=step.price.sel(region=["A", "B"]))
    message = _assertion(lambda: assert_step_close(fewer, step))
    assert "price: coordinate 'region' differs (2 labels in actual, 3 expected); missing in actual: C" in message
    message = _assertion(lambda: assert_step_close(dataclasses.replace(step, price=step.price.sum("product")), step))
    assert "price: dims differ: actual ('region',), expected ('region', 'product')" in message


def test_array_diff_lists_the_worst_ten_of_many_worst_first():
    expected = xr.DataArray(
        np.ones((4, 5)), coords={"region": list("ABCD"), "product": list("pqrst")}, dims=("region", "product")
    )
    actual = expected.copy()
    actual.values.flat[:15] += np.arange(1, 16)  # 15 differences, the largest at C/t
    [diff] = array_problems("consumption", actual, expected)
    lines = diff.splitlines()
    assert lines[0] == "consumption: 15 of 20 values differ; worst 10:"
    assert lines[1] == "  region=C product=t: actual 16, expected 1, abs diff 15, rel diff 15"
    assert len(lines) == 12 and lines[-1] == "  ... and 5 more"
    # within tolerance, in units of the field: 1e-6 absolute near zero, 1e-6 relative for large values
    assert array_problems("x", expected * 1e9 + 999, expected * 1e9) == []
    assert array_problems("x", expected * 1e9 + 1001 + 1e-6, expected * 1e9) != []


# ---- assert_run_close ----------------------------------------------------------------------------------------


def _perturbed(run, path: str, index: int, **changes):
    """The run with step ``index`` of ``path`` changed (the series cache reset)."""
    steps = list(run.steps[path])
    steps[index] = dataclasses.replace(steps[index], **changes)
    return dataclasses.replace(run, steps={**run.steps, path: steps}, _series={})


def test_run_close_passes_on_a_rerun(run):
    assert run.statuses == ["optimal"] * 3
    assert_run_close(simulate(_world(), parse_scenario(SCENARIO), cache=None), run)


def test_run_close_names_path_field_coordinates_and_date(run):
    price = run.steps["scenario"][1].price
    moved = price.copy()
    moved.loc["C", "x"] = float(price.loc["C", "x"]) * 1.1
    message = _assertion(lambda: assert_run_close(_perturbed(run, "scenario", 1, price=moved), run))
    assert message.startswith("runs differ in 1 field(s) (rtol=1e-06, atol=1e-06):"), message
    assert "scenario.price: 1 of 9 values differ; worst 1:" in message
    assert f"region=C product=x date=2025-02-01: actual {float(moved.loc['C', 'x']):.6g}" in message
    assert "baseline" not in message
    # looser tolerances pass it, and so does leaving the price out
    assert_run_close(_perturbed(run, "scenario", 1, price=moved), run, rtol=0.2)
    assert_run_close(_perturbed(run, "scenario", 1, price=moved), run, fields=["trade", "shortfall"])


def test_run_close_compares_dates_statuses_stocks_reports_and_scenario(run):
    shifted = dataclasses.replace(run, dates=[d + dt.timedelta(days=1) for d in run.dates])
    message = _assertion(lambda: assert_run_close(shifted, run))
    assert "dates differ: actual 3 steps 2025-01-02..2025-03-02, expected 3 steps 2025-01-01..2025-03-01" in message
    assert "first difference at step 0: 2025-01-02 vs 2025-01-01" in message

    stuck = dataclasses.replace(run, statuses=["optimal", "stuck", "optimal"])
    assert "statuses: 1 of 3 differ; first 1:\n  date=2025-02-01: actual 'stuck', expected 'optimal'" in _assertion(
        lambda: assert_run_close(stuck, run)
    )

    stocks = {**run.stocks, "baseline": [s.fillna(0) + 1 for s in run.stocks["baseline"]]}
    message = _assertion(lambda: assert_run_close(dataclasses.replace(run, stocks=stocks), run))
    size = run.stocks["baseline"][0].size * 3
    assert f"baseline.stocks: {size} of {size} values differ; worst 10:" in message, message
    assert "region=A product=x holder=public date=2025-01-01: actual 1, expected nan (missing on one side)" in message

    report = {"name": "reserve", "type": "stockpile_policy", "region": "A", "product": "x", "bought_t": 1.0}
    mine = dataclasses.replace(run, policy_reports=[{**report, "bought_t": 1.5}])
    message = _assertion(lambda: assert_run_close(mine, dataclasses.replace(run, policy_reports=[report])))
    named = "[0] name=reserve type=stockpile_policy region=A product=x"
    assert f"policy_reports: 1 value(s) differ:\n  {named}: " in message, message
    assert "bought_t: actual 1.5, expected 1, abs diff 0.5" in message

    renamed = dataclasses.replace(run, scenario=run.scenario.model_copy(update={"name": "other"}))
    assert "scenario: actual 'other'" in _assertion(lambda: assert_run_close(renamed, run))
    assert_run_close(renamed, run, check_scenario=False)


# ---- strategies ----------------------------------------------------------------------------------------------


def test_importing_critmin_testing_does_not_need_hypothesis():
    """The runtime install has no hypothesis: only critmin.testing.strategies may import it."""
    code = "import sys, critmin.testing; assert 'hypothesis' not in sys.modules, 'hypothesis imported'"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def _out_of_range(spec: cst.WorldSpec) -> list[str]:
    """Numbers in the drawn rows outside their attribute's declared range, or not finite."""
    found = []
    for name, rows in spec.tables.items():
        for attr in components()[name].attributes:
            if attr.type != "float":
                continue
            for row in rows:
                value = row.get(attr.name)
                if value is None:
                    continue
                low = -np.inf if attr.min is None else attr.min
                high = np.inf if attr.max is None else attr.max
                if not (np.isfinite(value) and low <= value <= high):
                    found.append(f"{name}.{attr.name} = {value}")
    return found


@property_test(
    fast=5, full=40, spec=cst.world_specs(regions=(1, 3), stages=(1, 4)), curves=st.sampled_from(["linear", "stepwise"])
)
def test_drawn_worlds_are_valid_and_clear(spec, curves):
    assert _out_of_range(spec) == []
    world = spec.world()  # validated when built
    assert world.table("product")["id"].tolist() == spec.chain
    result = clear(world, MarketSettings(curves=curves))
    assert result.status == "optimal"
    assert float(result.consumption.sum()) > 0  # every chain reaches its buyers


@property_test(fast=3, full=30, pair=cst.worlds_and_scenarios(world={"stages": (1, 3)}, shocks=(1, 3)))
def test_drawn_scenarios_validate_against_their_world_and_run(pair):
    world, scenario = pair
    # through YAML and the world check, as a user's file would go
    text = yaml.safe_dump(scenario.model_dump(mode="json", exclude_defaults=True), sort_keys=False)
    assert parse_scenario(text, world=world) == scenario
    run = simulate(world, scenario, cache=None)
    assert len(run.dates) == scenario.months and run.statuses == ["optimal"] * scenario.months
