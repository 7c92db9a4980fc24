"""Issue 13, step 5 (analyse): global sensitivity of a risk outcome to the study's declared uncertain inputs
(elasticities, disruption probabilities, stock days, recycling rates), with SALib.

SALib's split is kept: sample the inputs, evaluate the model on the sample matrix, analyse the outputs.
Here the three steps are one call, :func:`morris` (elementary-effects screening, cheap, to find the inputs
that matter) then :func:`sobol` (variance-based first-order and total indices, with bootstrap confidence
intervals). ``evaluate`` is vectorised: it takes the ``(rows, inputs)`` sample matrix, columns in the order
the inputs were declared, and returns one output per row.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from critmin.errors import DataError, UsageError

__all__ = ["UncertainInput", "morris", "problem", "sobol"]

Evaluate = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class UncertainInput:
    """An uncertain input of a risk study: its name, its range (sampled uniformly), unit and meaning.

    >>> UncertainInput("elasticity_ga", -0.8, -0.1, "1", "gallium demand price elasticity").width
    0.7000000000000001
    """

    name: str
    low: float
    high: float
    unit: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            raise UsageError("an uncertain input needs a name")
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise UsageError(f"{self.name}: the range needs finite low < high, not [{self.low}, {self.high}]")

    @property
    def width(self) -> float:
        """high - low."""
        return self.high - self.low


def problem(inputs: Sequence[UncertainInput]) -> dict:
    """SALib's problem dictionary for ``inputs`` (names unique, at least two inputs).

    >>> problem([UncertainInput("a", 0, 1), UncertainInput("b", 2, 3)])
    {'num_vars': 2, 'names': ['a', 'b'], 'bounds': [[0.0, 1.0], [2.0, 3.0]]}
    """
    inputs = list(inputs)
    if len(inputs) < 2:
        raise UsageError("a sensitivity analysis needs at least two uncertain inputs")
    names = [i.name for i in inputs]
    if len(set(names)) != len(names):
        raise UsageError(f"uncertain inputs' names repeat: {names}")
    return {"num_vars": len(inputs), "names": names, "bounds": [[float(i.low), float(i.high)] for i in inputs]}


def _evaluate(evaluate: Evaluate, sample: np.ndarray) -> np.ndarray:
    y = np.asarray(evaluate(sample), dtype=float)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.shape != (sample.shape[0],):
        raise DataError(
            f"evaluate must return one output per sample row: got shape {y.shape} for {sample.shape[0]} rows"
        )
    if not np.isfinite(y).all():
        raise DataError("evaluate returned non-finite outputs")
    return y


def morris(
    inputs: Sequence[UncertainInput],
    evaluate: Evaluate,
    trajectories: int = 50,
    seed: int = 0,
    num_levels: int = 4,
    num_resamples: int = 1000,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Morris elementary-effects screening of ``evaluate`` over ``inputs`` (SALib), ranked by ``mu_star``.

    Runs ``trajectories * (len(inputs) + 1)`` evaluations. Columns ``input``, ``unit``, ``mu`` (mean
    elementary effect), ``mu_star`` (mean absolute effect: importance), ``mu_star_conf`` (bootstrap half-width
    at ``conf_level``), ``sigma`` (spread: non-linearity or interaction) and ``rank`` (1 the most important).

    >>> inputs = [UncertainInput("a", 0, 1), UncertainInput("b", 0, 1)]
    >>> morris(inputs, lambda x: 3 * x[:, 0] + x[:, 1], trajectories=10)[["input", "mu_star"]].round(6).values.tolist()
    [['a', 3.0], ['b', 1.0]]
    """
    from SALib.analyze import morris as analyse_morris
    from SALib.sample import morris as sample_morris

    if trajectories < 2:
        raise UsageError("Morris screening needs at least two trajectories")
    inputs = list(inputs)
    spec = problem(inputs)
    sample = sample_morris.sample(spec, int(trajectories), num_levels=num_levels, seed=seed)
    y = _evaluate(evaluate, sample)
    result = analyse_morris.analyze(
        spec, sample, y, num_resamples=num_resamples, conf_level=conf_level, num_levels=num_levels, seed=seed
    )
    table = pd.DataFrame(
        {
            "input": spec["names"],
            "unit": [i.unit for i in inputs],
            "mu": np.asarray(result["mu"], dtype=float),
            "mu_star": np.asarray(result["mu_star"], dtype=float),
            "mu_star_conf": np.asarray(result["mu_star_conf"], dtype=float),
            "sigma": np.asarray(result["sigma"], dtype=float),
        }
    )
    table = table.sort_values("mu_star", ascending=False, kind="stable", ignore_index=True)
    table["rank"] = np.arange(1, len(table) + 1)
    return table


def sobol(
    inputs: Sequence[UncertainInput],
    evaluate: Evaluate,
    n: int = 1024,
    seed: int = 0,
    calc_second_order: bool = False,
    num_resamples: int = 1000,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Sobol first-order and total indices of ``evaluate`` over ``inputs`` (SALib, Saltelli's scheme).

    ``n`` base samples (a power of two, for the Sobol sequence's balance), so ``n * (len(inputs) + 2)``
    evaluations (``n * (2 * len(inputs) + 2)`` with ``calc_second_order``). Columns ``input``, ``unit``,
    ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (bootstrap half-widths at ``conf_level``, ``num_resamples``
    resamples), in the declared order. With ``calc_second_order`` the pairwise indices are in
    ``table.attrs["second_order"]``, a table of ``input_1``, ``input_2``, ``S2``, ``S2_conf``.

    >>> inputs = [UncertainInput("a", 0, 1), UncertainInput("b", 0, 1)]
    >>> table = sobol(inputs, lambda x: 3 * x[:, 0] + x[:, 1], n=256, num_resamples=100)
    >>> table[["S1", "ST"]].round(1).values.tolist()  # variances 9/12 and 1/12: shares 0.9 and 0.1
    [[0.9, 0.9], [0.1, 0.1]]
    """
    from SALib.analyze import sobol as analyse_sobol
    from SALib.sample import sobol as sample_sobol

    n = int(n)
    if n < 2 or n & (n - 1):
        raise UsageError(f"n must be a power of two (at least 2), not {n}")
    inputs = list(inputs)
    spec = problem(inputs)
    sample = sample_sobol.sample(spec, n, calc_second_order=calc_second_order, seed=seed)
    y = _evaluate(evaluate, sample)
    if np.ptp(y) == 0:
        raise DataError("the output does not vary over the sample: Sobol indices are undefined")
    result = analyse_sobol.analyze(
        spec,
        y,
        calc_second_order=calc_second_order,
        num_resamples=num_resamples,
        conf_level=conf_level,
        seed=seed,
    )
    table = pd.DataFrame(
        {
            "input": spec["names"],
            "unit": [i.unit for i in inputs],
            "S1": np.asarray(result["S1"], dtype=float),
            "S1_conf": np.asarray(result["S1_conf"], dtype=float),
            "ST": np.asarray(result["ST"], dtype=float),
            "ST_conf": np.asarray(result["ST_conf"], dtype=float),
        }
    )
    if calc_second_order:
        names = spec["names"]
        pairs = [(i, j) for i in range(len(names)) for j in range(i + 1, len(names))]
        table.attrs["second_order"] = pd.DataFrame(
            {
                "input_1": [names[i] for i, _ in pairs],
                "input_2": [names[j] for _, j in pairs],
                "S2": [float(result["S2"][i, j]) for i, j in pairs],
                "S2_conf": [float(result["S2_conf"][i, j]) for i, j in pairs],
            }
        )
    return table
