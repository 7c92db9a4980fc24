"""Issue 13, step 5 (analyse): risk statistics over the per-draw outcomes of a Monte Carlo risk study.

Pure functions over long-format pandas tables, one row per draw and group:

- outcomes: ``draw``, ``weight`` (the draw's importance-sampling weight; 1 when the column is absent),
  the group columns (``region``, ``element``, optionally ``sector``) and the outcome columns
  (``shortfall_t``, ``demand_t``, ``shortfall_pct``, ``cost_usd``, ``tts_days``, ``ttr_days``);
- prices: ``draw``, ``weight``, ``region``, ``product``, ``date``, ``price``.

Every statistic honours the draws' weights: a draw of weight 2 counts as two draws of weight 1, and weights
need not sum to one (they are normalised per group).

Conventions
-----------
- The weighted ``a``-quantile is the lower inverse of the weighted distribution function,
  ``q_a = min {x : F_w(x) >= a}``, where ``F_w(x)`` is the weight of the draws with loss ``<= x`` over the
  total weight. No interpolation: a quantile is always an observed value (as the empirical quantile of
  ``numpy.quantile(..., method="inverted_cdf")``).
- ``VaR_a`` (value at risk) of a loss is its weighted ``a``-quantile.
- ``CVaR_a`` (conditional value at risk, expected shortfall beyond VaR) is Rockafellar and Uryasev's
  ``CVaR_a = VaR_a + E_w[(L - VaR_a)^+] / (1 - a)``: the weighted mean of the worst ``1 - a`` of the
  probability mass, with the atom at ``VaR_a`` counted only for the fraction of its weight needed to make up
  ``1 - a`` (so CVaR is coherent and continuous in ``a`` even for discrete losses; ``CVaR_a >= VaR_a``).
- ``prob_any_shortfall`` is the weighted probability that the loss is strictly positive.
- Exceedance curves give ``P(L > level)`` (strict), so the curve at level 0 is ``prob_any_shortfall``.

Sensitivity analysis (Morris screening, Sobol indices with bootstrap confidence intervals, via SALib) lives in
:mod:`critmin.risk.sensitivity` and is re-exported here: :func:`morris`, :func:`sobol`,
:class:`UncertainInput`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from critmin.errors import DataError, UsageError
from critmin.risk.sensitivity import UncertainInput, morris, sobol

__all__ = [
    "LOSS_UNITS",
    "UncertainInput",
    "cvar",
    "duration_distribution",
    "exceedance_curve",
    "fan_chart",
    "morris",
    "rank_elements",
    "risk_measures",
    "sobol",
    "value_at_risk",
    "weighted_quantile",
]

#: The unit of each known outcome column (reported in the tables' ``unit`` column).
LOSS_UNITS: dict[str, str] = {
    "shortfall_t": "t",
    "demand_t": "t",
    "shortfall_pct": "%",
    "cost_usd": "USD",
    "tts_days": "days",
    "ttr_days": "days",
    "price": "USD/t",
}

_REL_TOL = 1e-12  # cumulative weights are compared with a relative tolerance against round-off


# --- weighted quantiles, VaR and CVaR on plain arrays ------------------------------------------------------


def _as_arrays(values, weights) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(values, dtype=float).ravel()
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float).ravel()
    if x.shape != w.shape:
        raise UsageError(f"values and weights differ in length: {x.size} and {w.size}")
    if x.size == 0:
        raise DataError("no draws to summarise")
    if np.isnan(x).any():
        raise DataError("losses contain NaN")
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise DataError("weights must be finite, non-negative and not all zero")
    return x, w


def _check_level(level: float) -> float:
    level = float(level)
    if not 0.0 < level < 1.0:
        raise UsageError(f"a level must lie strictly between 0 and 1, not {level}")
    return level


def _sorted_cumulative(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    return xs, np.cumsum(ws), float(ws.sum())


def _quantiles_sorted(xs: np.ndarray, cum: np.ndarray, total: float, qs: np.ndarray) -> np.ndarray:
    # lower inverse of the weighted CDF: the first sorted value whose cumulative weight reaches q * total
    targets = qs * total * (1.0 - _REL_TOL)
    idx = np.searchsorted(cum, targets, side="left")
    return xs[np.minimum(idx, xs.size - 1)]


def weighted_quantile(values, quantiles, weights=None) -> np.ndarray | float:
    """The weighted quantile(s) of ``values``: the lower inverse of the weighted distribution function.

    ``quantiles`` in [0, 1] (a scalar gives a scalar). Integer weights give the quantiles of the values
    repeated that many times.

    >>> weighted_quantile([1, 2, 3, 4], 0.5)
    2.0
    >>> weighted_quantile([1, 2, 3, 4], 0.5, weights=[1, 1, 1, 3])
    3.0
    >>> weighted_quantile([1, 2, 3, 4], [0.0, 1.0]).tolist()
    [1.0, 4.0]
    """
    x, w = _as_arrays(values, weights)
    qs = np.asarray(quantiles, dtype=float)
    if ((qs < 0) | (qs > 1)).any() or np.isnan(qs).any():
        raise UsageError(f"quantiles must lie in [0, 1], not {quantiles}")
    xs, cum, total = _sorted_cumulative(x, w)
    out = _quantiles_sorted(xs, cum, total, np.atleast_1d(qs))
    return float(out[0]) if qs.ndim == 0 else out


def value_at_risk(losses, level: float = 0.95, weights=None) -> float:
    """VaR at ``level``: the weighted ``level``-quantile of the losses (see the module's conventions).

    >>> value_at_risk(range(1, 101), 0.95)
    95.0
    """
    return float(weighted_quantile(losses, _check_level(level), weights))


def cvar(losses, level: float = 0.95, weights=None) -> float:
    """CVaR at ``level`` (Rockafellar–Uryasev): ``VaR + E[(L - VaR)^+] / (1 - level)``, weighted.

    The weighted mean of the worst ``1 - level`` of the probability mass, the atom at VaR counted for the
    fraction of its weight that completes the tail.

    >>> cvar(range(1, 101), 0.95)  # the mean of the five worst: 96..100
    98.0
    >>> cvar([0, 0, 0, 10], 0.5)  # half the mass: 10 with weight 1/4, 0 with weight 1/4
    5.0
    """
    level = _check_level(level)
    x, w = _as_arrays(losses, weights)
    var = float(weighted_quantile(x, level, w))
    return _cvar_given_var(x, w, var, level)


def _cvar_given_var(x: np.ndarray, w: np.ndarray, var: float, level: float) -> float:
    if np.isinf(var):
        return float(var)
    excess = np.where(x > var, x - var, 0.0)
    return float(var + np.dot(w, excess) / (w.sum() * (1.0 - level)))


# --- tables ---------------------------------------------------------------------------------------------------


def _level_label(level: float) -> str:
    return f"{level * 100:g}".replace(".", "_")


def _quantile_label(q: float) -> str:
    return f"q{q * 100:02g}".replace(".", "_")


def _weights(frame: pd.DataFrame, weight: str) -> pd.Series:
    if weight in frame.columns:
        return frame[weight].astype(float)
    return pd.Series(1.0, index=frame.index)


def _require(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{what} lacks the column(s) {missing}; it has {list(frame.columns)}")


def _groups(frame: pd.DataFrame, by: Sequence[str]):
    by = list(by)
    if not by:
        yield (), frame
        return
    for key, group in frame.groupby(by, sort=True, dropna=False):
        yield (key if isinstance(key, tuple) else (key,)), group


def _unique_per_draw(frame: pd.DataFrame, by: Sequence[str], draw: str, what: str) -> None:
    if draw in frame.columns and frame.duplicated([*by, draw]).any():
        raise DataError(
            f"{what}: more than one row per draw and group {list(by)}; aggregate the rows within each draw "
            "first, or add the distinguishing column (e.g. sector) to `by`"
        )


def risk_measures(
    outcomes: pd.DataFrame,
    by: Sequence[str] = ("region", "element"),
    loss: str = "shortfall_pct",
    levels: Sequence[float] = (0.95, 0.99),
    weight: str = "weight",
    draw: str = "draw",
    unit: str | None = None,
) -> pd.DataFrame:
    """Risk measures of ``loss`` per group: expected loss, the probability of any shortfall, VaR and CVaR.

    One row per group with the columns ``by``, ``loss``, ``unit``, ``draws`` (rows), ``weight`` (their total
    weight), ``expected_loss`` (the weighted mean), ``prob_any_shortfall`` (weighted ``P(loss > 0)``) and, per
    level ``a``, ``var_<100a>`` and ``cvar_<100a>`` (``var_95``, ``cvar_95``, ``var_99_5`` for 0.995...).
    Expects one row per draw and group (add ``sector`` to ``by`` when the table has one row per sector).

    >>> table = pd.DataFrame({"draw": range(4), "region": "EU", "element": "Ga",
    ...                       "shortfall_pct": [0.0, 0.0, 10.0, 30.0]})
    >>> row = risk_measures(table, levels=(0.5,)).iloc[0]
    >>> float(row.expected_loss), float(row.prob_any_shortfall), float(row.var_50), float(row.cvar_50)
    (10.0, 0.5, 0.0, 20.0)
    """
    by = list(by)
    levels = [_check_level(a) for a in levels]
    _require(outcomes, [*by, loss], "the outcomes table")
    _unique_per_draw(outcomes, by, draw, "risk_measures")
    frame = outcomes.assign(_w=_weights(outcomes, weight))
    rows = []
    for key, group in _groups(frame, by):
        x, w = _as_arrays(group[loss].to_numpy(), group["_w"].to_numpy())
        xs, cum, total = _sorted_cumulative(x, w)
        row = dict(zip(by, key, strict=True))
        row.update(
            loss=loss,
            unit=unit if unit is not None else LOSS_UNITS.get(loss, ""),
            draws=int(x.size),
            weight=total,
            expected_loss=float(np.dot(w, x) / total),
            prob_any_shortfall=float(w[x > 0].sum() / total),
        )
        for a in levels:
            var = float(_quantiles_sorted(xs, cum, total, np.array([a]))[0])
            row[f"var_{_level_label(a)}"] = var
            row[f"cvar_{_level_label(a)}"] = _cvar_given_var(x, w, var, a)
        rows.append(row)
    return pd.DataFrame(rows)


def exceedance_curve(
    outcomes: pd.DataFrame,
    loss: str = "shortfall_pct",
    by: Sequence[str] = ("region", "element"),
    weight: str = "weight",
    draw: str = "draw",
) -> pd.DataFrame:
    """The weighted exceedance curve of ``loss`` per group: ``P(loss > level)`` at each observed level.

    Columns ``by``, ``level`` and ``exceedance_prob``; levels ascending, the probability non-increasing,
    0 at the largest loss. For non-negative losses the level 0 is always present and its probability is
    :func:`risk_measures`' ``prob_any_shortfall``.

    >>> table = pd.DataFrame({"draw": range(4), "shortfall_t": [0.0, 0.0, 5.0, 20.0]})
    >>> exceedance_curve(table, "shortfall_t", by=()).to_dict("list")
    {'level': [0.0, 5.0, 20.0], 'exceedance_prob': [0.5, 0.25, 0.0]}
    """
    by = list(by)
    _require(outcomes, [*by, loss], "the outcomes table")
    _unique_per_draw(outcomes, by, draw, "exceedance_curve")
    frame = outcomes.assign(_w=_weights(outcomes, weight))
    parts = []
    for key, group in _groups(frame, by):
        x, w = _as_arrays(group[loss].to_numpy(), group["_w"].to_numpy())
        if x.min() >= 0:
            x, w = np.append(x, 0.0), np.append(w, 0.0)  # the level 0, weightless
        levels, inverse = np.unique(x, return_inverse=True)
        mass = np.bincount(inverse, weights=w, minlength=levels.size)
        total = mass.sum()
        at_or_below = np.cumsum(mass)
        prob = np.clip(1.0 - at_or_below / total, 0.0, 1.0)
        prob[-1] = 0.0
        part = pd.DataFrame({"level": levels, "exceedance_prob": prob})
        for column, value in zip(by, key, strict=True):
            part.insert(by.index(column), column, value)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def fan_chart(
    prices: pd.DataFrame,
    quantiles: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95),
    by: Sequence[str] = ("region", "product"),
    value: str = "price",
    date: str = "date",
    weight: str = "weight",
) -> pd.DataFrame:
    """Weighted quantiles of ``value`` per group and date, for fan charts.

    Columns ``by``, ``date``, ``draws``, ``mean`` and one column per quantile, named ``q05``, ``q25``,
    ``q50``... (``q2_5`` for 0.025); quantiles are the module's weighted lower quantiles, so they are
    ordered like ``quantiles``.

    >>> prices = pd.DataFrame({"draw": [0, 1, 2, 3] * 2, "date": ["2026"] * 4 + ["2027"] * 4,
    ...                        "price": [1.0, 2.0, 3.0, 4.0, 2.0, 4.0, 6.0, 8.0]})
    >>> fan_chart(prices, quantiles=(0.25, 0.75), by=())[["date", "q25", "q75"]].to_dict("list")
    {'date': ['2026', '2027'], 'q25': [1.0, 2.0], 'q75': [3.0, 6.0]}
    """
    by = list(by)
    quantiles = [float(q) for q in quantiles]
    _require(prices, [*by, date, value], "the prices table")
    frame = prices.assign(_w=_weights(prices, weight))
    rows = []
    for key, group in _groups(frame, [*by, date]):
        x, w = _as_arrays(group[value].to_numpy(), group["_w"].to_numpy())
        row = dict(zip([*by, date], key, strict=True))
        row.update(draws=int(x.size), mean=float(np.dot(w, x) / w.sum()))
        qs = weighted_quantile(x, np.array(quantiles), w)
        row.update({_quantile_label(q): float(v) for q, v in zip(quantiles, qs, strict=True)})
        rows.append(row)
    return pd.DataFrame(rows)


def duration_distribution(
    outcomes: pd.DataFrame,
    column: str = "tts_days",
    by: Sequence[str] = ("region", "element"),
    quantiles: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95),
    weight: str = "weight",
) -> pd.DataFrame:
    """The weighted distribution of a duration (time to survive ``tts_days``, time to recover ``ttr_days``).

    A NaN duration means "not applicable" in that draw (no shortfall, say): it is left out of the
    distribution and counted in ``share_defined`` (the weighted share of draws with a duration). An infinite
    duration (never recovers) is kept: it makes the mean and the upper quantiles infinite. Columns ``by``,
    ``column``, ``unit``, ``draws``, ``share_defined``, ``mean``, ``min``, the quantiles (``q05``...) and ``max``
    (all NaN when no draw has a duration).

    >>> table = pd.DataFrame({"draw": range(5), "ttr_days": [float("nan"), 10, 20, 30, 40]})
    >>> row = duration_distribution(table, "ttr_days", by=(), quantiles=(0.5,)).iloc[0]
    >>> float(row.share_defined), float(row["mean"]), float(row.q50)
    (0.8, 25.0, 20.0)
    """
    by = list(by)
    quantiles = [float(q) for q in quantiles]
    _require(outcomes, [*by, column], "the outcomes table")
    frame = outcomes.assign(_w=_weights(outcomes, weight))
    rows = []
    for key, group in _groups(frame, by):
        x_all = group[column].to_numpy(dtype=float)
        w_all = group["_w"].to_numpy(dtype=float)
        defined = ~np.isnan(x_all)
        row = dict(zip(by, key, strict=True))
        row.update(column=column, unit=LOSS_UNITS.get(column, ""), draws=int(x_all.size))
        total = w_all.sum()
        row["share_defined"] = float(w_all[defined].sum() / total) if total > 0 else float("nan")
        stats = {"mean": np.nan, "min": np.nan, **{_quantile_label(q): np.nan for q in quantiles}, "max": np.nan}
        if defined.any() and w_all[defined].sum() > 0:
            x, w = x_all[defined], w_all[defined]
            with np.errstate(invalid="ignore"):
                stats["mean"] = float(np.dot(w, x) / w.sum()) if np.isfinite(x).all() else float(np.inf)
            stats["min"], stats["max"] = float(x.min()), float(x.max())
            qs = weighted_quantile(x, np.array(quantiles), w)
            stats.update({_quantile_label(q): float(v) for q, v in zip(quantiles, qs, strict=True)})
        row.update(stats)
        rows.append(row)
    return pd.DataFrame(rows)


def rank_elements(
    outcomes: pd.DataFrame,
    region: str,
    cost: str = "cost_usd",
    reference: Iterable[str] | None = None,
    weight: str = "weight",
    draw: str = "draw",
) -> pd.DataFrame:
    """Elements ranked by their expected shortfall cost to ``region`` (rank 1 the costliest).

    Costs are additive: the rows of a draw (one per sector, say) are summed per element, and the expectation
    is over every draw in ``outcomes`` (a draw with no row for an element costs it nothing), with each draw's
    weight. Columns ``element``, ``expected_cost``, ``unit``, ``share`` (of the region's total expected cost),
    ``rank`` and, when ``reference`` (a list of elements such as the USGS critical-minerals list) is given,
    ``on_reference_list``.

    >>> table = pd.DataFrame({"draw": [0, 0, 1, 1], "region": "US", "element": ["Ga", "Nd", "Ga", "Nd"],
    ...                       "cost_usd": [0.0, 4.0, 2.0, 2.0]})
    >>> rank_elements(table, "US")[["element", "expected_cost", "rank"]].to_dict("list")
    {'element': ['Nd', 'Ga'], 'expected_cost': [3.0, 1.0], 'rank': [1, 2]}
    """
    _require(outcomes, ["region", "element", cost], "the outcomes table")
    frame = outcomes.assign(_w=_weights(outcomes, weight))
    if draw in frame.columns:
        draw_weights = frame.groupby(draw, sort=False)["_w"].first()
        total = float(draw_weights.sum())
    else:  # no draw column: every row is its own draw
        total = float(frame["_w"].sum())
    if total <= 0:
        raise DataError("the draws' weights sum to zero")
    mine = frame[frame["region"] == region]
    if mine.empty:
        raise DataError(f"no outcomes for the region {region!r}")
    if mine[cost].isna().any():
        raise DataError(f"{cost} contains NaN for {region!r}")
    weighted = (mine[cost].astype(float) * mine["_w"]).groupby(mine["element"]).sum() / total
    table = weighted.rename("expected_cost").reset_index()
    table["unit"] = LOSS_UNITS.get(cost, "")
    grand = table["expected_cost"].sum()
    table["share"] = table["expected_cost"] / grand if grand > 0 else 0.0
    table = table.sort_values(["expected_cost", "element"], ascending=[False, True], ignore_index=True)
    table["rank"] = np.arange(1, len(table) + 1)
    if reference is not None:
        listed = set(reference)
        table["on_reference_list"] = table["element"].isin(listed)
    return table
