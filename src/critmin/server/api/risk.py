"""Risk: the bundled disruption models, studies submitted as jobs (progress in draws, cancel), and the stored
studies' tables (risk measures, element ranking, price fan charts, exceedance curves, durations) and
comparison."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Literal

import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from critmin import api
from critmin.api import SAMPLERS, STUDY_ENGINES, STUDY_TABLES, NotFoundError, RiskModelError
from critmin.server.api.common import (
    ID_PATTERN,
    RUN_ID_PATTERN,
    SCENARIO_NAME_PATTERN,
    OutputFormat,
    Page,
    check_member,
    context,
    records,
)
from critmin.server.api.scenarios import JOB_ID_PATTERN, MAX_YAML_CHARS
from critmin.server.context import AppContext
from critmin.server.errors import COMMON_ERRORS, CSV_OR_JSON, api_error, error_responses, problem_details
from critmin.server.jobs import QueueFullError

router = APIRouter(prefix="/api/risk", tags=["risk"], responses=COMMON_ERRORS)
NOT_FOUND = error_responses(404)
TABULAR = {**CSV_OR_JSON, **error_responses(404)}
StudyTableName = Literal[tuple(STUDY_TABLES)]  # type: ignore[valid-type]
Sampler = Literal[tuple(SAMPLERS)]  # type: ignore[valid-type]
Engine = Literal[tuple(STUDY_ENGINES)]  # type: ignore[valid-type]
STUDY_ID = Path(..., pattern=RUN_ID_PATTERN, description="Study id or a unique prefix of one.")

# What each table's numbers are in. "the row's unit" points to the table's own ``unit`` column (a shortfall in
# % of baseline demand or in the element's unit, a cost in USD, a duration in days).
PROBABILITY = "probability (0-1)"
ROW_UNIT = "the row's unit (its unit column)"
RATIO = "ratio: the month's price over the baseline path's price in the same month"
TABLE_UNITS: dict[str, dict[str, str]] = {
    "measures": {
        "draws": "count of draws",
        "weight": "sum of the draws' importance weights",
        "expected_loss": ROW_UNIT,
        "prob_any_shortfall": PROBABILITY,
        **dict.fromkeys(("var_95", "cvar_95", "var_99", "cvar_99"), ROW_UNIT),
    },
    "ranking": {
        "expected_cost": ROW_UNIT,
        "share": "share of the region's expected cost over all elements",
        "rank": "1 = the costliest element",
        "on_reference_list": "true when the element is on the reference list (the USGS 2025 top supply risks)",
    },
    "fan": {
        **dict.fromkeys(("mean", "q05", "q25", "q50", "q75", "q95"), RATIO),
        "baseline_price_usd_per_kg": "USD/kg",
    },
    "exceedance": {"level": ROW_UNIT, "exceedance_prob": f"{PROBABILITY} that the loss exceeds the level"},
    "durations": {
        "draws": "count of draws",
        "share_defined": "share of the draws' weight where the duration is defined (the region is ever short)",
        **dict.fromkeys(("mean", "min", "q05", "q25", "q50", "q75", "q95", "max"), ROW_UNIT),
    },
}
LOSS_UNITS = {"shortfall_pct": "% of baseline demand", "shortfall_t": "t"}  # where the measures lack a cell


# --- models ---------------------------------------------------------------------------------------------------


class RiskEvent(BaseModel):
    id: str
    type: str
    probability: float = Field(description="Annual probability that it starts on its own (0-1).")
    elements: list[str]
    description: str


class RiskCause(BaseModel):
    id: str
    probability: float = Field(description="Annual probability (0-1).")
    events: list[str]


class RiskModelInfo(BaseModel):
    id: str = Field(description="The bundled model's id (its file name without .yaml).")
    name: str
    description: str
    start: str = Field(description="First day of the horizon (ISO date).")
    end: str = Field(description="Last day of the horizon (ISO date).")
    years: int
    months: int
    events: int = Field(description="Number of events.")
    causes: int = Field(description="Number of common causes.")
    elements: list[str]
    event_types: list[str]


class BundledRiskModel(RiskModelInfo):
    yaml: str
    event_list: list[RiskEvent]
    cause_list: list[RiskCause]


class StudyRequest(BaseModel):
    """Exactly one of ``model`` (a bundled model's id) or ``model_yaml`` (disruption-model YAML text)."""

    model_config = ConfigDict(extra="forbid")
    model: str | None = Field(None, pattern=SCENARIO_NAME_PATTERN, description="Bundled risk model id.")
    model_yaml: str | None = Field(
        None, min_length=1, max_length=MAX_YAML_CHARS, description="Disruption-model YAML text."
    )
    draws: int = Field(1000, ge=1, le=10_000_000, description="Monte Carlo draws (capped by the server).")
    seed: int = Field(0, ge=0, le=2**63 - 1, description="Seed: the same seed gives the same study.")
    sampler: Sampler = Field("mc", description="mc (seeded per draw), lhs or sobol.")
    engine: Engine = Field("fast", description="fast (batch) or exact (every draw through the LP engine).")
    workers: int | None = Field(None, ge=1, le=1024, description="Worker processes (capped by the server).")
    chunk: int = Field(500, ge=1, le=1_000_000, description="Draws per chunk of work.")
    name: str | None = Field(None, pattern=SCENARIO_NAME_PATTERN, description="A name for the study.")

    @model_validator(mode="after")
    def _one(self):
        if (self.model is None) == (self.model_yaml is None):
            raise ValueError("give exactly one of 'model' (a bundled id) or 'model_yaml' (risk model YAML text)")
        return self


class RiskJobInfo(BaseModel):
    job_id: str
    kind: str = Field(description="study (a new study) or sensitivity (a screening of a stored study's model)")
    model: str = Field(description="The disruption model's name.")
    status: str = Field(description="queued, running, done, failed or cancelled")
    done_draws: int = Field(description="Draws evaluated so far.")
    total_draws: int | None = Field(description="Draws of the study.")
    study_id: str | None = Field(description="The stored study once done; for a screening, the study it screens.")
    error: str | None
    submitted_at: str
    started_at: str | None
    finished_at: str | None
    wall_s: float | None = Field(description="Seconds from start to finish.")


class StudyPage(Page):
    """A page of a study table's records, with what each numeric column is in."""

    units: dict[str, str] = Field(description="Column -> unit (or meaning).")


class ScreeningRequest(BaseModel):
    """A Morris screening of a stored study's model: its draws are evaluated once and reweighted."""

    model_config = ConfigDict(extra="forbid")
    draws: int = Field(64, ge=8, le=5000, description="Draws evaluated (importance-sampled).")
    seed: int = Field(0, ge=0, le=2**63 - 1)
    engine: Engine = Field("fast", description="fast or exact.")
    chunk: int = Field(16, ge=1, le=5000, description="Draws per chunk (progress and cancel between chunks).")


class ScreeningPage(StudyPage):
    """Morris elementary effects of the model's annual probabilities on one region's expected shortfall of one
    element, with the screening's settings."""

    screening: dict[str, Any] = Field(description="draws, seed, engine, chunk, wall_s of the screening.")


SCREENING_UNITS = {
    "probability": "probability (0-1): the model's",
    "low": "probability (0-1)",
    "high": "probability (0-1)",
    **dict.fromkeys(("mu", "mu_star", "mu_star_conf", "sigma"), "% of baseline demand over the input's range"),
    "rank": "1 = the most important input",
    "draws_with": "count of draws where the input occurred",
}
MODEL_TEXT_KEYS = ("model_text", "model_yaml", "yaml")


# --- helpers --------------------------------------------------------------------------------------------------


def _read(ctx: AppContext, loc: list, fn, *args, **kwargs):
    """``fn(store, ...)`` on a store opened for this request; an unknown study is a 404."""
    view = ctx.cursor()
    try:
        return fn(view, *args, **kwargs)
    except NotFoundError as exc:
        raise api_error(404, loc, str(exc), "not_found") from None
    finally:
        view.close()


def plain(value: Any) -> Any:
    """JSON-safe: numpy and pandas scalars as Python, dates as ISO text, NaN and NaT as null, containers walked."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | np.ndarray | pd.Series):
        return [plain(v) for v in list(value)]
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer | int):
        return int(value)
    if isinstance(value, np.floating | float):
        return None if not math.isfinite(float(value)) else float(value)
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta | pd.Timedelta):
        return value.total_seconds()
    return str(value)


def with_units(frame: pd.DataFrame, measures: pd.DataFrame) -> pd.DataFrame:
    """The exceedance table with a ``unit`` column, as the other tables have: its levels are in the unit of the
    loss (the study's measures table says which: % of baseline demand, or the element's unit)."""
    if "unit" in frame.columns or not {"region", "element", "loss"} <= set(frame.columns):
        return frame
    key = ["region", "element", "loss"]
    units = measures[[*key, "unit"]].drop_duplicates(key) if len(measures) else pd.DataFrame(columns=[*key, "unit"])
    merged = frame.merge(units, on=key, how="left")
    fallback = merged["loss"].map(LOSS_UNITS)
    return merged.assign(unit=merged["unit"].where(merged["unit"].notna(), fallback))


def _problems(exc: RiskModelError) -> HTTPException:
    detail = problem_details(exc.problems, ["body", "model_yaml"])
    for entry in detail:
        entry["type"] = "risk_model_error"
    return HTTPException(status_code=422, detail=detail)


def _bundled(ctx: AppContext, name: str):
    if name not in ctx.risk_files:
        raise api_error(404, ["path", "model_id"], f"no bundled risk model {name!r}; see GET /api/risk/models")
    return ctx.risk_model(name)


def _summary(ctx: AppContext, name: str) -> dict:
    return {"id": name, **api.describe_risk_model(_bundled(ctx, name)[0])}


# --- routes ---------------------------------------------------------------------------------------------------


@router.get("/models", response_model=list[RiskModelInfo], summary="The bundled disruption models")
def list_models(ctx: AppContext = Depends(context)):
    """Each bundled model's id, name, description, horizon (start, end, years) and numbers of events and causes."""
    return [_summary(ctx, name) for name in ctx.risk_files]


@router.get(
    "/models/{model_id}",
    response_model=BundledRiskModel,
    responses=NOT_FOUND,
    summary="A bundled disruption model: its YAML and a parsed summary",
)
def get_model(model_id: str = Path(..., pattern=SCENARIO_NAME_PATTERN), ctx: AppContext = Depends(context)):
    """The summary of ``/models`` plus the YAML text and each event (id, type, annual probability, elements) and
    common cause (id, annual probability, events it triggers)."""
    return {**_summary(ctx, model_id), "yaml": _bundled(ctx, model_id)[1]}


@router.post(
    "/studies",
    response_model=RiskJobInfo,
    status_code=202,
    responses=error_responses(400, 404, 413, 429),
    summary="Run a risk study (returns a job)",
)
def submit(body: StudyRequest, ctx: AppContext = Depends(context)):
    """Queues a Monte Carlo study of a bundled model or of posted YAML. Poll GET /api/risk/jobs/{job_id}
    (progress in draws); when done the job carries the stored study's id. 422 when the YAML has problems (each
    with its line and field), or the draws, workers or horizon are over this server's limits."""
    config = ctx.config
    if body.draws > config.max_risk_draws:
        msg = f"{body.draws:,} draws is over this server's limit of {config.max_risk_draws:,} per study"
        raise api_error(422, ["body", "draws"], msg, "too_many_draws")
    if body.workers is not None and body.workers > config.max_risk_workers:
        msg = f"{body.workers} workers is over this server's limit of {config.max_risk_workers}"
        raise api_error(422, ["body", "workers"], msg, "too_many_workers")
    if body.model is not None:
        model, text = _bundled(ctx, body.model)
    else:
        text = body.model_yaml
        try:
            model = api.parse_risk_model(text, "<yaml>", ctx.world)
        except RiskModelError as exc:
            raise _problems(exc) from None
    if model.months > config.max_run_months:
        loc = ["body", "model_yaml" if body.model is None else "model", "years"]
        raise api_error(422, loc, f"{model.months} months is over this server's limit of {config.max_run_months}")
    request = {
        "model_text": text,
        "draws": body.draws,
        "seed": body.seed,
        "sampler": body.sampler,
        "engine": body.engine,
        # unset: run_study's default (the CPUs, at most 8) within this server's limit (run_study never starts more
        # than there are chunks; one works in this process)
        "workers": body.workers if body.workers is not None else min(api.default_workers(), config.max_risk_workers),
        "chunk": body.chunk,
        "name": body.name,
    }
    try:
        return ctx.risk_jobs.submit(model, request).public()
    except QueueFullError as exc:
        raise api_error(429, ["body"], str(exc), "queue_full") from None


def _job(ctx: AppContext, job_id: str):
    job = ctx.risk_jobs.get(job_id)
    if job is None:
        raise api_error(404, ["path", "job_id"], f"no risk job {job_id!r}")
    return job


@router.get("/jobs", response_model=list[RiskJobInfo], summary="Risk study jobs of this server process")
def list_jobs(ctx: AppContext = Depends(context)):
    return [j.public() for j in ctx.risk_jobs.all()]


@router.get("/jobs/{job_id}", response_model=RiskJobInfo, responses=NOT_FOUND, summary="A study job's progress")
def get_job(job_id: str = Path(..., pattern=JOB_ID_PATTERN), ctx: AppContext = Depends(context)):
    return _job(ctx, job_id).public()


@router.delete(
    "/jobs/{job_id}", response_model=RiskJobInfo, responses=NOT_FOUND, summary="Cancel a queued or running study"
)
def cancel_job(job_id: str = Path(..., pattern=JOB_ID_PATTERN), ctx: AppContext = Depends(context)):
    """The job, cancelled (a running study stops at its next progress report: it is not stored)."""
    _job(ctx, job_id)
    return ctx.risk_jobs.cancel(job_id).public()


def _frame(frame: pd.DataFrame, fmt: OutputFormat, units: dict[str, str], *, total=None, limit=None, offset=0):
    if fmt == "csv":
        return Response(frame.to_csv(index=False), media_type="text/csv; charset=utf-8")
    total = len(frame) if total is None else total
    return {"records": records(frame), "total": total, "limit": limit, "offset": offset, "units": units}


@router.get("/studies", response_model=StudyPage, responses=CSV_OR_JSON, summary="Stored risk studies")
def studies(fmt: OutputFormat = Query("json"), ctx: AppContext = Depends(context)):
    """Records {study_id, name, model, draws, seed, sampler, engine, workers, created_at, wall_s, status}."""
    frame = _read(ctx, [], api.list_studies)
    return _frame(frame, fmt, {"draws": "count of draws", "wall_s": "s", "created_at": "UTC time"})


@router.get("/compare", response_model=StudyPage, responses=TABULAR, summary="Two studies' risk measures side by side")
def compare(
    a: str = Query(..., pattern=RUN_ID_PATTERN, description="First study (id or unique prefix)."),
    b: str = Query(..., pattern=RUN_ID_PATTERN, description="Second study."),
    fmt: OutputFormat = Query("json"),
    ctx: AppContext = Depends(context),
):
    """Per region x element (x loss): each measure for A and B and the change from A to B, in the row's unit."""
    ids = [_read(ctx, ["query", key], api.resolve_study, sid) for key, sid in (("a", a), ("b", b))]
    frame = _read(ctx, ["query"], api.compare_studies, *ids)
    units = {c: ROW_UNIT for c in frame.columns if c not in ("region", "element", "loss", "unit")}
    for column in frame.columns:
        if column.startswith("prob_"):
            units[column] = PROBABILITY
    return _frame(frame, fmt, units)


@router.get("/studies/{study_id}", response_model=dict[str, Any], responses=NOT_FOUND, summary="A study's provenance")
def study(study_id: str = STUDY_ID, ctx: AppContext = Depends(context)):
    """{study: provenance (model, draws, seed, sampler, engine, workers, wall_s, ...), tables: the study's table
    names, units: per table, what each numeric column is in}."""
    sid = _read(ctx, ["path", "study_id"], api.resolve_study, study_id)
    info = _read(ctx, ["path", "study_id"], api.study_info, sid)
    return {"study": plain(info), "tables": list(STUDY_TABLES), "units": TABLE_UNITS}


def _study_model(ctx: AppContext, info: dict):
    """The disruption model of a stored study: its stored YAML, else the bundled model of its name."""
    for key in MODEL_TEXT_KEYS:
        text = info.get(key)
        if isinstance(text, str) and text.strip():
            try:
                return api.parse_risk_model(text, f"{info.get('model')}.yaml", ctx.world)
            except RiskModelError:
                break
    if info.get("model") in ctx.risk_files:
        return ctx.risk_model(info["model"])[0]
    msg = f"the model of study {info.get('study_id')!r} is neither stored with it nor bundled"
    raise api_error(422, ["path", "study_id"], msg, "no_model")


@router.post(
    "/studies/{study_id}/sensitivity",
    response_model=RiskJobInfo,
    status_code=202,
    responses=error_responses(400, 404, 413, 429),
    summary="Screen a study's model: Morris effects of its annual probabilities (returns a job)",
)
def screen(body: ScreeningRequest, study_id: str = STUDY_ID, ctx: AppContext = Depends(context)):
    """Queues a Morris screening of the study's model: every event's and common cause's annual probability
    varied from half to twice its value. Its draws are importance-sampled and evaluated once (progress in
    draws); every Morris point reweights them. The job carries the study's id; when it is done GET
    ``/studies/{study_id}/sensitivity`` gives the effects (kept in this server process's memory)."""
    sid = _read(ctx, ["path", "study_id"], api.resolve_study, study_id)
    info = _read(ctx, ["path", "study_id"], api.study_info, sid)
    model = _study_model(ctx, info)
    if len(api.screened_probabilities(model)) < 2:
        msg = f"{model.name} has fewer than two events or causes with a probability: nothing to screen"
        raise api_error(422, ["path", "study_id"], msg, "nothing_to_screen")
    if body.draws > ctx.config.max_risk_draws:
        msg = f"{body.draws:,} draws is over this server's limit of {ctx.config.max_risk_draws:,}"
        raise api_error(422, ["body", "draws"], msg, "too_many_draws")
    request = {"kind": "sensitivity", "study_id": sid, **body.model_dump()}
    try:
        return ctx.risk_jobs.submit(model, request).public()
    except QueueFullError as exc:
        raise api_error(429, ["body"], str(exc), "queue_full") from None


@router.get(
    "/studies/{study_id}/sensitivity",
    response_model=ScreeningPage,
    responses=NOT_FOUND,
    summary="Morris effects of a screened study's probabilities on a region's shortfall of an element",
)
def sensitivity(
    study_id: str = STUDY_ID,
    region: str = Query("JPN", pattern=ID_PATTERN, description="Region whose shortfall is the output."),
    element: str = Query("Dy", pattern=ID_PATTERN, description="Element whose shortfall is the output."),
    trajectories: int = Query(10, ge=2, le=100, description="Morris trajectories (reweightings, no new draws)."),
    ctx: AppContext = Depends(context),
):
    """Records {input, kind, probability, low, high, unit, mu, mu_star, mu_star_conf, sigma, rank, draws_with,
    region, element, output_unit}, most important input first; 404 when the study was not screened by this
    server process (POST to this path first)."""
    check_member(region, ctx.regions, ["query", "region"], "region")
    check_member(element, ctx.elements, ["query", "element"], "element")
    sid = _read(ctx, ["path", "study_id"], api.resolve_study, study_id)
    table = ctx.morris(sid, region, element, trajectories)
    if table is None:
        msg = f"study {sid!r} has no sensitivity screening in this server process: POST to this path to run one"
        raise api_error(404, ["path", "study_id"], msg, "not_found")
    page = _frame(table, "json", SCREENING_UNITS)
    return {**page, "screening": plain(ctx.screenings[sid]["settings"])}


@router.get(
    "/studies/{study_id}/{table}",
    response_model=StudyPage,
    responses=TABULAR,
    summary="One table of a study, filtered by region and element",
)
def study_table(
    study_id: str = STUDY_ID,
    table: StudyTableName = Path(..., description="measures, ranking, fan, exceedance or durations."),
    region: str | None = Query(None, pattern=ID_PATTERN, description="Only this region, e.g. JPN."),
    element: str | None = Query(None, pattern=ID_PATTERN, description="Only this element, e.g. Dy."),
    limit: int = Query(100_000, ge=1, le=100_000, description="Rows per page."),
    offset: int = Query(0, ge=0, le=10_000_000),
    fmt: OutputFormat = Query("json"),
    ctx: AppContext = Depends(context),
):
    """measures: expected loss, P(any shortfall), VaR and CVaR at 95% and 99% per region x element x loss
    (shortfall_pct in % of baseline demand, shortfall_t in the element's unit). ranking: elements by expected
    shortfall cost (USD) per region. fan: monthly quantiles of the price over the baseline's (a ratio).
    exceedance: P(loss > level). durations: time to survive and to recover (days). ``units`` says what each
    numeric column is in."""
    check_member(region, ctx.regions, ["query", "region"], "region")
    check_member(element, ctx.elements, ["query", "element"], "element")
    sid = _read(ctx, ["path", "study_id"], api.resolve_study, study_id)
    frame = _read(ctx, ["path", "study_id"], api.study_table, sid, table)
    for column, value in (("region", region), ("element", element)):
        if value is not None and column in frame.columns:
            frame = frame[frame[column] == value]
    if table == "exceedance":
        frame = with_units(frame, _read(ctx, ["path", "study_id"], api.study_table, sid, "measures"))
    frame = frame.reset_index(drop=True)
    total = len(frame)
    limit = min(limit, ctx.config.max_page_rows)
    page = frame.iloc[offset : offset + limit].reset_index(drop=True)
    return _frame(page, fmt, TABLE_UNITS.get(table, {}), total=total, limit=limit, offset=offset)
