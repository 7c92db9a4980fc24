"""Solve a market step after step without rebuilding it.

The sparse step model (:mod:`critmin.market.lp`) is passed to HiGHS once, as arrays; each step then only
changes column bounds, costs, row bounds and (for linear curves) the diagonal Hessian in place. Stepwise steps
are LPs that HiGHS warm-starts from the previous basis; linear steps are QPs solved by the interior-point
solver (:mod:`critmin.market.interior`).
"""

from __future__ import annotations

import highspy
import numpy as np
import xarray as xr

from critmin.errors import SolveError
from critmin.market.build import MarketModel
from critmin.market.data import StepData, on_grid, values_in
from critmin.market.interior import solve_interior
from critmin.market.limits import SolveStopped, current_limits
from critmin.market.lp import StepNumbers
from critmin.market.results import StepResult

STOPPED = (highspy.HighsModelStatus.kTimeLimit, highspy.HighsModelStatus.kInterrupt)
INTERRUPT = highspy.cb.HighsCallbackType.kCallbackSimplexInterrupt


class MarketSolveError(SolveError, RuntimeError):
    """The solver did not reach an optimum; the message says why and what to check."""


class ResultGrids:
    """Coordinates of the result arrays, taken once from the base step data, so a step's results are wrapped
    as labelled arrays without alignment work."""

    def __init__(self, d: StepData):
        def coords(a: xr.DataArray, dims: tuple[str, ...]) -> xr.DataArray:
            template = xr.DataArray(np.empty(tuple(a.sizes[k] for k in dims)), dims=dims)
            return template.assign_coords({k: a.coords[k].values for k in dims})

        self.node = coords(d.demand, ("region", "product"))
        self.activity = coords(d.activity_cap, ("process", "region", "product"))
        self.trade = coords(d.arc_cap, ("origin", "destination", "product"))
        self.demand = coords(d.demand, ("region", "sector", "product"))
        self.stock = coords(d.stock_level, ("region", "product", "holder"))
        self.relief = coords(d.relief_share, ("region", "sector", "product", "option"))
        self.switch = coords(d.switch_share, ("region", "source", "product"))

    @staticmethod
    def wrap(values: np.ndarray, template: xr.DataArray) -> xr.DataArray:
        return on_grid(template, values)


class StepSolver:
    """One HiGHS instance holding one step model; ``solve(d)`` clears the step described by ``d``."""

    def __init__(self, market: MarketModel):
        lp, base = market.lp, market.data
        self.lp = lp
        self.grids = ResultGrids(base)
        self.h = highspy.Highs()
        self._loaded: StepNumbers | None = None
        self.h.setOptionValue("output_flag", False)
        self.solver_settings = market.settings.solver
        for name, value in self.solver_settings.highs.items():
            self.h.setOptionValue(name, value)
        self._cancelled = None  # the cancel flag HiGHS's interrupt callback polls
        self.h.cbSimplexInterrupt.subscribe(self._poll_cancel)
        self.h.stopCallback(INTERRUPT)  # started only for solves that can be cancelled (a Python call per pivot)
        numbers = lp.step_numbers(base)
        model = highspy.HighsLp()
        model.num_col_, model.num_row_ = lp.num_col, lp.num_row
        model.col_cost_, model.col_lower_, model.col_upper_ = numbers.cost, numbers.col_lower, numbers.col_upper
        model.row_lower_, model.row_upper_ = numbers.row_lower, numbers.row_upper
        a = lp.matrix
        model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        model.a_matrix_.start_, model.a_matrix_.index_, model.a_matrix_.value_ = a.indptr, a.indices, a.data
        self.h.passModel(model)
        if numbers.hessian is not None:
            self.load(numbers)
        self._loaded = numbers

    def load(self, numbers: StepNumbers) -> None:
        """Write one step's bounds, costs and Hessian into the HiGHS model: only the entries that changed since
        the last step (HiGHS's change calls cost about as much per entry as a solve's pivots)."""
        h, last = self.h, self._loaded
        cols = _changed((numbers.col_lower, numbers.col_upper), last and (last.col_lower, last.col_upper))
        if len(cols):
            h.changeColsBounds(len(cols), cols, numbers.col_lower[cols], numbers.col_upper[cols])
        cols = _changed((numbers.cost,), last and (last.cost,))
        if len(cols):
            h.changeColsCost(len(cols), cols, numbers.cost[cols])
        rows = _changed((numbers.row_lower, numbers.row_upper), last and (last.row_lower, last.row_upper))
        if len(rows):
            h.changeRowsBounds(len(rows), rows, numbers.row_lower[rows], numbers.row_upper[rows])
        if numbers.hessian is not None:
            cols = np.flatnonzero(numbers.hessian > 0)
            start = np.searchsorted(cols, np.arange(self.lp.num_col + 1)).astype(np.int32)
            h.passHessian(self.lp.num_col, len(cols), 1, start, cols.astype(np.int32), numbers.hessian[cols])
        self._loaded = numbers

    def basis(self):
        """The current basis (to restart later solves from it)."""
        return self.h.getBasis()

    def restart(self, basis) -> None:
        """Make the next solve start from ``basis`` (dropping what earlier solves left, pricing weights too)."""
        if self.lp.settings.curves == "stepwise":
            self.h.clearSolver()
            self.h.setBasis(basis)

    def run(self) -> tuple[np.ndarray, np.ndarray, float]:
        """Primal values, row duals and objective: HiGHS's simplex for the stepwise LP, the interior-point QP
        solver for exact linear curves (see :mod:`critmin.market.interior`). Both stop at the run's limits
        (:mod:`critmin.market.limits`): HiGHS at its time limit or when the run is cancelled."""
        limits, stuck_s = current_limits(), self.solver_settings.stuck_solve_s
        seconds = limits.seconds_left(stuck_s)
        if self.lp.settings.curves == "linear":
            qp = solve_interior(self.h, seconds, limits.cancelled, self.solver_settings)
            if qp.status == "stopped":
                raise SolveStopped(limits.why_stopped(stuck_s))
            if qp.status != "optimal":
                raise MarketSolveError(f"the interior-point QP solver returned {qp.status}")
            return qp.x, qp.row_dual, qp.objective
        self.h.setOptionValue("time_limit", seconds)
        self._cancelled = limits.cancelled
        if self._cancelled is not None:
            self.h.startCallback(INTERRUPT)
        try:
            self.h.run()
        finally:
            if self._cancelled is not None:
                self.h.stopCallback(INTERRUPT)
            self._cancelled = None
        status = self.h.getModelStatus()
        if status in STOPPED:
            raise SolveStopped(limits.why_stopped(stuck_s))
        if status != highspy.HighsModelStatus.kOptimal:
            raise MarketSolveError(
                f"HiGHS returned {self.h.modelStatusToString(status)}. Unserved demand is priced, so a consistent "
                "world always clears: check for negative capacities or NaN costs."
            )
        sol = self.h.getSolution()
        return np.asarray(sol.col_value), np.asarray(sol.row_dual), self.h.getInfo().objective_function_value

    def _poll_cancel(self, event) -> None:
        if self._cancelled is not None and self._cancelled.is_set():
            event.interrupt()

    def solve(self, d: StepData) -> StepResult:
        numbers = self.lp.step_numbers(d)
        self.load(numbers)
        x, dual, objective = self.run()
        return self.result(x, dual, objective, d, numbers)

    def result(self, x, dual, objective, d: StepData, numbers: StepNumbers) -> StepResult:
        """Results on the labelled grids: segments and tiers summed, the curtailment offset added back."""
        lp, g, c = self.lp, self.grids, self.lp.columns

        def summed(name: str, axis: int) -> np.ndarray:
            """A block's values summed over its segment (last) or tier (first) axis."""
            b = c[name]
            shape = b.shape[:-1] if axis == -1 else b.shape[1:]
            size = int(np.prod(shape))
            cells = b.flat // b.shape[-1] if axis == -1 else b.flat % size
            total = np.bincount(cells, weights=x[b.start : b.stop], minlength=size)
            present = np.zeros(size, dtype=bool)
            present[cells] = True
            return np.where(present, total, np.nan).reshape(shape)

        def plain(name: str) -> np.ndarray:
            b = c[name]
            return b.grid(x[b.start : b.stop])

        demand = values_in(d.demand, *g.demand.dims)
        present = ~np.isnan(demand)
        curtail = summed("curtail", -1) + numbers.offset
        unserved = plain("unserved")
        relief = plain("relief")
        relieved = np.nansum(relief, axis=-1)  # 0 where no option
        consumption = np.where(present, demand - curtail - unserved - relieved, np.nan)
        shortfall = np.where(present, np.maximum(curtail, 0) + unserved + relieved, np.nan)
        balance = lp.rows["balance"]
        return StepResult(
            status="optimal",
            objective=float(objective),
            price=g.wrap(balance.grid(dual[balance.start : balance.stop]), g.node),
            activity=g.wrap(summed("activity", -1), g.activity),
            trade=g.wrap(summed("trade", -1), g.trade),
            consumption=g.wrap(consumption, g.demand),
            shortfall=g.wrap(shortfall, g.demand),
            unserved=g.wrap(np.where(present, unserved, np.nan), g.demand),
            release=g.wrap(plain("release"), g.stock),
            restock=g.wrap(plain("restock"), g.stock),
            relief=g.wrap(relief, g.relief),
            switch=g.wrap(plain("switch"), g.switch),
        )


def _changed(arrays, previous) -> np.ndarray:
    """Indices where any of ``arrays`` differs from ``previous`` (all of them when there is none)."""
    if not previous:
        return np.arange(len(arrays[0]), dtype=np.int32)
    differs = np.zeros(len(arrays[0]), dtype=bool)
    for now, before in zip(arrays, previous, strict=True):
        differs |= now != before
    return np.flatnonzero(differs).astype(np.int32)
