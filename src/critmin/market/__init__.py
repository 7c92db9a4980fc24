"""The market engine: one-step spatial price equilibrium (build, solve, write back).

from critmin.market import clear
result = clear(world)            # StepResult: prices, flows, shortfall, stock changes
market = build(world)            # MarketModel: add constraints to market.model, then solve_market(market)
"""

from __future__ import annotations

from critmin.market.build import MarketModel, build_market
from critmin.market.data import StepData, base_step_data
from critmin.market.inputs import MarketDataError, MarketInputs, market_inputs
from critmin.market.results import StepResult
from critmin.market.settings import MarketSettings
from critmin.market.solve import MarketSolveError, solve_market
from critmin.world.model import World


def build(world: World, settings: MarketSettings | None = None, step_years: float = 1.0) -> MarketModel:
    """Build the clearing model of ``world`` for one step of ``step_years`` years."""
    settings = settings or MarketSettings()
    inputs = market_inputs(world, settings)
    return build_market(inputs, base_step_data(inputs, step_years), settings)


def clear(world: World, settings: MarketSettings | None = None, step_years: float = 1.0) -> StepResult:
    """Clear ``world`` for one step: build, solve with HiGHS, write back."""
    return solve_market(build(world, settings, step_years))


__all__ = [
    "MarketDataError",
    "MarketInputs",
    "MarketModel",
    "MarketSettings",
    "MarketSolveError",
    "StepData",
    "StepResult",
    "build",
    "build_market",
    "clear",
    "market_inputs",
    "solve_market",
]
