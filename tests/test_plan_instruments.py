"""The planner's financing instruments: each public cost against a hand computation, and bad inputs refused."""

from __future__ import annotations

import math

import numpy as np
import pytest

from critmin.plan.instruments import (
    INSTRUMENTS,
    annuity_factor,
    equity_cost,
    grant_cost,
    guarantee_cost,
    insurance_cost,
    loan_cost,
    offtake_cost,
)


def test_the_instruments_are_named_in_order():
    assert INSTRUMENTS == ("grant", "loan", "guarantee", "equity", "offtake", "insurance")


def test_a_grant_costs_its_face_value():
    assert grant_cost(1_250_000) == 1_250_000.0
    assert grant_cost(0) == 0.0


def test_the_annuity_factor_by_hand():
    # 1/1.05 + 1/1.05^2 + 1/1.05^3
    assert annuity_factor(0.05, 3) == pytest.approx(1 / 1.05 + 1 / 1.05**2 + 1 / 1.05**3, rel=1e-12)
    assert annuity_factor(0.0, 4) == 4.0
    assert annuity_factor(0.05, 0) == 0.0


def test_a_loan_costs_its_discounted_interest_gap_plus_its_expected_loss():
    # 100 USD at 2 % against a 5 % market for 3 years: 3 USD a year forgone, discounted at 5 %
    subsidy = 3 / 1.05 + 3 / 1.05**2 + 3 / 1.05**3  # 8.16974...
    expected_loss = 0.1 * 0.6 * 100  # 6
    assert loan_cost(100, 0.05, 0.02, 3, 0.1, 0.6) == pytest.approx(subsidy + expected_loss, rel=1e-12)
    assert loan_cost(100, 0.05, 0.02, 3, 0.1, 0.6) == pytest.approx(14.169744, abs=1e-6)


def test_a_loan_at_a_zero_market_rate_undiscounted():
    # the interest gap is 0 - (-0.01) = 1 % of 200 USD for 5 years, not discounted; no default risk
    assert loan_cost(200, 0.0, -0.01, 5, 0.0, 0.5) == pytest.approx(10.0, rel=1e-12)


def test_a_loan_above_the_market_rate_gives_a_negative_subsidy():
    # 1 % above a 4 % market on 1000 USD for 2 years: a profit of 10 / 1.04 + 10 / 1.04^2
    assert loan_cost(1000, 0.04, 0.05, 2, 0.0, 0.0) == pytest.approx(-(10 / 1.04 + 10 / 1.04**2), rel=1e-12)


def test_a_loan_at_the_market_rate_costs_its_expected_loss_only():
    assert loan_cost(500, 0.06, 0.06, 10, 0.2, 0.5) == pytest.approx(50.0, rel=1e-12)


def test_a_guarantee_costs_its_expected_loss():
    assert guarantee_cost(1_000_000, 0.05, 0.4) == pytest.approx(20_000.0, rel=1e-12)
    assert guarantee_cost(1_000_000, 0.0, 1.0) == 0.0


def test_equity_costs_its_discounted_return_shortfall():
    # 100 USD should grow to 1.1^2 = 121 but is expected to reach 1.05^2 = 110.25: 10.75 short in two years
    assert equity_cost(100, 0.10, 0.05, 2) == pytest.approx(10.75 / 1.21, rel=1e-12)
    assert equity_cost(100, 0.08, 0.08, 7) == pytest.approx(0.0, abs=1e-12)
    assert equity_cost(100, 0.05, 0.10, 1) == pytest.approx(-5 / 1.05, rel=1e-12)  # beats the hurdle: a gain
    assert equity_cost(100, 0.10, 0.0, 0) == 0.0


def test_an_offtake_floor_pays_the_expected_gap_below_it():
    price = np.array([[8.0, 12.0, 9.5], [11.0, 5.0, 10.0]])  # USD/kg, scenario x step
    quantity = np.array([[2.0, 2.0, 4.0], [1.0, 3.0, 1.0]])  # t
    # scenario 0: (10-8)*2 + 0 + 0.5*4 = 6 t*USD/kg; scenario 1: 0 + 5*3 + 0 = 15 t*USD/kg
    want = (0.3 * 6 + 0.7 * 15) * 1000
    assert offtake_cost(10.0, price, quantity, [0.3, 0.7]) == pytest.approx(want, rel=1e-12)


def test_an_offtake_broadcasts_a_shared_quantity_and_a_shared_price_path():
    # the same 3 t every step; one price path shared by both scenarios
    assert offtake_cost(10.0, [[9.0, 7.0], [10.0, 12.0]], 3.0, [0.5, 0.5]) == pytest.approx(6000.0)
    assert offtake_cost(10.0, [9.0, 7.0], [[1.0, 1.0], [2.0, 2.0]], [0.25, 0.75]) == pytest.approx(7000.0)
    assert offtake_cost(10.0, 11.0, 5.0, [1.0]) == 0.0  # always above the floor


def test_insurance_costs_its_premium_less_the_expected_claims():
    assert insurance_cost(120_000, 90_000) == 30_000.0
    assert insurance_cost(50, 80) == -30.0


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: grant_cost(-1), "face_value_usd"),
        (lambda: grant_cost(math.nan), "face_value_usd"),
        (lambda: loan_cost(-100, 0.05, 0.02, 3, 0.1, 0.6), "principal_usd"),
        (lambda: loan_cost(100, -1.0, 0.02, 3, 0.1, 0.6), "market_rate"),
        (lambda: loan_cost(100, 0.05, -1.5, 3, 0.1, 0.6), "loan_rate"),
        (lambda: loan_cost(100, 0.05, 0.02, -3, 0.1, 0.6), "tenor_years"),
        (lambda: loan_cost(100, 0.05, 0.02, 3, 1.1, 0.6), "default_probability"),
        (lambda: loan_cost(100, 0.05, 0.02, 3, 0.1, -0.6), "loss_given_default"),
        (lambda: guarantee_cost(-5, 0.1, 0.5), "guaranteed_usd"),
        (lambda: guarantee_cost(5, -0.1, 0.5), "default_probability"),
        (lambda: equity_cost(100, -2.0, 0.05, 2), "required_return"),
        (lambda: equity_cost(100, 0.1, math.inf, 2), "expected_return"),
        (lambda: equity_cost(100, 0.1, 0.05, -2), "years"),
        (lambda: offtake_cost(-1.0, [[1.0]], [[1.0]], [1.0]), "floor_usd_per_kg"),
        (lambda: offtake_cost(1.0, [[-1.0]], [[1.0]], [1.0]), "price_usd_per_kg"),
        (lambda: offtake_cost(1.0, [[1.0]], [[-1.0]], [1.0]), "quantity_t"),
        (lambda: insurance_cost(-1, 0), "premium_usd"),
        (lambda: insurance_cost(1, -1), "expected_claims_usd"),
    ],
)
def test_a_bad_input_raises_naming_the_argument(call, argument):
    with pytest.raises(ValueError, match=argument):
        call()


def test_a_bad_value_is_quoted_in_the_message():
    with pytest.raises(ValueError, match=r"default_probability must lie in \[0, 1\], got 1\.5"):
        guarantee_cost(10, 1.5, 0.5)


@pytest.mark.parametrize(
    ("probability", "message"),
    [
        ([0.5, 0.6], "sum to 1"),
        ([1.2, -0.2], "non-negative"),
        ([0.5, math.nan], "finite"),
    ],
)
def test_offtake_probabilities_are_checked(probability, message):
    with pytest.raises(ValueError, match=message):
        offtake_cost(10.0, [[8.0], [9.0]], 1.0, probability)


def test_offtake_shapes_must_agree():
    with pytest.raises(ValueError, match="broadcast"):
        offtake_cost(10.0, [[8.0], [9.0], [7.0]], 1.0, [0.5, 0.5])  # three scenarios of prices, two weights
    with pytest.raises(ValueError, match="2-D"):
        offtake_cost(10.0, np.ones((2, 2, 2)), 1.0, [0.5, 0.5])
