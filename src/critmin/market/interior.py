"""Exact (linear-curve) clearing of large worlds with an interior-point QP solver.

HiGHS's active-set QP solver reports the bundled world's QP non-convex (a diagonal PSD Hessian whose entries
span eleven orders of magnitude, plus about 1,800 columns with no curvature), and its interior-point QP
solver (HiPO) is not in the PyPI build of highspy. The model is therefore built and held in HiGHS as usual,
and its matrices are handed to Clarabel, an interior-point solver for convex QPs, which clears the bundled
world in well under a second. Its answer is then polished to the exact solution on its active set
(:mod:`critmin.market.polish`). Prices are the duals of the balance rows, as with HiGHS.

    minimise ½ x'Px + q'x   subject to   row_lower <= Ax <= row_upper,   col_lower <= x <= col_upper
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import clarabel
import numpy as np
import scipy.sparse as sp

from critmin.market.polish import ActiveSetQP
from critmin.market.solver_settings import SolverSettings

STOPPED = ("MaxTime", "CallbackTerminated")  # Clarabel's outcomes when a time limit or cancel ends a solve


@dataclass(frozen=True)
class QPSolution:
    status: str  # "optimal" or Clarabel's status
    x: np.ndarray
    row_dual: np.ndarray  # d objective / d row bound (positive on binding lower bounds when minimising)
    objective: float


def _matrix(matrix, rows: int, cols: int) -> sp.csr_matrix:
    data = (np.asarray(matrix.value_), np.asarray(matrix.index_), np.asarray(matrix.start_))
    columnwise = int(matrix.format_) == 1
    built = (sp.csc_matrix if columnwise else sp.csr_matrix)(data, shape=(rows, cols))
    return built.tocsr()


def _outcome(solution) -> str:
    return str(solution.status).split(".")[-1]


def _residual(solution) -> float:
    return max(float(solution.r_prim), float(solution.r_dual))


def _clarabel(p, q, g, b, tolerance: float, max_iter: int, seconds: float, cancelled=None):
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    settings.tol_gap_abs = settings.tol_gap_rel = settings.tol_feas = tolerance
    settings.tol_ktratio = 1e-10
    # quantities on flat curves amplify price errors (q = (p - a) / b): a tighter static regularisation and
    # more refinement of each Newton step buy the digits that 1e-6 t needs
    settings.static_regularization_constant = 1e-12
    settings.iterative_refinement_reltol = 1e-16
    settings.iterative_refinement_abstol = 1e-16
    settings.iterative_refinement_max_iter = 50
    settings.max_iter = max_iter
    settings.time_limit = seconds
    solver = clarabel.DefaultSolver(p, q, g, b, [clarabel.NonnegativeConeT(g.shape[0])], settings)
    if cancelled is not None:  # polled each interior-point iteration; True ends the solve
        solver.set_termination_callback(lambda _info: cancelled.is_set())
    return solver.solve()


def solve_interior(
    h, seconds: float = float("inf"), cancelled=None, settings: SolverSettings | None = None
) -> QPSolution:
    """Solve the model held in the ``highspy.Highs`` instance ``h`` with Clarabel, in at most ``seconds`` and
    until the ``cancelled`` event (a ``threading.Event``) is set: status ``stopped`` if either ends it.
    Tolerances, iterations and the polish size limit come from ``settings``."""
    settings = settings or SolverSettings()
    model = h.getModel()
    lp, hessian = model.lp_, model.hessian_
    n, m = lp.num_col_, lp.num_row_
    a = _matrix(lp.a_matrix_, m, n) if m else sp.csr_matrix((0, n))
    if hessian.dim_:
        lower = sp.csc_matrix(
            (np.asarray(hessian.value_), np.asarray(hessian.index_), np.asarray(hessian.start_)), shape=(n, n)
        )
        p = sp.triu(lower.T).tocsc()  # HiGHS keeps the lower triangle; Clarabel wants the upper one
    else:
        p = sp.csc_matrix((n, n))
    q = np.asarray(lp.col_cost_, dtype=float)
    row_lo, row_hi = np.asarray(lp.row_lower_, dtype=float), np.asarray(lp.row_upper_, dtype=float)
    col_lo, col_hi = np.asarray(lp.col_lower_, dtype=float), np.asarray(lp.col_upper_, dtype=float)
    has_hi, has_lo = np.isfinite(row_hi), np.isfinite(row_lo)
    col_has_hi, col_has_lo = np.isfinite(col_hi), np.isfinite(col_lo)
    eye = sp.identity(n, format="csr")
    g = sp.vstack([a[has_hi], -a[has_lo], eye[col_has_hi], -eye[col_has_lo]]).tocsc()
    b = np.concatenate([row_hi[has_hi], -row_lo[has_lo], col_hi[col_has_hi], -col_lo[col_has_lo]])
    started = time.monotonic()
    solution = _clarabel(p, q, g, b, settings.interior_tolerance, settings.interior_max_iter, seconds, cancelled)
    if _outcome(solution) in STOPPED:
        return QPSolution("stopped", np.zeros(n), np.zeros(m), float("nan"))
    status = str(solution.status)  # reported if no optimum comes of it
    # the tight tolerances occasionally stall on small, badly scaled worlds (found by the property test of
    # tests/reliability): a stalled point that is feasible to the digits, or a looser solve, is a candidate
    # that the active-set polish below must turn into an exact optimum, or the step fails as before
    must_polish = False
    if _outcome(solution) in ("MaxIterations", "InsufficientProgress") and n <= settings.polish_limit:
        if _residual(solution) <= settings.almost_tolerance:
            must_polish = True
        else:
            left = max(seconds - (time.monotonic() - started), 1e-3)
            loose = _clarabel(
                p, q, g, b, settings.interior_retry_tolerance, settings.interior_max_iter, left, cancelled
            )
            if _outcome(loose) in ("Solved", "AlmostSolved"):
                solution, must_polish = loose, True
    x = np.asarray(solution.x, dtype=float)
    z = np.asarray(solution.z, dtype=float)
    upper_dual, lower_dual = z[: has_hi.sum()], z[has_hi.sum() : has_hi.sum() + has_lo.sum()]
    row_dual = np.zeros(m)
    row_dual[np.nonzero(has_lo)[0]] += lower_dual
    row_dual[np.nonzero(has_hi)[0]] -= upper_dual
    objective = float(0.5 * x @ (p @ x + p.T @ x - sp.diags(p.diagonal()) @ x) + q @ x + lp.offset_)
    # "almost solved" (reduced accuracy) is accepted only with primal and dual residuals within the tolerance
    # of the golden cases
    close = _residual(solution) <= settings.almost_tolerance
    solved = not must_polish and (_outcome(solution) == "Solved" or (_outcome(solution) == "AlmostSolved" and close))
    if (solved or must_polish) and n <= settings.polish_limit:
        full = (p + p.T - sp.diags(p.diagonal())).tocsc()
        qp = ActiveSetQP(q, full, a.tocsc(), col_lo, col_hi, row_lo, row_hi, float(lp.offset_), x, row_dual)
        try:
            polished = qp.polish()
        except (ValueError, RuntimeError, np.linalg.LinAlgError):
            polished = None
        if polished is not None:
            x, row_dual = polished
            objective = qp.objective(x)
            solved = True
    return QPSolution("optimal" if solved else status, x, row_dual, objective)
