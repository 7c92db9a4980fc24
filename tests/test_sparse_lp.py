"""The sparse step model (market/lp.py) and the linopy formulation are the same problem: HiGHS receives the
same matrix, bounds and costs and returns the same solution, prices included; constraints users add to the
linopy model are honoured."""

from __future__ import annotations

import numpy as np
import pytest

from critmin.market import MarketSettings, base_step_data, build_market, market_inputs, solve_market
from critmin.market.interior import _matrix
from critmin.world.model import World

FIELDS = ("price", "activity", "trade", "consumption", "shortfall", "unserved", "release", "restock", "relief",
          "switch")  # fmt: skip


@pytest.fixture(scope="module")
def world():
    return World.bundled()


def both_routes(world, curves: str, shock=None):
    settings = MarketSettings(curves=curves)
    inputs = market_inputs(world, settings)
    data = base_step_data(inputs, 1 / 12)
    if shock is not None:
        data = shock(data)
    sparse = build_market(inputs, data, settings)
    via_linopy = build_market(inputs, data, settings)
    via_linopy.model  # noqa: B018 (building it sends solve_market through linopy)
    return sparse, via_linopy


def china_dy_halved(data):
    controlled = (data.arc_cap.origin == "CHN") & data.arc_cap["product"].isin(["Dy_oxide", "Dy_metal"])
    return data.with_(arc_cap=data.arc_cap.where(~controlled, 0.5 * data.arc_contract))


def test_highs_receives_the_same_problem_from_both_routes(world):
    from linopy import solvers

    sparse, via_linopy = both_routes(world, "stepwise")
    lp, numbers = sparse.lp, sparse.lp.step_numbers(sparse.data)
    h = solvers.Highs.from_model(via_linopy.model, io_api="direct", options={"output_flag": False}).solver_model
    reference = h.getLp()
    assert (reference.num_col_, reference.num_row_) == (lp.num_col, lp.num_row)
    difference = _matrix(reference.a_matrix_, lp.num_row, lp.num_col) - lp.matrix.tocsr()
    assert difference.nnz == 0 or abs(difference).max() == 0
    np.testing.assert_array_equal(np.asarray(reference.col_cost_), numbers.cost)
    np.testing.assert_array_equal(np.asarray(reference.col_lower_), numbers.col_lower)
    np.testing.assert_array_equal(np.asarray(reference.col_upper_), numbers.col_upper)
    np.testing.assert_array_equal(np.asarray(reference.row_lower_), numbers.row_lower)
    np.testing.assert_array_equal(np.asarray(reference.row_upper_), numbers.row_upper)


@pytest.mark.parametrize("curves", ["stepwise", "linear"])
@pytest.mark.parametrize("shock", [None, china_dy_halved], ids=["reference", "china-dy-halved"])
def test_both_routes_give_the_same_solution(world, curves, shock):
    sparse, via_linopy = both_routes(world, curves, shock)
    a, b = solve_market(sparse), solve_market(via_linopy)
    assert a.objective == pytest.approx(b.objective, rel=1e-12)
    for name in FIELDS:
        left, right = getattr(a, name), getattr(b, name).transpose(*getattr(a, name).dims)
        np.testing.assert_array_equal(np.isnan(left.values), np.isnan(right.values), err_msg=name)
        scale = max(float(np.nanmax(np.abs(right.values), initial=0.0)), 1.0)
        np.testing.assert_allclose(left.values, right.values, rtol=0, atol=1e-9 * scale, err_msg=name)


def test_a_constraint_added_to_the_linopy_model_is_honoured(world):
    settings = MarketSettings()
    inputs = market_inputs(world, settings)
    market = build_market(inputs, base_step_data(inputs, 1 / 12), settings)
    free = solve_market(build_market(inputs, market.data, settings))
    made = free.activity.sel(process="extract", region="CHN", product="conc_ionic_clay_hy")
    extract = market.model.variables["activity"].sel(process="extract", region="CHN", product="conc_ionic_clay_hy")
    market.model.add_constraints(extract.sum() <= 0.5 * float(made), name="user_cap")
    capped = solve_market(market)
    assert float(capped.activity.sel(process="extract", region="CHN", product="conc_ionic_clay_hy")) <= (
        0.5 * float(made) + 1e-6
    )
    assert capped.objective > free.objective
