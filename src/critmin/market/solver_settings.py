"""Solver settings, one model for every solve: a single clear, the time loop's re-solves, and both routes
(sparse arrays or linopy). Part of :class:`~critmin.market.settings.MarketSettings` (``market: solver:`` in a
scenario)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SolverSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    stuck_solve_s: float = Field(
        120.0,
        gt=0,
        le=3600,
        description="A solve running longer than this (s) is stopped as stuck: one month clears in well under "
        "a second. A run's own time limit (the server's --max-run-seconds) applies inside solves too.",
    )
    interior_tolerance: float = Field(
        1e-12,
        gt=0,
        le=1e-4,
        description="Gap and feasibility tolerances of the interior-point QP solver (exact linear curves; -). "
        "Golden cases are asserted to 1e-6, which needs this much.",
    )
    interior_retry_tolerance: float = Field(
        1e-8,
        gt=0,
        le=1e-3,
        description="Tolerances of the retry after a stalled interior-point solve (-); its answer is used only "
        "once the active-set polish has made it exact.",
    )
    almost_tolerance: float = Field(
        1e-7, gt=0, le=1e-3, description="Largest scaled residual accepted from an 'almost solved' answer (-)."
    )
    interior_max_iter: int = Field(400, ge=10, le=100_000, description="Interior-point iterations at most.")
    polish_limit: int = Field(
        2000,
        ge=0,
        le=1_000_000,
        description="Polish interior-point answers to the exact optimum on models of up to this many columns. "
        "Textbook and small worlds get exact answers; on the bundled world (about 4,800 columns) the interior "
        "point (prices to about 1e-8 relative) stands, as a polish there costs seconds a step.",
    )
    highs: dict[str, bool | int | float | str] = Field(
        default_factory=dict,
        description="Further HiGHS options (names as in the HiGHS documentation), for every solve.",
    )
