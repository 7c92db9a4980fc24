"""critmin: critical-mineral supply-chain security.

Python API first; the CLI (``critmin``) is a thin layer over it::

    import critmin
    world = critmin.load_world()                      # the bundled, sourced 2024 world
    critmin.exposure(world, region="JPN", element="Dy")
    critmin.indicators(world, stage="mine", element="REE")

``critmin`` exposes the names of :mod:`critmin.api`, each imported on first use, so ``import critmin`` (and
``critmin --version``) does not pay for pandas, xarray and linopy.
"""

from __future__ import annotations

import importlib

from critmin import api as _api  # light: its names load on first use
from critmin._version import __version__

# the whole Python API (critmin.api), loaded name by name on first use
_SUBMODULES = ("api", "errors", "metrics", "schema", "vocabulary", "world")

__all__ = ["__version__", *_api.__all__]


def __getattr__(name: str):
    if name in _api.__all__:
        value = getattr(_api, name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"critmin.{name}")
    else:
        raise AttributeError(f"module 'critmin' has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_api.__all__, *_SUBMODULES})
