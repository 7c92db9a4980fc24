"""Solve a built market model and write the results back.

The default route hands the sparse step model (:mod:`critmin.market.lp`) to HiGHS as arrays: the simplex for
stepwise curves (an LP), the interior-point QP solver of :mod:`critmin.market.interior` for exact linear
curves (HiGHS's active-set QP solver answers textbook worlds only to about 1e-5 and calls the bundled world
non-convex). A model whose linopy formulation was used (``market.model``, e.g. to add constraints) is solved
through linopy instead, so added constraints are honoured; both routes give the same optimum
(tests/test_sparse_lp.py).
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

from critmin.market.build import MarketModel, curtail_segments
from critmin.market.interior import solve_interior
from critmin.market.quiet import quiet_stdout
from critmin.market.results import StepResult, assemble, write_back
from critmin.market.step_solver import MarketSolveError, StepSolver


def solve_market(market: MarketModel, **options) -> StepResult:
    """Solve and return flows, prices (balance duals), shortfall and stock changes. HiGHS gets the options of
    ``market.settings.solver.highs``, then ``options``. Constraints added to ``market.model`` are honoured in
    both curve forms."""
    if market.has_linopy_model:
        return _solve_linopy(market, **options)
    solver = StepSolver(market)
    for key, value in options.items():
        solver.h.setOptionValue(key, value)
    return solver.solve(market.data)


def _solve_linopy(market: MarketModel, **options) -> StepResult:
    m = market.model
    offset = curtail_segments(market.data, market.settings).offset
    if market.settings.curves == "linear":
        return _solve_linopy_qp(market, offset)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with quiet_stdout():
            solver = market.settings.solver
            highs = {"output_flag": False, "time_limit": solver.stuck_solve_s, **solver.highs, **options}
            status, condition = m.solve("highs", io_api="direct", **highs)
    if status != "ok" or condition != "optimal":
        raise MarketSolveError(
            f"HiGHS returned {status}/{condition}. Unserved demand is priced, so a consistent world always "
            "clears: check for negative capacities or NaN costs."
        )
    return write_back(m, market.data, offset, condition, m.objective.value)


def _solve_linopy_qp(market: MarketModel, offset: xr.DataArray) -> StepResult:
    """The linopy model exported to HiGHS, solved by the interior-point QP solver, read back by label."""
    from linopy import solvers

    m = market.model
    with quiet_stdout():  # HiGHS prints its banner on stdout, which would corrupt JSON output
        h = solvers.Highs.from_model(m, io_api="direct", options={"output_flag": False}).solver_model
    settings = market.settings.solver
    qp = solve_interior(h, settings.stuck_solve_s, None, settings)
    if qp.status != "optimal":
        raise MarketSolveError(f"the interior-point QP solver returned {qp.status}")
    col_of = _inverse(m.variables.label_index.vlabels, _label_count(m.variables))
    row_of = _inverse(m.constraints.label_index.clabels, _label_count(m.constraints))

    def read(labels: xr.DataArray, values: np.ndarray, index_of: np.ndarray) -> xr.DataArray:
        present = labels.values >= 0
        out = np.full(labels.shape, np.nan)
        out[present] = values[index_of[labels.values[present]]]
        return xr.DataArray(out, coords=labels.coords, dims=labels.dims)

    v = {name: read(m.variables[name].labels, qp.x, col_of) for name in m.variables}
    return assemble(
        "optimal",
        qp.objective,
        price=read(m.constraints["balance"].labels, qp.row_dual, row_of),
        activity=v["activity"].sum("segment", min_count=1),
        trade=v["trade"].sum("tier", min_count=1),
        curtail=v["curtail"].sum("segment", min_count=1) + offset,
        unserved=v["unserved"],
        release=v["release"],
        restock=v["restock"],
        relief=v["relief"],
        switch=v["switch"],
        demand=market.data.demand,
    )


def _label_count(container) -> int:
    """One more than the largest label in a linopy variables or constraints container (public attributes only)."""
    return max((int(container[name].labels.max()) for name in container), default=-1) + 1


def _inverse(labels: np.ndarray, size: int) -> np.ndarray:
    out = np.full(max(size, int(labels.max()) + 1 if len(labels) else 0), -1, dtype=np.int64)
    out[labels] = np.arange(len(labels))
    return out
