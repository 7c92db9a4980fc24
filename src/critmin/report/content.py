"""What a report holds, built from a stored run, risk study, plan or deal valuation: the headline numbers,
figures (SVG), tables, the assumptions used, the sources cited and the provenance. Both renderers (HTML, PDF)
draw from one :class:`Report`, so the two files say the same thing.

Everything comes from the store: no clock, no random ids. The report's date is the record's own timestamp
(a run's ``started_at``, a study's, a plan's or a deal valuation's ``created_at``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from pathlib import PurePath

import pandas as pd
import yaml

from critmin._version import __version__
from critmin.report import figures

TOP = 5  # lines per chart
NOISE_MUSD = 1e-9  # a plan's solver round-off, shown as 0 (as `critmin plan show` shows it)
TABLE_ROWS = 60  # rows of a long table shown (the rest are counted: `critmin ... export` has them all)


@dataclasses.dataclass
class Figure:
    title: str
    svg: str
    caption: str


@dataclasses.dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]]
    note: str = ""


@dataclasses.dataclass
class Report:
    kind: str
    id: str
    title: str
    subtitle: str
    date: dt.datetime  # the record's timestamp (UTC for studies and plans; the machine's clock for runs)
    headline: list[tuple[str, str]]
    figures: list[Figure]
    tables: list[Table]
    assumptions: list[Table]
    sources: list[Table]
    provenance: list[tuple[str, str]]
    notes: list[str] = dataclasses.field(default_factory=list)


# --- formatting ----------------------------------------------------------------------------------------------


def cell(value) -> str:
    """A value as report text: numbers to 4 significant digits (thousands separated), missing as '-'."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if value == 0:
            return "0"
        return f"{value:,.1f}" if abs(value) >= 1e4 else f"{value:,.4g}"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def table(title: str, frame: pd.DataFrame, *, units: dict[str, str] | None = None, limit: int | None = TABLE_ROWS,
          note: str = "") -> Table:  # fmt: skip
    units = units or {}
    shown = frame if limit is None else frame.head(limit)
    if limit is not None and len(frame) > limit:
        note = f"{note} First {limit} of {len(frame)} rows.".strip()
    columns = [f"{c} [{units[c]}]" if c in units else str(c) for c in frame.columns]
    rows = [[cell(v) for v in row] for row in shown.itertuples(index=False, name=None)]
    return Table(title, columns, rows, note)


def _timestamp(value) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    stamp = pd.Timestamp(value).to_pydatetime()
    return stamp.replace(tzinfo=None, microsecond=0)


# --- world rows: assumptions and sources -------------------------------------------------------------------


def _world_tables(store, data_version: str) -> tuple[list[Table], list[Table], list[str]]:
    """The world's assumption rows and cited sources, when the store's active world is the one the record used
    (same data version); otherwise a note says why they are left out."""
    from critmin.api.sources import cited_rows, sources_table
    from critmin.store import data_version as version_of

    if store.is_empty():
        return [], [], [f"The store holds no world: the rows of data version {data_version} are not listed."]
    world = store.world()
    active = version_of(world)
    if active != data_version:
        return (
            [],
            [],
            [
                f"The store's active world is data version {active}, not {data_version} (the one used): its "
                "assumptions and sources are not listed."
            ],
        )
    # a briefing lists how much of each table is assumed, not all ~1,800 rows (about 90 PDF pages): the rows
    # themselves are one command away
    assumed = cited_rows(world, assumptions=True).groupby("component").size()
    every = cited_rows(world).groupby("component").size()
    summary = pd.DataFrame({"component": every.index, "rows": every.to_numpy(),
                            "assumption_rows": assumed.reindex(every.index).fillna(0).astype(int).to_numpy()})
    summary["assumption_share_pct"] = (100 * summary["assumption_rows"] / summary["rows"]).round(1)
    summary = summary[summary["assumption_rows"] > 0].reset_index(drop=True)
    sources = sources_table(world)
    sources = sources[sources["rows"] > 0][["id", "rows", "confidence", "citation", "url"]]
    return (
        [table("World rows flagged assumption, per table", summary, limit=None,
               note=f"Data version {data_version}: {int(summary['assumption_rows'].sum())} rows whose confidence is "
               "'assumption'. List them with `critmin data sources --assumptions [-c TABLE]`; override any with "
               "`critmin world import DIR --override NAME`.")],
        [table("Sources cited by the world's rows", sources, limit=None,
               note=f"Data version {data_version}: {len(sources)} sources.")],
        [],
    )  # fmt: skip


def _yaml(text: str | None) -> dict:
    try:
        loaded = yaml.safe_load(text or "") or {}
    except yaml.YAMLError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


# --- runs ----------------------------------------------------------------------------------------------------


def run_report(store, run_id: str, *, regions: list[str] | None = None, elements: list[str] | None = None) -> Report:
    from critmin.runs import resolve_run, run_flags, run_info, run_policies, run_summary, run_table

    rid = resolve_run(store, run_id)
    info = run_info(store, rid)
    summary = run_summary(store, rid).drop(columns=["run_id"])
    if regions:
        summary = summary[summary["region"].isin(regions)]
    if elements:
        summary = summary[summary["element"].isin(elements)]
    units = dict(
        store.con.execute(
            "SELECT element, any_value(unit) FROM run_shortfall WHERE run_id = ? GROUP BY element", [rid]
        ).fetchall()
    )
    summary.insert(summary.columns.get_loc("cumulative_shortfall_t") + 1, "unit",
                   summary["element"].map(lambda e: units.get(e, "t")))  # fmt: skip
    key = ["region", "element"]
    by_price = summary.dropna(subset=["price_product"]).sort_values(
        ["peak_price_ratio", *key], ascending=[False, True, True], kind="stable"
    )
    by_short = summary.sort_values(["max_shortfall_pct", *key], ascending=[False, True, True], kind="stable")

    prices, _ = run_table(store, rid, "prices")
    wide = prices.pivot_table(index=["date", "region", "product"], columns="path", values="price_usd_per_kg")
    price_series = []
    # one line per price product (a product's price ratio is much the same in every region): the most affected
    for row in by_price.drop_duplicates("price_product").head(TOP).itertuples(index=False):
        cut = wide.xs((row.region, row.price_product), level=("region", "product")).sort_index()
        ratio = cut["scenario"] / cut["baseline"]
        price_series.append((f"{row.region} {row.element} ({row.price_product})", list(cut.index), list(ratio)))
    shortfall, _ = run_table(store, rid, "shortfall", path="scenario")
    short_series = []
    for row in by_short[by_short["max_shortfall_pct"] > 0].drop_duplicates("element").head(TOP).itertuples(index=False):
        cut = shortfall[(shortfall["region"] == row.region) & (shortfall["element"] == row.element)]
        short_series.append(
            (f"{row.region} {row.element}", list(cut["date"]), list(100 * cut["shortfall"] / cut["demand"]))
        )

    headline = [
        ("scenario", str(info["scenario"])),
        ("period", f"{cell(info['start_date'])[:7]} to {cell(info['end_date'])[:7]} ({info['steps']} months)"),
    ]
    if len(by_short):
        worst = by_short.iloc[0]
        headline.append(("worst shortfall", f"{worst['region']} {worst['element']}: "
                                            f"{cell(worst['max_shortfall_pct'])}% of demand"))  # fmt: skip
    if len(by_price):
        peak = by_price.iloc[0]
        headline.append(("highest price ratio", f"{peak['region']} {peak['element']}: x{cell(peak['peak_price_ratio'])}"
                                                f" ({peak['price_product']})"))  # fmt: skip
    headline.append(("cells short", f"{int((summary['max_shortfall_pct'] > 0).sum())} of {len(summary)} "
                                    "region x element cells"))  # fmt: skip
    flags, policies = run_flags(store, rid), run_policies(store, rid)
    headline.append(("plausibility flags", str(len(flags))))

    figs = [
        Figure("Price chart: price ratio to the baseline over time",
               figures.line_chart(price_series, ylabel="scenario / baseline price", reference=1.0),
               f"The {len(price_series)} price products with the highest peak price ratio (each in its most affected "
               "region): the scenario's price over the baseline's, by month."),
        Figure("Shortfall over time",
               figures.line_chart(short_series, ylabel="shortfall, % of demand"),
               f"The {len(short_series)} elements with the largest shortfall (each in its most affected region): unmet "
               "demand as % of demand, by month."),
    ]  # fmt: skip
    tables = [
        table("Summary per region x element", by_short,
              units={"max_shortfall_pct": "%", "peak_price_ratio": "ratio", "tts_days": "days", "ttr_days": "days"},
              note="Sorted by largest shortfall. TTS: time to shortage; TTR: time to recover."),
    ]  # fmt: skip
    if len(flags):
        tables.append(table("Plausibility flags", flags.drop(columns=["run_id"])))
    if len(policies):
        tables.append(table("Policies", policies.drop(columns=["run_id"])))

    scenario = _yaml(info.get("scenario_yaml"))
    shocks = pd.DataFrame(
        [{"shock": s.get("name") or s.get("type"), "type": s.get("type"), "start": s.get("start"),
          "end": s.get("end"), "source": s.get("source")} for s in scenario.get("shocks") or [] if isinstance(s, dict)],
        columns=["shock", "type", "start", "end", "source"],
    )  # fmt: skip
    world_assumed, world_sources, notes = _world_tables(store, info["data_version"])
    assumptions = [
        table("The scenario's shocks", shocks, limit=None,
              note="Each shock as the scenario states it; its source says which parts are assumptions."),
        *world_assumed,
    ]  # fmt: skip
    sources = [table("Sources the scenario cites", shocks[["shock", "source"]], limit=None), *world_sources]
    provenance = [
        ("run id", rid), ("scenario", str(info["scenario"])), ("scenario hash", str(info["scenario_hash"])),
        ("data version", str(info["data_version"])), ("critmin version (run)", str(info["critmin_version"])),
        ("critmin version (report)", __version__), ("solver", f"{info['solver']} ({info['solver_status']})"),
        ("seed", "none: a run is deterministic"), ("created at", cell(_timestamp(info["started_at"]))),
        ("wall time", f"{cell(info['wall_s'])} s"),
    ]  # fmt: skip
    return Report(
        kind="run", id=rid, title=f"Run report: {info['scenario']}",
        subtitle=str(scenario.get("description") or ""), date=_timestamp(info["started_at"]), headline=headline,
        figures=figs, tables=tables, assumptions=assumptions, sources=sources, provenance=provenance, notes=notes,
    )  # fmt: skip


# --- risk studies --------------------------------------------------------------------------------------------


def risk_report(store, study_id: str) -> Report:
    from critmin.risk.study import resolve_study, study_info, study_table

    sid = resolve_study(store, study_id)
    info = study_info(store, sid)
    measures = study_table(store, sid, "measures")
    ranking = study_table(store, sid, "ranking").sort_values(
        ["expected_cost", "region", "element"], ascending=[False, True, True], kind="stable"
    )
    exceedance, fan = study_table(store, sid, "exceedance"), study_table(store, sid, "fan")
    durations = study_table(store, sid, "durations")
    top = ranking.head(15)
    cost_unit = str(top["unit"].iloc[0]) if len(top) else "USD"
    figs = [
        Figure("Ranking: expected cost of shortfall",
               figures.bar_chart([f"{r} {e}" for r, e in zip(top["region"], top["element"], strict=True)],
                                 top["expected_cost"], xlabel=f"expected cost [{cost_unit}]"),
               "Region x element cells by expected cost of shortfall (the top 15)."),
    ]  # fmt: skip
    curves = []
    for row in ranking.head(TOP).itertuples(index=False):
        cut = exceedance[(exceedance["region"] == row.region) & (exceedance["element"] == row.element)
                         & (exceedance["loss"] == "shortfall_pct")]  # fmt: skip
        if len(cut):
            curves.append((f"{row.region} {row.element}", cut["level"], cut["exceedance_prob"]))
    figs.append(Figure("Exceedance: probability that the shortfall exceeds a level",
                       figures.step_chart(curves, xlabel="shortfall, % of baseline demand",
                                          ylabel="probability of exceeding"),
                       f"The {len(curves)} highest-ranked cells."))  # fmt: skip
    if len(ranking) and len(fan):
        first = ranking.iloc[0]
        cut = fan[(fan["region"] == first["region"]) & (fan["element"] == first["element"])]
        if len(cut):
            product = str(cut["product"].iloc[0])
            cut = cut[cut["product"] == product]
            figs.append(Figure(f"Fan: price ratio of {first['region']} {first['element']} ({product})",
                               figures.fan_chart(cut["date"], {q: cut[q] for q in ("q05", "q25", "q50", "q75", "q95")},
                                                 ylabel="price / baseline price", label=product),
                               "Quantiles over the draws, by month, for the highest-ranked cell."))  # fmt: skip
    headline = [
        ("model", str(info["model"])), ("draws", f"{info['draws']:,} ({info['sampler']}, {info['engine']} engine)"),
        ("seed", str(info["seed"])),
    ]  # fmt: skip
    if len(ranking):
        first = ranking.iloc[0]
        headline.append(("highest expected cost", f"{first['region']} {first['element']}: "
                                                  f"{cell(first['expected_cost'])} {first['unit']}"))  # fmt: skip
    pct = measures[measures["loss"] == "shortfall_pct"].sort_values(
        ["prob_any_shortfall", "region", "element"], ascending=[False, True, True], kind="stable"
    )
    if len(pct):
        first = pct.iloc[0]
        headline.append(("most likely shortfall", f"{first['region']} {first['element']}: "
                                                  f"{cell(100 * first['prob_any_shortfall'])}% of draws"))  # fmt: skip
    tables = [
        table("Ranking", ranking, note="By expected cost of shortfall (shortfall valued at the reference price)."),
        table("Risk measures", measures),
        table("Durations", durations),
    ]
    model = _yaml(info.get("model_yaml"))
    rows = [{"kind": kind, "id": e.get("id"), "type": e.get("type"), "probability": e.get("probability"),
             "confidence": e.get("confidence"), "description": e.get("description") or e.get("reasoning"),
             "source": e.get("source")}
            for kind in ("events", "causes") for e in model.get(kind) or [] if isinstance(e, dict)]  # fmt: skip
    entries = pd.DataFrame(rows, columns=["kind", "id", "type", "probability", "confidence", "description", "source"])
    assumed = entries[entries["confidence"] == "assumption"]
    world_assumed, world_sources, notes = _world_tables(store, info["data_version"])
    assumptions = [
        table("The model's entries flagged assumption", assumed.drop(columns=["source"]), limit=None,
              note=f"{len(assumed)} of the model's {len(entries)} events and common causes."),
        *world_assumed,
    ]  # fmt: skip
    sources = [table("Sources the model cites", entries[["id", "confidence", "source"]], limit=None), *world_sources]
    provenance = [
        ("study id", sid), ("model", str(info["model"])), ("model hash", str(info["model_hash"])),
        ("data version", str(info["data_version"])), ("critmin version (study)", str(info["critmin_version"])),
        ("critmin version (report)", __version__), ("seed", str(info["seed"])), ("draws", str(info["draws"])),
        ("sampler", str(info["sampler"])), ("engine", str(info["engine"])), ("status", str(info["status"])),
        ("created at", cell(_timestamp(info["created_at"]))) ,
    ]  # fmt: skip
    return Report(
        kind="risk", id=sid, title=f"Risk study report: {info['name'] or info['model']}",
        subtitle=str(model.get("description") or ""), date=_timestamp(info["created_at"]), headline=headline,
        figures=figs, tables=tables, assumptions=assumptions, sources=sources, provenance=provenance, notes=notes,
    )  # fmt: skip


# --- plans ---------------------------------------------------------------------------------------------------


def _finance(plan: dict):
    """A plan's finance terms (every term, its value and whether the plan set it) and the terms object."""
    from critmin.plan.schema import Finance

    terms = Finance.model_validate(plan.get("finance") or {})
    given = set((plan.get("finance") or {}).keys())
    finance = pd.DataFrame(
        [{"term": name, "value": getattr(terms, name), "set in plan": name in given,
          "meaning": field.description} for name, field in Finance.model_fields.items()
         if name not in ("confidence", "source")],
    )  # fmt: skip
    return finance, terms


def plan_report(store, plan_id: str) -> Report:
    from critmin.plan.store import plan_info, read_plan_table, resolve_plan

    pid = resolve_plan(store, plan_id)
    info = plan_info(store, pid)
    get = {t: read_plan_table(store, pid, t) for t in ("frontier", "coalitions", "shapley", "portfolio", "options",
                                                       "shortlist", "scenarios")}  # fmt: skip
    for frame in get.values():  # solver round-off as 0, as `critmin plan show` prints it
        for column in [c for c in frame.columns if str(c).endswith("_musd")]:
            frame[column] = frame[column].map(lambda v: 0.0 if v is not None and abs(v) < NOISE_MUSD else v)
    info = {k: 0.0 if k.endswith("_musd") and v is not None and abs(v) < NOISE_MUSD else v for k, v in info.items()}
    frontier, coalitions, shapley = get["frontier"], get["coalitions"], get["shapley"]
    figs = [
        Figure("Frontier: expected cost against CVaR",
               figures.scatter_line(frontier["expected_musd"], frontier["cvar_musd"],
                                    [f"λ={cell(v)}" for v in frontier["risk_weight"]],
                                    xlabel="expected cost [MUSD]", ylabel="CVaR of cost [MUSD]"),
               "The joint plan at each risk weight λ: expected cost and its CVaR."),
        Figure("Cooperation: saving of each coalition",
               figures.bar_chart(coalitions["coalition"], coalitions["saving_musd"], xlabel="saving [MUSD]"),
               "Each coalition's saving against no plan."),
        Figure("Shapley split of the joint saving",
               figures.bar_chart(shapley["player"], shapley["shapley_musd"], xlabel="Shapley value [MUSD]",
                                 colors=[figures.COLORS[2]] * len(shapley)),
               "Each player's share of the value of cooperation."),
    ]  # fmt: skip
    headline = [
        ("players", str(info["players"])), ("scenarios", str(info["scenarios"])),
        ("risk weight λ / α", f"{cell(info['risk_weight'])} / {cell(info['alpha'])}"),
        ("objective", f"{cell(info['objective_musd'])} MUSD"), ("EVPI", f"{cell(info['evpi_musd'])} MUSD"),
        ("VSS", f"{cell(info['vss_musd'])} MUSD"), ("CVaR premium", f"{cell(info['cvar_premium_musd'])} MUSD"),
        ("joint saving", f"{cell(info['joint_saving_musd'])} MUSD"),
        ("superadditive", "yes" if info["superadditive"] else "no"),
    ]  # fmt: skip
    musd = lambda frame: {c: "MUSD" for c in frame.columns if str(c).endswith("_musd")}  # noqa: E731
    tables = [
        table(title, get[name], units=musd(get[name]))
        for title, name in (
            ("Coalitions", "coalitions"),
            ("Shapley split", "shapley"),
            ("Portfolio per coalition", "portfolio"),
            ("Shortlist", "shortlist"),
            ("Options", "options"),
            ("Scenarios", "scenarios"),
            ("Frontier", "frontier"),
        )
    ]
    plan = _yaml(info.get("plan_yaml"))
    finance, terms = _finance(plan)
    options = get["options"]
    assumed = options[options["confidence"] == "assumption"][["option", "kind", "owner", "region", "product", "source"]]
    world_assumed, world_sources, notes = _world_tables(store, info["data_version"])
    assumptions = [
        table("Finance terms", finance, limit=None,
              note=f"Confidence: {terms.confidence}; source: {terms.source}."),
        table("Options flagged assumption", assumed, limit=None,
              note=f"{len(assumed)} of the plan's {len(options)} options."),
        *world_assumed,
    ]  # fmt: skip
    sources = [
        table("Sources the plan's options cite", options[["option", "confidence", "source"]], limit=None,
              note=f"Risk model: {info['risk_model']}."),
        *world_sources,
    ]  # fmt: skip
    provenance = [
        ("plan id", pid), ("plan", str(info["name"])), ("plan file", str(info["plan_file"])),
        ("risk model", str(info["risk_model"])), ("plan hash", str(info["plan_hash"])),
        ("data version", str(info["data_version"])), ("critmin version (plan)", str(info["critmin_version"])),
        ("critmin version (report)", __version__), ("seed", cell(plan.get("seed"))),
        ("created at", cell(_timestamp(info["created_at"]))), ("wall time", f"{cell(info['wall_s'])} s"),
    ]  # fmt: skip
    return Report(
        kind="plan", id=pid, title=f"Plan report: {info['name']}", subtitle=str(plan.get("description") or ""),
        date=_timestamp(info["created_at"]), headline=headline, figures=figs, tables=tables,
        assumptions=assumptions, sources=sources, provenance=provenance, notes=notes,
    )  # fmt: skip


# --- deals ---------------------------------------------------------------------------------------------------


def _per_yr(value) -> str:
    return f"{cell(value)} MUSD/yr"


def deal_report(store, deal_id: str) -> Report:
    from critmin.deal.store import deal_info, read_deal_table, resolve_deal

    did = resolve_deal(store, deal_id)
    info = deal_info(store, did)
    get = {t: read_deal_table(store, did, t) for t in ("sides", "distribution", "scenarios", "flows", "welfare")}
    sides, distribution = get["sides"], get["distribution"]
    deal, plan = _yaml(info.get("deal_yaml")), _yaml(info.get("plan_yaml"))
    measures = pd.DataFrame(
        [{"option": m.get("option"), "modules": m.get("modules", 1), "instrument": m.get("instrument") or "cheapest"}
         for m in deal.get("measures") or [] if isinstance(m, dict)],
        columns=["option", "modules", "instrument"],
    )  # fmt: skip
    taken = ", ".join(f"{m} x{n}" for m, n in zip(measures["option"], measures["modules"], strict=True))
    headline = [
        ("deal", str(info["name"])),
        ("tariffs", f"{info['before']} -> {info['after']} ({info['tariff_scope']} arcs)"),
        ("measures", f"{info['measures']} ({taken})"),
        ("scenarios", f"{info['scenarios']} (of {PurePath(str(info['risk_model'])).name})"),
    ]  # fmt: skip
    for row in sides.itertuples(index=False):
        premium = (f"{cell(row.break_even_premium_pct)}% of {cell(row.allied_purchases_musd_per_yr)} MUSD/yr of allied "
                   "purchases" if pd.notna(row.break_even_premium_pct) else "- (no allied purchases)")  # fmt: skip
        headline.append((f"{row.side} ({row.country})",
                         f"tariff relief {_per_yr(row.tariff_relief_musd_per_yr)}; expected security value "
                         f"{_per_yr(row.security_expected_musd_per_yr)}; cost {_per_yr(row.measures_cost_musd_per_yr)}"
                         f"; net {_per_yr(row.net_musd_per_yr)}; break-even premium {premium}"))  # fmt: skip
    labels = list(sides["side"])
    figs = [
        Figure("Per side: tariff relief, security value, cost and net",
               figures.bar_panels([("tariff relief", labels, sides["tariff_relief_musd_per_yr"]),
                                   ("security value (expected)", labels, sides["security_expected_musd_per_yr"]),
                                   ("cost of measures", labels, sides["measures_cost_musd_per_yr"]),
                                   ("net", labels, sides["net_musd_per_yr"])], xlabel="MUSD/yr"),
               "Each side's tariff relief (GSIM welfare change), expected security value of the measures (shortfall "
               "cost saved), public cost of its own measures and net value (relief + security - cost), in MUSD per "
               "year. Each panel has its own scale: the values differ by orders of magnitude."),
        Figure("Security value quantiles beside the tariff relief",
               figures.quantiles_beside(
                   {side: (part["quantile"], part["security_value_musd_per_yr"])
                    for side, part in distribution.groupby("side", sort=False)},
                   dict(zip(sides["side"], sides["tariff_relief_musd_per_yr"], strict=True)),
                   ylabel="security value [MUSD/yr]", xlabel="tariff relief [MUSD/yr]"),
               "Left: the security value's quantiles over the plan's scenarios, per side. Right: the tariff relief "
               "per side. Two panels, two scales: the tariff relief is orders of magnitude larger."),
    ]  # fmt: skip
    flows = get["flows"]
    flows = flows.assign(_abs=flows["change_musd"].abs()).sort_values(
        ["_abs", "importer", "exporter", "good"], ascending=[False, True, True, True], kind="stable"
    ).drop(columns=["_abs"])
    per_yr = lambda frame: {c: ("MUSD/yr" if str(c).endswith("_musd_per_yr") else "MUSD")  # noqa: E731
                            for c in frame.columns if str(c).endswith(("_musd", "_musd_per_yr"))}  # fmt: skip
    pct = {"break_even_premium_pct": "%", "rate_before_pct": "%", "rate_after_pct": "%", "change_pct": "%",
           "probability": "0-1", "quantile": "0-1"}  # fmt: skip
    units = lambda frame: per_yr(frame) | {c: u for c, u in pct.items() if c in frame.columns}  # noqa: E731
    tables = [
        table("Per side", sides, units=units(sides), limit=None,
              note="net = tariff relief + expected security value - cost of measures; break-even premium = net / "
              "allied purchases: the highest premium on rare-earth purchases from allies before the package costs "
              "more than it is worth."),
        table("Security value distribution", distribution, units=units(distribution), limit=None,
              note="Quantiles of the shortfall cost saved over the plan's scenarios, beside the tariff relief."),
        table("Changed flows (GSIM)", flows, units=units(flows),
              note=f"The {len(flows)} flows whose tariff or value changed between the regimes, by size of change "
              "(MUSD for a year of flows)."),
        table("Welfare per country (GSIM)", get["welfare"], units=units(get["welfare"]), limit=None),
        table("Scenarios", get["scenarios"], units=units(get["scenarios"]),
              note="Each side's shortfall cost over the plan's horizon without and with the measures."),
    ]  # fmt: skip
    finance, terms = _finance(plan)
    used = set(measures["option"])
    options = pd.DataFrame(
        [{"option": o.get("id"), "kind": o.get("kind"), "owner": o.get("owner"), "region": o.get("region"),
          "product": o.get("product"), "confidence": o.get("confidence"), "source": o.get("source")}
         for o in plan.get("options") or [] if isinstance(o, dict) and o.get("id") in used],
        columns=["option", "kind", "owner", "region", "product", "confidence", "source"],
    )  # fmt: skip
    options = measures.merge(options, on="option", how="left", sort=False)
    assumed = options[options["confidence"] == "assumption"].drop(columns=["source"])
    world_assumed, world_sources, notes = _world_tables(store, info["data_version"])
    assumptions = [
        table("The plan's finance terms", finance, limit=None,
              note=f"Confidence: {terms.confidence}; source: {terms.source}."),
        table("Options the measures use, flagged assumption", assumed, limit=None,
              note=f"{len(assumed)} of the deal's {len(options)} measures."),
        *world_assumed,
    ]  # fmt: skip
    sources = [
        table("The deal's source", pd.DataFrame([{"deal": info["name"], "source": deal.get("source")}]), limit=None),
        table("Sources the measures' options cite", options[["option", "confidence", "source"]], limit=None,
              note=f"Plan: {info['plan_file']}; risk model: {info['risk_model']}; trade world: {info['trade_world']}."),
        *world_sources,
    ]  # fmt: skip
    provenance = [
        ("deal id", did), ("deal", str(info["name"])), ("deal file", str(info["deal_file"])),
        ("deal hash", str(info["deal_hash"])), ("plan file", str(info["plan_file"])),
        ("plan hash", str(info["plan_hash"])), ("risk model", str(info["risk_model"])),
        ("risk model hash", str(info["risk_hash"])), ("trade world", str(info["trade_world"])),
        ("data version", str(info["data_version"])), ("critmin version (deal)", str(info["critmin_version"])),
        ("critmin version (report)", __version__), ("seed", cell(plan.get("seed"))),
        ("created at", cell(_timestamp(info["created_at"]))), ("wall time", f"{cell(info['wall_s'])} s"),
    ]  # fmt: skip
    return Report(
        kind="deal", id=did, title=f"Deal report: {info['name']}", subtitle=str(deal.get("description") or ""),
        date=_timestamp(info["created_at"]), headline=headline, figures=figs, tables=tables,
        assumptions=assumptions, sources=sources, provenance=provenance, notes=notes,
    )  # fmt: skip
