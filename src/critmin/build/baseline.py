"""The physical 2024 baseline: compositions, recipes, production, trade, demand, capacity and stocks.

The construction, stage by stage (all rare-earth quantities in t REO-equivalent):

1. mine: USGS 2024 output per country, split into ore types (concentrate products) by ``ORE_MIX``;
2. separation: concentrates routed to separators (``CONCENTRATE_ROUTING``), oxides = intake x composition;
   NdPr that magnets need beyond primary supply is a secondary (scrap-recycling) balancing item in China;
3. magnet: world NdFeB output from China's 2024 output and its IEA share; recipe gives element needs;
   the calibrated recipe is split into three grades (:mod:`critmin.build.grades`) whose production-weighted
   mean equals it; every region makes, trades and uses the grades in the world shares;
4. metal: the metal needed by magnet makers and metal-using sectors, made by ``METAL_SHARE``;
5. use: non-magnet consumption split by region and sector; magnets split by sector.

Between stages, trade is fitted by :func:`critmin.build.allocation.allocate_trade`, so every node
balances: production + imports = exports + intake of the next stage + final demand.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from critmin.build import assumptions as A
from critmin.build import response
from critmin.build.allocation import allocate_trade
from critmin.build.catalogue import REE_ORDER, prov
from critmin.build.facts import Sources, confidence, read_facts
from critmin.build.grades import GradeContents, grade_contents

DECIMALS = 3  # kg precision in t


@dataclass
class Baseline:
    composition: list[dict] = field(default_factory=list)
    recipe: list[dict] = field(default_factory=list)
    production: list[dict] = field(default_factory=list)
    trade_flow: list[dict] = field(default_factory=list)
    demand: list[dict] = field(default_factory=list)
    capacity: list[dict] = field(default_factory=list)
    stock: list[dict] = field(default_factory=list)
    grades: GradeContents | None = None

    def add_production(self, region, product, qty, unit, source, conf, note, route="primary"):
        if qty > 0:
            self.production.append(
                {
                    "region": region,
                    "product": product,
                    "route": route,
                    "quantity": round(qty, DECIMALS),
                    **prov(source, unit, conf, note),
                }
            )

    def add_flows(self, flows: pd.DataFrame, product, unit, source, conf, note):
        for o, d, q in flows.itertuples(index=False, name=None):
            if round(q, DECIMALS) > 0:
                self.trade_flow.append(
                    {
                        "origin": o,
                        "destination": d,
                        "product": product,
                        "quantity": round(q, DECIMALS),
                        **prov(source, unit, conf, note),
                    }
                )

    def add_demand(self, region, sector, product, qty, unit, source, note, growth=0.0):
        if round(qty, DECIMALS) > 0:
            self.demand.append(
                {
                    "region": region,
                    "sector": sector,
                    "product": product,
                    "quantity": round(qty, DECIMALS),
                    "elasticity": A.DEMAND_ELASTICITY,
                    "growth_pct": growth,
                    **prov(source, unit, "assumption", note),
                }
            )


def by_region(facts: list[dict[str, str]], field: str = "quantity") -> tuple[dict[str, float], dict[str, str]]:
    """Confirmed country figures summed by critmin region (world rows skipped), plus the last row used."""
    out: dict[str, float] = defaultdict(float)
    fact_row = {}
    for fact in facts:
        if confidence(fact["confirmed"]) != "confirmed" or fact["country_iso3"] == "WLD" or not fact[field]:
            continue
        region = A.COUNTRY_TO_REGION.get(fact["country_iso3"], fact["country_iso3"])
        out[region] += float(fact[field])
        fact_row = fact
    return dict(out), fact_row


def _usgs_2024(facts: Path, material: str, stage: str) -> tuple[dict[str, float], dict[str, str]]:
    """USGS 2024 figures by critmin region (aggregates summed), plus one fact row for provenance."""
    rows = read_facts(facts, "production.csv")
    return by_region([f for f in rows if (f["material"], f["year"], f["stage"]) == (material, str(A.YEAR), stage)])


def compositions(facts: Path, src: Sources, base: Baseline) -> dict[str, dict[str, float]]:
    raw: dict[str, list[dict]] = defaultdict(list)
    for fact in read_facts(facts, "deposit_composition.csv"):
        raw[fact["deposit"]].append(fact)
    fill_src = src.assumption("heavy-REE shares of Mount Weld-type monazite where the facts have none")
    result = {}
    for product, (_, deposit) in A.CONCENTRATES.items():
        values, notes, sources = {}, {}, {}
        for fact in raw[deposit]:
            element = fact["element"]
            if element not in REE_ORDER:
                continue  # totals such as LREE_total
            text = fact["pct_of_total_REO"].strip().lower()
            if text == "trace":
                continue
            if text == "not found":
                values[element], sources[element] = A.COMPOSITION_FILL[element], fill_src
                notes[element] = "not found in the facts; typical monazite value assumed"
                continue
            values[element] = float(text)
            sources[element] = src.cite(fact["source"], fact["confirmed"])
            notes[element] = fact["note"]
        total = sum(values.values())
        shares = {e: round(v * 100.0 / total, 6) for e, v in values.items()}
        for element, share in shares.items():
            base.composition.append(
                {
                    "product": product,
                    "element": element,
                    "share": share,
                    **prov(
                        sources[element],
                        "%",
                        "assumption",
                        f"{deposit}; raw {values[element]:g}% normalised (raw sum {total:.4g}%); {notes[element]}",
                        year=A.YEAR,
                    ),
                }
            )
        result[product] = {e: s / 100.0 for e, s in shares.items()}
    return result


def build_baseline(facts: Path, src: Sources) -> Baseline:
    base = Baseline()
    comp = compositions(facts, src, base)
    modelled = src.assumption("2024 baseline construction (critmin.build.baseline; docs/data.md)")

    # 1. mine ------------------------------------------------------------------------------------------
    mine, fact = _usgs_2024(facts, "rare_earths", "mine_production")
    usgs = src.cite(fact["source"], fact["confirmed"])
    mine_by_product: dict[tuple[str, str], float] = {}
    for region, qty in mine.items():
        for product, share in A.ORE_MIX.get(region, {A.DEFAULT_ORE: 100.0}).items():
            mine_by_product[(region, product)] = qty * share / 100.0
            single = share == 100.0
            base.add_production(
                region,
                product,
                qty * share / 100.0,
                "t REO/yr",
                usgs if single else modelled,
                "confirmed" if single else "assumption",
                f"USGS MCS2025 2024 mine production {qty:g} t REO"
                + ("" if single else f"; {share:g}% of it assumed to be this ore type"),
            )

    # 2. separation: concentrate routing and co-production -------------------------------------------
    oxide: dict[tuple[str, str], float] = defaultdict(float)
    for (origin, product), qty in mine_by_product.items():
        routes = A.CONCENTRATE_ROUTING.get(origin, {A.DEFAULT_SEPARATOR: 100.0})
        for dest, share in routes.items():
            moved = qty * share / 100.0
            for element, frac in comp[product].items():
                oxide[(dest, element)] += moved * frac
            if dest != origin:
                proxy = origin not in A.CONCENTRATE_ROUTING
                base.add_flows(
                    pd.DataFrame([(origin, dest, moved)]),
                    product,
                    "t REO/yr",
                    usgs if proxy else modelled,
                    "secondary" if proxy else "assumption",
                    "USGS estimates this output from China's import data, so it is shipped to China"
                    if proxy
                    else f"concentrate routing: {share:.4g}% of {origin} output separated in {dest}",
                )
    for region, qty in A.SCANDIUM_OXIDE.items():
        oxide[(region, "Sc")] += qty
    primary = pd.Series(oxide).unstack(fill_value=0.0)  # region x element

    # 3. magnets ---------------------------------------------------------------------------------------
    magnets_world = A.CHINA_NDFEB_T / (A.MAGNET_SHARE["CHN"] / 100.0)
    magnet_prod = pd.Series({r: s / 100.0 * magnets_world for r, s in A.MAGNET_SHARE.items()})
    nd_frac, pr_frac = (A.NDPR_METAL_FRACTION * x for x in A.ND_TO_PR)
    recipe = {"Nd": nd_frac / A.OXIDE_TO_METAL["Nd"], "Pr": pr_frac / A.OXIDE_TO_METAL["Pr"]}
    world_primary = primary.sum(axis=0)
    for e in ("Dy", "Tb"):  # calibrated so that magnets take the primary Dy/Tb not used elsewhere
        recipe[e] = world_primary[e] * (1 - A.NON_MAGNET_SHARE[e] / 100.0) / magnets_world
    recipe = {e: round(q, 6) for e, q in recipe.items()}  # compute with the coefficients as published
    secondary = {}
    for e in ("Nd", "Pr"):
        total_needed = magnets_world * recipe[e] / (1 - A.NON_MAGNET_SHARE[e] / 100.0)
        secondary[e] = max(0.0, total_needed - world_primary[e])
    grades = grade_contents(recipe)
    base.grades = grades
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
    ident = src.assumption("one-to-one recipes between stages in oxide-equivalent units")
    for e in REE_ORDER:
        base.recipe.append(
            {
                "output": f"{e}_metal",
                "input": f"{e}_oxide",
                "quantity": 1.0,
                **prov(ident, "t REO/t REO", "assumption", "metal counted as oxide equivalent"),
            }
        )
    base.recipe.append(
        {
            "output": "Ga_refined",
            "input": "Ga_primary",
            "quantity": 1.0,
            **prov(ident, "t Ga/t Ga", "assumption", "refining yield losses not modelled"),
        }
    )
    base.recipe.append(
        {
            "output": "graphite_processed",
            "input": "graphite_natural",
            "quantity": 1.0,
            **prov(ident, "t/t", "assumption", "processed graphite counted as feed equivalent"),
        }
    )

    supply = world_primary.copy()
    for e, q in secondary.items():
        supply[e] += q
    per_magnet = {  # t REO-eq per t of the world's grade mix, from the (rounded) grade recipes
        e: sum(grades.shares[g] * grades.recipe[g].get(e, 0.0) for g in grades.shares) for e in supply.index
    }
    magnet_need = pd.Series({e: magnets_world * per_magnet[e] for e in supply.index})
    non_magnet = (supply - magnet_need).clip(lower=0.0)

    # 5. use: non-magnet demand by region, sector and form ---------------------------------------------
    total_non_magnet = non_magnet.sum()
    region_share = {r: q / total_non_magnet for r, q in A.NON_MAGNET_DEMAND.items()}
    region_share["CHN"] = 1.0 - sum(region_share.values())
    demand_oxide: dict[tuple[str, str], float] = defaultdict(float)
    demand_metal: dict[tuple[str, str], float] = defaultdict(float)
    for region, rshare in region_share.items():
        for e, qty in non_magnet.items():
            for sector, form, pct in A.END_USE_SPLIT[e]:
                q = qty * rshare * pct / 100.0
                (demand_metal if form == "metal" else demand_oxide)[(region, e)] += q
                base.add_demand(
                    region,
                    sector,
                    f"{e}_{form}",
                    q,
                    "t REO/yr",
                    modelled,
                    f"{rshare:.2%} of world non-magnet use of {e}; {pct}% of it to {sector}",
                )

    # 3b. magnet trade and sector demand ---------------------------------------------------------------
    magnet_demand = dict(A.MAGNET_DEMAND)
    magnet_demand["CHN"] = magnet_prod["CHN"] - A.CHINA_MAGNET_EXPORTS_T
    magnet_demand["ROW"] = magnets_world - sum(magnet_demand.values())
    magnet_demand = pd.Series(magnet_demand)
    for region, share in A.MAGNET_SHARE.items():
        for grade, gshare in grades.shares.items():  # the grade split is an assumption, so every row is one
            base.add_production(
                region,
                grade,
                magnet_prod[region] * gshare,
                "t/yr",
                modelled,
                "assumption",
                f"{share:g}% of world NdFeB output {magnets_world:.0f} t (China 260,000 t per SMM, secondary; China "
                f"94% per IEA), {gshare:.1%} of it this grade (world grade share from the assumed sector mixes)",
            )
    pins = src.cite(
        "China customs (GAC) magnet exports 2024 by destination as reported by Reuters, "
        "Rare Earth Exchanges and consumption.csv (EU 17,000 t from China)",
        "secondary",
    )
    pinned = {k: v for k, v in A.MAGNET_PINNED.items()}
    flows = allocate_trade(magnet_prod, magnet_demand, pinned)
    is_pin = flows.apply(lambda r: (r.origin, r.destination) in pinned, axis=1)
    for grade, gshare in grades.shares.items():
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
    for region, qty in magnet_demand.items():
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

    # 4. metal stage -----------------------------------------------------------------------------------
    oxide_intake: dict[tuple[str, str], float] = defaultdict(float, demand_oxide)
    for e in supply.index:
        need = pd.Series({r: magnet_prod.get(r, 0.0) * per_magnet[e] for r in magnet_prod.index})
        for (region, el), q in demand_metal.items():
            if el == e:
                need[region] = need.get(region, 0.0) + q
        world_metal = need.sum()
        if world_metal <= 0:
            continue
        made = pd.Series({r: s / 100.0 * world_metal for r, s in A.METAL_SHARE.items()})
        for region, qty in made.items():
            base.add_production(
                region,
                f"{e}_metal",
                qty,
                "t REO/yr",
                modelled,
                "assumption",
                f"{A.METAL_SHARE[region]:g}% of world {e} metal (China ~90% commonly quoted, unsourced)",
            )
            oxide_intake[(region, e)] += qty
        base.add_flows(
            allocate_trade(made, need),
            f"{e}_metal",
            "t REO/yr",
            modelled,
            "assumption",
            "RAS fit to metal output and needs",
        )

    # 2b. oxide production and trade -------------------------------------------------------------------
    for (region, e), qty in primary.stack().items():
        base.add_production(
            region,
            f"{e}_oxide",
            qty,
            "t REO/yr",
            modelled,
            "assumption",
            "separated from concentrate intake x ore composition"
            if e != "Sc"
            else "scandium oxide by-product output (critmin estimate)",
        )
    for e, qty in secondary.items():
        base.add_production(
            "CHN",
            f"{e}_oxide",
            qty,
            "t REO/yr",
            modelled,
            "assumption",
            "secondary supply (magnet swarf recycling, undocumented feed) that closes the 2024 NdPr balance",
            route="secondary",
        )
    for e in supply.index:
        out = primary[e].copy()
        if e in secondary:
            out["CHN"] += secondary[e]
        intake = pd.Series({r: q for (r, el), q in oxide_intake.items() if el == e})
        base.add_flows(
            allocate_trade(out, intake),
            f"{e}_oxide",
            "t REO/yr",
            modelled,
            "assumption",
            "RAS fit to oxide output and intake",
        )

    _gallium(facts, src, base, modelled)
    _graphite(facts, src, base, modelled)
    _capacity_and_stocks(
        facts, src, base, mine_by_product, magnet_prod, per_magnet, demand_oxide, demand_metal, magnet_demand
    )
    return base


def _gallium(facts: Path, src: Sources, base: Baseline, modelled: str) -> None:
    primary, fact = _usgs_2024(facts, "gallium", "primary_production_low_purity")
    usgs = src.cite(fact["source"], fact["confirmed"])
    for region, qty in primary.items():
        base.add_production(
            region, "Ga_primary", qty, "t Ga/yr", usgs, "confirmed", "USGS MCS2025 2024 primary low-purity gallium"
        )
    refined = pd.Series({r: s / 100.0 * A.GA_REFINED_T for r, s in A.GA_REFINED_SHARE.items()})
    for region, qty in refined.items():
        base.add_production(
            region,
            "Ga_refined",
            qty,
            "t Ga/yr",
            modelled,
            "assumption",
            f"{A.GA_REFINED_SHARE[region]:g}% of world high-purity output 320 t (USGS); split assumed",
        )
    unrefined = sum(primary.values()) - A.GA_REFINED_T
    base.add_demand(
        "CHN",
        "other",
        "Ga_primary",
        unrefined,
        "t Ga/yr",
        modelled,
        "primary gallium not refined to high purity: inventory build and low-purity uses (balancing item)",
    )
    intake = refined.copy()
    intake["CHN"] += unrefined
    base.add_flows(
        allocate_trade(pd.Series(primary), intake),
        "Ga_primary",
        "t Ga/yr",
        modelled,
        "assumption",
        "RAS fit to output and refiners' intake",
    )
    use = pd.Series({r: s / 100.0 * A.GA_REFINED_T for r, s in A.GA_DEMAND_SHARE.items()})
    for region, qty in use.items():
        base.add_demand(
            region,
            "electronics",
            "Ga_refined",
            qty,
            "t Ga/yr",
            modelled,
            f"{A.GA_DEMAND_SHARE[region]:g}% of world high-purity gallium use (assumed)",
        )
    base.add_flows(
        allocate_trade(refined, use), "Ga_refined", "t Ga/yr", modelled, "assumption", "RAS fit to output and use"
    )


def _graphite(facts: Path, src: Sources, base: Baseline, modelled: str) -> None:
    natural, fact = _usgs_2024(facts, "graphite_natural", "mine_production")
    usgs = src.cite(fact["source"], fact["confirmed"])
    processed: dict[str, float] = defaultdict(float)
    for region, qty in natural.items():
        base.add_production(
            region,
            "graphite_natural",
            qty,
            "t/yr",
            usgs,
            "confirmed",
            "USGS MCS2025 2024 natural graphite mine production"
            + (" (sum of member countries)" if region in A.AGGREGATE_REGIONS else ""),
        )
        for dest, share in A.GRAPHITE_ROUTING.get(region, {region: 100.0}).items():
            processed[dest] += qty * share / 100.0
            if dest != region:
                base.add_flows(
                    pd.DataFrame([(region, dest, qty * share / 100.0)]),
                    "graphite_natural",
                    "t/yr",
                    modelled,
                    "assumption",
                    f"{share:g}% of {region} flake processed in {dest}",
                )
    for region, qty in processed.items():
        base.add_production(
            region,
            "graphite_processed",
            qty,
            "t/yr",
            modelled,
            "assumption",
            "natural graphite processed where routed (feed equivalent)",
        )
    total = sum(processed.values())
    use = pd.Series({r: s / 100.0 * total for r, s in A.GRAPHITE_DEMAND_SHARE.items()})
    for region, qty in use.items():
        for sector, pct in A.GRAPHITE_SECTORS.items():
            base.add_demand(
                region,
                sector,
                "graphite_processed",
                qty * pct / 100.0,
                "t/yr",
                modelled,
                f"{A.GRAPHITE_DEMAND_SHARE[region]:g}% of world use; {pct:g}% to {sector}",
            )
    base.add_flows(
        allocate_trade(pd.Series(processed), use),
        "graphite_processed",
        "t/yr",
        modelled,
        "assumption",
        "RAS fit to output and use",
    )


def _capacity_and_stocks(
    facts, src, base, mine_by_product, magnet_prod, per_magnet, demand_oxide, demand_metal, magnet_demand
) -> None:
    util = src.assumption(f"capacity = 2024 output / utilisation {A.UTILISATION:g} where none is published")
    for (region, product), qty in mine_by_product.items():
        if qty > 0:
            base.capacity.append(
                {
                    "region": region,
                    "product": product,
                    "capacity": round(qty / A.UTILISATION, DECIMALS),
                    **prov(util, "t REO/yr", "assumption", "output / utilisation"),
                }
            )
    for region, qty in magnet_prod.items():
        for grade, gshare in base.grades.shares.items():
            base.capacity.append(
                {
                    "region": region,
                    "product": grade,
                    "capacity": round(qty * gshare / A.UTILISATION, DECIMALS),
                    **prov(
                        util,
                        "t/yr",
                        "assumption",
                        "output / utilisation (magnet lines split in the world grade shares)",
                    ),
                }
            )
    for fact in read_facts(facts, "production.csv"):
        if (
            fact["material"] == "gallium"
            and fact["stage"] == "primary_production_capacity"
            and fact["country_iso3"] != "WLD"
        ):
            region = A.COUNTRY_TO_REGION.get(fact["country_iso3"], fact["country_iso3"])
            base.capacity.append(
                {
                    "region": region,
                    "product": "Ga_primary",
                    "capacity": float(fact["quantity"]),
                    **prov(
                        src.cite(fact["source"], fact["confirmed"]),
                        "t Ga/yr",
                        confidence(fact["confirmed"]),
                        fact["note"],
                    ),
                }
            )
    for fact in read_facts(facts, "projects.csv"):
        if fact["name"].startswith("Lynas Malaysia (Gebeng"):
            sid = src.cite(fact["source"], fact["confirmed"])
            for e, share in zip(("Nd", "Pr"), A.ND_TO_PR, strict=True):
                base.capacity.append(
                    {
                        "region": "MYS",
                        "product": f"{e}_oxide",
                        "capacity": 10500.0 * share,
                        **prov(
                            sid,
                            "t REO/yr",
                            confidence(fact["confirmed"]),
                            f"10,500 t/yr NdPr oxide capacity split {share:.0%} {e}",
                        ),
                    }
                )
    jogmec = src.assumption(f"JOGMEC holds {A.JOGMEC_DAYS:g} days of Japan's use (DESIGN.md; holdings confidential)")
    for product in A.JOGMEC_PRODUCTS:
        e = product.split("_")[0]
        use = demand_oxide.get(("JPN", e), 0.0) + demand_metal.get(("JPN", e), 0.0)
        use += magnet_demand.get("JPN", 0.0) * per_magnet.get(e, 0.0)
        base.stock.append(
            {
                "region": "JPN",
                "product": product,
                "holder": "public",
                "quantity": round(use * A.JOGMEC_DAYS / 365.0, DECIMALS),
                "days_of_cover_target": A.JOGMEC_DAYS,
                **prov(
                    jogmec,
                    "t REO",
                    "assumption",
                    f"{A.JOGMEC_DAYS:g} days of Japan's modelled 2024 use of {e} ({use:.1f} t REO/yr)",
                ),
            }
        )
    _private_stocks(src, base, magnet_prod, per_magnet, magnet_demand)
    _producer_stocks(src, base)


def _producer_stocks(src, base) -> None:
    """Producers' working inventory: days of each region's 2024 output of separated, metal and magnet products."""
    working = src.assumption(
        f"producers hold about {A.PRODUCER_STOCK_DAYS:g} days of output as working inventory (no published figure)"
    )
    output: dict[tuple[str, str], float] = defaultdict(float)
    for row in base.production:
        output[(row["region"], row["product"])] += row["quantity"]
    for (region, product), qty in sorted(output.items()):
        if _stage_of(product) not in A.PRODUCER_STOCK_STAGES or qty <= 0:
            continue
        unit = next(r["unit"] for r in base.production if r["product"] == product).removesuffix("/yr")
        base.stock.append(
            {
                "region": region,
                "product": product,
                "holder": "producer",
                "quantity": round(qty * A.PRODUCER_STOCK_DAYS / 365.0, DECIMALS),
                "days_of_cover_target": None,
                **prov(
                    working,
                    unit,
                    "assumption",
                    f"critmin assumption, no published figure: {A.PRODUCER_STOCK_DAYS:g} days of the region's "
                    f"modelled 2024 output ({qty:.1f} {unit}/yr)",
                ),
            }
        )


def _stage_of(product: str) -> str:
    if product.startswith("NdFeB"):
        return "magnet"
    if product.endswith("_oxide") or product in ("Ga_primary", "graphite_processed"):
        return "separation"
    if product.endswith("_metal") or product == "Ga_refined":
        return "metal"
    return "mine"


def _private_stocks(src, base, magnet_prod, per_magnet, magnet_demand) -> None:
    """Private inventories outside China: magnet makers' metal intake and magnet users' magnets, in days of use."""
    makers = src.cite(*response.JMB_INVENTORY)
    users = src.cite(*response.AUTOS_2025)
    for region, made in magnet_prod.items():
        if region == "CHN" or made <= 0:
            continue
        days = A.MAGNET_MAKER_STOCK_DAYS.get(region, A.MAGNET_MAKER_STOCK_DAYS["default"])
        for e in A.MAGNET_STOCK_ELEMENTS:
            use = made * per_magnet[e]
            base.stock.append(
                {
                    "region": region,
                    "product": f"{e}_metal",
                    "holder": "private",
                    "quantity": round(use * days / 365.0, DECIMALS),
                    "days_of_cover_target": days,
                    **prov(
                        makers,
                        "t REO",
                        "assumption",
                        f"critmin assumption, no published figure: magnet makers hold {days:g} days of their "
                        f"modelled 2024 intake of {e} metal ({use:.1f} t REO/yr)"
                        + (
                            "; Japanese makers keep stocks above consumption for security"
                            if region == "JPN"
                            else "; the JOGMEC target taken for other makers"
                        ),
                    ),
                }
            )
    for region, used in magnet_demand.items():
        if region == "CHN" or used <= 0:
            continue
        for grade, gshare in base.grades.shares.items():
            use = used * gshare
            base.stock.append(
                {
                    "region": region,
                    "product": grade,
                    "holder": "private",
                    "quantity": round(use * A.MAGNET_USER_STOCK_DAYS / 365.0, DECIMALS),
                    "days_of_cover_target": A.MAGNET_USER_STOCK_DAYS,
                    **prov(
                        users,
                        "t",
                        "assumption",
                        f"critmin assumption, no published figure: magnet users hold {A.MAGNET_USER_STOCK_DAYS:g} "
                        f"days of their modelled 2024 use ({use:.0f} t/yr): just-in-time parts stocks run 2-4 weeks, "
                        "plants began to stop about two months after the 2025-04-04 licensing",
                    ),
                }
            )
