"""Risk (issue 13), following SALib's split of sample → evaluate → analyse (docs/risk.md): a disruption model
as data (YAML, validated like scenarios), its seeded sampling, and the analysis of per-draw outcomes (weighted
VaR and CVaR, exceedance, fan charts, element ranking, Morris and Sobol sensitivity). Draws are evaluated by
the exact LP engine (``evaluate_exact``), on a dask.distributed cluster in chunks (``evaluate_distributed``);
the vectorised engine to be checked against it is still to come."""

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
from critmin.risk.evaluate import OUTCOME_UNITS, evaluate_exact
from critmin.risk.load import RiskModelError, load_risk_model, parse_risk_model
from critmin.risk.model import Cause, RiskModel
from critmin.risk.sample import Draws, draw_seeds, sample, sample_draw, to_scenario, to_shocks
from critmin.risk.scale import chunks, evaluate_distributed

__all__ = [
    "OUTCOME_UNITS",
    "Cause",
    "Draws",
    "RiskModel",
    "RiskModelError",
    "UncertainInput",
    "chunks",
    "cvar",
    "draw_seeds",
    "duration_distribution",
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
