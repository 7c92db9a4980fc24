"""Issue 13, scale-out on dask.distributed: draws evaluated on a 2-worker LocalCluster in chunks give the
numbers a serial evaluation gives, draw for draw."""

from __future__ import annotations

import pandas as pd
import pytest

from critmin.errors import UsageError
from critmin.risk import parse_risk_model, sample
from critmin.risk.evaluate import evaluate_exact
from critmin.risk.scale import chunks, evaluate_distributed
from critmin.world.model import World
from test_risk_evaluate import ONE_CONTROL


@pytest.fixture(scope="module")
def study():
    world = World.bundled()
    draws = sample(parse_risk_model(ONE_CONTROL, world=world), 6, seed=11)
    return world, draws


def test_chunks_partition_the_draws_with_their_seeds_and_weights(study):
    _, draws = study
    parts = chunks(draws, 4)
    assert [len(p) for p in parts] == [4, 2]
    assert pd.concat([p.table for p in parts], ignore_index=True).equals(draws.table)
    assert [s for p in parts for s in p.seeds] == list(draws.seeds)
    with pytest.raises(UsageError):
        chunks(draws, 0)


def test_two_workers_give_the_serial_numbers(study):
    world, draws = study
    serial = evaluate_exact(world, draws, cache=None).sort_values(["draw", "region", "element"], ignore_index=True)
    seen = []
    spread = evaluate_distributed(world, draws, workers=2, chunk=3, progress=lambda d, t: seen.append((d, t)))
    pd.testing.assert_frame_equal(spread, serial, check_dtype=False, check_exact=True)  # identical, not close
    assert seen[-1] == (2, 2)
