"""The cached baseline path: the same results as solving it, found again by a later run (in memory or in the
store), cut to a shorter horizon, and never shared across what it depends on."""

from __future__ import annotations

import numpy as np
import pytest

from critmin.scenario import Scenario
from critmin.simulate.baseline import MemoryCache, StoreCache, baseline_key, pack, unpack
from critmin.simulate.handlers import reservations
from critmin.simulate.loop import simulate
from critmin.simulate.selectors import Resolver
from critmin.store import Store
from critmin.world.flows import element_content
from critmin.world.model import World

BAN = {
    "type": "export_control", "exporter": {"regions": ["CHN"]}, "elements": ["Dy", "Tb"], "mode": "ban",
    "start": "2025-02-01", "end": "2025-04-30",
}  # fmt: skip
STOCKPILE = {
    "type": "stockpile_policy", "where": {"regions": ["JPN"]}, "elements": ["Dy"], "target_days": 60,
    "start": "2025-01-01",
}  # fmt: skip


@pytest.fixture(scope="module")
def world():
    return World.bundled()


def scenario(shocks=(BAN,), end="2025-06-30", **extra) -> Scenario:
    fields = {"name": "cache", "start": "2025-01-01", "end": end, "shocks": list(shocks)}
    return Scenario.model_validate({**fields, **extra})


def months_counted(world, sc, cache) -> int:
    """Months solved (each solve reports progress once), checking the reports count the horizon's months."""
    seen = []
    simulate(world, sc, lambda done, total: seen.append((done, total)), cache)
    months = seen[-1][1]
    assert seen[-1] == (months, months) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    return len(seen)


def assert_same_run(a, b):
    for path in ("baseline", "scenario"):
        for name in ("price", "trade", "shortfall", "activity"):
            np.testing.assert_array_equal(a.series(path, name).values, b.series(path, name).values)


def test_a_cached_baseline_gives_the_results_of_a_solved_one(world):
    cache = MemoryCache()
    first = simulate(world, scenario(), cache=cache)
    other = scenario(shocks=[{**BAN, "mode": "quota", "magnitude": 0.5}])
    assert months_counted(world, other, cache) == 6  # only the scenario's months were solved
    assert months_counted(world, other, None) == 12  # baseline and scenario
    assert_same_run(simulate(world, other, cache=cache), simulate(world, other, cache=None))
    assert_same_run(first, simulate(world, scenario(), cache=None))


def test_a_longer_cached_path_serves_a_shorter_horizon_and_not_the_reverse(world):
    cache = MemoryCache()
    simulate(world, scenario(end="2025-06-30"), cache=cache)
    assert months_counted(world, scenario(end="2025-03-31"), cache) == 3
    assert months_counted(world, scenario(end="2025-09-30"), cache) == 18
    short = simulate(world, scenario(end="2025-03-31"), cache=cache)
    assert_same_run(short, simulate(world, scenario(end="2025-03-31"), cache=None))


def test_the_key_follows_what_the_baseline_depends_on(world):
    resolver = Resolver(world, element_content(world))

    def key(sc):
        return baseline_key(world, sc, reservations(sc, resolver))

    base = key(scenario())
    assert key(scenario(shocks=[{**BAN, "mode": "quota", "magnitude": 0.2}])) == base  # shocks: no
    assert key(scenario(end="2026-06-30")) == base  # end: no (cut to the horizon)
    assert key(scenario(dynamics={"growth": "trend"})) != base
    assert key(scenario(market={"contract_margin_pct": 3})) != base
    assert key(scenario(shocks=[BAN, STOCKPILE])) != base  # reserved stockpile places change the model
    assert key(Scenario.model_validate({**scenario().model_dump(), "start": "2025-02-01"})) != base


def test_stored_paths_survive_the_process_and_read_back_exactly(world, tmp_path):
    path = simulate(world, scenario(), cache=None)
    from critmin.simulate.baseline import BaselinePath

    baseline = BaselinePath(path.steps["baseline"], path.stocks["baseline"], path.balance_residual["baseline"],
                            path.substitution["baseline"])  # fmt: skip
    back = unpack(pack(baseline))
    assert len(back) == len(baseline)
    for a, b in zip(baseline.steps, back.steps, strict=True):
        for name in ("price", "trade", "relief", "switch", "release"):
            np.testing.assert_array_equal(getattr(a, name).values, getattr(b, name).values)
            assert getattr(a, name).dims == getattr(b, name).dims
        assert a.objective == b.objective
    db = tmp_path / "cache.duckdb"
    simulate(world, scenario(), cache=StoreCache(path=db, memory=MemoryCache()))
    with Store(db) as store:
        assert store.con.execute("SELECT count(*) FROM baseline_cache").fetchone()[0] == 1
    # a new process has an empty memory: the store serves the path
    assert months_counted(world, scenario(), StoreCache(path=db, memory=MemoryCache())) == 6
