"""Public testing helpers (in the spirit of ``xarray.testing``): tiny worlds, result comparators and, in
:mod:`critmin.testing.strategies`, hypothesis strategies for worlds and scenarios.

    from critmin.testing import tiny_world, assert_world_equal, assert_balanced, replicate_regions
    from critmin.testing import assert_step_close, assert_run_close
    from critmin.testing import strategies  # needs hypothesis (a dev dependency)

``strategies`` is not imported here, so that ``critmin.testing`` works with the runtime dependencies only.
"""

from critmin.testing.compare import DEFAULT_ATOL, DEFAULT_RTOL, assert_run_close, assert_step_close
from critmin.testing.worlds import (
    SPLIT_COLUMNS,
    TEST_SOURCE,
    assert_balanced,
    assert_world_equal,
    replicate_regions,
    tiny_world,
)

__all__ = [
    "DEFAULT_ATOL",
    "DEFAULT_RTOL",
    "SPLIT_COLUMNS",
    "TEST_SOURCE",
    "assert_balanced",
    "assert_run_close",
    "assert_step_close",
    "assert_world_equal",
    "replicate_regions",
    "tiny_world",
]
