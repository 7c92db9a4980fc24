"""Risk (issue 13): a disruption model as data (YAML, validated like scenarios) and its sampling, following
SALib's split of sample → evaluate → analyse (docs/risk.md)."""

from critmin.risk.load import RiskModelError, load_risk_model, parse_risk_model
from critmin.risk.model import Cause, RiskModel
from critmin.risk.sample import Draws, draw_seeds, sample, sample_draw, to_scenario, to_shocks

__all__ = [
    "Cause",
    "Draws",
    "RiskModel",
    "RiskModelError",
    "draw_seeds",
    "load_risk_model",
    "parse_risk_model",
    "sample",
    "sample_draw",
    "to_scenario",
    "to_shocks",
]
