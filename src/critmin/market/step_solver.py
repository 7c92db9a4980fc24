"""Solve a built market model step after step without rebuilding it.

The linopy model is exported to HiGHS once; each step then only changes column bounds, costs, row bounds and
(for linear curves) the diagonal Hessian in place. Stepwise steps are LPs that HiGHS warm-starts from the
previous basis; linear steps are QPs solved by the interior-point solver (:mod:`critmin.market.interior`).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from linopy import solvers

from critmin.market.build import MarketModel, activity_segments, curtail_segments
from critmin.market.curves import staircase
from critmin.market.data import StepData, trade_tiers
from critmin.market.interior import solve_interior
from critmin.market.quiet import quiet_stdout
from critmin.market.results import StepResult, assemble


class MarketSolveError(RuntimeError):
    """The solver did not reach an optimum; the message says why and what to check."""


class _Slots:
    """Columns (or rows) of one linopy variable (or constraint) in the HiGHS model."""

    def __init__(self, labels: xr.DataArray, index_of: np.ndarray):
        self.labels = labels
        self.dims = labels.dims
        self.present = labels.values >= 0
        self.index = index_of[labels.values[self.present]]

    def pick(self, values: xr.DataArray) -> np.ndarray:
        return values.transpose(*self.dims).values[self.present]

    def fill(self, flat: np.ndarray) -> xr.DataArray:
        out = np.full(self.labels.shape, np.nan)
        out[self.present] = flat[self.index]
        return xr.DataArray(out, coords=self.labels.coords, dims=self.dims)


class StepSolver:
    def __init__(self, market: MarketModel):
        self.market = market
        m = market.model
        with quiet_stdout():  # HiGHS prints its banner on stdout, which would corrupt JSON output
            built = solvers.Highs.from_model(m, io_api="direct", options={"output_flag": False})
        self.h = built.solver_model
        self.h.setOptionValue("output_flag", False)
        col_of = _inverse(m.variables.label_index.vlabels, m._xCounter)
        row_of = _inverse(m.constraints.label_index.clabels, m._cCounter)
        self.cols = {name: _Slots(m.variables[name].labels, col_of) for name in m.variables}
        self.rows = {name: _Slots(m.constraints[name].labels, row_of) for name in m.constraints}

    def _bounds_and_costs(self, name: str, lower, upper, cost) -> None:
        slot = self.cols[name]
        n = len(slot.index)
        if n == 0:
            return
        lo = np.broadcast_to(lower, n) if np.isscalar(lower) else slot.pick(lower)
        hi = slot.pick(upper)
        hi = np.where(np.isposinf(hi), np.inf, np.nan_to_num(hi, nan=0.0))
        self.h.changeColsBounds(n, slot.index.astype(np.int32), np.nan_to_num(lo, nan=0.0), hi)
        c = slot.pick(cost)
        self.h.changeColsCost(n, slot.index.astype(np.int32), np.nan_to_num(c, nan=0.0, posinf=0.0))

    def _row_bounds(self, name: str, lower, upper) -> None:
        slot = self.rows.get(name)
        if slot is None or len(slot.index) == 0:
            return
        n = len(slot.index)
        lo = np.full(n, -np.inf) if lower is None else np.nan_to_num(slot.pick(lower), nan=0.0)
        hi = np.full(n, np.inf) if upper is None else np.nan_to_num(slot.pick(upper), nan=0.0)
        self.h.changeRowsBounds(n, slot.index.astype(np.int32), lo, hi)

    def _staircase(self, name: str, lower, upper, lin, quad, ref, subsidy=None) -> None:
        """Stepwise curves computed in numpy on the whole grid, then written to the present columns."""
        slot = self.cols[name]
        dims = slot.dims[:-1]  # the variable's dims less ``segment``
        width, cost = staircase(*(a.transpose(*dims).values for a in (lower, upper, lin, quad, ref)))
        if subsidy is not None:
            cost = cost - subsidy.transpose(*dims).values[..., None]
        n = len(slot.index)
        hi = width[slot.present]
        self.h.changeColsBounds(n, slot.index.astype(np.int32), np.zeros(n), np.nan_to_num(hi, nan=0.0))
        self.h.changeColsCost(n, slot.index.astype(np.int32), np.nan_to_num(cost[slot.present], nan=0.0))

    def _hessian(self, act, cur) -> None:
        """The QP's diagonal Hessian from this step's curve slopes (they change with growth)."""
        diagonal = np.zeros(self.h.getNumCol())
        for name, quad in (("activity", act.quad), ("curtail", cur.quad)):
            slot = self.cols[name]
            diagonal[slot.index] = np.nan_to_num(slot.pick(quad), nan=0.0)
        cols = np.nonzero(diagonal > 0)[0]
        start = np.searchsorted(cols, np.arange(len(diagonal) + 1)).astype(np.int32)
        self.h.passHessian(len(diagonal), len(cols), 1, start, cols.astype(np.int32), diagonal[cols])

    def _run(self) -> tuple[np.ndarray, np.ndarray, float]:
        """Primal values, row duals and objective: HiGHS's simplex for the stepwise LP, the interior-point QP
        solver for exact linear curves (see :mod:`critmin.market.interior`)."""
        if self.market.settings.curves == "linear":
            qp = solve_interior(self.h)
            if qp.status != "optimal":
                raise MarketSolveError(f"the interior-point QP solver returned {qp.status} in the time loop")
            return qp.x, qp.row_dual, qp.objective
        self.h.run()
        status = self.h.getModelStatus()
        if str(status) != "HighsModelStatus.kOptimal":
            raise MarketSolveError(f"HiGHS returned {status} in the time loop")
        sol = self.h.getSolution()
        return np.asarray(sol.col_value), np.asarray(sol.row_dual), self.h.getInfo().objective_function_value

    def solve(self, d: StepData) -> StepResult:
        settings = self.market.settings
        if settings.curves == "stepwise":
            lower = xr.zeros_like(d.activity_cap).where(d.activity_cap.notnull())
            self._staircase(
                "activity", lower, d.activity_cap, d.activity_lin, d.activity_quad, d.activity_ref, d.activity_subsidy
            )
            self._staircase("curtail", d.curtail_floor, d.curtail_cap, d.curtail_lin, d.curtail_quad, d.curtail_lin)
            offset = d.curtail_floor.fillna(0).where(d.curtail_floor.notnull())
        else:
            act, cur = activity_segments(d, settings), curtail_segments(d, settings)
            self._bounds_and_costs("activity", act.lower, act.upper, act.lin)
            self._bounds_and_costs("curtail", cur.lower, cur.upper, cur.lin)
            self._hessian(act, cur)
            offset = cur.offset
        trade_upper, trade_cost = trade_tiers(d)
        self._bounds_and_costs("trade", 0.0, trade_upper, trade_cost)
        self._bounds_and_costs("switch", 0.0, d.switch_cap, d.switch_cost)
        self._bounds_and_costs("relief", 0.0, d.relief_cap, d.relief_cost)
        self._bounds_and_costs("unserved", 0.0, d.demand, d.voll)
        self._bounds_and_costs("release", 0.0, d.stock_level, d.release_price)
        self._bounds_and_costs("restock", 0.0, d.restock_cap, -d.restock_price)
        rhs = (d.demand - offset).sum("sector", min_count=1).fillna(0)
        self._row_bounds("balance", rhs, None)
        self._row_bounds("consumption_nonnegative", None, (d.demand - offset).fillna(0))
        x, dual, objective = self._run()
        v = {name: slot.fill(x) for name, slot in self.cols.items()}
        return assemble(
            "optimal",
            objective,
            price=self.rows["balance"].fill(dual),
            activity=v["activity"].sum("segment", min_count=1),
            trade=v["trade"].sum("tier", min_count=1),
            curtail=v["curtail"].sum("segment", min_count=1) + offset,
            unserved=v["unserved"],
            release=v["release"],
            restock=v["restock"],
            relief=v["relief"],
            switch=v["switch"],
            demand=d.demand,
        )


def _inverse(labels: np.ndarray, size: int) -> np.ndarray:
    out = np.full(max(size, int(labels.max()) + 1 if len(labels) else 0), -1, dtype=np.int64)
    out[labels] = np.arange(len(labels))
    return out
