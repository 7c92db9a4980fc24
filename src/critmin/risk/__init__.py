"""Risk (issue 13), following SALib's split of sample → evaluate → analyse (docs/risk.md): a disruption model
as data (YAML, validated like scenarios), its seeded sampling, and the analysis of per-draw outcomes (weighted
VaR and CVaR, exceedance, fan charts, element ranking, Morris and Sobol sensitivity). Draws are evaluated in
chunks by the fast evaluator (:mod:`critmin.risk.fast`) or the exact LP time loop (``evaluate_exact``), chosen
by ``evaluate_chunk(world, draws, engine)``; a study (:mod:`critmin.risk.study`) runs the chunks in this
process or on dask.distributed, keeps them on disk and stores its tables in DuckDB."""

from critmin.risk.analyse import (
    UncertainInput,
    cvar,
    duration_distribution,
    exceedance_curve,
    fan_chart,
    morris,
    rank_elements,
    risk_measures,
    sobol,
    value_at_risk,
    weighted_quantile,
)
from critmin.risk.chunk import ChunkResult
from critmin.risk.engines import ENGINES, evaluate_chunk
from critmin.risk.evaluate import OUTCOME_UNITS, evaluate_exact
from critmin.risk.load import RiskModelError, load_risk_model, parse_risk_model
from critmin.risk.model import Cause, RiskModel
from critmin.risk.sample import Draws, draw_seeds, sample, sample_draw, to_scenario, to_shocks
from critmin.risk.scale import chunks, evaluate_distributed

__all__ = [
    "ENGINES",
    "OUTCOME_UNITS",
    "Cause",
    "ChunkResult",
    "Draws",
    "RiskModel",
    "RiskModelError",
    "UncertainInput",
    "chunks",
    "cvar",
    "draw_seeds",
    "duration_distribution",
    "evaluate_chunk",
    "evaluate_distributed",
    "evaluate_exact",
    "exceedance_curve",
    "fan_chart",
    "load_risk_model",
    "morris",
    "parse_risk_model",
    "rank_elements",
    "risk_measures",
    "sample",
    "sample_draw",
    "sobol",
    "to_scenario",
    "to_shocks",
    "value_at_risk",
    "weighted_quantile",
]
