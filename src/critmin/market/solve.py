"""Solve a built market model with HiGHS through linopy and write the results back."""

from __future__ import annotations

import warnings

from critmin.market.build import MarketModel, curtail_segments
from critmin.market.quiet import quiet_stdout
from critmin.market.results import StepResult, write_back


class MarketSolveError(RuntimeError):
    """HiGHS did not reach an optimum; the message says why and what to check."""


DEFAULT_OPTIONS = {
    "output_flag": False,
    "primal_feasibility_tolerance": 1e-7,
    "dual_feasibility_tolerance": 1e-7,
    "qp_regularization_value": 1e-7,
}
HIGHS_OPTIONS = {
    "output_flag": False,
    # golden cases are asserted to 1e-6; the default 1e-7 tolerances leave errors near 1e-5 in prices
    "primal_feasibility_tolerance": 1e-10,
    "dual_feasibility_tolerance": 1e-10,
    # HiGHS regularises QPs by 1e-7 x^2 by default, shifting prices by 1e-7 x quantity; 1e-10 keeps it robust
    "qp_regularization_value": 1e-10,
}


def solve_market(market: MarketModel, **options) -> StepResult:
    """Solve with HiGHS and return flows, prices (balance duals), shortfall and stock changes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tight = HIGHS_OPTIONS if market.settings.curves == "linear" else {"output_flag": False}
        with quiet_stdout():
            status, condition = market.model.solve("highs", **{**tight, **options})
            if (
                condition != "optimal"
            ):  # the tight settings occasionally trip HiGHS's QP solver: retry with its defaults
                status, condition = market.model.solve("highs", **{**DEFAULT_OPTIONS, **options})
    if status != "ok" or condition != "optimal":
        raise MarketSolveError(
            f"HiGHS returned {status}/{condition}. Unserved demand is priced, so a consistent world always "
            "clears; with linear curves on a large world HiGHS's QP solver can stall: try stepwise curves "
            "(--curves stepwise). Otherwise check for negative capacities or NaN costs."
        )
    offset = curtail_segments(market.data, market.settings).offset
    return write_back(market.model, market.data, offset, condition, market.model.objective.value)
