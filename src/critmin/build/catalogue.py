"""Definitional and catalogue tables: regions, elements, products, prices, policy events, projects,
parameters. Each function returns a list of row dicts with provenance."""

from __future__ import annotations

import re
from pathlib import Path

from critmin.build import assumptions as A
from critmin.build.facts import Sources, confidence, number, read_facts

ISO_CITATION = "ISO 3166-1 alpha-3 country codes; EU and ROW are critmin aggregates"


def prov(source: str, unit: str, conf: str, note: str = "", year: int = A.YEAR) -> dict:
    return {"source": source, "year": year, "unit": unit, "confidence": conf, "note": note}


def regions(src: Sources) -> tuple[list[dict], list[dict]]:
    iso = src.cite(ISO_CITATION, "yes")
    region_rows = [
        {
            "id": rid,
            "name": name,
            "kind": "aggregate" if rid in A.AGGREGATE_REGIONS else "country",
            **prov(iso, "-", "confirmed"),
        }
        for rid, name in A.REGIONS.items()
    ]
    group_rows = []
    for group, (members, basis) in A.REGION_GROUPS.items():
        gsrc = src.assumption(f"region group {group}: {basis}")
        group_rows += [{"group": group, "region": r, **prov(gsrc, "-", "assumption", basis)} for r in members]
    return region_rows, group_rows


def elements(facts: Path, src: Sources) -> tuple[list[dict], list[dict]]:
    rows, members = [], []
    for fact in read_facts(facts, "elements.csv"):
        sym = fact["symbol"]
        cls = "LREE" if sym in A.LREE else "HREE"
        sid = src.cite(fact["source"], fact["confirmed"])
        rows.append(
            {
                "id": sym,
                "name": fact["element"],
                "atomic_number": int(fact["atomic_number"]),
                "kind": "ree",
                "ree_class": cls,
                **prov(sid, "-", confidence(fact["confirmed"]), "class convention LREE = La-Sm; HREE = Eu-Lu, Y, Sc"),
            }
        )
    iupac = src.cite("IUPAC Periodic Table of the Elements", "yes")
    for eid, (name, z) in A.ELEMENT_NAMES_EXTRA.items():
        rows.append(
            {
                "id": eid,
                "name": name,
                "atomic_number": z,
                "kind": "other",
                "ree_class": "none",
                **prov(iupac, "-", "confirmed"),
            }
        )
    agg = src.assumption("aggregate elements (REE = the 17 rare earths, NdPr = Nd + Pr)")
    for gid, (name, group) in A.AGGREGATES.items():
        rows.append(
            {
                "id": gid,
                "name": name,
                "atomic_number": None,
                "kind": "aggregate",
                "ree_class": "none",
                **prov(agg, "-", "confirmed", "definition"),
            }
        )
        members += [{"group": gid, "element": e, **prov(agg, "-", "confirmed", "definition")} for e in group]
    return rows, members


REE_ORDER = ["Sc", "Y", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu"]


def products(src: Sources, element_names: dict[str, str]) -> list[dict]:
    defn = src.assumption("critmin product list (stages mine, separation, metal, magnet; REO-equivalent units)")
    rows = []

    def add(pid, name, stage, form, element, unit, note=""):
        rows.append(
            {
                "id": pid,
                "name": name,
                "stage": stage,
                "form": form,
                "element": element,
                **prov(defn, unit, "confirmed", note),
            }
        )

    for pid, (name, _) in A.CONCENTRATES.items():
        add(pid, name, "mine", "concentrate", None, "t REO", "element split in composition.csv")
    for e in REE_ORDER:
        add(f"{e}_oxide", f"{element_names[e]} oxide", "separation", "oxide", e, "t REO")
        add(
            f"{e}_metal",
            f"{element_names[e]} metal and alloys (oxide-equivalent)",
            "metal",
            "metal",
            e,
            "t REO",
            "metal counted as its oxide equivalent so stages balance",
        )
    for grade, name in A.MAGNET_GRADES.items():
        add(grade, name, "magnet", "magnet", None, "t", "element content in recipe.csv; bonded magnets not modelled")
    add(
        "Ga_primary",
        "Primary low-purity gallium",
        "separation",
        "metal",
        "Ga",
        "t Ga",
        "recovered from alumina refining: gallium has no mine stage of its own",
    )
    add("Ga_refined", "High-purity refined gallium", "metal", "metal", "Ga", "t Ga")
    add("graphite_natural", "Natural graphite (flake and amorphous)", "mine", "mineral", "graphite", "t")
    add(
        "graphite_processed",
        "Purified and spherical natural graphite (feed-equivalent)",
        "separation",
        "processed",
        "graphite",
        "t",
        "counted as natural-graphite feed so stages balance",
    )
    return rows


_PRICE_ELEMENT = {
    "cerium": "Ce",
    "dysprosium": "Dy",
    "europium": "Eu",
    "lanthanum": "La",
    "neodymium": "Nd",
    "terbium": "Tb",
    "samarium": "Sm",
    "praseodymium": "Pr",
    "gallium": "Ga",
    "natural graphite": "graphite",
    "prnd": "NdPr",
    "ndpr": "NdPr",
}


def prices(facts: Path, src: Sources) -> list[dict]:
    rows, seen = [], set()
    for fact in read_facts(facts, "prices.csv"):
        unit = fact["unit"].strip()
        if not re.match(r"^(USD|CNY|A\$)/(kg|t)", unit) or number(fact["price_low"]) is None:
            continue  # multiples, % changes and 'not found' rows are not prices
        material = fact["material"].strip()
        lowered = material.lower()
        element = next((e for k, e in _PRICE_ELEMENT.items() if lowered.startswith(k)), None)
        if "/" in material or lowered.startswith("mischmetal"):
            element = None
        key = (material, fact["spec"], fact["basis_location"], fact["period"])
        basis = fact["basis_location"]
        while key in seen:
            basis += " (2)"
            key = (material, fact["spec"], basis, fact["period"])
        seen.add(key)
        year_match = re.match(r"(\d{4})", fact["period"])
        rows.append(
            {
                "element": element,
                "material": material,
                "spec": fact["spec"] or None,
                "basis": basis or None,
                "period": fact["period"],
                "price_low": float(fact["price_low"]),
                "price_high": float(fact["price_high"]),
                **prov(
                    src.cite(fact["source"], fact["confirmed"]),
                    unit,
                    confidence(fact["confirmed"]),
                    fact["note"],
                    year=int(year_match.group(1)) if year_match else A.YEAR,
                ),
            }
        )
    return rows


def _measure(event: str, instrument: str) -> str:
    text = f"{event} {instrument}".lower()
    for needle, measure in (
        ("suspension", "export_control_suspension"),
        ("technolog", "technology_control"),
        ("ban", "export_ban"),
        ("licens", "export_licensing"),
        ("tariff", "tariff"),
        ("partnership", "financing"),
        ("loan", "financing"),
        ("framework", "agreement"),
        ("agreement", "agreement"),
        ("mou", "agreement"),
        ("truce", "agreement"),
        ("fact sheet", "agreement"),
        ("controls on", "export_licensing"),
    ):
        if needle in text:
            return measure
    return "other"


def _date(text: str) -> str | None:
    match = re.match(r"\s*(\d{4}(?:-\d{2}(?:-\d{2})?)?)", text or "")
    return match.group(1) if match else None


# Events after the facts folder's timeline (2025-10 to 2026-11), in the facts files' format and sourced the same
# way. They live with the build, not in ../shared/data/facts, which this repository only reads.
POLICY_UPDATES = Path(__file__).parent / "data" / "policy_events_2026.csv"


def policy_events(facts: Path, src: Sources, element_ids: set[str]) -> list[dict]:
    rows, counts = [], {}
    updates = read_facts(POLICY_UPDATES.parent, POLICY_UPDATES.name)
    for fact in [*read_facts(facts, "policy_events.csv"), *updates]:
        actor = "/".join(re.findall(r"\b[A-Z]{3}\b", fact["actor"])) or fact["actor"]
        announced = _date(fact["date"])
        base = f"{announced}-{actor.replace('/', '-').lower()}"
        counts[base] = counts.get(base, 0) + 1
        scope = fact["materials_or_scope"]
        tokens = set(re.findall(r"[A-Za-z]+", scope))
        elements = [e for e in [*REE_ORDER, "Ga", "graphite"] if e in tokens and e in element_ids]
        if "REE" in tokens or re.search(r"\bREE", scope):
            elements.append("REE")
        notes = [fact["note"]]
        if fact["effective_date"] and _date(fact["effective_date"]) != fact["effective_date"].strip():
            notes.append(f"effective as given: {fact['effective_date']}")
        rows.append(
            {
                "id": f"{base}-{counts[base]}",
                "announced": announced,
                "effective": _date(fact["effective_date"]),
                "end": _date(fact["end_date"]),
                "actor": actor,
                "target": fact["target"] or "all",
                "measure": _measure(fact["event"], fact["instrument"]),
                "elements": "|".join(elements) or None,
                "instrument": fact["instrument"] or None,
                "value": number(fact["value"]) if fact["value"] else None,
                "description": fact["event"],
                **prov(
                    src.cite(fact["source"], fact["confirmed"]),
                    fact["unit"] or "-",
                    confidence(fact["confirmed"]),
                    "; ".join(n for n in notes if n),
                    year=int(announced[:4]),
                ),
            }
        )
    return rows


_STATUS = (
    ("unlikely", "stalled"),
    ("stalled", "stalled"),
    ("under construction", "construction"),
    ("commissioning", "construction"),
    ("announced", "announced"),
    ("planned", "planned"),
    ("pre-fid", "planned"),
    ("development", "planned"),
    ("priority", "planned"),
    ("completed", "completed"),
    ("agreed", "completed"),
    ("operating", "operating"),
    ("commercial", "operating"),
    ("inaugurat", "operating"),
    ("expanding", "operating"),
)
_STAGE = (
    ("financing", "financing"),
    ("equity", "financing"),
    ("recycl", "recycling"),
    ("magnet", "magnet"),
    ("metal", "metal"),
    ("separation", "separation"),
    ("refin", "separation"),
    ("cracking", "separation"),
    ("mine", "mine"),
)
_INSTRUMENTS = (
    ("loan", "loan"),
    ("equity", "equity"),
    ("grant", "grant"),
    ("guarantee", "guarantee"),
    ("offtake", "offtake"),
    ("price floor", "price_floor"),
    ("price-floor", "price_floor"),
)


def projects(facts: Path, src: Sources) -> list[dict]:
    rows, ids = [], set()
    for fact in read_facts(facts, "projects.csv"):
        slug = "-".join(re.findall(r"[a-z0-9]+", fact["name"].lower())[:5])
        while slug in ids:
            slug += "-2"
        ids.add(slug)
        country = fact["country"].split("/")[0].strip()
        region = A.COUNTRY_TO_REGION.get(country, country)
        stage = next((s for k, s in _STAGE if k in fact["stage"].lower()), "separation")
        status = next((s for k, s in _STATUS if k in fact["status"].lower()), "planned")
        text = " ".join([fact["capex_usd"], fact["note"], fact["stage"]]).lower()
        instruments = sorted({i for k, i in _INSTRUMENTS if k in text})
        start = re.search(r"(19|20)\d{2}", fact["start_year"])
        capacity = number(fact["capacity"]) if "not found" not in fact["capacity"].lower() else None
        rows.append(
            {
                "id": slug,
                "name": fact["name"],
                "company": fact["company"] or None,
                "region": region,
                "stage": stage,
                "product": A.MAGNET_PROJECT_GRADE if stage == "magnet" else None,
                "capacity": capacity,
                "capex_musd": number(fact["capex_usd"]) if "not found" not in fact["capex_usd"].lower()[:9] else None,
                "status": status,
                "start_year": int(start.group(0)) if start else None,
                "lead_time_yr": None,
                "ramp_yr": None,
                "instruments": "|".join(instruments) or None,
                **prov(
                    src.cite(fact["source"], fact["confirmed"]),
                    fact["unit"] or "-",
                    confidence(fact["confirmed"]),
                    "; ".join(
                        x
                        for x in [
                            f"product {A.MAGNET_PROJECT_GRADE}: critmin assumes new magnet plants make the "
                            "grain-boundary-diffusion grade (the facts give no grade)"
                            if stage == "magnet"
                            else "",
                            f"capacity as given: {fact['capacity']}" if fact["capacity"] else "",
                            f"capex as given: {fact['capex_usd']}" if fact["capex_usd"] else "",
                            f"status: {fact['status']}",
                            fact["note"],
                        ]
                        if x
                    ),
                    year=int(start.group(0)) if start else A.YEAR,
                ),
            }
        )
    return rows


def region_parameters(facts: Path, src: Sources) -> list[dict]:
    rows, by_region = [], {}
    for fact in read_facts(facts, "wgi.csv"):
        region = A.COUNTRY_TO_REGION.get(fact["iso3"], fact["iso3"])
        by_region.setdefault(region, []).append((fact["iso3"], float(fact["mean_of_six"]), fact))
    for region in A.REGIONS:
        members = by_region.get(region, [])
        if not members:
            continue
        fact = members[0][2]
        sid = src.cite(fact["source"], fact["confirmed"])
        if region in A.AGGREGATE_REGIONS:
            value = sum(v for _, v, _ in members) / len(members)
            names = ", ".join(c for c, _, _ in members)
            note = f"unweighted mean of the mean-of-six WGI of {names} (derived by critmin)"
            conf = "secondary"
        else:
            value, note, conf = (
                members[0][1],
                "mean of the six WGI estimates (-2.5..2.5)",
                confidence(fact["confirmed"]),
            )
        rows.append(
            {
                "region": region,
                "parameter": "wgi_mean",
                "value": round(value, 4),
                **prov(sid, "index (-2.5..2.5)", conf, note, year=int(fact["year"])),
            }
        )
    return rows


def element_parameters(facts: Path, src: Sources) -> list[dict]:
    rows = []
    rates: dict[str, tuple[float, dict]] = {}
    for fact in read_facts(facts, "elasticities.csv"):
        if fact["parameter"] != "EOL-RIR":
            continue
        for sym in re.findall(r"[A-Z][a-z]?", fact["material_or_scope"]):
            rates[sym] = (float(fact["value"]), fact)
    for sym in [*REE_ORDER, "Ga", "graphite"]:
        if sym in rates:
            value, fact = rates[sym]
            rows.append(
                {
                    "element": sym,
                    "parameter": "eol_rir_pct",
                    "value": value,
                    **prov(
                        src.cite(fact["source"], fact["confirmed"]), "%", confidence(fact["confirmed"]), fact["note"]
                    ),
                }
            )
        else:
            rows.append(
                {
                    "element": sym,
                    "parameter": "eol_rir_pct",
                    "value": 0.0,
                    **prov(
                        src.assumption("end-of-life recycling input rate 0 % where no figure is given"),
                        "%",
                        "assumption",
                        "no EOL-RIR in the facts; 0 assumed (UNEP: REE recycling <1 %)",
                    ),
                }
            )
        rows.append(
            {
                "element": sym,
                "parameter": "substitution_index",
                "value": 1.0,
                **prov(
                    src.assumption("substitution index 1 (no substitution credit) for supply risk"),
                    "-",
                    "assumption",
                    "EU CRM SI_SR not in the facts; 1 = no substitute",
                ),
            }
        )
    for sym, share in A.NON_MAGNET_SHARE.items():
        rows.append(
            {
                "element": sym,
                "parameter": "non_magnet_share_pct",
                "value": share,
                **prov(
                    src.assumption("share of magnet elements used outside NdFeB"),
                    "%",
                    "assumption",
                    "glass, ceramics, phosphors and alloys; used to close the 2024 balance",
                ),
            }
        )
    return rows
