"""Planning responses (issue 14): a two-stage stochastic program over projects, financing instruments,
stockpiles and recycling, with EVPI, VSS and the value of cooperation (docs/plan.md)."""

from critmin.plan.load import PlanError, load_plan, parse_plan
from critmin.plan.schema import Plan

__all__ = ["Plan", "PlanError", "load_plan", "parse_plan"]
