r"""WITS-SMART: the single-importer partial equilibrium of a tariff change (Laird & Yeats, 1986; Jammes &
Olarreaga, 2005), in its linear form.

One importer, one good, exporters ``r`` with initial imports ``M[r]`` at world prices, tariffs ``t0[r]`` and
``t1[r]`` (fractions). The proportional change in the domestic price of ``r``'s good is

.. code-block:: text

    d[r] = (t1[r] − t0[r]) / (1 + t0[r]) / (1 − E_m / E_x)     (E_x = ∞ by default: d = Δt / (1 + t0))

With ``E_m < 0`` the import demand elasticity, ``E_s > 0`` the substitution elasticity between sources and
``w[r] = M[r] / Σ_k M[k]`` the import shares:

.. code-block:: text

    creation[r]  = E_m · M[r] · d[r]                      more (or fewer) imports in all
    diversion[r] = −E_s · M[r] · (d[r] − Σ_k w[k]·d[k])   a shift between sources, summing to zero
    M1[r]        = M[r] + creation[r] + diversion[r]
    revenue      = Σ t·M before, Σ t1·M1 after (world prices: with E_x = ∞ they do not move)
    ΔCS          = −Σ_r (t1[r] − t0[r]) · (M[r] + M1[r]) / 2  (the trapezoid under each source's demand)
    welfare      = ΔCS + Δrevenue

With a finite ``E_x`` the exporter bears part of the tariff: its world price moves by ``E_m·Δt/(1+t0)/(E_x −
E_m)`` and the consumer's price by the rest, as in Laird & Yeats; ΔCS then uses the consumer's price change."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from critmin.errors import UsageError


@dataclass(frozen=True)
class SmartResult:
    """SMART's answer per exporter (arrays over exporters) and for the importer (scalars); money in ``M``'s
    unit."""

    creation: np.ndarray
    diversion: np.ndarray
    imports1: np.ndarray
    domestic_price: np.ndarray  # proportional change of the tariff-inclusive price
    world_price: np.ndarray  # proportional change of the world price
    revenue0: float
    revenue1: float
    consumer_surplus: float

    @property
    def revenue_change(self) -> float:
        """Change in the importer's tariff revenue."""
        return self.revenue1 - self.revenue0

    @property
    def welfare(self) -> float:
        """The importer's welfare change: consumer surplus plus tariff revenue."""
        return self.consumer_surplus + self.revenue_change


def smart(M, t0, t1, E_m: float, E_s: float, E_x: float = np.inf) -> SmartResult:
    """SMART for one importer and good (see the module docstring).

    >>> r = smart([100.0, 100.0], [0.10, 0.10], [0.0, 0.10], E_m=-1.0, E_s=2.0)
    >>> r.creation.round(3).tolist(), r.diversion.round(3).tolist()
    ([9.091, 0.0], [9.091, -9.091])
    """
    M, t0, t1 = (np.asarray(a, dtype=float) for a in (M, t0, t1))
    if M.ndim != 1 or t0.shape != M.shape or t1.shape != M.shape:
        raise UsageError("M, t0 and t1 must be one value per exporter")
    if not E_m < 0 or not E_s > 0 or not E_x > 0:
        raise UsageError("SMART needs E_m < 0, E_s > 0 and E_x > 0 (inf by default)")
    if np.any(M < 0) or np.any(1 + t0 <= 0) or np.any(1 + t1 <= 0):
        raise UsageError("imports must be non-negative and tariffs above -100%")
    cut = (t1 - t0) / (1 + t0)
    share_paid = 1.0 if np.isinf(E_x) else 1.0 / (1.0 - E_m / E_x)
    d = cut * share_paid
    world = d - cut  # the part the exporter bears (zero for E_x = ∞)
    total = M.sum()
    w = M / total if total > 0 else np.zeros_like(M)
    creation = E_m * M * d + 0.0  # + 0.0: no negative zeros
    diversion = -E_s * M * (d - (w * d).sum()) + 0.0
    M1 = M + creation + diversion
    revenue0 = float((t0 * M).sum())
    revenue1 = float((t1 * M1 * (1 + world)).sum())
    consumer = float(-((1 + t0) * d * (M + M1) / 2).sum())
    return SmartResult(creation, diversion, M1, d, world, revenue0, revenue1, consumer)
