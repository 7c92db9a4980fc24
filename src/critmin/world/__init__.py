"""World data: component tables, world folders, validation and derived element flows.

``World`` and ``bundled_folder`` are imported on first use, so importing :mod:`critmin.world.problems` (as the
command line does for its error messages) does not load pandas."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from critmin.world.problems import Problem, WorldValidationError

if TYPE_CHECKING:
    from critmin.world.model import World, bundled_folder

_LAZY = {"World": "critmin.world.model", "bundled_folder": "critmin.world.model"}

__all__ = ["Problem", "World", "WorldValidationError", "bundled_folder"]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'critmin.world' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
