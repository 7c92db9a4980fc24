"""Reference prices for every product (USD/kg of the product's unit, 2024): observed quotes where the facts
have them, derived or assumed prices otherwise. Market curves are calibrated through these."""

from __future__ import annotations

from critmin.build import assumptions as A
from critmin.build.catalogue import prov
from critmin.build.facts import Sources

# (element, material, basis, period) of the 2024 quote used for each oxide and primary product
_OBSERVED = {
    "La_oxide": ("Lanthanum oxide", "Argus (US import context)", "2024"),
    "Ce_oxide": ("Cerium oxide", "Argus (US import context)", "2024"),
    "Nd_oxide": ("Neodymium oxide", "Argus (US import context)", "2024"),
    "Pr_oxide": ("Praseodymium oxide", "CIF Rotterdam", "2024-07-11"),
    "Eu_oxide": ("Europium oxide", "Argus (US import context)", "2024"),
    "Tb_oxide": ("Terbium oxide", "Argus (US import context)", "2024"),
    "Dy_oxide": ("Dysprosium oxide", "Argus (US import context)", "2024"),
    "Ga_primary": ("Gallium", "US import unit value", "2024"),
    "graphite_natural": ("Natural graphite", "US import unit value (foreign port)", "2024"),
}
_SPEC = {"Ga_primary": "low-purity primary"}


def reference_prices(
    products: list[dict],
    composition: list[dict],
    price_rows: list[dict],
    src: Sources,
    recipe: list[dict],
    grade_shares: dict[str, float],
) -> list[dict]:
    observed = {}
    for pid, (material, basis, period) in _OBSERVED.items():
        rows = [
            r
            for r in price_rows
            if (r["material"], r["basis"], r["period"]) == (material, basis, period)
            and (pid not in _SPEC or r["spec"] == _SPEC[pid])
        ]
        if rows:
            r = rows[0]
            mid = (r["price_low"] + r["price_high"]) / 2
            per_kg = mid / 1000.0 if r["unit"].endswith("/t") else mid
            note = f"{material}, {basis}, {period}: {r['price_low']:g}-{r['price_high']:g} {r['unit']}"
            observed[pid] = (per_kg, r["source"], r["confidence"], note)

    assumed = src.assumption(
        "2024 reference prices not quoted in the facts: order-of-magnitude oxide prices, metal premium over "
        "oxide (NdPr metal vs oxide, July 2024), NdFeB price and grade spreads, separation cost share, "
        "processed-graphite price"
    )
    by_id = {p["id"]: p for p in products}
    price: dict[str, tuple[float, str, str, str]] = {}
    for p in products:
        pid, element = p["id"], p.get("element")
        if pid in observed:
            price[pid] = observed[pid]
        elif p["form"] == "oxide" and element in A.OXIDE_PRICE_ASSUMED:
            price[pid] = (A.OXIDE_PRICE_ASSUMED[element], assumed, "assumption", "order of magnitude, 2024")
    for p in products:
        pid, element = p["id"], p.get("element")
        if p["form"] == "metal" and p["stage"] == "metal" and f"{element}_oxide" in price:
            base = price[f"{element}_oxide"][0]
            note = f"{A.METAL_PREMIUM:g} x {element} oxide reference price"
            price[pid] = (base * A.METAL_PREMIUM, assumed, "assumption", note)
    price["Ga_refined"] = _observed_or(price_rows, "Gallium", "high-purity refined", "2024")
    price.update(_grade_prices(price, recipe, grade_shares, assumed))
    price["graphite_processed"] = (A.GRAPHITE_PROCESSED_PRICE, assumed, "assumption", "per kg of feed")
    for p in products:
        if p["form"] != "concentrate":
            continue
        basket = sum(
            r["share"] / 100 * price[f"{r['element']}_oxide"][0] for r in composition if r["product"] == p["id"]
        )
        note = f"(1 - {A.SEPARATION_COST_SHARE:g}) x contained-oxide value {basket:.2f} USD/kg"
        price[p["id"]] = (round(basket * (1 - A.SEPARATION_COST_SHARE), 4), assumed, "assumption", note)
    missing = sorted(set(by_id) - set(price))
    if missing:
        raise ValueError(f"no reference price for: {', '.join(missing)}")
    return [
        {"product": pid, "price": round(value, 4), **prov(source, "USD/kg", conf, note)}
        for pid, (value, source, conf, note) in ((pid, price[pid]) for pid in by_id)
    ]


def _observed_or(price_rows: list[dict], material: str, spec: str, period: str) -> tuple[float, str, str, str]:
    for r in price_rows:
        if r["material"] == material and r["spec"] == spec and r["period"] == period:
            mid = (r["price_low"] + r["price_high"]) / 2
            return mid, r["source"], r["confidence"], f"{material} {spec}, {r['basis']}, {period}"
    raise ValueError(f"no {period} quote for {material} {spec}")


def _grade_prices(
    price: dict[str, tuple[float, str, str, str]], recipe: list[dict], shares: dict[str, float], source: str
) -> dict[str, tuple[float, str, str, str]]:
    """Magnet grade prices: a common base plus each grade's Dy and Tb metal value, plus the GBD processing
    premium; the base is set so that the output-weighted mean price is ``NDFEB_PRICE``."""
    value: dict[str, float] = {g: 0.0 for g in shares}  # rare-earth metal value per kg magnet
    hre: dict[str, float] = {g: 0.0 for g in shares}
    for r in recipe:
        if r["output"] in shares:
            v = r["quantity"] * price[r["input"]][0]
            value[r["output"]] += v
            if r["input"] in ("Dy_metal", "Tb_metal"):
                hre[r["output"]] += v
    mean_value = sum(shares[g] * value[g] for g in shares)
    premium = A.GBD_PROCESSING_PCT / 100.0 * (A.NDFEB_PRICE - mean_value)  # share of the processing margin
    extra = {g: hre[g] + (premium if g == "NdFeB_gbd" else 0.0) for g in shares}
    base = A.NDFEB_PRICE - sum(shares[g] * extra[g] for g in shares)
    out = {}
    for g in shares:
        note = (
            f"sintered NdFeB at {A.NDFEB_PRICE:g} USD/kg for the world grade mix (about twice its rare-earth content "
            f"{mean_value:.1f}); this grade: base {base:.2f} + Dy/Tb metal {hre[g]:.2f}"
        )
        if g == "NdFeB_gbd":
            note += f" + diffusion step {premium:.2f} ({A.GBD_PROCESSING_PCT:g}% of the processing margin)"
        out[g] = (round(base + extra[g], 4), source, "assumption", note)
    return out
