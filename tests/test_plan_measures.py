"""The planner's risk and value measures: VaR, CVaR and the mean-risk objective on discrete distributions against
hand computations and properties; EVPI, VSS and the CVaR premium with their sign checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from critmin.plan.measures import (
    cvar,
    cvar_premium,
    evpi,
    expected,
    risk_objective,
    scenario_probabilities,
    var,
    vss,
)

TEN = np.arange(1.0, 11.0)  # 1..10 USD, each with probability 0.1
TENTHS = [0.1] * 10


def tail_mean(costs, probability, alpha) -> float:
    """CVaR the other way: fill the worst 1 - alpha of the mass from the top, splitting the last atom."""
    order = np.argsort(costs)[::-1]
    room, total = 1.0 - alpha, 0.0
    for k in order:
        take = min(probability[k], room)
        total += take * costs[k]
        room -= take
        if room <= 0:
            break
    return total / (1.0 - alpha)


def test_the_expected_cost():
    assert expected(TEN, TENTHS) == pytest.approx(5.5, rel=1e-12)
    assert expected([100.0, -20.0], [0.2, 0.8]) == pytest.approx(4.0, rel=1e-12)


def test_var_is_the_lower_quantile_of_a_uniform_distribution():
    assert var(TEN, TENTHS, 0.8) == 8.0  # P(C <= 8) = 0.8 even though the tenths sum to 0.7999999999999999
    assert var(TEN, TENTHS, 0.81) == 9.0
    assert var(TEN, TENTHS, 0.0) == 1.0
    assert var(TEN, TENTHS, 0.95) == 10.0


def test_cvar_of_a_uniform_distribution_is_the_mean_of_its_worst_outcomes():
    assert cvar(TEN, TENTHS, 0.8) == pytest.approx(9.5, rel=1e-12)  # (9 + 10) / 2
    assert cvar(TEN, TENTHS, 0.5) == pytest.approx(8.0, rel=1e-12)  # (6 + ... + 10) / 5
    assert cvar(TEN, TENTHS, 0.9) == pytest.approx(10.0, rel=1e-12)


def test_cvar_splits_the_atom_at_var():
    costs, probability = [0.0, 10.0, 20.0], [0.5, 0.3, 0.2]
    # the worst quarter: 0.2 at 20 and 0.05 of the 0.3 at 10 (VaR_0.75 = 10)
    assert var(costs, probability, 0.75) == 10.0
    assert cvar(costs, probability, 0.75) == pytest.approx((0.2 * 20 + 0.05 * 10) / 0.25, rel=1e-12)  # 18
    assert cvar(costs, probability, 0.75) == pytest.approx(18.0, rel=1e-12)


def test_cvar_at_alpha_zero_is_the_mean():
    costs, probability = [3.0, -1.0, 7.0, 2.0], [0.1, 0.4, 0.2, 0.3]
    assert cvar(costs, probability, 0.0) == pytest.approx(expected(costs, probability), rel=1e-12)


def test_the_measures_are_ordered():
    costs, probability = [5.0, 1.0, 9.0, 4.0, 12.0], [0.3, 0.1, 0.2, 0.25, 0.15]
    for alpha in (0.0, 0.3, 0.6, 0.85, 0.99):
        assert min(costs) <= var(costs, probability, alpha) <= cvar(costs, probability, alpha) <= max(costs)
        assert cvar(costs, probability, alpha) >= expected(costs, probability) - 1e-12


def test_an_outcome_of_zero_probability_counts_for_nothing():
    costs, probability = [1.0, 2.0, 1e9], [0.5, 0.5, 0.0]
    assert var(costs, probability, 0.9) == 2.0
    assert cvar(costs, probability, 0.9) == pytest.approx(2.0)
    assert var(costs, probability, 0.0) == 1.0


def test_unsorted_costs():
    assert cvar([10.0, 1.0, 5.0, 3.0], [0.25] * 4, 0.5) == pytest.approx(7.5, rel=1e-12)
    assert var([10.0, 1.0, 5.0, 3.0], [0.25] * 4, 0.5) == 3.0


def test_the_risk_objective_adds_weighted_cvar_to_the_mean():
    assert risk_objective(TEN, TENTHS, 2.0, 0.8) == pytest.approx(5.5 + 2 * 9.5, rel=1e-12)
    assert risk_objective(TEN, TENTHS, 0.0, 0.8) == pytest.approx(5.5, rel=1e-12)
    with pytest.raises(ValueError, match="risk_weight"):
        risk_objective(TEN, TENTHS, -1.0, 0.8)


@pytest.mark.parametrize("alpha", [1.0, -0.1, math.nan])
def test_alpha_must_lie_in_zero_one(alpha):
    with pytest.raises(ValueError, match="alpha"):
        cvar(TEN, TENTHS, alpha)
    with pytest.raises(ValueError, match="alpha"):
        var(TEN, TENTHS, alpha)


@pytest.mark.parametrize(
    ("probability", "message"),
    [([0.5, 0.4], "sum to 1"), ([1.5, -0.5], "non-negative"), ([math.inf, 0.0], "finite"), ([], "non-empty")],
)
def test_probabilities_are_checked(probability, message):
    with pytest.raises(ValueError, match=message):
        scenario_probabilities(probability)


def test_costs_and_probabilities_must_match():
    with pytest.raises(ValueError, match="one cost per probability"):
        expected([1.0, 2.0, 3.0], [0.5, 0.5])
    with pytest.raises(ValueError, match="finite"):
        cvar([1.0, math.nan], [0.5, 0.5], 0.5)


@given(
    outcomes=st.lists(
        st.tuples(st.floats(-1e6, 1e6), st.floats(0.01, 10.0)),
        min_size=1,
        max_size=12,
    ),
    alphas=st.tuples(st.floats(0.0, 0.99), st.floats(0.0, 0.99)),
)
def test_cvar_is_monotone_in_alpha_at_least_the_mean_and_the_tail_mean(outcomes, alphas):
    costs = np.array([c for c, _ in outcomes])
    weights = np.array([w for _, w in outcomes])
    probability = weights / weights.sum()
    low, high = sorted(alphas)
    tolerance = 1e-9 * max(1.0, float(np.abs(costs).max())) / (1.0 - high)
    mean = expected(costs, probability)
    assert cvar(costs, probability, low) >= mean - tolerance
    assert cvar(costs, probability, low) <= cvar(costs, probability, high) + tolerance
    assert cvar(costs, probability, high) >= var(costs, probability, high) - tolerance
    assert cvar(costs, probability, high) == pytest.approx(tail_mean(costs, probability, high), abs=tolerance)


def test_evpi_and_vss_by_hand():
    assert evpi(120.0, 100.0) == 20.0
    assert vss(130.0, 120.0) == 10.0
    assert cvar_premium(105.0, 100.0) == 5.0
    assert evpi(100.0, 100.0) == 0.0


def test_a_rounding_sized_negative_gap_reads_as_zero():
    assert evpi(1e9, 1e9 + 1.0) == 0.0  # 1e-9 relative
    assert vss(0.0, 5e-7) == 0.0  # under the 1e-6 USD floor
    assert cvar_premium(99.99999999, 100.0) == 0.0


@pytest.mark.parametrize(
    ("measure", "larger", "smaller"),
    [(evpi, 100.0, 120.0), (vss, 120.0, 130.0), (cvar_premium, 95.0, 100.0)],
)
def test_a_negative_gap_signals_a_solver_problem(measure, larger, smaller):
    with pytest.raises(ValueError, match="negative"):
        measure(larger, smaller)


def test_value_measures_refuse_non_finite_values():
    with pytest.raises(ValueError, match="recourse_value"):
        evpi(math.inf, 1.0)
    with pytest.raises(ValueError, match="expected_value_solution_value"):
        vss(math.nan, 1.0)
