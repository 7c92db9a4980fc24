"""critmin: critical-mineral supply-chain security.

Python API first; the CLI (``critmin``) is a thin layer over it::

    import critmin
    world = critmin.load_world()                      # the bundled, sourced 2024 world
    critmin.exposure(world, region="JPN", element="Dy")
    critmin.indicators(world, stage="mine", element="REE")

The names below are imported on first use, so ``import critmin`` (and ``critmin --version``) does not pay for
pandas, xarray and linopy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from critmin._version import __version__

# exported name -> module that defines it
_LAZY = {
    "exposure": "critmin.api",
    "indicators": "critmin.api",
    "load_world": "critmin.api",
    "overview": "critmin.api",
    "World": "critmin.world",
    "WorldValidationError": "critmin.world",
}
# submodules that ``import critmin`` used to load eagerly: still reachable as attributes
_SUBMODULES = ("api", "metrics", "schema", "world")

if TYPE_CHECKING:
    from critmin.api import exposure, indicators, load_world, overview
    from critmin.world import World, WorldValidationError

__all__ = ["World", "WorldValidationError", "__version__", "exposure", "indicators", "load_world", "overview"]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"critmin.{name}")
    else:
        raise AttributeError(f"module 'critmin' has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, *_SUBMODULES})
