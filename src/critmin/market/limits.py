"""Limits a run puts on the solves inside it: a wall-clock deadline and a cancel flag.

A server job sets them around its run (``with solve_limits(deadline, cancelled): ...``); every solve inside,
on that thread, then gets a solver time limit no later than the deadline, and HiGHS polls the cancel flag
between simplex iterations. So a stuck or long solve stops within the limit instead of only between months.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from critmin.errors import SolveError


class SolveStopped(SolveError, RuntimeError):
    """A solve (and the run around it) stopped: cancelled, or past its deadline."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SolveLimits:
    deadline: float | None = None  # time.monotonic() seconds
    cancelled: threading.Event | None = None
    deadline_reason: str = "over the run-time limit"

    def seconds_left(self, stuck_s: float = float("inf")) -> float:
        """Seconds one solve may take now (``stuck_s`` at most: a solve that long is stuck); raises SolveStopped
        when none are left."""
        if self.cancelled is not None and self.cancelled.is_set():
            raise SolveStopped("cancelled")
        if self.deadline is None:
            return stuck_s
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise SolveStopped(self.deadline_reason)
        return min(stuck_s, left)

    def why_stopped(self, stuck_s: float) -> str:
        """Why a solve that hit its limit stopped: the run's cancel or deadline, else a stuck solve."""
        if self.cancelled is not None and self.cancelled.is_set():
            return "cancelled"
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return self.deadline_reason
        return f"a market solve ran past {stuck_s:g} s and was stopped as stuck (market: solver: stuck_solve_s)"


NO_LIMITS = SolveLimits()
_current: ContextVar[SolveLimits | None] = ContextVar("critmin_solve_limits", default=None)


def current_limits() -> SolveLimits:
    return _current.get() or NO_LIMITS


@contextmanager
def solve_limits(
    deadline: float | None = None,
    cancelled: threading.Event | None = None,
    deadline_reason: str = "over the run-time limit",
) -> Iterator[SolveLimits]:
    """Within the block, every solve on this thread stops by ``deadline`` (``time.monotonic()`` s) or once
    ``cancelled`` is set, raising SolveStopped with the reason."""
    limits = SolveLimits(deadline, cancelled, deadline_reason)
    token = _current.set(limits)
    try:
        yield limits
    finally:
        _current.reset(token)
