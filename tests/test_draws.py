"""Draws: a batch of scenario variants on one baseline and one warm-started solver, with a draw dimension."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from critmin.api import run_scenario
from critmin.scenario import Scenario
from critmin.simulate.baseline import MemoryCache
from critmin.simulate.draws import DrawError, simulate_draws
from critmin.world.model import World


@pytest.fixture(scope="module")
def world():
    return World.bundled()


def variant(magnitude: float, start: str = "2025-02-01", **extra) -> Scenario:
    shock = {
        "type": "export_control", "exporter": {"regions": ["CHN"]}, "elements": ["Dy", "Tb"], "mode": "quota",
        "magnitude": magnitude, "start": start, "end": "2025-05-31",
    }  # fmt: skip
    fields = {"name": f"quota-{magnitude}", "start": "2025-01-01", "end": "2025-08-31", "shocks": [shock]}
    return Scenario.model_validate({**fields, **extra})


def test_each_draw_is_the_run_of_its_variant(world):
    variants = [variant(0.2), variant(0.6, start="2025-03-15"), variant(0.9)]
    draws = simulate_draws(world, variants, cache=MemoryCache())
    assert draws.price.dims == ("draw", "region", "product", "date")
    assert draws.price.sizes["draw"] == 3 and draws.shortfall.sizes["date"] == 8
    assert sorted(draws.summary["draw"].unique()) == [0, 1, 2]
    for i, sc in enumerate(variants):
        run, summary, _ = run_scenario(world, sc, cache=None)
        single = run.series("scenario", "shortfall").sum("sector", min_count=1)
        np.testing.assert_allclose(draws.shortfall.isel(draw=i).values, single.values, atol=1e-9, equal_nan=True)
        np.testing.assert_allclose(
            draws.price.isel(draw=i).values, run.series("scenario", "price").values, rtol=1e-9, equal_nan=True
        )
        mine = draws.summary[draws.summary["draw"] == i].drop(columns="draw").reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, summary, check_dtype=False)  # concat turns string columns to object
    # a quota's magnitude is the share of baseline exports allowed: the larger, the less Dy Japan goes without
    japan = draws.summary[(draws.summary["region"] == "JPN") & (draws.summary["element"] == "Dy")]
    cumulative = list(japan.sort_values("draw")["cumulative_shortfall_t"])
    assert cumulative == sorted(cumulative, reverse=True) and cumulative[0] > cumulative[-1]


def test_draws_share_one_baseline_solved_once(world):
    cache = MemoryCache()
    first = simulate_draws(world, [variant(0.5)], cache=cache)
    again = simulate_draws(world, [variant(0.3), variant(0.4)], cache=cache)
    assert (first.baseline_months_solved, again.baseline_months_solved) == (8, 0)
    seen = []
    simulate_draws(world, [variant(0.3), variant(0.4)], lambda done, total: seen.append((done, total)), cache)
    assert seen == [(1, 2), (2, 2)]


@pytest.mark.parametrize(
    ("other", "field"),
    [
        ({"end": "2025-12-31"}, "end"),
        ({"dynamics": {"growth": "trend"}}, "dynamics"),
        ({"market": {"contract_margin_pct": 5}}, "market"),
    ],
)
def test_variants_that_cannot_share_a_baseline_are_refused(world, other, field):
    with pytest.raises(DrawError, match=f"draw 1: {field} differs"):
        simulate_draws(world, [variant(0.5), variant(0.5, **other)], cache=None)
