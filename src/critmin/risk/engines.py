"""The evaluators a study can use, by name: ``fast`` (:mod:`critmin.risk.fast`, the default) and ``exact``
(every draw through the LP time loop, :mod:`critmin.risk.evaluate`)."""

from __future__ import annotations

from critmin.errors import UsageError
from critmin.risk.chunk import ChunkResult
from critmin.risk.evaluate import evaluate_chunk_exact
from critmin.risk.fast import evaluate_chunk_fast
from critmin.risk.sample import Draws
from critmin.world.model import World

ENGINES = ("fast", "exact")


def evaluate_chunk(world: World, draws: Draws, engine: str = "fast") -> ChunkResult:
    """A chunk of draws through the evaluator named ``engine``."""
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    if engine == "exact":
        return evaluate_chunk_exact(world, draws)
    return evaluate_chunk_fast(world, draws)
