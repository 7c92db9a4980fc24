"""Polish a near-optimal QP point into the exact solution on its active set.

An interior-point answer is accurate to its tolerances (about 1e-8 in prices), but on flat curves a quantity
is a price difference divided by a small slope, so 1e-6 t needs more. The variables at a bound and the rows
that bind at the interior point are kept, and the equality-constrained QP on them (its KKT system) is solved
with a direct factorisation; a few primal-dual active-set corrections follow if the first point fails the
full optimality check (bounds, rows, reduced-cost and dual signs). Only a point that passes is used.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg

ACTIVE_TOL = 1e-6  # relative distance to a bound at which a variable or a row counts as at that bound (an
# interior point stays off its bounds by about the solver tolerance)
CHECK_TOL = 1e-7  # relative tolerance of the optimality check of a polished point
DENSE_LIMIT = 1500  # singular KKT systems up to this size are solved by dense least squares
POLISH_ROUNDS = 6  # active-set corrections tried when the first polished point fails the check


class ActiveSetQP:
    """min c'x + x'Qx/2 + offset  s.t.  lb <= x <= ub, rl <= Ax <= ru, with a near-optimal point (x, y) and
    HiGHS's sign conventions: reduced costs d = c + Qx - A'y, >= 0 at a lower bound; row duals y >= 0 at a
    lower bound."""

    def __init__(self, c, Q, A, lb, ub, rl, ru, offset, x, y):
        self.c, self.Q, self.A, self.offset = c, Q, A, offset
        self.lb, self.ub, self.rl, self.ru = lb, ub, rl, ru
        self.x0, self.y0 = x, y

    def objective(self, x: np.ndarray) -> float:
        return float(self.c @ x + 0.5 * x @ (self.Q @ x) + self.offset)

    def polish(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The exact KKT point on the active set of the starting point, corrected by a few primal-dual
        active-set rounds if needed; None if none passes the check."""
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
        unique), the least-squares step keeps the point nearest to the starting one."""
        fixed = col_lo | col_up
        x = np.where(col_lo, self.lb, np.where(col_up, self.ub, x0))
        free = np.flatnonzero(~fixed)
        rows = np.flatnonzero(row_lo | row_up)
        bound = np.where(row_lo, self.rl, self.ru)[rows]
        AF = self.A[rows][:, free]
        keep = np.diff(AF.tocsr().indptr) > 0  # a binding row whose columns are all at bounds holds already
        rows, bound, AF = rows[keep], bound[keep], AF.tocsr()[keep]
        # rows not binding have no dual; binding rows whose columns are all at bounds keep their starting duals
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
