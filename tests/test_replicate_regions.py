"""critmin.testing.replicate_regions: a world of the same economics with every region split into copies (used by
the region-scaling benchmark). It must be a valid world, keep every total, and clear to the same world totals."""

from __future__ import annotations

import numpy as np
import pytest

from critmin.market import clear
from critmin.testing import assert_world_equal, replicate_regions
from critmin.world.model import World


@pytest.fixture(scope="module")
def world() -> World:
    return World.bundled()


def _total(world: World, table: str, column: str, by: str = "product"):
    return world.table(table).groupby(by)[column].sum().sort_index()


def _copy_of(region: str, ids: set[str]) -> str:
    """The original region a copy id (``CHN_2``) stands for."""
    return region if region in ids else region.rsplit("_", 1)[0]


@pytest.mark.parametrize("copies", [2, 3])
def test_regions_split_and_totals_kept(world, copies):
    big = replicate_regions(world, copies)  # World() validates it: an invalid world raises here
    ids = world.table("region")["id"].tolist()
    expected = [c for r in ids for c in [r, *(f"{r}_{i}" for i in range(2, copies + 1))]]
    assert big.table("region")["id"].tolist() == expected
    for table, column in [("production", "quantity"), ("demand", "quantity"), ("trade_flow", "quantity"),
                          ("capacity", "capacity"), ("stock", "quantity")]:  # fmt: skip
        np.testing.assert_allclose(_total(big, table, column), _total(world, table, column), rtol=1e-9, atol=0)
    # every copy exports and imports 1/copies of what its original does, product by product
    flows = big.table("trade_flow")
    for side in ("origin", "destination"):
        per_copy = flows.groupby([side, "product"])["quantity"].sum()
        original = world.table("trade_flow").groupby([side, "product"])["quantity"].sum()
        keys = [(_copy_of(r, set(ids)), p) for r, p in per_copy.index]
        np.testing.assert_allclose(per_copy.to_numpy() * copies, original.loc[keys].to_numpy(), rtol=1e-9, atol=0)
    groups = big.table("region_group")
    assert len(groups) == copies * len(world.table("region_group"))


def test_one_copy_is_the_same_world(world):
    assert_world_equal(replicate_regions(world, 1), world)


def test_copies_must_be_positive(world):
    with pytest.raises(ValueError, match="at least 1"):
        replicate_regions(world, 0)


def test_cleared_step_keeps_world_totals(world):
    """The split world clears to the original's world output per process and product (the original solution
    split evenly is optimal for the copy). Prices are not compared: where they are not unique the solver may
    report another of the equally valid ones, and the interior-point duals are accurate to about 1e-3."""
    base, split = clear(world), clear(replicate_regions(world, 2))
    before = base.activity.sum("region", min_count=1).values
    after = split.activity.sum("region", min_count=1).values
    present = ~np.isnan(before)
    np.testing.assert_array_equal(present, ~np.isnan(after))
    scale = np.nanmax(np.abs(before))
    np.testing.assert_allclose(after[present], before[present], rtol=1e-6, atol=1e-12 * scale)
    assert split.objective == pytest.approx(base.objective, rel=1e-9)
