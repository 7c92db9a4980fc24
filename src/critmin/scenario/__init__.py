"""Scenarios: the YAML schema (pydantic), loading with file:line:field errors, and shock resolution."""

from critmin.scenario.load import ScenarioError, describe, load_scenario, parse_scenario, scenario_hash
from critmin.scenario.schema import Scenario

__all__ = ["Scenario", "ScenarioError", "describe", "load_scenario", "parse_scenario", "scenario_hash"]
