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
    levels = xr.DataArray(GRID, dims="segment", coords={"segment": np.arange(len(GRID))})
    cost = ref_cost * levels
    # step k covers the quantities whose marginal cost lies between grid levels k-1 and k, priced at level k:
    # every grid level, the reference point included, is then an exact point of the curve, so an unshocked
    # step reproduces reference quantities exactly instead of anywhere within the reference step
    with np.errstate(divide="ignore", invalid="ignore"):
        edge = (cost - lin) / quad
    flat = quad <= 0
    lo, hi = lower.fillna(0), upper.fillna(0)
    edge = edge.where(~flat, -np.inf).fillna(np.inf).clip(min=lo, max=hi)  # last step runs to the upper bound
    start = xr.concat(
        [lo.expand_dims(segment=[0]), edge.isel(segment=slice(None, -1)).assign_coords(segment=levels.segment[1:])],
        dim="segment",
    )
    width = (edge - start).clip(min=0)
    # flat curves: all their range in one step at their constant cost
    first = levels.segment == 0
    width = width.where(~flat, xr.where(first, hi - lo, 0.0))
    step_cost = cost.where(~flat, xr.where(first, lin, 0.0))
    return Segments(
        lower=xr.zeros_like(width).where(present),
        upper=width.where(present),
        lin=step_cost.where(present),
        quad=xr.zeros_like(width).where(present),
        offset=lo.where(present),
    )
