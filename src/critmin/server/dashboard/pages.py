"""Dashboard pages: overview, exposure explorer, scenario runner, results, compare, risk studies, plans, trade
(GSIM between two dates), deals (valued per side, as jobs), and the login form."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from urllib.parse import parse_qs

import pandas as pd
import plotly.io as pio
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from critmin import api
from critmin.api import (
    ORIGIN_STAGES,
    STAGES,
    NotFoundError,
    RunNotFoundError,
    affected,
    compare_runs,
    exposure_through,
    list_runs,
    run_flags,
    run_info,
    run_policies,
    run_summary,
    run_table,
    through_share,
)
from critmin.server.api.common import records
from critmin.server.api.deals import submit_deal
from critmin.server.context import AppContext
from critmin.server.dashboard import charts, maps
from critmin.server.dashboard.colours import region_palette
from critmin.server.deal_support import changed_flows, headline
from critmin.server.security import TOKEN_COOKIE, tokens_match

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).resolve().parents[1] / "templates")
FLAGSHIP = "china-2025-04-licensing"
NO_PRICES = pd.DataFrame(columns=["path", "date", "region", "product", "price_usd_per_kg"])


class PageError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def figure_json(fig) -> str:
    """Figure JSON safe to embed in a <script type="application/json"> block."""
    return pio.to_json(fig, validate=False).replace("</", "<\\/")


def render(request: Request, template: str, **values) -> HTMLResponse:
    figures = {name: figure_json(fig) for name, fig in values.pop("figures", {}).items()}
    return templates.TemplateResponse(request, template, {"figures": figures, **values})


def _ctx(request: Request) -> AppContext:
    return request.app.state.ctx


def _palette(ctx: AppContext) -> dict[str, str]:
    """The world's region colours: every chart colours a region alike."""
    return region_palette(ctx.regions)


def _countries(ctx: AppContext) -> set[str]:
    """Regions a map can draw (ISO-3 countries, not aggregates such as EU or ROW)."""
    regions = ctx.world.table("region")
    return set(regions.loc[regions["kind"] == "country", "id"])


def _choice(value: str | None, valid, default: str, what: str) -> str:
    if value in (None, ""):
        return default
    if value not in valid:
        raise PageError(404, f"unknown {what} {value!r}")
    return value


def _error(request: Request, exc: Exception, status: int = 404) -> HTMLResponse:
    response = render(request, "error.html", title="Not found", message=str(exc))
    response.status_code = getattr(exc, "status", status)
    return response


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, element: str | None = None):
    ctx = _ctx(request)
    try:
        element = _choice(element, ctx.elements, "Dy", "element")
    except PageError as exc:
        return _error(request, exc)
    unit = ctx.units.get(element, "t")
    links = ctx.sankey(element, 8)
    indicators = ctx.indicators(None, None, element, None)
    top3 = indicators[indicators["indicator"] == "top3_share"].set_index("stage")["value"]
    hhi = indicators[indicators["indicator"] == "hhi"].set_index("stage")["value"]
    stages = [{"stage": s, "hhi": hhi.get(s), "top3": top3.get(s)} for s in ORIGIN_STAGES if s in hhi.index]
    countries, palette = _countries(ctx), _palette(ctx)
    shares = indicators[indicators["indicator"] == "production_share"]
    off_map = [(s, maps.off_map(shares[shares["stage"] == s], countries)) for s in STAGES if s in set(shares["stage"])]
    return render(
        request, "overview.html", title=f"Overview: {element}", page="overview", element=element,
        elements=ctx.elements, stages=stages, unit=unit, data_version=ctx.data_version, off_map=off_map,
        figures={"sankey": charts.sankey(links.drop(columns="unit"), element, f"{unit}/yr", palette),
                 "concentration": charts.concentration(indicators, element, palette),
                 "production_map": maps.production_map(indicators, element, countries)},
    )  # fmt: skip


@router.get("/exposure", response_class=HTMLResponse)
def exposure(
    request: Request,
    origin_region: str | None = None,
    origin_stage: str | None = None,
    region: str | None = None,
    element: str | None = None,
):
    ctx = _ctx(request)
    try:
        origin_region = _choice(origin_region, ctx.regions, "CHN", "region")
        origin_stage = _choice(origin_stage, ORIGIN_STAGES, "separation", "stage")
        region = _choice(region, ctx.regions, "JPN", "region")
        element = _choice(element, ctx.elements, "Dy", "element")
    except PageError as exc:
        return _error(request, exc)
    table = exposure_through(
        ctx.world, origin_region=origin_region, origin_stage=origin_stage, flows=ctx.flows, origins=ctx.exposure
    )
    users = sorted(set(ctx.flows.use["region"]))
    detail = ctx.exposure(region, element, "use")
    countries = _countries(ctx)
    mapped = pd.DataFrame(
        [
            {"region": r, "value": through_share(ctx.exposure(r, element, "use"), origin_region, origin_stage)}
            for r in users
        ]
    )
    return render(
        request, "exposure.html", title="Exposure explorer", page="exposure", regions=ctx.regions,
        elements=ctx.elements, stages=ORIGIN_STAGES, origin_region=origin_region, origin_stage=origin_stage,
        region=region, element=element, detail=detail, off_map=maps.off_map(mapped, countries),
        figures={"heatmap": charts.exposure_heatmap(table, origin_region, origin_stage),
                 "detail": charts.exposure_detail(detail, region, element, _palette(ctx)),
                 "exposure_map": maps.exposure_map(mapped, element, origin_region, origin_stage, countries)},
    )  # fmt: skip


@router.get("/scenarios", response_class=HTMLResponse)
def scenarios(request: Request, name: str | None = None):
    ctx = _ctx(request)
    try:
        name = _choice(name, ctx.scenario_files, FLAGSHIP if FLAGSHIP in ctx.scenario_files else "", "scenario")
    except PageError as exc:
        return _error(request, exc)
    text = ctx.bundled(name)[1] if name else ""
    return render(
        request, "scenarios.html", title="Scenario runner", page="scenarios", names=list(ctx.scenario_files),
        name=name, yaml_text=text, max_months=ctx.config.max_run_months,
    )  # fmt: skip


@router.get("/runs", response_class=HTMLResponse)
def runs(request: Request):
    view = _ctx(request).cursor()
    try:
        table = list_runs(view).sort_values("started_at", ascending=False)
    finally:
        view.close()
    return render(request, "runs.html", title="Runs", page="runs", runs=table.to_dict("records"))


def _price_product(summary: pd.DataFrame, element: str) -> str | None:
    rows = summary[summary["element"] == element]["price_product"].dropna()
    return rows.iloc[0] if len(rows) else None


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def results(request: Request, run_id: str, element: str | None = None, region: str | None = None):
    ctx = _ctx(request)
    view = ctx.cursor()
    try:
        info = run_info(view, run_id)
        rid = info["run_id"]
        summary = run_summary(view, rid)
        elements = sorted(set(summary["element"]))
        element = _choice(element, elements, "Dy" if "Dy" in elements else elements[0], "element")
        mine = summary[summary["element"] == element].sort_values("max_shortfall_pct", ascending=False)
        worst = "JPN" if "JPN" in set(mine["region"]) else mine["region"].iloc[0]
        region = _choice(region, ctx.regions, worst, "region")
        product = _price_product(summary, element)
        prices = run_table(view, rid, "prices", product=product)[0] if product else NO_PRICES
        shown = set(affected(mine)["region"]) | {"CHN", region}
        prices = prices[prices["region"].isin(shown)] if len(prices) else prices
        shortfall = run_table(view, rid, "shortfall", element=element)[0]  # both paths: beyond the baseline
        sector = run_table(view, rid, "sector_shortfall", path="scenario", region=region)[0]
        stocks = run_table(view, rid, "stocks")[0]
        flags, policies = run_flags(view, rid), run_policies(view, rid)
    except (RunNotFoundError, PageError) as exc:
        return _error(request, exc)
    finally:
        view.close()
    content = ctx.content[element] if element in ctx.content.columns else None
    unit = ctx.units.get(element, "t")
    if content is not None and len(sector):
        sector["content"] = sector["shortfall"] * sector["product"].map(content).fillna(0.0)
        # one point per sector and month (several products, e.g. magnet grades, carry the element), and months
        # without shortfall kept at zero so the stacked areas do not interpolate across them
        grid = sector.pivot_table(index="date", columns="sector", values="content", aggfunc="sum")
        dates = sorted(set(grid.index) | set(shortfall["date"])) if "date" in shortfall else list(grid.index)
        grid = grid.reindex(dates).fillna(0.0)
        grid = grid.loc[:, grid.max() > 0]
        sector = grid.rename_axis(columns="sector").stack().rename("content").reset_index()
    else:
        sector = sector.assign(content=[])
    stocks = stocks[stocks["product"].map(lambda p: bool(content is not None and content.get(p, 0) > 0))]
    table = summary[summary["element"] == element].sort_values("max_shortfall_pct", ascending=False)
    figures = {
        "prices": charts.price_lines(prices, product or "(no price)", f"{info['scenario']}: ", _palette(ctx)),
        "shortfall": charts.shortfall_lines(shortfall, element, _palette(ctx)),
        "sectors": charts.sector_shortfall(sector, region, element, unit),
        "stocks": charts.stock_lines(stocks),
    }
    info = records(pd.DataFrame([info]))[0]
    return render(
        request, "results.html", title=f"Run {rid}", page="runs", info=info, element=element, elements=elements,
        region=region, regions=sorted(set(summary["region"])), summary=records(table), unit=unit,
        figures=figures, flags=records(flags), policies=records(policies),
    )  # fmt: skip


@router.get("/compare", response_class=HTMLResponse)
def compare(request: Request, a: str | None = None, b: str | None = None, element: str | None = None,
            region: str | None = None):  # fmt: skip
    ctx = _ctx(request)
    view = ctx.cursor()
    try:
        runs_table = list_runs(view).sort_values("started_at", ascending=False)
        ids = runs_table["run_id"].tolist()
        if not a or not b:
            return render(request, "compare.html", title="Compare runs", page="compare", runs=ids, a=a, b=b,
                          rows=None, element=element or "Dy", region=region or "JPN", regions=ctx.regions,
                          elements=ctx.elements)  # fmt: skip
        element = _choice(element, ctx.elements, "Dy", "element")
        region = _choice(region, ctx.regions, "JPN", "region")
        table = compare_runs(view, a, b)
        ra, rb = table["run_a"].iloc[0], table["run_b"].iloc[0]
        product = _price_product(run_summary(view, ra), element)
        pa = run_table(view, ra, "prices", region=region, product=product)[0] if product else NO_PRICES
        pb = run_table(view, rb, "prices", region=region, product=product)[0] if product else NO_PRICES
    except (RunNotFoundError, PageError) as exc:
        return _error(request, exc)
    finally:
        view.close()
    rows = records(table[table["element"] == element])
    return render(
        request, "compare.html", title="Compare runs", page="compare", runs=ids, a=ra, b=rb, rows=rows,
        element=element, region=region, regions=ctx.regions, elements=ctx.elements,
        figures={"prices": charts.compare_prices(pa, pb, ("A", "B"), product or "(no price)", region)},
    )  # fmt: skip


DEFAULT_RISK_MODEL = "china-controls"
SENSITIVITY_NOTE = (
    "This study has no sensitivity results (Morris or Sobol indices of its uncertain inputs), so the chart shows "
    "instead the CVaR95 of the shortfall by element: the mean shortfall of the worst 5% of draws, the elements "
    "the region should worry about most. The button below screens the model's annual probabilities (Morris "
    "elementary effects) for this region and element."
)


@router.get("/risk", response_class=HTMLResponse)
def risk(request: Request, model: str | None = None):
    ctx = _ctx(request)
    names = list(ctx.risk_files)
    try:
        model = _choice(model, names, DEFAULT_RISK_MODEL if DEFAULT_RISK_MODEL in names else "", "risk model")
    except PageError as exc:
        return _error(request, exc)
    view = ctx.cursor()
    try:
        studies = api.list_studies(view).sort_values("created_at", ascending=False)
    finally:
        view.close()
    models = [{"id": name, **api.describe_risk_model(ctx.risk_model(name)[0])} for name in names]
    jobs = [j.public() for j in ctx.risk_jobs.all() if j.status in ("queued", "running")]
    config = ctx.config
    return render(
        request, "risk.html", title="Risk studies", page="risk", studies=records(studies), models=models,
        model=model, jobs=jobs, samplers=list(api.SAMPLERS), engines=list(api.STUDY_ENGINES),
        max_draws=config.max_risk_draws, max_workers=config.max_risk_workers,
    )  # fmt: skip


@router.get("/risk/jobs/{job_id}", response_class=HTMLResponse)
def risk_job(request: Request, job_id: str):
    job = _ctx(request).risk_jobs.get(job_id)
    if job is None:
        return _error(request, PageError(404, f"no risk job {job_id!r} in this server process"))
    return _job_page(request, job)


def _job_page(request: Request, job) -> HTMLResponse:
    what = "Sensitivity screening" if job.kind == "sensitivity" else "Risk study"
    return render(request, "risk_job.html", title=f"{what} of {job.model}", page="risk", job=job.public())


def _study_tables(view, sid: str) -> dict[str, pd.DataFrame]:
    return {table: api.study_table(view, sid, table) for table in api.STUDY_TABLES}


@router.get("/risk/{study_id}", response_class=HTMLResponse)
def risk_study(request: Request, study_id: str, region: str | None = None, element: str | None = None):
    ctx = _ctx(request)
    view = ctx.cursor()
    try:
        sid = api.resolve_study(view, study_id)
        info = api.study_info(view, sid)
        tables = _study_tables(view, sid)
    except NotFoundError as exc:
        job = ctx.risk_jobs.get(study_id)
        if job is not None:  # a study still running: its progress
            return _job_page(request, job)
        return _error(request, exc)
    finally:
        view.close()
    measures = tables["measures"]
    regions = sorted(set(measures["region"]))
    elements = sorted(set(measures["element"]))
    try:
        region = _choice(region, regions, "JPN" if "JPN" in regions else regions[0], "region")
        element = _choice(element, elements, "Dy" if "Dy" in elements else elements[0], "element")
    except (PageError, IndexError) as exc:
        return _error(request, exc)
    palette = _palette(ctx)
    colour = palette.get(region, "#1f77b4")
    pct = measures[(measures["region"] == region) & (measures["loss"] == "shortfall_pct")]
    fan = tables["fan"]
    fan = fan[(fan["region"] == region) & (fan["element"] == element)]
    exceedance = tables["exceedance"]
    exceedance = exceedance[(exceedance["region"] == region) & (exceedance["loss"] == "shortfall_pct")]
    ranking = tables["ranking"]
    ranking = ranking[ranking["region"] == region].sort_values("rank")
    durations = tables["durations"]
    durations = durations[(durations["region"] == region) & (durations["element"] == element)]
    durations = durations.sort_values("column", key=lambda c: c.map({"tts_days": 0, "ttr_days": 1}))
    short = pct[pct["prob_any_shortfall"] > 0].sort_values(["cvar_95", "element"], ascending=[False, True])
    draws = info.get("draws")
    morris = ctx.morris(sid, region, element)
    screening = ctx.screenings[sid]["settings"] if morris is not None else None
    if morris is not None:
        title = f"{region} · {element}: Morris effects of the annual probabilities ({screening['draws']} draws)"
        sensitivity = charts.sensitivity_bars(morris, title)
    else:
        sensitivity = charts.cvar_bars(pct, region, colour)
    figures = {
        "fan": charts.risk_fan(fan, region, element, int(draws) if draws else None, colour),
        "exceedance": charts.exceedance_lines(exceedance, region),
        "sensitivity": sensitivity,
    }
    return render(
        request, "risk_study.html", title=f"Risk study of {info.get('model')}: {sid}", page="risk",
        info=records(pd.DataFrame([info]))[0], sid=sid, region=region, element=element, regions=regions,
        elements=elements, ranking=records(ranking),
        cvar=records(short), not_short=sorted(set(pct["element"]) - set(short["element"])),
        durations=records(durations), figures=figures, sensitivity_note=SENSITIVITY_NOTE,
        morris=records(morris) if morris is not None else None, screening=screening,
    )  # fmt: skip


PLAN_CARDS = (  # the headline numbers of a plan run: plans column, label, what it is
    ("objective_musd", "Objective", "the joint plan's E[cost] + λ·CVaR[cost] (public + second-stage cost)"),
    ("evpi_musd", "EVPI", "expected value of perfect information: what knowing the scenario in advance is worth"),
    ("vss_musd", "VSS", "value of the stochastic solution: the mean-value plan's objective less the joint plan's"),
    ("cvar_premium_musd", "CVaR premium", "expected cost paid for risk aversion: E[cost] at λ less at λ = 0"),
    ("joint_saving_musd", "Joint saving", "the stand-alone plans side by side less the joint plan"),
)


@router.get("/plans", response_class=HTMLResponse)
def plans(request: Request):
    ctx = _ctx(request)
    view = ctx.cursor()
    try:
        table = api.list_plans(view).sort_values("created_at", ascending=False)
    finally:
        view.close()
    jobs = [j.public() for j in ctx.plan_jobs.all() if j.status in ("queued", "running")]
    return render(request, "plans.html", title="Plans", page="plans", plans=records(table), jobs=jobs,
                  max_scenarios=ctx.config.max_plan_scenarios)  # fmt: skip


@router.get("/plans/{plan_id}", response_class=HTMLResponse)
def plan(request: Request, plan_id: str):
    ctx = _ctx(request)
    view = ctx.cursor()
    try:
        info = api.plan_info(view, plan_id)
        pid = info["plan_id"]
        tables = {table: api.read_plan_table(view, pid, table) for table in api.PLAN_TABLES}
    except NotFoundError as exc:
        return _error(request, exc)
    finally:
        view.close()
    joint = "+".join(sorted(info["players"].split("+")))
    portfolio = tables["portfolio"]
    portfolio = portfolio[portfolio["coalition"] == joint]
    coalitions = tables["coalitions"].set_index("coalition")
    no_plan = float(coalitions.loc["none", "objective_musd"]) if "none" in coalitions.index else None
    cards = [{"key": key, "label": label, "meaning": meaning, "value": info[key]} for key, label, meaning in PLAN_CARDS]
    figures = {
        "frontier": charts.plan_frontier(tables["frontier"], info["risk_weight"], info["alpha"]),
        "waterfall": charts.plan_waterfall(no_plan, tables["shapley"], info["objective_musd"]),
    }
    return render(
        request, "plan.html", title=f"Plan {info['name']}: {pid}", page="plans", info=info, pid=pid, joint=joint,
        cards=cards, portfolio=records(portfolio), shortlist=records(tables["shortlist"]),
        shapley=records(tables["shapley"]), coalitions=records(tables["coalitions"]), figures=figures,
    )  # fmt: skip


TRADE_DEFAULTS = ("2025-08-06", "2025-10-01")  # the bundled deal's regimes: before the talks, after the deal
BUNDLED_DEAL = "us-japan-2025"


def _day(value: str | None, default: str, what: str) -> str:
    value = value or default
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise PageError(422, f"{what} {value!r} is not a date (YYYY-MM-DD)") from None


@router.get("/trade", response_class=HTMLResponse)
def trade(request: Request, date: str | None = None, against: str | None = None, deal_only: str | None = None):
    """GSIM on the bundled trade world between two dates: welfare per country and the arcs that changed. With no
    dates given, the bundled deal's regimes, deal arcs only."""
    ctx = _ctx(request)
    try:
        after, before = _day(date, TRADE_DEFAULTS[1], "date"), _day(against, TRADE_DEFAULTS[0], "against")
    except PageError as exc:
        return _error(request, exc)
    only = deal_only is not None if date is not None else True  # a first visit shows the deal alone
    between = ("USA", "JPN") if only else None
    run = ctx.trade_run(dt.date.fromisoformat(before), dt.date.fromisoformat(after), between)
    scope = "USA-JPN arcs only" if only else "every arc"
    figures = {"welfare": charts.trade_welfare(run.welfare, after, before, scope)}
    return render(
        request, "trade.html", title="Trade: tariff regimes compared (GSIM)", page="trade", date=after,
        against=before, deal_only=only, scope=scope, flows=records(changed_flows(run.flows)),
        welfare=records(run.welfare), head=headline(run.flows), world=run.world, figures=figures,
    )  # fmt: skip


@router.get("/deals", response_class=HTMLResponse)
def deals(request: Request):
    ctx = _ctx(request)
    jobs = sorted((j.public() for j in ctx.deal_jobs.all()), key=lambda j: j["submitted_at"], reverse=True)
    path = ctx.deal_files.get(BUNDLED_DEAL)
    text = path.read_text(encoding="utf-8") if path else None
    return render(request, "deals.html", title="Deals", page="deals", jobs=jobs, bundled=BUNDLED_DEAL,
                  deal_text=text)  # fmt: skip


@router.post("/deals", response_class=HTMLResponse)
def run_bundled_deal(request: Request):
    """Value the bundled deal (deals/us-japan-2025.yaml) as a job, then follow it."""
    ctx = _ctx(request)
    path = ctx.deal_files.get(BUNDLED_DEAL)
    if path is None:
        return _error(request, PageError(404, f"the bundled deal {BUNDLED_DEAL!r} is not installed"))
    try:
        job = submit_deal(ctx, path.read_text(encoding="utf-8"))
    except HTTPException as exc:
        message = "; ".join(d["msg"] for d in exc.detail) if isinstance(exc.detail, list) else str(exc.detail)
        return _error(request, PageError(exc.status_code, message))
    return RedirectResponse(f"/deals/jobs/{job['job_id']}", status_code=303)


@router.get("/deals/jobs/{job_id}", response_class=HTMLResponse)
def deal_job(request: Request, job_id: str):
    ctx = _ctx(request)
    job = ctx.deal_jobs.get(job_id)
    if job is None:
        return _error(request, PageError(404, f"no deal job {job_id!r}"))
    info = job.public()
    result, figures = info["result"], {}
    if info["status"] == "done" and result:
        sides, distribution = pd.DataFrame(result["sides"]), pd.DataFrame(result["distribution"])
        figures = {"sides": charts.deal_sides(sides, result["deal"]),
                   "distribution": charts.deal_distribution(distribution, sides)}  # fmt: skip
    return render(request, "deal.html", title=f"Deal {info['deal']}: job {job_id}", page="deals", job=info,
                  result=result, figures=figures)  # fmt: skip


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request):
    return render(request, "login.html", title="Sign in", page="login", failed=False)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request):
    token = _ctx(request).config.token
    given = parse_qs((await request.body()).decode("utf-8", "replace")).get("token", [""])[0]
    attempts = _ctx(request).attempts
    client = request.client.host if request.client else "unknown"
    if token is None or tokens_match(given, token):
        attempts.succeeded(client)
        response = RedirectResponse("/", status_code=303)
        if token is not None:
            response.set_cookie(TOKEN_COOKIE, given, httponly=True, samesite="strict")
        return response
    await asyncio.sleep(attempts.failed(client))  # guessing gets slower with every wrong token
    response = render(request, "login.html", title="Sign in", page="login", failed=True)
    response.status_code = 401
    return response
