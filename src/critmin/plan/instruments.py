"""Public cost of the financing instruments a government can offer a project.

Every function returns the present value, in USD, of what the instrument costs the public purse: the money given
away, the expected losses taken on, or the return forgone. Amounts are in USD, rates are fractions per year
(0.05 is 5 %), probabilities are fractions in [0, 1] and durations are in years. The functions are pure and take
scalars (``offtake_cost`` takes arrays); bad inputs raise ``ValueError`` naming the argument and the value.
"""

from __future__ import annotations

import math

import numpy as np

from critmin.plan.measures import scenario_probabilities

__all__ = [
    "INSTRUMENTS",
    "annuity_factor",
    "equity_cost",
    "grant_cost",
    "guarantee_cost",
    "insurance_cost",
    "loan_cost",
    "offtake_cost",
]

#: The instruments this module prices, in the order of its functions.
INSTRUMENTS: tuple[str, ...] = ("grant", "loan", "guarantee", "equity", "offtake", "insurance")

# --- checks ---------------------------------------------------------------------------------------------------


def _finite(name: str, value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return number


def _amount(name: str, value) -> float:
    number = _finite(name, value)
    if number < 0:
        raise ValueError(f"{name} must be non-negative, got {value!r}")
    return number


def _rate(name: str, value) -> float:
    number = _finite(name, value)
    if number <= -1:
        raise ValueError(f"{name} must be greater than -1, got {value!r}")
    return number


def _probability(name: str, value) -> float:
    number = _finite(name, value)
    if not 0 <= number <= 1:
        raise ValueError(f"{name} must lie in [0, 1], got {value!r}")
    return number


def _array(name: str, value) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers, got {value!r}") from None
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if np.any(array < 0):
        raise ValueError(f"{name} must be non-negative, got {value!r}")
    return array


def annuity_factor(rate: float, years: float) -> float:
    """Present value of 1 USD paid at the end of each year for ``years`` years, discounted at ``rate``.

    ``(1 - (1 + r)^-n) / r``, and ``n`` when ``r == 0``.

    >>> round(annuity_factor(0.05, 3), 6)
    2.723248
    >>> annuity_factor(0.0, 3)
    3.0
    """
    r, n = _rate("rate", rate), _amount("years", years)
    if r == 0:
        return n
    return (1.0 - (1.0 + r) ** -n) / r


# --- instruments ----------------------------------------------------------------------------------------------


def grant_cost(face_value_usd: float) -> float:
    """Public cost of a grant, USD: its face value (the money is given away in full).

    >>> grant_cost(2_500_000)
    2500000.0
    """
    return _amount("face_value_usd", face_value_usd)


def loan_cost(
    principal_usd: float,
    market_rate: float,
    loan_rate: float,
    tenor_years: float,
    default_probability: float,
    loss_given_default: float,
) -> float:
    """Public cost of a concessional bullet loan, USD (present value): interest subsidy + expected loss.

    ``principal * (market_rate - loan_rate) * A(market_rate, tenor_years)
    + default_probability * loss_given_default * principal``, where ``A(r, n) = (1 - (1 + r)^-n) / r``
    (``n`` when ``r == 0``) discounts the yearly interest gap at the market rate. Rates are fractions per year,
    ``default_probability`` is over the life of the loan and ``loss_given_default`` is the fraction of the
    principal lost in a default.

    A loan priced above the market (``loan_rate > market_rate``) gives a negative subsidy, a profit to the
    lender; the formula's value is returned as it is, not clipped at zero.

    >>> round(loan_cost(100.0, 0.05, 0.02, 3, 0.1, 0.6), 4)  # 3 * 2.723248 + 6
    14.1697
    """
    principal = _amount("principal_usd", principal_usd)
    market = _rate("market_rate", market_rate)
    rate = _rate("loan_rate", loan_rate)
    tenor = _amount("tenor_years", tenor_years)
    pd_ = _probability("default_probability", default_probability)
    lgd = _probability("loss_given_default", loss_given_default)
    subsidy = principal * (market - rate) * annuity_factor(market, tenor)
    return subsidy + pd_ * lgd * principal


def guarantee_cost(guaranteed_usd: float, default_probability: float, loss_given_default: float) -> float:
    """Public cost of a loan guarantee, USD: the expected loss it covers.

    ``default_probability * loss_given_default * guaranteed_usd``. The guarantor pays only if the borrower
    defaults, so until then no money leaves the budget; its expected cost is the expected payout.

    >>> round(guarantee_cost(1_000_000, 0.05, 0.4), 6)
    20000.0
    """
    amount = _amount("guaranteed_usd", guaranteed_usd)
    pd_ = _probability("default_probability", default_probability)
    lgd = _probability("loss_given_default", loss_given_default)
    return pd_ * lgd * amount


def equity_cost(equity_usd: float, required_return: float, expected_return: float, years: float) -> float:
    """Public cost of an equity stake, USD (present value): the expected return shortfall.

    ``equity * ((1 + required)^years - (1 + expected)^years) / (1 + required)^years``: what the stake would be
    worth at the required return, less what it is expected to be worth, discounted at the required return.
    Returns are fractions per year; a stake expected to beat the required return gives a negative cost.

    >>> round(equity_cost(100.0, 0.10, 0.05, 2), 4)  # 100 * (1.21 - 1.1025) / 1.21
    8.8843
    """
    equity = _amount("equity_usd", equity_usd)
    required = _rate("required_return", required_return)
    expected = _rate("expected_return", expected_return)
    n = _amount("years", years)
    grown_required = (1.0 + required) ** n
    return equity * (grown_required - (1.0 + expected) ** n) / grown_required


def offtake_cost(floor_usd_per_kg, price_usd_per_kg, quantity_t, probability) -> float:
    """Public cost of a price floor (or offtake at a guaranteed price), USD: its expected payout.

    ``sum_s probability[s] * sum_t max(floor - price[s, t], 0) * quantity[s, t] * 1000``, with prices in USD/kg,
    quantities in t (1000 kg each) and ``probability`` one weight per scenario ``s`` (non-negative, summing to
    1). ``price`` and ``quantity`` are scenario x step arrays, or anything that broadcasts to one (a 1-D array
    is one path of steps shared by every scenario); ``floor`` may be a scalar or broadcast the same way. No
    discounting: pass discounted prices or quantities if the steps are far apart.

    >>> offtake_cost(10.0, [[8.0, 12.0], [11.0, 5.0]], 2.0, [0.5, 0.5])  # (2 * 2 + 5 * 2) * 1000 / 2
    7000.0
    """
    p = scenario_probabilities(probability)
    floor = _array("floor_usd_per_kg", floor_usd_per_kg)
    price = _array("price_usd_per_kg", price_usd_per_kg)
    quantity = _array("quantity_t", quantity_t)
    try:
        shape = np.broadcast_shapes(floor.shape, price.shape, quantity.shape, (p.size, 1))
    except ValueError:
        raise ValueError(
            f"floor {floor.shape}, price {price.shape}, quantity {quantity.shape} and {p.size} scenario "
            "probabilities do not broadcast to one scenario x step array"
        ) from None
    if len(shape) != 2:
        raise ValueError(f"price and quantity must be scenario x step arrays (2-D at most), got shape {shape}")
    payout = np.maximum(floor - price, 0.0) * quantity * 1000.0
    per_scenario = np.broadcast_to(payout, shape).sum(axis=1)
    return float(np.dot(p, per_scenario))


def insurance_cost(premium_usd: float, expected_claims_usd: float) -> float:
    """Public buyer's net cost of insurance cover, USD: ``premium - expected claims``.

    The premium is paid for certain and the claims come back in expectation, so the net is the loading the
    insurer charges for carrying the risk. Negative if the expected claims exceed the premium.

    >>> insurance_cost(120_000, 90_000)
    30000.0
    """
    premium = _amount("premium_usd", premium_usd)
    claims = _amount("expected_claims_usd", expected_claims_usd)
    return premium - claims
