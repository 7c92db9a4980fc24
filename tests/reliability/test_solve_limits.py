"""Issue 11, defect 2 and "bounded everything": a run's time limit and cancel reach inside a solve. Before, the
server checked them only between months, so one stuck solve held its only worker forever."""

from __future__ import annotations

import threading
import time

import pytest

from critmin.market import MarketSettings, base_step_data, build_market, market_inputs
from critmin.market.limits import SolveStopped, solve_limits
from critmin.market.step_solver import StepSolver
from critmin.world.model import World


class CancelledOnceTheSolveRuns(threading.Event):
    """A cancel flag that is still clear when the run checks it before the solve, and set from then on: as if
    the user pressed cancel just after the solve started."""

    def __init__(self):
        super().__init__()
        self.polls = 0

    def is_set(self) -> bool:
        self.polls += 1
        return self.polls > 1


@pytest.fixture(scope="module", params=["stepwise", "linear"])
def cold_step(request):
    """A fresh solver per call: HiGHS's simplex (stepwise curves, the scenario default) or the interior-point
    QP solver (linear curves)."""
    world = World.bundled()
    settings = MarketSettings(curves=request.param)
    inputs = market_inputs(world, settings)
    data = base_step_data(inputs, 1 / 12)
    market = build_market(inputs, data, settings)

    def fresh_solver() -> StepSolver:
        return StepSolver(market)  # a new solver: a cold solve of a few hundred simplex or a few dozen IPM iterations

    return fresh_solver, data


def test_an_unlimited_solve_clears(cold_step):
    fresh_solver, data = cold_step
    result = fresh_solver().solve(data)
    assert float(result.price.max()) > 0


def test_a_deadline_inside_the_solve_stops_it_with_the_run_s_reason(cold_step):
    fresh_solver, data = cold_step
    solver = fresh_solver()
    limits = solve_limits(deadline=time.monotonic() + 1e-4, deadline_reason="over the 5 s run-time limit")
    with limits, pytest.raises(SolveStopped) as stopped:
        solver.solve(data)
    assert stopped.value.reason == "over the 5 s run-time limit"


def test_cancel_interrupts_a_running_solve(cold_step):
    fresh_solver, data = cold_step
    cancelled = CancelledOnceTheSolveRuns()
    with solve_limits(cancelled=cancelled), pytest.raises(SolveStopped) as stopped:
        fresh_solver().solve(data)
    assert stopped.value.reason == "cancelled"
    assert cancelled.polls >= 2, "HiGHS never polled the cancel flag during the solve"


def test_limits_end_with_their_block(cold_step):
    fresh_solver, data = cold_step
    with solve_limits(deadline=time.monotonic() - 1):
        pass
    assert float(fresh_solver().solve(data).price.max()) > 0


def test_solver_settings_reach_every_route():
    """One settings model for single clears and re-solves (issue 12): HiGHS options and the stuck-solve limit."""
    world = World.bundled()
    settings = MarketSettings(curves="stepwise", solver={"highs": {"simplex_strategy": 4}})
    inputs = market_inputs(world, settings)
    market = build_market(inputs, base_step_data(inputs, 1 / 12), settings)
    assert StepSolver(market).h.getOptionValue("simplex_strategy")[1] == 4
    for curves in ("stepwise", "linear"):
        hurried = MarketSettings(curves=curves, solver={"stuck_solve_s": 1e-6})
        inputs = market_inputs(world, hurried)
        market = build_market(inputs, base_step_data(inputs, 1 / 12), hurried)
        with pytest.raises(SolveStopped, match="stopped as stuck"):
            StepSolver(market).solve(market.data)
