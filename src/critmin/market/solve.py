"""Solve a built market model with HiGHS through linopy and write the results back.

Linear curves make the model a convex QP, which HiGHS solves with an active-set method. Its answer is close
but not exact: HiGHS regularises the Hessian (``qp_regularization_value``, 1e-7 by default, adds 1e-7 x to
each marginal cost, which moves a quantity by 1e-7 x / slope: up to 5e-3 t on textbook worlds with flat
curves) and stops within its feasibility tolerances (1e-7). Tighter tolerances do not help: they make its QP
solver fail on about half of the textbook worlds. So the QP answer is *polished*: HiGHS's active set (the
variables at a bound and the constraints that bind) is kept, and the equality-constrained QP on it (its
KKT system) is solved exactly with a direct factorisation. The polished point is accepted only if it passes
a full optimality check (bounds, rows, reduced-cost and dual signs); otherwise HiGHS's own answer stands.
"""

from __future__ import annotations

import warnings

import highspy
import numpy as np
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg
from linopy.constants import Result, Solution, Status

from critmin.market.build import MarketModel, curtail_segments
from critmin.market.quiet import quiet_stdout
from critmin.market.results import StepResult, write_back


class MarketSolveError(RuntimeError):
    """HiGHS did not reach an optimum; the message says why and what to check."""


DEFAULT_OPTIONS = {"output_flag": False}
QP_OPTIONS = {
    "output_flag": False,
    # a smaller regularisation than HiGHS's 1e-7 keeps its active set closer to the exact one; zero makes its
    # QP solver report some convex textbook worlds as non-convex
    "qp_regularization_value": 1e-12,
}
ACTIVE_TOL = 1e-9  # relative distance to a bound at which a variable or a row counts as at that bound
CHECK_TOL = 1e-7  # relative tolerance of the optimality check of a polished point
DENSE_LIMIT = 1500  # singular KKT systems up to this size are solved by dense least squares
POLISH_ROUNDS = 6  # active-set corrections tried when the first polished point fails the check


def solve_market(market: MarketModel, **options) -> StepResult:
    """Solve with HiGHS and return flows, prices (balance duals), shortfall and stock changes. With linear
    curves the QP answer is polished to the exact solution on HiGHS's active set (see the module doc)."""
    linear = market.settings.curves == "linear"
    m = market.model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with quiet_stdout():
            # a smaller regularisation occasionally trips HiGHS's QP solver: retry with its defaults
            for base in (QP_OPTIONS, DEFAULT_OPTIONS) if linear else (DEFAULT_OPTIONS,):
                status, condition = m.solve("highs", io_api="direct", **{**base, **options})
                if condition == "optimal":
                    break
            if linear and status == "ok" and condition == "optimal":
                polish(m)
    if status != "ok" or condition != "optimal":
        raise MarketSolveError(
            f"HiGHS returned {status}/{condition}. Unserved demand is priced, so a consistent world always "
            "clears; with linear curves on a large world HiGHS's QP solver can stall: try stepwise curves "
            "(--curves stepwise). Otherwise check for negative capacities or NaN costs."
        )
    offset = curtail_segments(market.data, market.settings).offset
    return write_back(m, market.data, offset, condition, m.objective.value)


def polish(m) -> bool:
    """Replace the solution of a linopy model just solved by HiGHS (``io_api="direct"``) with the exact
    solution of the equality-constrained QP on its active set, if that passes the optimality check. Returns
    whether it did."""
    h = m.solver_model
    if not isinstance(h, highspy.Highs) or h.getLp().sense_ != highspy.ObjSense.kMinimize:
        return False
    try:
        qp = _QP.from_highs(h)
        found = qp.polish()
    except (ValueError, RuntimeError, np.linalg.LinAlgError):
        return False
    if found is None:
        return False
    x, y = found
    primal = np.full(m._xCounter, np.nan)
    primal[m.variables.label_index.vlabels] = x
    dual = np.full(m._cCounter, np.nan)
    dual[m.constraints.label_index.clabels] = y
    m.assign_result(Result(Status.process("ok", "optimal"), Solution(primal, dual, qp.objective(x))))
    return True


class _QP:
    """min c'x + x'Qx/2 + offset  s.t.  lb <= x <= ub, rl <= Ax <= ru, with HiGHS's solution and sign
    conventions: reduced costs d = c + Qx - A'y, >= 0 at a lower bound; row duals y >= 0 at a lower bound."""

    def __init__(self, c, Q, A, lb, ub, rl, ru, offset, x, y):
        self.c, self.Q, self.A, self.offset = c, Q, A, offset
        self.lb, self.ub, self.rl, self.ru = lb, ub, rl, ru
        self.x0, self.y0 = x, y

    @classmethod
    def from_highs(cls, h: highspy.Highs) -> _QP:
        model = h.getModel()
        lp = model.lp_
        n, rows = lp.num_col_, lp.num_row_
        a = lp.a_matrix_
        parts = (np.asarray(a.value_), np.asarray(a.index_), np.asarray(a.start_))
        if a.format_ == highspy.MatrixFormat.kRowwise:
            A = sp.csr_matrix(parts, shape=(rows, n)).tocsc()
        elif a.format_ == highspy.MatrixFormat.kColwise:
            A = sp.csc_matrix(parts, shape=(rows, n))
        else:
            raise ValueError(f"unsupported HiGHS matrix format {a.format_}")
        hess = model.hessian_
        if hess.dim_:
            H = sp.csc_matrix((np.asarray(hess.value_), np.asarray(hess.index_), np.asarray(hess.start_)), shape=(n, n))
            Q = H if hess.format_ == highspy.HessianFormat.kSquare else H + H.T - sp.diags(H.diagonal())
        else:
            Q = sp.csc_matrix((n, n))
        sol = h.getSolution()
        return cls(
            np.asarray(lp.col_cost_, dtype=float),
            sp.csc_matrix(Q),
            A,
            np.asarray(lp.col_lower_, dtype=float),
            np.asarray(lp.col_upper_, dtype=float),
            np.asarray(lp.row_lower_, dtype=float),
            np.asarray(lp.row_upper_, dtype=float),
            float(lp.offset_),
            np.asarray(sol.col_value, dtype=float),
            np.asarray(sol.row_dual, dtype=float),
        )

    def objective(self, x: np.ndarray) -> float:
        return float(self.c @ x + 0.5 * x @ (self.Q @ x) + self.offset)

    def polish(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The exact KKT point on HiGHS's active set, corrected by a few primal-dual active-set rounds if
        needed; None if none passes the check."""
        x, y = self.x0, self.y0
        row = self.A @ x
        col_lo, col_up = _at(x, self.lb, ACTIVE_TOL), _at(x, self.ub, ACTIVE_TOL)
        col_up &= ~col_lo
        row_lo, row_up = _at(row, self.rl, ACTIVE_TOL), _at(row, self.ru, ACTIVE_TOL)
        row_up &= ~row_lo
        for _ in range(POLISH_ROUNDS):
            x, y = self._kkt(col_lo, col_up, row_lo, row_up, x, y)
            d, row = self.c + self.Q @ x - self.A.T @ y, self.A @ x
            moved = self._correct(x, d, row, y, col_lo, col_up, row_lo, row_up)
            if not moved:
                return (x, y) if self._optimal(x, y, d, row) else None
        return None

    def _kkt(self, col_lo, col_up, row_lo, row_up, x0, y0) -> tuple[np.ndarray, np.ndarray]:
        """Solve Q_FF x_F - A_RF' y_R = -(c + Q x_N)_F, A_RF x_F = b_R - A_RN x_N (F free columns, N columns
        at a bound, R binding rows) as a step from (x0, y0); where the system is singular (the solution is not
        unique), the least-squares step keeps the point nearest to HiGHS's."""
        fixed = col_lo | col_up
        x = np.where(col_lo, self.lb, np.where(col_up, self.ub, x0))
        free = np.flatnonzero(~fixed)
        rows = np.flatnonzero(row_lo | row_up)
        bound = np.where(row_lo, self.rl, self.ru)[rows]
        AF = self.A[rows][:, free]
        keep = np.diff(AF.tocsr().indptr) > 0  # a binding row whose columns are all at bounds holds already
        rows, bound, AF = rows[keep], bound[keep], AF.tocsr()[keep]
        # rows not binding have no dual; binding rows whose columns are all at bounds keep HiGHS's
        y = np.where(row_lo | row_up, y0, 0.0)
        K = sp.bmat([[self.Q[free][:, free], -AF.T], [AF, None]], format="csc")
        z0 = np.concatenate([x[free], y[rows]])
        gradient = self.c + self.Q @ x - self.A.T @ y
        residual = np.concatenate([-gradient[free], bound - self.A[rows] @ x])
        if K.shape[0] == 0:
            return x, y
        try:
            step = scipy.sparse.linalg.splu(K).solve(residual)
        except RuntimeError:  # singular: degenerate duals or a flat direction; take the least-squares step
            if K.shape[0] > DENSE_LIMIT:
                raise
            step = scipy.linalg.lstsq(K.toarray(), residual, lapack_driver="gelsd")[0]
        z = z0 + step
        x[free] = z[: len(free)]
        y[rows] = z[len(free) :]
        return x, y

    def _correct(self, x, d, row, y, col_lo, col_up, row_lo, row_up) -> bool:
        """One primal-dual active-set update, in place: bind what the point violates, release what binds
        with the wrong sign. Returns whether anything changed."""
        tol_x, tol_d = CHECK_TOL * np.maximum(1, np.abs(x)), CHECK_TOL * np.maximum(1, np.abs(self.c))
        tol_r, tol_y = CHECK_TOL * np.maximum(1, np.abs(row)), CHECK_TOL * np.maximum(1, np.abs(y))
        free, loose = ~(col_lo | col_up), ~(row_lo | row_up)
        span, row_span = self.lb < self.ub, self.rl < self.ru
        changes = [
            (col_lo, free & (x < self.lb - tol_x), True),
            (col_up, free & (x > self.ub + tol_x), True),
            (col_lo, col_lo & span & (d < -tol_d), False),
            (col_up, col_up & span & (d > tol_d), False),
            (row_lo, loose & (row < self.rl - tol_r), True),
            (row_up, loose & (row > self.ru + tol_r), True),
            (row_lo, row_lo & row_span & (y < -tol_y), False),
            (row_up, row_up & row_span & (y > tol_y), False),
        ]
        moved = False
        for mask, where, value in changes:
            if where.any():
                mask[where] = value
                moved = True
        return moved

    def _optimal(self, x, y, d, row) -> bool:
        """Feasible, and every reduced cost and row dual has the sign its bound allows."""
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            return False
        if not (_within(x, self.lb, self.ub) and _within(row, self.rl, self.ru)):
            return False
        tol_d, tol_y = CHECK_TOL * np.maximum(1, np.abs(self.c)), CHECK_TOL * np.maximum(1, np.abs(y))
        return not (
            np.any((d < -tol_d) & ~_at(x, self.ub, CHECK_TOL))
            or np.any((d > tol_d) & ~_at(x, self.lb, CHECK_TOL))
            or np.any((y > tol_y) & ~_at(row, self.rl, CHECK_TOL))
            or np.any((y < -tol_y) & ~_at(row, self.ru, CHECK_TOL))
        )


def _within(value: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> bool:
    return bool(
        np.all(value >= lower - CHECK_TOL * np.maximum(1, np.abs(lower)))
        and np.all(value <= upper + CHECK_TOL * np.maximum(1, np.abs(upper)))
    )


def _at(value: np.ndarray, bound: np.ndarray, tol: float) -> np.ndarray:
    return np.isfinite(bound) & (np.abs(value - bound) <= tol * np.maximum(1, np.abs(bound)))
