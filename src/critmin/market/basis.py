"""Re-use an optimal simplex basis on new numbers (bunching, Wets 1983): many steps at once, in numpy.

A step of the clearing LP changes bounds and costs, never the constraint matrix. A basis (which columns and
row activities are basic, and at which bound every other one sits) that was optimal for one step stays
optimal for another as long as the basic values it implies stay within their bounds (primal feasibility) and
its reduced costs keep their signs (dual feasibility). Then the other step's solution is read off the basis
with one sparse LU factorisation, shared by every step that uses the basis, instead of a simplex solve: the
same vertex HiGHS reports when warm-started from that basis (it then needs no pivots).

HiGHS's conventions: the row activity ``r = A x`` is bounded by ``row_lower <= r <= row_upper``; the row
duals ``y`` solve ``B^T y = c_B`` (zero cost on row activities), and column reduced costs are ``c - A^T y``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

# feasibility tolerances (absolute, as HiGHS's defaults): a basis is accepted only where HiGHS would not pivot
PRIMAL_TOL = 1e-7
DUAL_TOL = 1e-7


@dataclass(frozen=True)
class BasisStatus:
    """A basis as arrays: the basic columns and rows, and which nonbasic columns and rows sit at their upper
    bound (the others at their lower). ``key`` identifies it."""

    basic_cols: np.ndarray
    basic_rows: np.ndarray
    col_upper: np.ndarray
    row_upper: np.ndarray

    @property
    def key(self) -> bytes:
        parts = (self.basic_cols, self.basic_rows, np.packbits(self.col_upper), np.packbits(self.row_upper))
        return b"".join(len(p).to_bytes(8, "little") + p.tobytes() for p in parts)


def solved_status(basic_variables, x, row_activity, col_lower, col_upper, row_lower, row_upper) -> BasisStatus:
    """A solved basis as arrays, without HiGHS's per-entry status lists: ``basic_variables`` as HiGHS's
    ``getBasicVariables`` gives them (column j as j, row i as -1 - i) and, for the others, the bound their
    value sits at."""
    basic = np.asarray(basic_variables)
    cols, rows = np.sort(basic[basic >= 0]), np.sort(-basic[basic < 0] - 1)
    with np.errstate(invalid="ignore"):
        col_up = (col_lower != col_upper) & np.isfinite(col_upper) & (np.abs(x - col_upper) <= np.abs(x - col_lower))
        row_up = (row_lower != row_upper) & np.isfinite(row_upper)
        row_up &= np.abs(row_activity - row_upper) <= np.abs(row_activity - row_lower)
    col_up[cols] = False  # a side only for nonbasic variables, so equal bases get equal keys
    row_up[rows] = False
    return BasisStatus(cols.astype(np.int64), rows.astype(np.int64), col_up, row_up)


@dataclass
class BasisSolution:
    """Per step (leading axis): column values, row activities, row duals, objective, and whether the basis is
    optimal for that step (only those rows of the other arrays are meaningful)."""

    x: np.ndarray
    row_activity: np.ndarray
    row_dual: np.ndarray
    objective: np.ndarray
    optimal: np.ndarray


class FactoredBasis:
    """One basis of the LP ``matrix`` (rows x columns, CSC), factorised once."""

    def __init__(self, matrix: sp.csc_matrix, status: BasisStatus):
        m = matrix.shape[0]
        self.basic_cols, self.basic_rows = status.basic_cols, status.basic_rows
        if len(self.basic_cols) + len(self.basic_rows) != m:
            raise ValueError("not a basis: the number of basic variables differs from the number of rows")
        self.matrix = matrix
        col_basic = np.zeros(matrix.shape[1], dtype=bool)
        col_basic[self.basic_cols] = True
        row_basic = np.zeros(m, dtype=bool)
        row_basic[self.basic_rows] = True
        self.col_nonbasic, self.row_nonbasic = ~col_basic, ~row_basic
        self.col_upper_side = status.col_upper & self.col_nonbasic
        self.row_upper_side = status.row_upper & self.row_nonbasic
        slack = sp.csc_matrix(
            (-np.ones(len(self.basic_rows)), (self.basic_rows, np.arange(len(self.basic_rows)))),
            shape=(m, len(self.basic_rows)),
        )
        self.lu = splu(sp.hstack([matrix[:, self.basic_cols], slack], format="csc"))
        self.nonbasic_matrix = matrix[:, np.flatnonzero(self.col_nonbasic)].tocsc()

    def solve(self, col_lower, col_upper, cost, row_lower, row_upper) -> BasisSolution:
        """The basis's vertex and duals for ``k`` steps at once (each argument ``k x n`` or ``k x m``)."""
        col_lower, col_upper, cost = (np.atleast_2d(a) for a in (col_lower, col_upper, cost))
        row_lower, row_upper = np.atleast_2d(row_lower), np.atleast_2d(row_upper)
        k = col_lower.shape[0]
        x = np.where(self.col_upper_side, col_upper, col_lower)
        x[:, ~self.col_nonbasic] = 0.0
        fixed_rows = np.where(self.row_upper_side, row_upper, row_lower)
        with np.errstate(invalid="ignore"):
            bounded = np.isfinite(x[:, self.col_nonbasic]).all(axis=1)
            bounded &= np.isfinite(fixed_rows[:, self.row_nonbasic]).all(axis=1)
        xn = np.nan_to_num(x[:, self.col_nonbasic], posinf=0.0, neginf=0.0)
        rhs = -(self.nonbasic_matrix @ xn.T)  # m x k
        rhs[self.row_nonbasic] += np.nan_to_num(fixed_rows[:, self.row_nonbasic], posinf=0.0, neginf=0.0).T
        basic = self.lu.solve(rhs)  # m x k: basic columns, then basic row activities
        nb = len(self.basic_cols)
        x[:, self.basic_cols] = basic[:nb].T
        activity = np.asarray((self.matrix @ x.T).T)
        # primal feasibility of the basic values
        xb = x[:, self.basic_cols]
        lo, hi = col_lower[:, self.basic_cols], col_upper[:, self.basic_cols]
        feasible = ((xb >= lo - PRIMAL_TOL) & (xb <= hi + PRIMAL_TOL)).all(axis=1)
        rb = activity[:, self.basic_rows]
        lo, hi = row_lower[:, self.basic_rows], row_upper[:, self.basic_rows]
        feasible &= ((rb >= lo - PRIMAL_TOL) & (rb <= hi + PRIMAL_TOL)).all(axis=1)
        # duals and dual feasibility: a variable at its lower bound must not gain from rising, and so on
        cb = np.concatenate([cost[:, self.basic_cols], np.zeros((k, len(self.basic_rows)))], axis=1)
        y = self.lu.solve(cb.T, trans="T").T  # k x m
        reduced = cost - np.asarray((self.matrix.T @ y.T).T)
        tol = DUAL_TOL  # absolute, as HiGHS's dual feasibility tolerance: never accept what HiGHS would pivot on
        fixed = col_lower == col_upper
        wrong = np.where(self.col_upper_side, reduced > tol, reduced < -tol)
        wrong &= self.col_nonbasic & ~fixed
        dual_ok = ~wrong.any(axis=1)
        row_fixed = row_lower == row_upper
        row_wrong = np.where(self.row_upper_side, y > DUAL_TOL, y < -DUAL_TOL) & self.row_nonbasic & ~row_fixed
        dual_ok &= ~row_wrong.any(axis=1)
        objective = np.einsum("kn,kn->k", cost, np.nan_to_num(x))
        return BasisSolution(x, activity, y, objective, bounded & feasible & dual_ok)
