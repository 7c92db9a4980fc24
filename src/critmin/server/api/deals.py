"""Trade and deals: GSIM between two dates of the bundled trade world's tariff schedules (synchronous: it solves
in well under a second), and a posted deal valued per side as a job (progress by phase, cancel). A finished
deal's result is kept in its job (JSON, for the life of the server process), not stored. Money in MUSD (deals:
MUSD per year)."""

from __future__ import annotations

import datetime as dt
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

import yaml
from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from critmin import api
from critmin.api import DealError, PlanError
from critmin.server.api.common import context
from critmin.server.api.plans import check_posted_plan
from critmin.server.api.scenarios import JOB_ID_PATTERN, MAX_YAML_CHARS
from critmin.server.context import AppContext
from critmin.server.deal_support import trade_payload
from critmin.server.errors import COMMON_ERRORS, api_error, error_responses, problem_details
from critmin.server.jobs import QueueFullError

router = APIRouter(tags=["trade and deals"], responses=COMMON_ERRORS)
NOT_FOUND = error_responses(404)
DEAL_JOBS = "/api/deals/jobs"


# --- models ---------------------------------------------------------------------------------------------------


class TradeAnswer(BaseModel):
    """GSIM between two tariff regimes of the bundled trade world. Tables as records; ``units`` says what each
    column is in (MUSD, %)."""

    world: str
    date: str = Field(description="The regime evaluated (ISO date).")
    against: str = Field(description="The baseline regime (ISO date).")
    between: list[str] | None = Field(description="Only the arcs among these countries moved (null: every arc).")
    headline: dict[str, Any] | None = Field(description="Japan -> USA passenger vehicles: its row of flows.")
    units: dict[str, str]
    flows: list[dict[str, Any]] = Field(description="importer, exporter, good, rate_before_pct, rate_after_pct, "
                                        "flow_before_musd, flow_after_musd, change_musd, change_pct, creation_musd, "
                                        "diversion_musd.")  # fmt: skip
    prices: list[dict[str, Any]] = Field(description="exporter, good, world_price_pct.")
    welfare: list[dict[str, Any]] = Field(description="country, consumer_surplus_musd, producer_surplus_musd, "
                                          "revenue_musd, total_musd.")  # fmt: skip
    revenue: list[dict[str, Any]] = Field(description="importer, revenue_before_musd, revenue_after_musd.")


class DealRequest(BaseModel):
    """A deal as YAML text (the format of deals/*.yaml, docs/deals.md). Its ``plan`` must name a bundled plan
    (``us-japan-2025``, ``us-japan-2025.yaml`` or a path ending in it, such as ``../plans/us-japan-2025.yaml``)
    unless ``plan_yaml`` is posted with it: then that plan is used (validated as POST /api/plans validates a
    plan: its risk model must be bundled, its scenarios and horizon within this server's limits). Its
    ``trade_world`` must be empty (the bundled one): a posted deal cannot make the server read other files."""

    model_config = ConfigDict(extra="forbid")
    deal_yaml: str = Field(..., min_length=1, max_length=MAX_YAML_CHARS, description="Deal YAML text.")
    plan_yaml: str | None = Field(None, min_length=1, max_length=MAX_YAML_CHARS,
                                  description="Plan YAML text the deal uses instead of a bundled plan.")  # fmt: skip


class DealJobInfo(BaseModel):
    job_id: str
    deal: str = Field(description="The deal's name.")
    status: str = Field(description="queued, running, done, failed or cancelled")
    phase: str | None = Field(description="What the valuation is doing: scenarios (sampled), deal (scenarios "
                              "valued with and without the measures).")  # fmt: skip
    done_items: int = Field(description="Items of the phase done so far.")
    total_items: int | None = Field(description="Items of the phase.")
    result: dict[str, Any] | None = Field(
        description="Once done: deal, before, after, tariff_scope, plan, risk_model, scenarios_count, measures, "
        "units, sides (per side: tariff_relief, security_expected, security_cvar, measures_cost, net, "
        "allied_purchases in MUSD/yr, break_even_premium_pct), distribution (side x quantile of the security value "
        "beside the tariff relief, MUSD/yr), scenarios (probability, each side's shortfall cost without and with the "
        "measures, MUSD over the horizon), headline, welfare (GSIM per country, MUSD) and flows (the arcs that "
        "changed, MUSD and %). Kept in the job, not stored."
    )
    error: str | None
    submitted_at: str
    started_at: str | None
    finished_at: str | None
    wall_s: float | None = Field(description="Seconds from start to finish.")


# --- helpers --------------------------------------------------------------------------------------------------


def _line_of(text: str, key: str) -> int | None:
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith(f"{key}:") or line.startswith(f"{key} :"):
            return number
    return None


def _problem(text: str, key: str, msg: str, kind: str, field: str | None = None) -> HTTPException:
    field = field or key
    entry = {"loc": ["body", "deal_yaml", *field.split(".")], "msg": msg, "type": kind,
             "line": _line_of(text, key), "field": field}  # fmt: skip
    return HTTPException(status_code=422, detail=[entry])


def _bundled_plan(ctx: AppContext, value: str, text: str):
    """The bundled plan a posted deal's ``plan`` names (its file name, folders ignored)."""
    for name in {PurePosixPath(value).name, PureWindowsPath(value).name}:
        stem = name[: -len(".yaml")] if name.endswith(".yaml") else name
        if stem in ctx.plan_files:
            return ctx.plan_files[stem]
    msg = (f"{value!r} is not a bundled plan; a posted deal names one of: {', '.join(ctx.plan_files)}, or posts "
           "its plan as plan_yaml")  # fmt: skip
    raise _problem(text, "plan", msg, "unknown_plan")


def check_posted_deal(ctx: AppContext, text: str, plan_text: str | None):
    """A posted deal validated, with its plan (bundled, or posted and validated as POST /api/plans does); its
    sides, measures and countries checked against the plan and the trade world before it is queued. Returns
    (deal, payload for the job). Raises a 422."""
    try:
        deal = api.parse_deal(text, "<yaml>")
    except DealError as exc:
        detail = problem_details(exc.problems, ["body", "deal_yaml"])
        for entry in detail:
            entry["type"] = "deal_error"
        raise HTTPException(status_code=422, detail=detail) from None
    if deal.trade_world:
        raise _problem(text, "trade_world", "a posted deal uses the bundled trade world: leave trade_world empty",
                       "not_bundled")  # fmt: skip
    if plan_text is not None:
        plan = check_posted_plan(ctx, plan_text)
        data = yaml.safe_load(plan_text)
        data["risk_model"] = plan.risk_model  # the bundled file
        payload = {"plan_text": yaml.safe_dump(data, sort_keys=False, allow_unicode=True)}
        deal = deal.model_copy(update={"plan": "<plan_yaml>"})
    else:
        path = _bundled_plan(ctx, deal.plan, text)
        try:
            plan = api.load_plan(path, ctx.world)
        except PlanError as exc:  # a bundled file that does not fit the served world
            raise _problem(text, "plan", str(exc), "plan_error") from None
        payload = {}
        deal = deal.model_copy(update={"plan": str(path)})
    players = [p.id for p in plan.players]
    options = [o.id for o in plan.options]
    countries = ctx.trade_world().country_ids
    for i, side in enumerate(deal.sides):
        if side.id not in players:
            raise _problem(text, "sides", f"{side.id!r} is not a player of the plan ({', '.join(players)})",
                           "unknown_player", f"sides.{i}.id")  # fmt: skip
        if side.country not in countries:
            raise _problem(text, "sides", f"{side.country!r} is not a country of the trade world "
                           f"({', '.join(countries)})", "unknown_country", f"sides.{i}.country")  # fmt: skip
    for i, measure in enumerate(deal.measures):
        if measure.option not in options:
            raise _problem(text, "measures", f"unknown option {measure.option!r}; the plan has: {', '.join(options)}",
                           "unknown_option", f"measures.{i}.option")  # fmt: skip
    for problem in api.check_measures(deal, plan)[:1]:  # instruments and modules, as the valuation checks them
        raise _problem(text, "measures", problem.reason, "bad_measure", problem.column)
    return deal, payload


def _job(ctx: AppContext, job_id: str):
    job = ctx.deal_jobs.get(job_id)
    if job is None:
        raise api_error(404, ["path", "job_id"], f"no deal job {job_id!r}")
    return job


def submit_deal(ctx: AppContext, deal_yaml: str, plan_yaml: str | None = None) -> dict:
    """Validate and queue a deal (the REST route and the dashboard's run button); the job's public fields."""
    deal, payload = check_posted_deal(ctx, deal_yaml, plan_yaml)
    try:
        return ctx.deal_jobs.submit(deal, payload).public()
    except QueueFullError as exc:
        raise api_error(429, ["body"], str(exc), "queue_full") from None


# --- routes ---------------------------------------------------------------------------------------------------

ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"


def _iso_date(value: str | None, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise api_error(422, ["query", name], f"{value!r} is not a date (YYYY-MM-DD)") from None


@router.get("/api/trade", response_model=TradeAnswer, summary="GSIM between two tariff regimes (bundled world)")
def trade(
    date: str | None = Query(
        None, pattern=ISO_DATE, description="The regime evaluated (YYYY-MM-DD) [default: today]."
    ),
    against: str | None = Query(
        None,
        pattern=ISO_DATE,
        description="The baseline regime (YYYY-MM-DD) [default: the last day of the flows' year].",
    ),
    between: list[str] | None = Query(
        None,
        description="Only the arcs among these countries move to the later regime (repeat: "
        "between=USA&between=JPN, the deal alone); empty: every arc.",
    ),
    ctx: AppContext = Depends(context),
):
    """GSIM (Armington partial equilibrium, docs/deals.md) on the bundled US-Japan 2025 trade world from the
    tariffs in force on ``against`` to those in force on ``date``: the headline (Japan -> USA passenger vehicles),
    every flow (before, after, change, trade creation and diversion; MUSD, %), world price changes (%), welfare
    per country (consumer and producer surplus, tariff revenue; MUSD) and revenue per importer (MUSD). 422 on a
    date that is not YYYY-MM-DD or a country not in the trade world."""
    # dates as YYYY-MM-DD text, parsed here: a typed date would also take a timestamp such as 0 (1970-01-01)
    date, against = _iso_date(date, "date"), _iso_date(against, "against")
    world = ctx.trade_world()
    chosen = tuple(dict.fromkeys(between)) if between else None
    if chosen:
        unknown = [c for c in chosen if c not in world.country_ids]
        if unknown:
            raise api_error(422, ["query", "between"], f"unknown country {unknown[0]!r}; the trade world has: "
                            f"{', '.join(world.country_ids)}")  # fmt: skip
    run = ctx.trade_run(against, date or dt.date.today(), chosen)  # today resolved here: the runs are cached
    return trade_payload(run, list(chosen) if chosen else None)


@router.post(
    "/api/deals",
    response_model=DealJobInfo,
    status_code=202,
    responses=error_responses(400, 413, 429),
    summary="Value a deal per side (returns a job)",
)
def submit(body: DealRequest, ctx: AppContext = Depends(context)):
    """Queues a deal valuation: its tariff relief per side (GSIM welfare between its two regimes, only the arcs
    between the sides with ``tariff_scope: sides``), the security value of its measures (the side's shortfall
    cost saved over the plan's scenarios: expectation, CVaR reduction and quantiles), the measures' cost and the
    break-even ally premium (docs/deals.md). Poll GET /api/deals/jobs/{job_id}; when done the job carries the
    result itself. 422 when the YAML has problems (each with its line and field), its plan is not bundled and no
    plan_yaml is posted, the posted plan fails POST /api/plans's checks, its trade_world is set, or its sides and
    measures do not fit the plan."""
    return submit_deal(ctx, body.deal_yaml, body.plan_yaml)


@router.get(DEAL_JOBS, response_model=list[DealJobInfo], summary="Deal jobs of this server process")
def list_jobs(ctx: AppContext = Depends(context)):
    return [j.public() for j in ctx.deal_jobs.all()]


@router.get(f"{DEAL_JOBS}/{{job_id}}", response_model=DealJobInfo, responses=NOT_FOUND, summary="A deal job")
def get_job(job_id: str = Path(..., pattern=JOB_ID_PATTERN), ctx: AppContext = Depends(context)):
    """The job's progress; once done, its ``result`` (JSON)."""
    return _job(ctx, job_id).public()


@router.delete(
    f"{DEAL_JOBS}/{{job_id}}", response_model=DealJobInfo, responses=NOT_FOUND, summary="Cancel a queued or "
    "running deal valuation"
)  # fmt: skip
def cancel_job(job_id: str = Path(..., pattern=JOB_ID_PATTERN), ctx: AppContext = Depends(context)):
    """The job, cancelled (a running valuation stops at its next progress report)."""
    _job(ctx, job_id)
    return ctx.deal_jobs.cancel(job_id).public()
