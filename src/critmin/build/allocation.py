"""Trade matrices that satisfy known margins: RAS (biproportional fitting) with home-first netting.

Given each region's output and intake of one product (equal world totals) and any published bilateral
flows (pins), the remaining trade is the RAS fit of a uniform prior to the regions' surpluses and
deficits, with pinned pairs excluded. Mass balance holds at every node by construction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def ras(
    prior: np.ndarray, row_totals: np.ndarray, col_totals: np.ndarray, *, tol: float = 1e-10, max_iter: int = 10_000
) -> np.ndarray:
    """Scale ``prior`` by rows and columns until its margins match (Stone's RAS / iterative fitting).

    Zeros in the prior stay zero. Raises ValueError when the margins cannot be met with that pattern.
    """
    matrix = prior.astype(float).copy()
    scale_ref = max(float(row_totals.sum()), 1.0)
    for _ in range(max_iter):
        rows = matrix.sum(axis=1)
        matrix *= np.divide(row_totals, rows, out=np.zeros_like(rows), where=rows > 0)[:, None]
        cols = matrix.sum(axis=0)
        matrix *= np.divide(col_totals, cols, out=np.zeros_like(cols), where=cols > 0)[None, :]
        if np.abs(matrix.sum(axis=1) - row_totals).max() <= tol * scale_ref:
            return matrix
    raise ValueError("RAS did not converge: the margins cannot be met with the prior's pattern of zeros")


def allocate_trade(
    supply: pd.Series,
    intake: pd.Series,
    pinned: dict[tuple[str, str], float] | None = None,
) -> pd.DataFrame:
    """Bilateral flows (origin, destination, quantity) consistent with output ``supply`` and ``intake``.

    Regions first serve their own intake; pinned flows are fixed; the rest is fitted by RAS.
    """
    pinned = dict(pinned or {})
    regions = supply.index.union(intake.index)
    supply = supply.reindex(regions, fill_value=0.0).astype(float)
    intake = intake.reindex(regions, fill_value=0.0).astype(float)
    total = supply.sum()
    if abs(total - intake.sum()) > 1e-9 * max(total, 1.0):
        raise ValueError(f"supply {total:.6g} and intake {intake.sum():.6g} differ; trade cannot balance")
    out_pin = pd.Series(0.0, index=regions)
    in_pin = pd.Series(0.0, index=regions)
    for (origin, dest), qty in pinned.items():
        out_pin[origin] += qty
        in_pin[dest] += qty
    free_supply, free_intake = supply - out_pin, intake - in_pin
    if (free_supply < -1e-9 * total).any() or (free_intake < -1e-9 * total).any():
        raise ValueError("pinned flows exceed a region's output or intake")
    kept = np.minimum(free_supply, free_intake).clip(lower=0.0)
    surplus = (free_supply - kept).clip(lower=0.0)
    deficit = (free_intake - kept).clip(lower=0.0)
    exporters = surplus.index[surplus > 1e-12 * max(total, 1.0)]
    importers = deficit.index[deficit > 1e-12 * max(total, 1.0)]
    records = [(o, d, q) for (o, d), q in pinned.items() if q > 0]
    if len(exporters) and len(importers):
        prior = np.ones((len(exporters), len(importers)))
        for i, o in enumerate(exporters):
            for j, d in enumerate(importers):
                if (o, d) in pinned:
                    prior[i, j] = 0.0
        fitted = ras(prior, surplus[exporters].to_numpy(), deficit[importers].to_numpy())
        records += [
            (o, d, fitted[i, j]) for i, o in enumerate(exporters) for j, d in enumerate(importers) if fitted[i, j] > 0
        ]
    return pd.DataFrame(records, columns=["origin", "destination", "quantity"])
