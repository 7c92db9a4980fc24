"""Issue 13, the exact evaluator: sampled draws run through the LP engine as one batch give, per draw, the
outcomes a single run of that draw's scenario gives, with the draw's weight, in the long format the analysis
reads."""

from __future__ import annotations

import numpy as np
import pytest

from critmin.api import element_units, run_scenario
from critmin.risk import parse_risk_model, risk_measures, sample, to_scenario
from critmin.risk.evaluate import FROM_SUMMARY, OUTCOME_COLUMNS, evaluate_exact
from critmin.world.model import World

ONE_CONTROL = """\
name: one-control
start: 2026-01-01
years: 1
events:
  - id: dy-tb-quota
    type: export_control
    exporter: {regions: [CHN]}
    elements: [Dy, Tb]
    mode: quota
    probability: 0.5
    duration: {dist: fixed, value: 6}
    severity: {dist: uniform, low: 0.3, high: 0.9}
    source: test
    reasoning: test
    confidence: assumption
"""


@pytest.fixture(scope="module")
def evaluated():
    world = World.bundled()
    model = parse_risk_model(ONE_CONTROL, world=world)
    draws = sample(model, 4, seed=3, importance={"dy-tb-quota": 0.75})
    return world, model, draws, evaluate_exact(world, draws, cache=None)


def test_outcomes_are_long_format_with_each_draw_s_weight(evaluated):
    world, _, draws, outcomes = evaluated
    assert list(outcomes.columns) == OUTCOME_COLUMNS
    assert sorted(outcomes["draw"].unique()) == list(range(4))
    weights = outcomes.groupby("draw")["weight"].first().to_numpy()
    np.testing.assert_allclose(weights, draws.weights)
    assert set(weights) <= {0.5 / 0.75, 0.5 / 0.25}  # likelihood ratios of the raised probability
    dy = outcomes[outcomes["element"] == "Dy"]
    assert set(dy["shortfall_unit"]) == {element_units(world)["Dy"]}


def test_a_draw_in_the_batch_equals_a_single_run_of_its_scenario(evaluated):
    world, model, draws, outcomes = evaluated
    occurring = draws.table.loc[draws.table["occurs"], "draw"].unique()
    assert len(occurring), "seed 3 gives no occurring event: pick another seed"
    draw = int(occurring[0])
    _, summary, _ = run_scenario(world, to_scenario(draws.draw(draw), model), cache=None)
    mine = outcomes[outcomes["draw"] == draw].set_index(["region", "element"])
    single = summary.set_index(["region", "element"]).rename(columns={v: k for k, v in FROM_SUMMARY.items()})
    for column in ("shortfall_pct", "shortfall_t", "peak_price_ratio"):
        np.testing.assert_allclose(
            mine[column].astype(float), single.loc[mine.index, column].astype(float), rtol=1e-6, atol=1e-6
        )
    assert float(mine.loc[("JPN", "Dy"), "peak_price_ratio"]) > 1.0  # the control bites


def test_the_analysis_reads_the_outcomes(evaluated):
    *_, outcomes = evaluated
    table = risk_measures(outcomes[outcomes["element"].isin(["Dy", "Tb"])], loss="shortfall_pct")
    assert {"expected_loss", "prob_any_shortfall", "var_95", "cvar_95"} <= set(table.columns)
    assert table["prob_any_shortfall"].between(0, 1).all()
    assert (table["cvar_95"] >= table["var_95"] - 1e-12).all()
