"""Plans: a posted plan (YAML text, docs/plan.md) run as a job (progress by phase, cancel), and the stored plan
runs' records and tables (portfolio, coalitions, options, shapley, scenarios, frontier, shortlist). Money in MUSD
throughout; second-stage costs relative to the no-event scenario without a plan."""

from __future__ import annotations

import os
import re
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from critmin import api
from critmin.api import PLAN_TABLES, PlanError
from critmin.server.api.common import RUN_ID_PATTERN, OutputFormat, Page, context, records
from critmin.server.api.risk import _read, plain
from critmin.server.api.scenarios import JOB_ID_PATTERN, MAX_YAML_CHARS
from critmin.server.context import AppContext
from critmin.server.errors import COMMON_ERRORS, CSV_OR_JSON, api_error, error_responses, problem_details
from critmin.server.jobs import QueueFullError

router = APIRouter(prefix="/api/plans", tags=["plans"], responses=COMMON_ERRORS)
NOT_FOUND = error_responses(404)
TABULAR = {**CSV_OR_JSON, **error_responses(404)}
PlanTableName = Literal[tuple(PLAN_TABLES)]  # type: ignore[valid-type]
TABLE_NAMES = ", ".join(PLAN_TABLES)
MAX_STEPS_PER_SCENARIO = 8  # scenario-steps a posted plan may ask for: max_plan_scenarios x this
MAX_PLAYERS = 4  # every one of the 2^players coalitions is solved
PLAN_ID = Path(..., pattern=RUN_ID_PATTERN, description="Plan id, a unique prefix of one, or 'latest'.")

MUSD = "MUSD"
# What each column's numbers are in (every *_musd column is MUSD: second-stage costs relative to the no-event
# scenario without a plan; public cost the instruments' present value).
FIXED_UNITS = {
    "wall_s": "s",
    "created_at": "UTC time",
    "scenarios": "count of scenarios",
    "risk_weight": "- (λ, the weight on CVaR)",
    "alpha": "- (the CVaR level α, 0-1)",
    "probability": "probability (0-1)",
    "draws": "count of disruption draws merged into the scenario",
    "gap": "- (relative: (objective - bound) / max(|objective|, 1 MUSD))",
    "value_per_musd": "MUSD saved per MUSD of public cost",
    "modules": "modules",
    "modules_max": "modules",
    "size": "count of players",
    "iterations": "count of L-shaped iterations",
    "rank": "1 = the best value per MUSD",
    "first_output": "date (ISO) of the first output",
    "superadditive": "true when no coalition saves less than its parts apart",
}


def units_of(columns) -> dict[str, str]:
    """Column -> unit for the numeric (and dated) columns of a plan table or record."""
    out = {}
    for column in columns:
        if str(column).endswith("_musd"):
            out[column] = MUSD
        elif column in FIXED_UNITS:
            out[column] = FIXED_UNITS[column]
    return out


# --- models ---------------------------------------------------------------------------------------------------


class PlanRequest(BaseModel):
    """A plan as YAML text (the format of plans/*.yaml, docs/plan.md). Its ``risk_model`` must name a bundled
    disruption model (``china-controls``, ``china-controls.yaml`` or a path ending in it, such as
    ``../risks/china-controls.yaml``): a posted plan cannot make the server read other files."""

    model_config = ConfigDict(extra="forbid")
    plan_yaml: str = Field(..., min_length=1, max_length=MAX_YAML_CHARS, description="Plan YAML text.")
    rerun: bool = Field(False, description="Run again even if this plan (same text, model and data) is stored.")


class PlanJobInfo(BaseModel):
    job_id: str
    plan: str = Field(description="The plan's name.")
    status: str = Field(description="queued, running, done, failed or cancelled")
    phase: str | None = Field(description="What the run is doing: scenarios, coalitions, measures, options, "
                              "frontier, storing; stored once done.")  # fmt: skip
    done_items: int = Field(description="Items of the phase done so far (scenarios sampled, coalitions solved...).")
    total_items: int | None = Field(description="Items of the phase.")
    plan_id: str | None = Field(description="The stored plan run once done.")
    error: str | None
    submitted_at: str
    started_at: str | None
    finished_at: str | None
    wall_s: float | None = Field(description="Seconds from start to finish.")


class PlanPage(Page):
    """A page of a plan table's records, with what each numeric column is in."""

    units: dict[str, str] = Field(description="Column -> unit (or meaning).")


class PlanRecord(BaseModel):
    """A stored plan run: its record (the ``plans`` row), every table as records, and the units."""

    plan: dict[str, Any] = Field(
        description="plan_id, name, plan_yaml, risk_model, data_version, created_at, wall_s, scenarios, players, "
        "risk_weight, alpha, objective_musd, evpi_musd, vss_musd, cvar_premium_musd, joint_saving_musd, "
        "superadditive, violations."
    )
    tables: dict[str, list[dict[str, Any]]] = Field(description="Table name -> its records.")
    units: dict[str, dict[str, str]] = Field(description="'plan' and each table -> column -> unit.")


# --- helpers --------------------------------------------------------------------------------------------------


def _line_of(text: str, key: str) -> int | None:
    """The line (1-based) of a top-level ``key:`` in the YAML text."""
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(rf"{re.escape(key)}\s*:", line):
            return number
    return None


def _problem(text: str, key: str, msg: str, kind: str) -> HTTPException:
    entry = {"loc": ["body", "plan_yaml", key], "msg": msg, "type": kind, "line": _line_of(text, key), "field": key}
    return HTTPException(status_code=422, detail=[entry])


def _bundled_risk_model(ctx: AppContext, value: str, text: str) -> str:
    """The bundled disruption model a posted plan's ``risk_model`` names (its file name, folders ignored)."""
    names = {PurePosixPath(value).name, PureWindowsPath(value).name}
    for name in names:
        stem = name[: -len(".yaml")] if name.endswith(".yaml") else name
        if stem in ctx.risk_files:
            return stem
    msg = (f"{value!r} is not a bundled disruption model; a posted plan names one of: {', '.join(ctx.risk_files)} "
           "(see GET /api/risk/models)")  # fmt: skip
    raise _problem(text, "risk_model", msg, "unknown_risk_model")


def check_posted_plan(ctx: AppContext, text: str):
    """A posted plan's YAML text validated (against the served world), its risk model a bundled disruption model
    and within this server's limits on scenarios and horizon; the plan with ``risk_model`` set to the bundled
    file. Raises a 422 (each problem with its line and field, under ``body.plan_yaml``)."""
    config = ctx.config
    try:
        plan = api.parse_plan(text, "<yaml>", ctx.world)
    except PlanError as exc:
        detail = problem_details(exc.problems, ["body", "plan_yaml"])
        for entry in detail:
            entry["type"] = "plan_error"
        raise HTTPException(status_code=422, detail=detail) from None
    model = _bundled_risk_model(ctx, plan.risk_model, text)
    if plan.scenarios > config.max_plan_scenarios:
        msg = f"{plan.scenarios:,} scenarios is over this server's limit of {config.max_plan_scenarios:,} per plan"
        raise _problem(text, "scenarios", msg, "too_many_scenarios")
    if plan.years * 12 > config.max_run_months:
        msg = f"{plan.years * 12} months is over this server's limit of {config.max_run_months}"
        raise _problem(text, "years", msg, "too_long")
    # the work grows with scenarios x planning steps (each a copy of the step LP) and 2^players coalitions
    steps = plan.years * 12 // plan.step_months
    if plan.scenarios * steps > config.max_plan_scenarios * MAX_STEPS_PER_SCENARIO:
        msg = (f"{plan.scenarios:,} scenarios x {steps} steps is over this server's limit of "
               f"{config.max_plan_scenarios * MAX_STEPS_PER_SCENARIO:,} scenario-steps (use longer step_months)")
        raise _problem(text, "step_months", msg, "too_many_steps")
    if len(plan.players) > MAX_PLAYERS:
        raise _problem(text, "players", f"{len(plan.players)} players is over this server's limit of {MAX_PLAYERS} "
                       "(every coalition is solved)", "too_many_players")  # fmt: skip
    if plan.threads > (os.cpu_count() or 1):
        raise _problem(text, "threads", f"threads {plan.threads} is over this server's {os.cpu_count()} cores",
                       "too_many_threads")  # fmt: skip
    ctx.risk_model(model)  # the bundled model, validated against the served world (cached)
    return plan.model_copy(update={"risk_model": str(ctx.risk_files[model])})


def _job(ctx: AppContext, job_id: str):
    job = ctx.plan_jobs.get(job_id)
    if job is None:
        raise api_error(404, ["path", "job_id"], f"no plan job {job_id!r}")
    return job


def _frame(frame: pd.DataFrame, fmt: OutputFormat, units: dict[str, str], *, total=None, limit=None, offset=0):
    if fmt == "csv":
        return Response(frame.to_csv(index=False), media_type="text/csv; charset=utf-8")
    total = len(frame) if total is None else total
    return {"records": records(frame), "total": total, "limit": limit, "offset": offset, "units": units}


def stored_plan(view, plan_id: str) -> tuple[dict, dict[str, pd.DataFrame]]:
    """A stored plan's record and every table (``plan_id`` an id, unique prefix or ``latest``)."""
    info = api.plan_info(view, plan_id)
    return info, {table: api.read_plan_table(view, info["plan_id"], table) for table in PLAN_TABLES}


# --- routes ---------------------------------------------------------------------------------------------------


@router.post(
    "",
    response_model=PlanJobInfo,
    status_code=202,
    responses=error_responses(400, 413, 429),
    summary="Run a plan (returns a job)",
)
def submit(body: PlanRequest, ctx: AppContext = Depends(context)):
    """Queues a plan run: every coalition of its players solved against its disruption model's scenarios, the
    value measures (EVPI, VSS, CVaR premium), the Shapley split, the options' marginal values and the cost-risk
    frontier. Poll GET /api/plans/jobs/{job_id} (progress by phase); when done the job carries the stored plan's
    id. A plan already stored (same text, disruption model and data version) is not run again unless ``rerun``.
    422 when the YAML has problems (each with its line and field), its risk model is not bundled, or its
    scenarios or horizon are over this server's limits."""
    text = body.plan_yaml
    plan = check_posted_plan(ctx, text)
    try:
        return ctx.plan_jobs.submit(plan, {"plan_text": text, "rerun": body.rerun}).public()
    except QueueFullError as exc:
        raise api_error(429, ["body"], str(exc), "queue_full") from None


@router.get("/jobs", response_model=list[PlanJobInfo], summary="Plan jobs of this server process")
def list_jobs(ctx: AppContext = Depends(context)):
    return [j.public() for j in ctx.plan_jobs.all()]


@router.get("/jobs/{job_id}", response_model=PlanJobInfo, responses=NOT_FOUND, summary="A plan job's progress")
def get_job(job_id: str = Path(..., pattern=JOB_ID_PATTERN), ctx: AppContext = Depends(context)):
    return _job(ctx, job_id).public()


@router.delete(
    "/jobs/{job_id}", response_model=PlanJobInfo, responses=NOT_FOUND, summary="Cancel a queued or running plan"
)
def cancel_job(job_id: str = Path(..., pattern=JOB_ID_PATTERN), ctx: AppContext = Depends(context)):
    """The job, cancelled (a running plan stops at its next progress report: it is not stored)."""
    _job(ctx, job_id)
    return ctx.plan_jobs.cancel(job_id).public()


@router.get("", response_model=PlanPage, responses=CSV_OR_JSON, summary="Stored plan runs")
def plans(fmt: OutputFormat = Query("json"), ctx: AppContext = Depends(context)):
    """Records {plan_id, name, created_at, wall_s, scenarios, players, risk_weight, objective_musd, evpi_musd,
    vss_musd, cvar_premium_musd, joint_saving_musd, superadditive}, oldest first; money in MUSD."""
    frame = _read(ctx, [], api.list_plans)
    return _frame(frame, fmt, units_of(frame.columns))


@router.get("/{plan_id}", response_model=PlanRecord, responses=NOT_FOUND, summary="A plan run: record and tables")
def plan(plan_id: str = PLAN_ID, ctx: AppContext = Depends(context)):
    """{plan: the run's record (the plan's YAML, the headline numbers: objective, EVPI, VSS, CVaR premium and
    joint saving in MUSD, superadditive and its violations), tables: every table as records (portfolio,
    coalitions, options, shapley, scenarios, frontier, shortlist), units: per table, what each column is in}."""
    info, tables = _read(ctx, ["path", "plan_id"], stored_plan, plan_id)
    return {
        "plan": plain(info),
        "tables": {table: records(frame) for table, frame in tables.items()},
        "units": {"plan": units_of(info), **{table: units_of(frame.columns) for table, frame in tables.items()}},
    }


@router.get("/{plan_id}/{table}", response_model=PlanPage, responses=TABULAR, summary="One table of a plan run")
def plan_table(
    plan_id: str = PLAN_ID,
    table: PlanTableName = Path(..., description=TABLE_NAMES),
    limit: int = Query(100_000, ge=1, le=100_000, description="Rows per page."),
    offset: int = Query(0, ge=0, le=10_000_000),
    fmt: OutputFormat = Query("json"),
    ctx: AppContext = Depends(context),
):
    """portfolio: every coalition's modules by option and instrument, with public cost. coalitions: each
    coalition's objective, E[cost], CVaR, public cost, saving over no plan, bound and gap. options: every option's
    modules, instrument, cost per module, marginal value per MUSD, first output. shapley: each player's share of
    the grand coalition's saving. scenarios: probability, second-stage cost without and with the joint plan.
    frontier: the joint plan for each λ (expected cost and CVaR). shortlist: the joint plan's options by value per
    MUSD. Money in MUSD; ``units`` says what each column is in."""
    frame = _read(ctx, ["path", "plan_id"], api.read_plan_table, plan_id, table)
    total = len(frame)
    limit = min(limit, ctx.config.max_page_rows)
    page = frame.iloc[offset : offset + limit].reset_index(drop=True)
    return _frame(page, fmt, units_of(frame.columns), total=total, limit=limit, offset=offset)
