"""Solve a built market model and write the results back.

Stepwise curves make the model an LP, solved by HiGHS through linopy (the linopy model then carries the
solution). Linear curves make it a convex QP with a diagonal Hessian. HiGHS's active-set QP solver answers
textbook worlds only to about 1e-5 (it regularises the Hessian and stops within its tolerances; tighter
settings make it fail on half of them) and calls the bundled world non-convex, so exact mode hands the model,
as exported to HiGHS, to the interior-point QP solver of :mod:`critmin.market.interior`, the same path the
time loop takes: one exact solver for one step and for a run. It meets 1e-6 on random textbook worlds
(tests/test_textbook_linear.py).
"""

from __future__ import annotations

import warnings

from critmin.market.build import MarketModel, curtail_segments
from critmin.market.quiet import quiet_stdout
from critmin.market.results import StepResult, write_back
from critmin.market.step_solver import MarketSolveError, StepSolver


def solve_market(market: MarketModel, **options) -> StepResult:
    """Solve and return flows, prices (balance duals), shortfall and stock changes. ``options`` go to HiGHS
    (stepwise curves). Constraints added to ``market.model`` are honoured in both modes."""
    if market.settings.curves == "linear":
        return StepSolver(market).solve(market.data)
    m = market.model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with quiet_stdout():
            status, condition = m.solve("highs", io_api="direct", **{"output_flag": False, **options})
    if status != "ok" or condition != "optimal":
        raise MarketSolveError(
            f"HiGHS returned {status}/{condition}. Unserved demand is priced, so a consistent world always "
            "clears: check for negative capacities or NaN costs."
        )
    offset = curtail_segments(market.data, market.settings).offset
    return write_back(m, market.data, offset, condition, m.objective.value)
