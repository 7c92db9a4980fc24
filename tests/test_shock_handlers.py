"""Issue 12, shocks as handlers: one handler per shock type, used alike by the time loop and by one-step
clearing, so `api.clear(scenario=...)` and a run's month clear the same problem (before, clear skipped the
room projects need and the stockpile and recycling policies)."""

from __future__ import annotations

import datetime as dt
import typing

import pytest

from critmin.api import bundled_scenarios, clear
from critmin.scenario import load_scenario
from critmin.scenario import schema as S
from critmin.simulate.handlers import HANDLERS, handler_for
from critmin.simulate.loop import simulate
from critmin.world.model import World

MONTH = dt.date(2025, 11, 1)  # the framework's measures start: projects, stockpile, recycling, price floor


@pytest.fixture(scope="module")
def framework_month():
    world = World.bundled()
    scenario = load_scenario(bundled_scenarios()["us-japan-framework-2025"], world)
    one_month = scenario.model_copy(update={"start": MONTH, "end": MONTH.replace(day=30)})
    return world, one_month


def test_every_shock_type_of_the_schema_has_one_handler():
    union = typing.get_args(typing.get_args(S.Shock)[0])
    assert set(union) == set(HANDLERS)
    for shock_type, handler in HANDLERS.items():
        assert handler.shock_type is shock_type


def test_a_shock_without_a_handler_is_refused_by_name():
    class Invented:
        pass

    with pytest.raises(TypeError, match="no handler for shock type Invented"):
        handler_for(Invented())


def test_one_step_clearing_and_the_loop_clear_the_same_month(framework_month):
    world, scenario = framework_month
    kinds = {s.type for s in scenario.shocks}
    assert {"project", "stockpile_policy", "recycling_policy", "price_floor", "export_control"} <= kinds
    month = simulate(world, scenario, cache=None).steps["scenario"][0]
    single = clear(world, scenario.market, scenario=scenario, date=MONTH, step_years=1 / 12)
    # the same problem: equal optimal objectives (quantities may differ where the optimum is not unique)
    assert single.objective == pytest.approx(month.objective, rel=1e-9)
    stockpile = next(s for s in scenario.shocks if s.type == "stockpile_policy")
    bought = float(single.restock.sel(holder=stockpile.holder).sum())
    assert bought > 0, "the stockpile policy did not buy in a single clear"
    assert bought == pytest.approx(float(month.restock.sel(holder=stockpile.holder).sum()), rel=1e-6)
