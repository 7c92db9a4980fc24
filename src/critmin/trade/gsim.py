r"""GSIM: a multi-country, multi-good Armington partial equilibrium of tariff changes (Francois & Hall, 2003).

Arrays and their axes (every array is float, one element per cell):

``V[i, r, g]``
    initial bilateral flows at world prices: importer ``i``, exporter ``r``, good ``g`` (USD or MUSD; the
    results are in the same unit). Initial world prices are normalised to 1, so a value is also a quantity.
``T0[i, r, g]``, ``T1[i, r, g]``
    initial and new tariff wedges ``T = 1 + t`` (``t`` ad valorem, a fraction).
``E_m[i, g]``
    elasticity of total import demand of importer ``i`` for good ``g`` with respect to its composite import
    price. **Negative** (``E_m < 0``: a higher price, fewer imports).
``E_s[i, g]``
    elasticity of substitution between sources in importer ``i`` for good ``g`` (the Armington σ), ``E_s > 0``.
``E_x[r, g]``
    elasticity of export supply of exporter ``r`` for good ``g``, ``E_x > 0``; ``inf`` for a price taker
    whose world price does not move.

The model, in ratios new/initial (a hat), with ``π[r, g]`` the ratio of exporter ``r``'s world price of ``g``
(the unknowns, one per exporter × good):

.. code-block:: text

    τ[i,r]  = T1[i,r] / T0[i,r]                         tariff wedge ratio
    ρ[i,r]  = τ[i,r] · π[r]                             domestic (tariff-inclusive) price ratio
    θ[i,r]  = T0[i,r]·V[i,r] / Σ_k T0[i,k]·V[i,k]       initial expenditure shares (CES weights)
    P̂[i]    = ( Σ_r θ[i,r] · ρ[i,r]^(1-σ_i) )^(1/(1-σ_i))   composite import price index (σ_i = E_s[i])
    Q̂[i]    = P̂[i]^E_m[i]                                composite import demand
    M̂[i,r]  = Q̂[i] · (ρ[i,r] / P̂[i])^(-σ_i)             bilateral demand: substitution between sources
    X̂[r]    = π[r]^E_x[r]                                export supply
    Σ_i V[i,r] · M̂[i,r] = V[r] · X̂[r],  V[r] = Σ_i V[i,r]   market clearing per exporter × good

This is GSIM's system with constant elasticities held exactly rather than linearised: to first order in the
changes it is Francois & Hall's linear system, whose bilateral own- and cross-price elasticities are
``θ·E_m − (1−θ)·E_s`` and ``θ_k·(E_m + E_s)``. Written in logs (``x = ln π``), the clearing condition is

.. code-block:: text

    F[r](x) = ln Σ_i V[i,r]·M̂[i,r](x) − ln V[r] − E_x[r]·x[r] = 0,

solved for all exporters and goods at once by :func:`scipy.optimize.root` with the analytic Jacobian

.. code-block:: text

    ∂F[r]/∂x[k] = Σ_i w[i,r]·(E_m[i] + σ_i)·s[i,k] − (Σ_i w[i,r]·σ_i + E_x[r])·δ[r,k],

where ``w[i,r]`` is importer ``i``'s share of ``r``'s new sales and ``s[i,k]`` source ``k``'s new expenditure
share in ``i``. Goods are independent (no cross-good effects), so the Jacobian is block diagonal.

Welfare changes (exact areas under the constant-elasticity curves):

.. code-block:: text

    ΔCS[i] = −E0[i] · (P̂[i]^(E_m+1) − 1) / (E_m + 1)      (−E0·ln P̂ if E_m = −1), E0[i] = Σ_r T0·V
    ΔPS[r] =  V[r]  · (π[r]^(E_x+1) − 1) / (E_x + 1)      (0 if E_x is infinite: the price does not move)
    R[i]   =  Σ_r (T[i,r] − 1) · (world-price value of the flow)   tariff revenue, before and after
    W[c]   =  ΔCS[c] + ΔPS[c] + ΔR[c]                      summed over goods; c as importer and as exporter

Flows change in two parts (both at initial world prices, i.e. in volume): trade creation
``V[i,r]·(Q̂[i] − 1)`` (the importer buys more or less of the good in all) and trade diversion
``V[i,r]·Q̂[i]·((ρ[i,r]/P̂[i])^(−σ_i) − 1)`` (the shift between sources). Their sum is ``V[i,r]·(M̂[i,r] − 1)``.

Limits: an arc with no initial flow stays at zero (Armington); no domestic substitutes other than through
``E_m``; no income effects or links between goods.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from critmin.errors import SolveError, UsageError

TOLERANCE = 1e-12  # on the log clearing residual


@dataclass(frozen=True)
class GsimResult:
    """The solved equilibrium; arrays keep the input axes ([i, r, g] for arcs, [r, g] or [i, g] per country).

    ``world_price`` and ``domestic_price`` are ratios new/initial less 1 (proportional changes);
    money in the unit of ``V``; flows ``V1`` at new world prices, ``volume1`` at initial world prices."""

    world_price: np.ndarray  # [r, g]
    domestic_price: np.ndarray  # [i, r, g]
    composite_price: np.ndarray  # [i, g]
    V1: np.ndarray  # [i, r, g] new flows at new world prices
    volume1: np.ndarray  # [i, r, g] new flows at initial world prices (quantities)
    creation: np.ndarray  # [i, r, g] volume change from the change in total imports
    diversion: np.ndarray  # [i, r, g] volume change from the shift between sources
    revenue0: np.ndarray  # [i, g]
    revenue1: np.ndarray  # [i, g]
    consumer_surplus: np.ndarray  # [i, g] change
    producer_surplus: np.ndarray  # [r, g] change
    iterations: int
    residual: float

    @property
    def revenue_change(self) -> np.ndarray:
        """Change in tariff revenue per importer × good."""
        return self.revenue1 - self.revenue0

    def welfare(self) -> dict[str, np.ndarray]:
        """Welfare change per country (summed over goods): consumer surplus, producer surplus, tariff revenue
        and their total. Countries are the importer and exporter axes, which must be the same list."""
        cs = self.consumer_surplus.sum(axis=1)
        ps = self.producer_surplus.sum(axis=1)
        rev = self.revenue_change.sum(axis=1)
        return {"consumer_surplus": cs, "producer_surplus": ps, "revenue": rev, "total": cs + ps + rev}


def _check(V, T0, T1, E_m, E_s, E_x) -> None:
    if V.ndim != 3 or T0.shape != V.shape or T1.shape != V.shape:
        raise UsageError(f"V, T0 and T1 must share one [importer, exporter, good] shape; got {V.shape}, "
                         f"{T0.shape}, {T1.shape}")  # fmt: skip
    n_i, n_r, n_g = V.shape
    if E_m.shape != (n_i, n_g) or E_s.shape != (n_i, n_g) or E_x.shape != (n_r, n_g):
        raise UsageError(f"elasticities: E_m and E_s must be [importer, good] {(n_i, n_g)}, E_x [exporter, good] "
                         f"{(n_r, n_g)}; got {E_m.shape}, {E_s.shape}, {E_x.shape}")  # fmt: skip
    if not np.all(np.isfinite(V)) or np.any(V < 0):
        raise UsageError("flows V must be finite and non-negative")
    if np.any(~np.isfinite(T0)) or np.any(~np.isfinite(T1)) or np.any(T0 <= 0) or np.any(T1 <= 0):
        raise UsageError("tariff wedges T = 1 + t must be finite and positive")
    if np.any(~(E_m < 0)) or np.any(~np.isfinite(E_m)):
        raise UsageError("import demand elasticities E_m must be negative and finite")
    if np.any(~(E_s > 0)) or np.any(~np.isfinite(E_s)):
        raise UsageError("substitution elasticities E_s must be positive and finite")
    if np.any(~(E_x > 0)):
        raise UsageError("export supply elasticities E_x must be positive (inf for a fixed world price)")


class _Model:
    """The clearing system for given data: residual, Jacobian and the quantities both need."""

    def __init__(self, V, T0, T1, E_m, E_s, E_x):
        self.V, self.E_m, self.sigma, self.E_x = V, E_m, E_s, E_x
        spend = T0 * V
        total = spend.sum(axis=1, keepdims=True)  # [i, 1, g]
        self.theta = np.divide(spend, total, out=np.zeros_like(spend), where=total > 0)
        self.log_tau = np.log(T1 / T0)
        self.supply = V.sum(axis=0)  # [r, g]
        # an exporter x good with no exports, or an infinite supply elasticity, keeps its world price
        self.free = (self.supply > 0) & np.isfinite(E_x)
        self.cobb_douglas = np.abs(E_s - 1.0) < 1e-9  # [i, g]

    def prices(self, x: np.ndarray):
        """log domestic price ratios [i, r, g], log composite price ratios [i, g], new expenditure shares."""
        log_rho = self.log_tau + x[None, :, :]
        one_minus = (1.0 - self.sigma)[:, None, :]
        safe = np.where(self.cobb_douglas[:, None, :], 1.0, one_minus)
        weighted = np.where(self.theta > 0, self.theta * np.exp(safe * log_rho), 0.0)
        total = weighted.sum(axis=1)  # [i, g]
        has = total > 0
        log_p = np.where(
            self.cobb_douglas,
            (self.theta * log_rho).sum(axis=1),
            np.log(np.where(has, total, 1.0)) / np.where(self.cobb_douglas, 1.0, 1.0 - self.sigma),
        )
        log_p = np.where(has, log_p, 0.0)
        shares = np.divide(weighted, total[:, None, :], out=np.zeros_like(weighted), where=has[:, None, :])
        shares = np.where(self.cobb_douglas[:, None, :], self.theta, shares)
        return log_rho, log_p, shares

    def demand(self, x: np.ndarray):
        """log bilateral quantity ratios [i, r, g] and the prices behind them."""
        log_rho, log_p, shares = self.prices(x)
        log_m = ((self.E_m + self.sigma) * log_p)[:, None, :] - self.sigma[:, None, :] * log_rho
        return log_m, log_rho, log_p, shares

    def residual(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = self.expand(z)
        log_m, _, _, shares = self.demand(x)
        sales = self.V * np.exp(log_m)  # [i, r, g]
        total = sales.sum(axis=0)  # [r, g]
        ex = np.where(self.free, self.E_x, 0.0)
        f = np.log(np.where(self.free, total, 1.0)) - np.log(np.where(self.free, self.supply, 1.0)) - ex * x
        w = np.divide(sales, total[None], out=np.zeros_like(sales), where=total[None] > 0)  # [i, r, g]
        n_r, n_g = x.shape
        # J[g, r, k] = Σ_i w[i,r,g] (E_m+σ)[i,g] s[i,k,g] − (Σ_i w[i,r,g] σ[i,g] + E_x[r,g]) δ[r,k]
        cross = np.einsum("irg,ig,ikg->grk", w, self.E_m + self.sigma, shares)
        diag = np.einsum("irg,ig->rg", w, self.sigma) + ex
        jac = cross - np.eye(n_r)[None] * diag.T[:, :, None]
        # the unknowns are the free (exporter, good) cells, ordered good-major to match the blocks
        index = self.index
        full = np.zeros((n_g * n_r, n_g * n_r))
        for g in range(n_g):
            full[g * n_r : (g + 1) * n_r, g * n_r : (g + 1) * n_r] = jac[g]
        keep = index
        return f.T.reshape(-1)[keep], full[np.ix_(keep, keep)]

    @property
    def index(self) -> np.ndarray:
        return np.flatnonzero(self.free.T.reshape(-1))

    def expand(self, z: np.ndarray) -> np.ndarray:
        n_r, n_g = self.supply.shape
        flat = np.zeros(n_r * n_g)
        flat[self.index] = z
        return flat.reshape(n_g, n_r).T


def solve_gsim(V, T0, T1, E_m, E_s, E_x) -> GsimResult:
    """Solve the GSIM equilibrium for tariff wedges moving from ``T0`` to ``T1`` (see the module docstring for
    the axes, signs and equations). Exact for any number of countries and goods.

    >>> import numpy as np
    >>> V = np.array([[[0.0], [100.0]], [[0.0], [0.0]]])      # country 0 imports 100 from country 1
    >>> T0, T1 = np.ones_like(V), np.ones_like(V)
    >>> T1[0, 1, 0] = 1.10                                     # a 10% tariff
    >>> r = solve_gsim(V, T0, T1, np.full((2, 1), -2.0), np.full((2, 1), 4.0), np.full((2, 1), 2.0))
    >>> round(float(np.log1p(r.world_price[1, 0]) / np.log(1.10)), 6)   # E_m / (E_x − E_m) = −2/4
    -0.5
    """
    V, T0, T1 = (np.asarray(a, dtype=float) for a in (V, T0, T1))
    E_m, E_s, E_x = (np.asarray(a, dtype=float) for a in (E_m, E_s, E_x))
    _check(V, T0, T1, E_m, E_s, E_x)
    model = _Model(V, T0, T1, E_m, E_s, E_x)
    z0 = np.zeros(model.index.size)
    iterations, residual = 0, 0.0
    if z0.size:
        sol = optimize.root(model.residual, z0, jac=True, method="hybr", options={"xtol": 1e-13})
        iterations = int(sol.get("nfev", 0))
        residual = float(np.max(np.abs(sol.fun))) if sol.fun.size else 0.0
        if not np.all(np.isfinite(sol.x)) or residual > 1e-8:
            raise SolveError(f"GSIM did not clear its markets: max log residual {residual:.3g} ({sol.message})")
        z0 = sol.x
    x = model.expand(z0)
    log_m, log_rho, log_p, _ = model.demand(x)
    pi = np.exp(x)
    m_hat = np.where(V > 0, np.exp(log_m), 0.0)
    q_hat = np.exp(E_m * log_p)  # [i, g]
    volume1 = V * m_hat
    creation = V * (q_hat[:, None, :] - 1.0)
    diversion = volume1 - V - creation
    V1 = volume1 * pi[None]
    revenue0 = ((T0 - 1.0) * V).sum(axis=1)
    revenue1 = ((T1 - 1.0) * V1).sum(axis=1)
    spend0 = (T0 * V).sum(axis=1)
    a = E_m + 1.0
    unit = np.abs(a) < 1e-12
    cs = -spend0 * np.where(unit, log_p, np.expm1(np.where(unit, 0.0, a) * log_p) / np.where(unit, 1.0, a))
    b = np.where(model.free, E_x + 1.0, 1.0)
    ps = np.where(model.free, model.supply * np.expm1(b * x) / b, 0.0)
    return GsimResult(
        world_price=np.expm1(x),
        domestic_price=np.expm1(log_rho),
        composite_price=np.expm1(log_p),
        V1=V1,
        volume1=volume1,
        creation=creation,
        diversion=diversion,
        revenue0=revenue0,
        revenue1=revenue1,
        consumer_surplus=cs,
        producer_surplus=ps,
        iterations=iterations,
        residual=residual,
    )
