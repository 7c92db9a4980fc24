"""Mine stage: ore compositions and USGS 2024 mine output split into ore types (concentrate products)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from critmin.build import assumptions as A
from critmin.build.baseline.rows import Baseline, usgs_2024
from critmin.build.catalogue import REE_ORDER, prov
from critmin.build.facts import Sources, read_facts


def compositions(facts: Path, src: Sources, base: Baseline) -> dict[str, dict[str, float]]:
    """Element split of each concentrate (fractions), from its deposit's assays normalised to 100 %."""
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


def mine(facts: Path, src: Sources, base: Baseline, modelled: str) -> tuple[dict[tuple[str, str], float], str]:
    """Mine output by (region, concentrate) in t REO, and the USGS source id it rests on."""
    output, fact = usgs_2024(facts, "rare_earths", "mine_production")
    usgs = src.cite(fact["source"], fact["confirmed"])
    mined: dict[tuple[str, str], float] = {}
    for region, qty in output.items():
        for product, share in A.ORE_MIX.get(region, {A.DEFAULT_ORE: 100.0}).items():
            mined[(region, product)] = qty * share / 100.0
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
    return mined, usgs
