"""Magnet stage: world NdFeB output, the calibrated recipe and its grades; magnet trade and use."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from critmin.build import assumptions as A
from critmin.build.allocation import allocate_trade
from critmin.build.baseline.rows import Baseline
from critmin.build.catalogue import prov
from critmin.build.facts import Sources
from critmin.build.grades import GradeContents, grade_contents


@dataclass
class Magnets:
    """The magnet stage as the later stages need it."""

    world: float  # world NdFeB output, t/yr
    output: pd.Series  # NdFeB output by region, t/yr
    recipe: dict[str, float]  # calibrated mean recipe, t REO-eq per t magnet
    secondary: dict[str, float]  # Nd and Pr oxide that primary supply lacks, t REO/yr (made up in China)
    grades: GradeContents
    per_magnet: dict[str, float]  # t REO-eq per t of the world's grade mix, every element


def magnet(primary: pd.DataFrame, src: Sources, base: Baseline) -> Magnets:
    """Size world magnet output, calibrate the recipe to 2024 supply, split it into grades; write the recipes."""
    world = A.CHINA_NDFEB_T / (A.MAGNET_SHARE["CHN"] / 100.0)
    output = pd.Series({r: s / 100.0 * world for r, s in A.MAGNET_SHARE.items()})
    nd_frac, pr_frac = (A.NDPR_METAL_FRACTION * x for x in A.ND_TO_PR)
    recipe = {"Nd": nd_frac / A.OXIDE_TO_METAL["Nd"], "Pr": pr_frac / A.OXIDE_TO_METAL["Pr"]}
    world_primary = primary.sum(axis=0)
    for e in ("Dy", "Tb"):  # calibrated so that magnets take the primary Dy/Tb not used elsewhere
        recipe[e] = world_primary[e] * (1 - A.NON_MAGNET_SHARE[e] / 100.0) / world
    recipe = {e: round(q, 6) for e, q in recipe.items()}  # compute with the coefficients as published
    secondary = {}
    for e in ("Nd", "Pr"):
        total_needed = world * recipe[e] / (1 - A.NON_MAGNET_SHARE[e] / 100.0)
        secondary[e] = max(0.0, total_needed - world_primary[e])
    grades = grade_contents(recipe)
    base.grades = grades
    _grade_recipes(grades, recipe, src, base)
    per_magnet = {  # from the (rounded) grade recipes, so that the stages agree with the recipe rows
        e: sum(grades.shares[g] * grades.recipe[g].get(e, 0.0) for g in grades.shares) for e in primary.columns
    }
    return Magnets(world, output, recipe, secondary, grades, per_magnet)


def _grade_recipes(grades: GradeContents, recipe: dict[str, float], src: Sources, base: Baseline) -> None:
    recipe_src = src.assumption(
        "NdFeB grade recipes: 31 % Nd+Pr metal (75:25) in every grade; Dy and Tb solved so that the "
        "production-weighted mean equals the recipe calibrated to 2024 supply, with GBD carrying 45 % of the "
        "bulk grade's Dy+Tb and the bulk grade 5 % Tb (MAGNET_GRADE_MIX, GBD_HRE_RATIO, HREE_TB_SHARE)"
    )
    for grade, rows in grades.recipe.items():
        for e, q in rows.items():
            mass = q * A.OXIDE_TO_METAL[e] * 100
            note = f"{mass:.3g}% {e} metal by mass"
            if e in ("Dy", "Tb"):
                note += (
                    f"; grade mean matches the calibrated {recipe[e] * A.OXIDE_TO_METAL[e] * 100:.3g}%"
                    f" ({grades.shares[grade]:.1%} of world output is this grade)"
                )
            base.recipe.append(
                {
                    "output": grade,
                    "input": f"{e}_metal",
                    "quantity": q,
                    **prov(recipe_src, "t REO/t", "assumption", note),
                }
            )


def magnet_trade(magnets: Magnets, src: Sources, base: Baseline, modelled: str) -> pd.Series:
    """Magnet output by grade, its trade (published flows pinned) and use by sector; returns use by region, t/yr."""
    demand = dict(A.MAGNET_DEMAND)
    demand["CHN"] = magnets.output["CHN"] - A.CHINA_MAGNET_EXPORTS_T
    demand["ROW"] = magnets.world - sum(demand.values())
    demand = pd.Series(demand)
    shares = magnets.grades.shares
    for region, share in A.MAGNET_SHARE.items():
        for grade, gshare in shares.items():  # the grade split is an assumption, so every row is one
            base.add_production(
                region,
                grade,
                magnets.output[region] * gshare,
                "t/yr",
                modelled,
                "assumption",
                f"{share:g}% of world NdFeB output {magnets.world:.0f} t (China 260,000 t per SMM, secondary; "
                f"China 94% per IEA), {gshare:.1%} of it this grade (world grade share from the assumed sector mixes)",
            )
    pins = src.cite(
        "China customs (GAC) magnet exports 2024 by destination as reported by Reuters, "
        "Rare Earth Exchanges and consumption.csv (EU 17,000 t from China)",
        "secondary",
    )
    pinned = dict(A.MAGNET_PINNED)
    flows = allocate_trade(magnets.output, demand, pinned)
    is_pin = flows.apply(lambda r: (r.origin, r.destination) in pinned, axis=1)
    for grade, gshare in shares.items():
        split = flows.assign(quantity=flows["quantity"] * gshare)
        grade_note = f"; {gshare:.1%} of it this grade (world grade share, assumed)"
        base.add_flows(
            split[is_pin],
            grade,
            "t/yr",
            pins,
            "assumption",
            "published bilateral magnet flow (all grades, secondary)" + grade_note,
        )
        base.add_flows(split[~is_pin], grade, "t/yr", modelled, "assumption", "RAS fit to output and use" + grade_note)
    for region, qty in demand.items():
        for sector, pct in A.MAGNET_SECTORS.items():
            for grade, gpct in A.MAGNET_GRADE_MIX[sector].items():
                base.add_demand(
                    region,
                    sector,
                    grade,
                    qty * pct / 100.0 * gpct / 100.0,
                    "t/yr",
                    modelled,
                    f"region uses {qty:.0f} t NdFeB; {pct:g}% to {sector}; {gpct:g}% of that this grade",
                    growth=A.NDFEB_GROWTH_PCT,
                )
    return demand
