"""Derived tables cached on an :class:`~critmin.world.flows.ElementFlows` (one world): computed once, shared
read-only."""

from __future__ import annotations

import numpy as np

from critmin.world.flows import ElementFlows


def cached(flows: ElementFlows, key: tuple, compute):
    """``compute()`` once per flows object (one world): its derived tables live in ``flows.cache``."""
    if key not in flows.cache:
        flows.cache[key] = compute()
    return flows.cache[key]


def frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False  # shared through the cache: nobody may change it in place
    return array


def grouped(flows: ElementFlows, name: str) -> dict:
    return cached(flows, ("grouped", name), lambda: dict(tuple(getattr(flows, name).groupby(["stage", "element"]))))
