"""Issue 13, analyse: analytic tests of critmin.risk.analyse.

- a single market with a known probability of shortfall (plain and importance-sampled draws);
- VaR and CVaR against closed forms (uniform, exponential, discrete with an atom at VaR);
- weights: integer weights equal duplicated draws, for every table;
- exceedance curves, fan charts, durations, the element ranking;
- SALib's Ishigami function through critmin.risk.analyse.sobol and .morris, against its known indices.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from critmin.errors import DataError, UsageError
from critmin.risk.analyse import (
    UncertainInput,
    cvar,
    duration_distribution,
    exceedance_curve,
    fan_chart,
    morris,
    rank_elements,
    risk_measures,
    sobol,
    value_at_risk,
    weighted_quantile,
)

# --- a single market with a known probability of shortfall ------------------------------------------------

CAPACITY = 100.0  # t/yr of supply capacity
MU, SIGMA = math.log(80.0), 0.1  # lognormal demand, median 80 t/yr: shortfalls come mostly from outages
OUTAGE_P, OUTAGE_CUT = 0.05, 0.4  # with probability p an outage removes 40% of the capacity
N_DRAWS = 50_000


def market_outcomes(rng: np.random.Generator, n: int, outage_q: float) -> pd.DataFrame:
    """One market, one region, one element: outages drawn with probability ``outage_q`` (importance sampling
    when ``outage_q != OUTAGE_P``: each draw weighted by the likelihood ratio of the true law to the drawn)."""
    demand = rng.lognormal(MU, SIGMA, n)
    outage = rng.random(n) < outage_q
    supply = np.where(outage, CAPACITY * (1 - OUTAGE_CUT), CAPACITY)
    shortfall = np.maximum(demand - supply, 0.0)
    weight = np.where(outage, OUTAGE_P / outage_q, (1 - OUTAGE_P) / (1 - outage_q))
    return pd.DataFrame(
        {
            "draw": np.arange(n),
            "weight": weight,
            "region": "EU",
            "element": "Ga",
            "shortfall_t": shortfall,
            "demand_t": demand,
            "shortfall_pct": 100 * shortfall / demand,
        }
    )


def analytic_prob_shortfall() -> float:
    def p_demand_above(supply: float) -> float:
        return float(stats.norm.sf((math.log(supply) - MU) / SIGMA))

    return OUTAGE_P * p_demand_above(CAPACITY * (1 - OUTAGE_CUT)) + (1 - OUTAGE_P) * p_demand_above(CAPACITY)


def test_single_market_probability_of_shortfall_matches_the_analytic_value():
    table = market_outcomes(np.random.default_rng(13), N_DRAWS, OUTAGE_P)
    p = analytic_prob_shortfall()
    row = risk_measures(table).iloc[0]
    se = math.sqrt(p * (1 - p) / N_DRAWS)
    assert abs(row.prob_any_shortfall - p) < 3 * se, (row.prob_any_shortfall, p, se)
    assert row.draws == N_DRAWS and row.unit == "%"
    # the same probability, in tonnes, and read off the exceedance curve at level 0
    assert risk_measures(table, loss="shortfall_t").iloc[0].prob_any_shortfall == row.prob_any_shortfall
    curve = exceedance_curve(table, loss="shortfall_t")
    assert curve.loc[curve.level == 0, "exceedance_prob"].item() == pytest.approx(row.prob_any_shortfall)


def test_importance_sampled_market_estimates_the_same_probability():
    """Outages drawn ten times too often, weighted back: the weighted estimate is unbiased and tighter."""
    table = market_outcomes(np.random.default_rng(14), N_DRAWS, 0.5)
    p = analytic_prob_shortfall()
    estimate = risk_measures(table).iloc[0].prob_any_shortfall
    contributions = table.weight * (table.shortfall_t > 0)  # the IS estimator is their mean (weights average 1)
    se = contributions.std(ddof=1) / math.sqrt(N_DRAWS)
    assert table.weight.mean() == pytest.approx(1.0, abs=0.02)
    assert abs(estimate - p) < 3 * se
    assert se < math.sqrt(p * (1 - p) / N_DRAWS)  # rarer outages, better resolved


# --- VaR and CVaR against closed forms ----------------------------------------------------------------------


@pytest.mark.parametrize("level", [0.95, 0.99])
def test_var_and_cvar_of_uniform_and_exponential_losses(level):
    rng = np.random.default_rng(7)
    n = 200_000
    uniform = rng.random(n)
    assert value_at_risk(uniform, level) == pytest.approx(level, abs=0.005)
    assert cvar(uniform, level) == pytest.approx((1 + level) / 2, abs=0.005)
    exponential = rng.exponential(1.0, n)
    var = -math.log(1 - level)
    assert value_at_risk(exponential, level) == pytest.approx(var, abs=0.1)
    assert cvar(exponential, level) == pytest.approx(var + 1, abs=0.1)


def test_cvar_counts_the_fractional_atom_at_var():
    # 96 draws of 0, three of 10, one of 20: the worst 5% is 10, 10, 10, 20 and 1% of the atom at 0
    losses = [0.0] * 96 + [10.0] * 3 + [20.0]
    assert value_at_risk(losses, 0.95) == 0.0
    assert cvar(losses, 0.95) == pytest.approx((30 + 20 + 0) / 5)
    # the worst 2%: 20 and one 10
    assert value_at_risk(losses, 0.98) == 10.0
    assert cvar(losses, 0.98) == pytest.approx(15.0)
    assert cvar(losses, 0.99) == pytest.approx(20.0)


def test_cvar_is_the_rockafellar_uryasev_minimum():
    rng = np.random.default_rng(3)
    losses = np.round(rng.gamma(0.5, 10, 500))  # many ties
    weights = rng.uniform(0.1, 3, 500)
    for level in (0.9, 0.95, 0.99):
        candidates = np.unique(losses)
        objective = [c + np.dot(weights, np.maximum(losses - c, 0)) / (weights.sum() * (1 - level)) for c in candidates]
        assert cvar(losses, level, weights) == pytest.approx(min(objective), rel=1e-12)
        assert cvar(losses, level, weights) >= value_at_risk(losses, level, weights)


def test_weighted_quantile_is_numpys_inverted_cdf_when_unweighted():
    rng = np.random.default_rng(5)
    x = rng.normal(size=101)
    qs = np.linspace(0.01, 0.99, 25)
    np.testing.assert_array_equal(weighted_quantile(x, qs), np.quantile(x, qs, method="inverted_cdf"))


def test_levels_and_bad_inputs_are_refused():
    with pytest.raises(UsageError):
        value_at_risk([1.0, 2.0], 1.0)
    with pytest.raises(DataError):
        cvar([1.0, float("nan")], 0.9)
    with pytest.raises(DataError):
        cvar([1.0, 2.0], 0.9, weights=[0.0, 0.0])
    doubled = pd.DataFrame({"draw": [0, 0], "region": "EU", "element": "Ga", "shortfall_pct": [1.0, 2.0]})
    with pytest.raises(DataError, match="one row per draw"):
        risk_measures(doubled)


# --- weights: integer weights are duplicated draws -----------------------------------------------------------


def random_outcomes(rng: np.random.Generator, n: int = 300) -> pd.DataFrame:
    rows = []
    for region in ("EU", "US"):
        for element in ("Ga", "Nd", "C"):
            shortfall = np.where(rng.random(n) < 0.3, rng.exponential(10, n), 0.0)
            rows.append(
                pd.DataFrame(
                    {
                        "draw": np.arange(n),
                        "region": region,
                        "element": element,
                        "shortfall_pct": np.round(shortfall, 1),
                        "cost_usd": np.round(shortfall * 1e6),
                        "tts_days": np.where(shortfall > 0, np.round(rng.uniform(0, 90, n)), np.nan),
                        "ttr_days": np.where(shortfall > 0, np.round(rng.uniform(30, 400, n)), np.nan),
                    }
                )
            )
    table = pd.concat(rows, ignore_index=True)
    weights = pd.Series(rng.integers(1, 5, n), index=np.arange(n))
    return table.assign(weight=table.draw.map(weights).astype(float))


def duplicate(table: pd.DataFrame) -> pd.DataFrame:
    """Each draw repeated ``weight`` times, as new draws of weight 1."""
    repeats = table.weight.astype(int).to_numpy()
    out = table.loc[table.index.repeat(repeats)].copy()
    out["draw"] = out.draw * 10 + out.groupby(level=0).cumcount()
    return out.drop(columns="weight").reset_index(drop=True)


def test_integer_weights_equal_duplicated_draws():
    table = random_outcomes(np.random.default_rng(11))
    twins = duplicate(table)
    weighted, repeated = risk_measures(table), risk_measures(twins)
    columns = ["expected_loss", "prob_any_shortfall", "var_95", "cvar_95", "var_99", "cvar_99"]
    pd.testing.assert_frame_equal(weighted[columns], repeated[columns], rtol=1e-12)
    assert (repeated.weight == repeated.draws).all() and (weighted.weight == repeated.weight).all()
    pd.testing.assert_frame_equal(exceedance_curve(table), exceedance_curve(twins), rtol=1e-12)
    for column in ("tts_days", "ttr_days"):
        pd.testing.assert_frame_equal(
            duration_distribution(table, column).drop(columns="draws"),
            duration_distribution(twins, column).drop(columns="draws"),
            rtol=1e-12,
        )
    pd.testing.assert_frame_equal(rank_elements(table, "EU"), rank_elements(twins, "EU"), rtol=1e-12)


# --- exceedance curves, fan charts, durations, ranking -------------------------------------------------------


def test_exceedance_curve_is_monotone_and_consistent_with_prob_any_shortfall():
    table = random_outcomes(np.random.default_rng(12))
    curve = exceedance_curve(table)
    measures = risk_measures(table).set_index(["region", "element"])
    for (region, element), group in curve.groupby(["region", "element"]):
        assert group.level.is_monotonic_increasing and group.level.is_unique
        assert (np.diff(group.exceedance_prob) <= 1e-15).all()
        assert group.exceedance_prob.iloc[-1] == 0.0
        at_zero = group.loc[group.level == 0, "exceedance_prob"].item()
        assert at_zero == pytest.approx(measures.loc[(region, element), "prob_any_shortfall"], abs=1e-12)
        # P(L > VaR_95) <= 5% < P(L >= VaR_95)
        var = measures.loc[(region, element), "var_95"]
        assert group.loc[group.level == var, "exceedance_prob"].item() <= 0.05 + 1e-12


def test_fan_chart_quantiles_are_ordered_and_weighted():
    rng = np.random.default_rng(21)
    draws, dates = 400, pd.date_range("2026-01-01", periods=12, freq="MS")
    rows = []
    for product in ("gallium_metal", "ndpr_oxide"):
        shocks = rng.lognormal(0, 0.1, (draws, dates.size)).cumprod(axis=1) * 100
        for d, date in enumerate(dates):
            rows.append(
                pd.DataFrame(
                    {"draw": np.arange(draws), "region": "CN", "product": product, "date": date, "price": shocks[:, d]}
                )
            )
    prices = pd.concat(rows, ignore_index=True)
    prices["weight"] = prices.draw.map(pd.Series(rng.integers(1, 4, draws))).astype(float)
    fan = fan_chart(prices)
    quantile_columns = ["q05", "q25", "q50", "q75", "q95"]
    assert list(fan.columns) == ["region", "product", "date", "draws", "mean", *quantile_columns]
    assert len(fan) == 2 * dates.size
    assert (np.diff(fan[quantile_columns].to_numpy(), axis=1) >= 0).all()
    # the spread of a random walk widens with time
    spread = fan.q95 - fan.q05
    for _, group in fan.assign(spread=spread).groupby("product"):
        assert group.spread.iloc[-1] > group.spread.iloc[0]
    pd.testing.assert_frame_equal(
        fan.drop(columns="draws"), fan_chart(duplicate(prices)).drop(columns="draws"), rtol=1e-12
    )


def test_duration_distribution_leaves_out_undefined_and_keeps_infinite_durations():
    table = pd.DataFrame(
        {"draw": range(6), "region": "EU", "element": "Ga", "ttr_days": [np.nan, np.nan, 10, 20, 30, np.inf]}
    )
    row = duration_distribution(table, "ttr_days", quantiles=(0.25, 0.5, 1.0)).iloc[0]
    assert row.share_defined == pytest.approx(4 / 6)
    assert row.q25 == 10 and row.q50 == 20 and math.isinf(row.q100) and math.isinf(row["mean"])
    assert row.unit == "days"
    none = duration_distribution(table.assign(ttr_days=np.nan), "ttr_days").iloc[0]
    assert none.share_defined == 0 and math.isnan(none["mean"])


def test_rank_elements_sums_sectors_and_averages_over_all_draws():
    table = pd.DataFrame(
        {
            "draw": [0, 0, 0, 1, 1, 2],
            "weight": [1.0, 1.0, 1.0, 2.0, 2.0, 1.0],
            "region": ["US", "US", "US", "US", "US", "EU"],
            "element": ["Ga", "Ga", "Nd", "Ga", "Nd", "Ga"],
            "sector": ["chips", "defence", "magnets", "chips", "magnets", "chips"],
            "cost_usd": [1.0, 3.0, 2.0, 4.0, 1.0, 100.0],
        }
    )
    ranking = rank_elements(table, "US", reference=["Ga", "Nd", "C"])
    # total weight 4 (draws 0, 1, 2); Ga: (1 + 3) * 1 + 4 * 2 = 12 -> 3; Nd: 2 + 1 * 2 = 4 -> 1
    assert ranking.element.tolist() == ["Ga", "Nd"]
    assert ranking.expected_cost.tolist() == [3.0, 1.0]
    assert ranking["rank"].tolist() == [1, 2] and ranking.share.sum() == pytest.approx(1.0)
    assert ranking.on_reference_list.all() and (ranking.unit == "USD").all()
    with pytest.raises(DataError):
        rank_elements(table, "JP")


# --- SALib's Ishigami function ------------------------------------------------------------------------------

A, B = 7.0, 0.1
ISHIGAMI = [UncertainInput(f"x{i}", -math.pi, math.pi, "1", "Ishigami input") for i in (1, 2, 3)]


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_indices() -> tuple[np.ndarray, np.ndarray, float]:
    """The analytic first-order and total indices, and S13 (the only interaction)."""
    pi4 = math.pi**4
    v1 = 0.5 * (1 + B * pi4 / 5) ** 2
    v2 = A**2 / 8
    v13 = B**2 * math.pi**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v, v13 / v


def test_ishigami_known_indices():
    s1, st, s13 = ishigami_indices()
    np.testing.assert_allclose(s1, [0.3139, 0.4424, 0.0], atol=1e-4)
    np.testing.assert_allclose(st, [0.5576, 0.4424, 0.2437], atol=1e-4)
    assert s13 == pytest.approx(0.2437, abs=1e-4)


def test_sobol_indices_of_ishigami_through_critmin():
    s1, st, _ = ishigami_indices()
    table = sobol(ISHIGAMI, ishigami, n=4096, seed=1)
    assert table.input.tolist() == ["x1", "x2", "x3"]
    np.testing.assert_allclose(table.S1, s1, atol=0.03)
    np.testing.assert_allclose(table.ST, st, atol=0.03)
    # the bootstrap intervals are honest (cover the truth) and narrow at this n
    assert (abs(table.S1 - s1) <= table.S1_conf).all()
    assert (abs(table.ST - st) <= table.ST_conf).all()
    assert (table.S1_conf < 0.05).all() and (table.ST_conf < 0.05).all()


def test_sobol_second_order_of_ishigami():
    _, _, s13 = ishigami_indices()
    table = sobol(ISHIGAMI, ishigami, n=2048, seed=2, calc_second_order=True, num_resamples=200)
    second = table.attrs["second_order"].set_index(["input_1", "input_2"])
    assert second.loc[("x1", "x3"), "S2"] == pytest.approx(s13, abs=0.08)
    assert abs(second.loc[("x1", "x2"), "S2"]) < 0.08 and abs(second.loc[("x2", "x3"), "S2"]) < 0.08


def ishigami_morris_mu_star() -> np.ndarray:
    """The exact mu_star on SALib's default grid: 4 levels (-pi, -pi/3, pi/3, pi), steps of 2/3 of the range
    (-pi <-> pi/3 or -pi/3 <-> pi), every level equally likely for the inputs that do not move."""
    levels, step = np.array([-1, -1 / 3, 1 / 3, 1]) * math.pi, 2 / 3
    pairs = [(levels[0], levels[2]), (levels[1], levels[3])]
    ee1 = [abs(math.sin(b) - math.sin(a)) * (1 + B * x3**4) / step for a, b in pairs for x3 in levels]
    ee2 = [A * abs(math.sin(b) ** 2 - math.sin(a) ** 2) / step for a, b in pairs]
    ee3 = [B * abs(b**4 - a**4) * abs(math.sin(x1)) / step for a, b in pairs for x1 in levels]
    return np.array([np.mean(ee1), np.mean(ee2), np.mean(ee3)])  # about 7.70, 7.875, 6.25


def test_morris_screens_ishigami():
    expected = ishigami_morris_mu_star()
    table = morris(ISHIGAMI, ishigami, trajectories=100, seed=1).set_index("input").loc[["x1", "x2", "x3"]]
    # x2's elementary effect is the same on every step of the grid: exact; x1's and x3's are sampled
    assert table.mu_star["x2"] == pytest.approx(expected[1], rel=1e-9)
    assert (abs(table.mu_star - expected) <= 2 * table.mu_star_conf + 1e-9).all()
    assert table["rank"]["x3"] == 3  # at this seed; x3 acts only through its interaction with x1
    assert table.sigma["x3"] > table.sigma["x1"]  # ... so its effects spread the most
    assert (table.mu_star_conf[["x1", "x3"]] > 0).all()


def test_sensitivity_refuses_bad_problems():
    with pytest.raises(UsageError):
        UncertainInput("x", 1.0, 1.0)
    with pytest.raises(UsageError):
        sobol(ISHIGAMI, ishigami, n=1000)
    with pytest.raises(UsageError):
        sobol(ISHIGAMI[:1], ishigami, n=64)
    with pytest.raises(DataError):
        sobol(ISHIGAMI, lambda x: np.ones((x.shape[0], 2)), n=64)
