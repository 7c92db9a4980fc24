"""Risk measures and stochastic-programming value measures on discrete cost distributions.

A distribution is a 1-D array of costs (USD) and one probability per cost (non-negative, summing to 1 within
1e-9). Costs are losses: larger is worse, and the tail is the upper tail. Conventions:

- ``VaR_alpha`` is the lower ``alpha``-quantile, the smallest cost ``c`` with ``P(C <= c) >= alpha``.
- ``CVaR_alpha`` is Rockafellar and Uryasev's ``min_eta eta + E[(C - eta)^+] / (1 - alpha)``, the
  probability-weighted mean of the worst ``1 - alpha`` of the mass (the atom at VaR split so the tail holds
  exactly ``1 - alpha``). ``CVaR_0`` is the mean and ``CVaR_alpha >= VaR_alpha``.
- The value measures compare optimal objective values of a minimisation: the recourse problem (RP), the
  wait-and-see value (WS) and the expected result of the expected-value solution (EEV), with
  ``WS <= RP <= EEV``.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "PROBABILITY_SUM_TOLERANCE",
    "VALUE_GAP_TOLERANCE",
    "cvar",
    "cvar_premium",
    "evpi",
    "expected",
    "risk_objective",
    "scenario_probabilities",
    "var",
    "vss",
]

#: How far probabilities may sum away from one.
PROBABILITY_SUM_TOLERANCE = 1e-9

#: How far a value gap may fall below zero, as a fraction of max(|a|, |b|, 1 USD) for the two values compared,
#: before it is taken as a sign of a solver problem rather than rounding.
VALUE_GAP_TOLERANCE = 1e-6

# cumulative probabilities this close below alpha count as reaching it (rounding in the sum)
_CUMULATIVE_SLACK = 1e-12


# --- checks ---------------------------------------------------------------------------------------------------


def scenario_probabilities(probability) -> np.ndarray:
    """``probability`` as a 1-D float array, checked: finite, non-negative, summing to 1 within 1e-9.

    >>> scenario_probabilities([0.25, 0.75])
    array([0.25, 0.75])
    """
    p = np.atleast_1d(np.asarray(probability, dtype=float))
    if p.ndim != 1 or p.size == 0:
        raise ValueError(f"probability must be a non-empty 1-D sequence, got shape {p.shape}")
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError(f"probability must be finite and non-negative, got {p.tolist()!r}")
    total = float(p.sum())
    if abs(total - 1.0) > PROBABILITY_SUM_TOLERANCE:
        raise ValueError(f"probability must sum to 1 (within {PROBABILITY_SUM_TOLERANCE:g}), got a sum of {total!r}")
    return p


def _distribution(costs, probability) -> tuple[np.ndarray, np.ndarray]:
    """Costs and probabilities, checked, as arrays of the same length."""
    p = scenario_probabilities(probability)
    c = np.atleast_1d(np.asarray(costs, dtype=float))
    if c.shape != p.shape:
        raise ValueError(f"costs must be 1-D with one cost per probability ({p.size}), got shape {c.shape}")
    if not np.all(np.isfinite(c)):
        raise ValueError(f"costs must be finite, got {c.tolist()!r}")
    return c, p


def _support(costs, probability) -> tuple[np.ndarray, np.ndarray]:
    """The costs of positive probability, sorted ascending, and their probabilities."""
    c, p = _distribution(costs, probability)
    keep = p > 0
    order = np.argsort(c[keep], kind="stable")
    return c[keep][order], p[keep][order]


def _alpha(alpha) -> float:
    a = float(alpha)
    if not 0 <= a < 1:
        raise ValueError(f"alpha must lie in [0, 1), got {alpha!r}")
    return a


def _checked_gap(
    name: str, larger: float, smaller: float, larger_name: str, smaller_name: str, rel_tol: float | None = None
) -> float:
    """``larger - smaller``, a gap that is non-negative at an optimum; small negatives (rounding, or solves
    stopped at a relative gap ``rel_tol``) read as 0."""
    a, b = float(larger), float(smaller)
    for label, value in ((larger_name, a), (smaller_name, b)):
        if not math.isfinite(value):
            raise ValueError(f"{label} must be finite, got {value!r}")
    gap = a - b
    if gap < 0:
        tolerance = (VALUE_GAP_TOLERANCE if rel_tol is None else max(rel_tol, VALUE_GAP_TOLERANCE)) * max(
            abs(a), abs(b), 1.0
        )
        if gap < -tolerance:
            raise ValueError(
                f"{name} is negative ({larger_name} {a!r} < {smaller_name} {b!r}, by {-gap!r}): "
                "an optimal solve cannot give that; check the solver's status and tolerances"
            )
        return 0.0
    return gap


# --- risk measures --------------------------------------------------------------------------------------------


def expected(costs, probability) -> float:
    """Expected cost, USD: ``E[C] = sum_s probability[s] * costs[s]``.

    >>> expected([10.0, 30.0], [0.75, 0.25])
    15.0
    """
    c, p = _distribution(costs, probability)
    return float(np.dot(p, c))


def var(costs, probability, alpha: float) -> float:
    """Value at risk, USD: the lower ``alpha``-quantile ``min {c : P(C <= c) >= alpha}`` of the costs.

    Only costs of positive probability count, so ``var(..., 0)`` is the smallest possible cost.

    >>> var([1.0, 2.0, 3.0, 4.0], [0.25] * 4, 0.5)
    2.0
    >>> var([1.0, 2.0, 3.0, 4.0], [0.25] * 4, 0.6)
    3.0
    """
    a = _alpha(alpha)
    c, p = _support(costs, probability)
    k = int(np.searchsorted(np.cumsum(p), a - _CUMULATIVE_SLACK, side="left"))
    return float(c[min(k, c.size - 1)])


def cvar(costs, probability, alpha: float) -> float:
    """Conditional value at risk, USD: ``CVaR_alpha = min_eta eta + E[(C - eta)^+] / (1 - alpha)``.

    Exact for a discrete distribution: the objective is convex and piecewise linear in ``eta`` with its kinks at
    the costs, so the minimum is taken over the costs. It equals the probability-weighted mean of the worst
    ``1 - alpha`` of the mass, the atom at VaR counted only for the part of its probability the tail needs.

    >>> cvar([1.0, 2.0, 3.0, 4.0], [0.25] * 4, 0.5)  # the mean of the worst half
    3.5
    >>> cvar([0.0, 10.0], [0.5, 0.5], 0.0)  # alpha 0: the mean
    5.0
    """
    a = _alpha(alpha)
    c, p = _support(costs, probability)
    shifted = c - c[0]  # smaller numbers, less cancellation; shifts every candidate value by c[0]
    # for eta = c[k]: E[(C - eta)^+] = sum_{j > k} p_j (c_j - c_k) = tail_pc[k] - c_k * tail_p[k]
    tail_p = np.concatenate([np.cumsum(p[::-1])[::-1][1:], [0.0]])
    tail_pc = np.concatenate([np.cumsum((p * shifted)[::-1])[::-1][1:], [0.0]])
    candidates = shifted + (tail_pc - shifted * tail_p) / (1.0 - a)
    return float(c[0] + candidates.min())


def risk_objective(costs, probability, risk_weight: float, alpha: float) -> float:
    """Mean-risk objective, USD: ``E[C] + risk_weight * CVaR_alpha(C)``, with ``risk_weight >= 0``.

    >>> risk_objective([1.0, 2.0, 3.0, 4.0], [0.25] * 4, 0.5, 0.5)  # 2.5 + 0.5 * 3.5
    4.25
    """
    weight = float(risk_weight)
    if not (math.isfinite(weight) and weight >= 0):
        raise ValueError(f"risk_weight must be finite and non-negative, got {risk_weight!r}")
    return expected(costs, probability) + weight * cvar(costs, probability, alpha)


# --- value measures -------------------------------------------------------------------------------------------


def evpi(recourse_value: float, wait_and_see_value: float, rel_tol: float | None = None) -> float:
    """Expected value of perfect information, USD: ``EVPI = RP - WS`` (minimisation).

    What knowing the scenario before deciding would save. Non-negative at an optimum: a gap below zero by more
    than 1e-6 of the larger value (at least 1e-6 USD) raises ``ValueError`` (a solver problem); a smaller one
    is rounding and gives 0.

    >>> evpi(120.0, 100.0)
    20.0
    """
    return _checked_gap("EVPI", recourse_value, wait_and_see_value, "recourse_value", "wait_and_see_value", rel_tol)


def vss(expected_value_solution_value: float, recourse_value: float, rel_tol: float | None = None) -> float:
    """Value of the stochastic solution, USD: ``VSS = EEV - RP`` (minimisation).

    What planning for the scenarios saves over planning for their average, judged on the scenarios. Checked
    like :func:`evpi`.

    >>> vss(130.0, 120.0)
    10.0
    """
    return _checked_gap(
        "VSS", expected_value_solution_value, recourse_value, "expected_value_solution_value", "recourse_value", rel_tol
    )


def cvar_premium(
    expected_cost_risk_averse: float, expected_cost_risk_neutral: float, rel_tol: float | None = None
) -> float:
    """Price of tail protection, USD: the risk-averse plan's expected cost less the risk-neutral plan's.

    The risk-neutral plan minimises expected cost, so the premium is non-negative at an optimum; checked like
    :func:`evpi`.

    >>> cvar_premium(105.0, 100.0)
    5.0
    """
    return _checked_gap(
        "the CVaR premium",
        expected_cost_risk_averse,
        expected_cost_risk_neutral,
        "expected_cost_risk_averse",
        "expected_cost_risk_neutral",
        rel_tol,
    )
