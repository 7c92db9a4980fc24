"""Textbook formulas: HHI, top-n share, the scaled WGI, the EU CRM supply-risk score and net import reliance.
Pure functions of numbers."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def herfindahl_hirschman_index(shares: Iterable[float]) -> float:
    """HHI of fractional shares, on the 0..10,000 scale.

    >>> herfindahl_hirschman_index([0.7, 0.2, 0.1])
    5400.0
    """
    arr = np.asarray(list(shares), dtype=float)
    return float(((arr * 100.0) ** 2).sum())


def top_n_share(shares: Iterable[float], n: int = 3) -> float:
    """Combined share of the n largest, in %.

    >>> round(top_n_share([0.5, 0.1, 0.2, 0.15, 0.05]), 6)
    85.0
    """
    arr = np.sort(np.asarray(list(shares), dtype=float))[::-1]
    return float(arr[:n].sum() * 100.0)


def scaled_wgi(wgi: float) -> float:
    """World Governance Indicator (-2.5 good governance .. 2.5 bad inverted) on the EU's 0..10 risk scale.

    >>> scaled_wgi(-0.5), scaled_wgi(1.5)
    (6.0, 2.0)
    """
    return 5.0 - 2.0 * wgi


def eu_supply_risk(
    global_shares: dict[str, float],
    sourcing_shares: dict[str, float],
    wgi: dict[str, float],
    import_reliance: float,
    eol_rir: float,
    substitution_index: float,
) -> float:
    """EU CRM supply risk (2017 methodology, without trade-restriction adjustment):

        SR = [HHI_WGI(global) * IR/2 + HHI_WGI(sourcing) * (1 - IR/2)] * (1 - EOL_RIR) * SI

    with HHI_WGI = sum_i s_i^2 * WGI_scaled_i over fractional shares s_i.
    """

    def hhi_wgi(shares: dict[str, float]) -> float:
        return sum(s * s * scaled_wgi(wgi[r]) for r, s in shares.items() if s > 0)

    ir = min(max(import_reliance, 0.0), 1.0)
    return (
        (hhi_wgi(global_shares) * ir / 2 + hhi_wgi(sourcing_shares) * (1 - ir / 2)) * (1 - eol_rir) * substitution_index
    )


def net_import_reliance(production, imports, exports):
    """Net imports over apparent consumption (production + imports - exports), 0 for net exporters; as a
    fraction. Works on scalars and arrays alike.

    >>> float(net_import_reliance(production=20.0, imports=100.0, exports=20.0))  # 80 of 100 t consumed
    0.8
    >>> float(net_import_reliance(production=100.0, imports=10.0, exports=50.0))  # a net exporter
    0.0
    """
    apparent = production + imports - exports
    return np.clip(np.maximum(imports - exports, 0.0) / apparent, None, 1.0)
