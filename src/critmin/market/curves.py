"""Supply and demand curves as the solver sees them.

``linear``: one segment per curve with a quadratic cost, so marginal cost is exactly linear (a QP). Exact,
used for textbook worlds and single clears.

``stepwise``: each linear curve becomes a staircase whose steps sit at fixed multiples of the reference
cost (``GRID``), each step priced at the top of its range, so every grid level (the reference cost among
them) is an exact point of the curve. An LP: fast and robust to warm-start, used by the
time loop. Prices then resolve to the grid between neighbouring steps (about 5% near the reference point,
coarser far from it); docs/market.md gives the error measured against the linear form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import xarray as xr

CurveForm = Literal["linear", "stepwise"]

GRID = np.array(
    [0.0, 0.25, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.2, 1.35, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0, 5.0, 6.5, 8.0,
     10.0, 13.0, 17.0, 22.0, 30.0]
)  # fmt: skip


@dataclass(frozen=True)
class Segments:
    """Segment variables y (dim ``segment``): quantity = offset + sum(y), lower <= y <= upper, cost lin*y +
    quad/2*y^2."""

    lower: xr.DataArray
    upper: xr.DataArray
    lin: xr.DataArray
    quad: xr.DataArray
    offset: xr.DataArray  # without the segment dim


def staircase(lower, upper, lin, quad, ref_cost) -> tuple[np.ndarray, np.ndarray]:
    """Stepwise curves on plain arrays (any shape; a trailing ``segment`` axis is added): step widths and
    step costs. NaN inputs give zero-width steps.

    Step k covers the quantities whose marginal cost lies between grid levels k-1 and k, priced at level k:
    every grid level, the reference point included, is then an exact point of the curve, so an unshocked step
    reproduces reference quantities exactly instead of anywhere within the reference step. The last step
    runs to the upper bound."""
    lo = np.nan_to_num(np.asarray(lower, dtype=float))[..., None]
    hi = np.nan_to_num(np.asarray(upper, dtype=float), posinf=np.inf)[..., None]
    lin = np.asarray(lin, dtype=float)[..., None]
    quad = np.asarray(quad, dtype=float)[..., None]
    cost = np.asarray(ref_cost, dtype=float)[..., None] * GRID
    flat = ~(quad > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        edge = np.where(flat, -np.inf, (cost - lin) / quad)
    edge[..., -1] = np.inf
    edge = np.clip(np.nan_to_num(edge, nan=np.inf), lo, hi)
    start = np.concatenate([lo, edge[..., :-1]], axis=-1)
    width = np.clip(edge - start, 0, None)
    first = np.arange(len(GRID)) == 0
    width = np.where(flat, np.where(first, hi - lo, 0.0), width)
    step_cost = np.where(flat, np.where(first, lin, 0.0), cost)
    return np.nan_to_num(width, posinf=np.inf), step_cost


def segments(
    lower: xr.DataArray,
    upper: xr.DataArray,
    lin: xr.DataArray,
    quad: xr.DataArray,
    ref_cost: xr.DataArray,
    form: CurveForm,
) -> Segments:
    """Segments of curves with marginal cost ``lin + quad * x`` on ``[lower, upper]`` (NaN: no curve)."""
    present = lower.notnull()
    if form == "linear":
        seg = lambda a: a.expand_dims(segment=[0], axis=-1)  # noqa: E731
        return Segments(seg(lower), seg(upper), seg(lin), seg(quad), xr.zeros_like(lower).where(present))
    arrays = [a.transpose(*lower.dims) for a in xr.broadcast(lower, upper, lin, quad, ref_cost)]
    width, step_cost = staircase(*(a.values for a in arrays))
    coords = {**{d: lower.coords[d] for d in lower.dims}, "segment": np.arange(len(GRID))}
    dims = [*lower.dims, "segment"]
    width = xr.DataArray(width, coords=coords, dims=dims)
    step_cost = xr.DataArray(step_cost, coords=coords, dims=dims)
    return Segments(
        lower=xr.zeros_like(width).where(present),
        upper=width.where(present),
        lin=step_cost.where(present),
        quad=xr.zeros_like(width).where(present),
        offset=lower.fillna(0).where(present),
    )
