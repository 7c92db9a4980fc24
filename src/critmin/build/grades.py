"""Magnet grades: world grade shares from the sector mixes, and grade recipes calibrated to the world recipe.

The world NdFeB recipe is calibrated in :mod:`critmin.build.baseline.magnet` (magnets absorb the 2024 primary Dy and
Tb not used elsewhere). It is split into three grades with the same Nd and Pr but different Dy and Tb:

* grade shares: every region uses magnets in the sector split ``MAGNET_SECTORS``, and each sector has a grade
  mix (``MAGNET_GRADE_MIX``), so the world (and every region's) grade share is their product;
* content levels: with the ratios ``GBD_HRE_RATIO`` (GBD Dy+Tb over bulk-grade Dy+Tb) and ``HREE_TB_SHARE``
  (Tb share of the bulk grade's Dy+Tb) held fixed, the bulk grade's Dy+Tb and the GBD grade's Tb share are
  solved so that the production-weighted mean Dy and Tb contents equal the calibrated recipe.
"""

from __future__ import annotations

from dataclasses import dataclass

from critmin.build import assumptions as A

HREE, GBD, FREE = A.MAGNET_GRADES


def grade_shares() -> dict[str, float]:
    """World share (fraction) of each grade in magnet use: sector split x sector grade mix."""
    shares = {g: 0.0 for g in A.MAGNET_GRADES}
    for sector, pct in A.MAGNET_SECTORS.items():
        mix = A.MAGNET_GRADE_MIX[sector]
        if abs(sum(mix.values()) - 100.0) > 1e-9:
            raise ValueError(f"grade mix of {sector} sums to {sum(mix.values())}, not 100")
        for grade, share in mix.items():
            shares[grade] += pct / 100.0 * share / 100.0
    return shares


@dataclass(frozen=True)
class GradeContents:
    """Per grade: metal mass fractions (Dy, Tb, Nd, Pr) and the recipe in t REO-equivalent per t magnet."""

    shares: dict[str, float]
    mass: dict[str, dict[str, float]]  # grade -> element -> mass fraction of metal in the magnet
    recipe: dict[str, dict[str, float]]  # grade -> element -> t REO-eq / t magnet (rounded to 6 decimals)


def grade_contents(world_recipe: dict[str, float]) -> GradeContents:
    """Grade recipes whose production-weighted mean equals ``world_recipe`` (t REO-eq / t, per element)."""
    shares = grade_shares()
    to_metal = A.OXIDE_TO_METAL
    dy, tb = world_recipe["Dy"] * to_metal["Dy"], world_recipe["Tb"] * to_metal["Tb"]  # metal mass fractions
    h, g = shares[HREE], shares[GBD]
    hre = (dy + tb) / (h + A.GBD_HRE_RATIO * g)  # Dy+Tb of the bulk grade
    hree_tb = hre * A.HREE_TB_SHARE
    gbd_hre = hre * A.GBD_HRE_RATIO
    gbd_tb = (tb - h * hree_tb) / g
    gbd_dy = gbd_hre - gbd_tb
    if gbd_tb < 0 or gbd_dy < 0:
        raise ValueError(f"grade split infeasible: GBD Dy {gbd_dy:.4%}, Tb {gbd_tb:.4%}")
    low, high = A.HREE_CONTENT_RANGE_PCT
    if not low <= hre * 100 <= high:
        raise ValueError(f"bulk-alloyed grade Dy+Tb {hre:.2%} outside the published {low:g}-{high:g} %")
    nd, pr = (A.NDPR_METAL_FRACTION * x for x in A.ND_TO_PR)
    mass = {
        HREE: {"Nd": nd, "Pr": pr, "Dy": hre - hree_tb, "Tb": hree_tb},
        GBD: {"Nd": nd, "Pr": pr, "Dy": gbd_dy, "Tb": gbd_tb},
        FREE: {"Nd": nd, "Pr": pr, "Dy": 0.0, "Tb": 0.0},
    }
    recipe = {
        grade: {e: round(m / to_metal[e], 6) for e, m in content.items() if m > 0} for grade, content in mass.items()
    }
    for e in ("Nd", "Pr"):  # same Nd and Pr as the calibrated recipe in every grade
        for grade in recipe:
            recipe[grade][e] = world_recipe[e]
    return GradeContents(shares, mass, recipe)
