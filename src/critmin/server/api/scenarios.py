"""Bundled scenarios, validation, and runs submitted as jobs (progress by polling or server-sent events)."""

from __future__ import annotations

import asyncio
import json

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, model_validator

from critmin.api import Scenario, ScenarioError, describe, parse_scenario
from critmin.server.api.common import SCENARIO_NAME_PATTERN, context
from critmin.server.context import AppContext
from critmin.server.errors import COMMON_ERRORS, api_error, error_responses, problem_details
from critmin.server.jobs import FINAL, QueueFullError

router = APIRouter(prefix="/api", tags=["scenarios"], responses=COMMON_ERRORS)
NOT_FOUND = error_responses(404)
MAX_YAML_CHARS = 100_000
JOB_ID_PATTERN = r"^[0-9a-f]{12}$"


class ScenarioInfo(BaseModel):
    name: str
    description: str
    start: str
    end: str
    months: int
    shocks: int
    scenario_hash: str


class BundledScenario(ScenarioInfo):
    yaml: str


class ScenarioText(BaseModel):
    yaml: str = Field(..., min_length=1, max_length=MAX_YAML_CHARS, description="Scenario YAML text.")


class RunRequest(BaseModel):
    """Exactly one of ``scenario`` (a bundled scenario's name) or ``yaml`` (scenario text)."""

    scenario: str | None = Field(None, pattern=SCENARIO_NAME_PATTERN, description="Bundled scenario name.")
    yaml: str | None = Field(None, min_length=1, max_length=MAX_YAML_CHARS, description="Scenario YAML text.")

    @model_validator(mode="after")
    def _one(self):
        if (self.scenario is None) == (self.yaml is None):
            raise ValueError("give exactly one of 'scenario' (a bundled name) or 'yaml' (scenario text)")
        return self


class JobInfo(BaseModel):
    job_id: str
    scenario: str
    status: str = Field(description="queued, running, done, failed or cancelled")
    done_steps: int
    total_steps: int | None
    run_id: str | None
    error: str | None
    submitted_at: str
    started_at: str | None
    finished_at: str | None
    wall_s: float | None


def _parse(ctx: AppContext, text: str) -> Scenario:
    try:
        return parse_scenario(text, "<yaml>", ctx.world)
    except ScenarioError as exc:
        raise HTTPException(status_code=422, detail=problem_details(exc.problems, ["body", "yaml"])) from None


def _bundled(ctx: AppContext, name: str):
    if name not in ctx.scenario_files:
        raise api_error(404, ["path", "name"], f"no bundled scenario {name!r}; see GET /api/scenarios")
    return ctx.bundled(name)


@router.get("/scenarios", response_model=list[ScenarioInfo], summary="The bundled scenarios")
def list_scenarios(ctx: AppContext = Depends(context)):
    return [ctx.bundled_summary(name) for name in ctx.scenario_files]


@router.get(
    "/scenarios/{name}", response_model=BundledScenario, responses=NOT_FOUND, summary="A bundled scenario and its YAML"
)
def get_scenario(name: str = Path(..., pattern=SCENARIO_NAME_PATTERN), ctx: AppContext = Depends(context)):
    text = _bundled(ctx, name)[1]
    return {**ctx.bundled_summary(name), "yaml": text}


@router.post(
    "/scenarios/validate",
    response_model=ScenarioInfo,
    responses=error_responses(400, 413),
    summary="Validate scenario YAML",
)
def validate(body: ScenarioText, ctx: AppContext = Depends(context)):
    """200 with the scenario's summary when valid; 422 listing each problem with its field path and line."""
    return describe(_parse(ctx, body.yaml))


@router.post(
    "/jobs",
    response_model=JobInfo,
    status_code=202,
    responses=error_responses(400, 404, 413, 429),
    summary="Run a scenario (returns a job)",
)
def submit(body: RunRequest, ctx: AppContext = Depends(context)):
    """Queues a run of a bundled scenario or of posted YAML. Poll GET /api/jobs/{job_id} or stream
    /api/jobs/{job_id}/events; when done, the job carries the stored run's id."""
    if body.scenario is not None:
        sc, text = _bundled(ctx, body.scenario)
    else:
        text = body.yaml
        sc = _parse(ctx, text)
    if sc.months > ctx.config.max_run_months:
        limit = ctx.config.max_run_months
        raise api_error(422, ["body", "yaml", "end"], f"{sc.months} months is over this server's limit of {limit}")
    try:
        return ctx.jobs.submit(sc, text).public()
    except QueueFullError as exc:
        raise api_error(429, ["body"], str(exc), "queue_full") from None


def _job(ctx: AppContext, job_id: str):
    job = ctx.jobs.get(job_id)
    if job is None:
        raise api_error(404, ["path", "job_id"], f"no job {job_id!r}")
    return job


@router.get("/jobs", response_model=list[JobInfo], summary="Jobs of this server process")
def list_jobs(ctx: AppContext = Depends(context)):
    return [j.public() for j in ctx.jobs.all()]


@router.get("/jobs/{job_id}", response_model=JobInfo, responses=NOT_FOUND, summary="A job's status and progress")
def get_job(job_id: str = Path(..., pattern=JOB_ID_PATTERN), ctx: AppContext = Depends(context)):
    return _job(ctx, job_id).public()


@router.post(
    "/jobs/{job_id}/cancel", response_model=JobInfo, responses=NOT_FOUND, summary="Cancel a queued or running job"
)
def cancel_job(job_id: str = Path(..., pattern=JOB_ID_PATTERN), ctx: AppContext = Depends(context)):
    _job(ctx, job_id)
    return ctx.jobs.cancel(job_id).public()


@router.get(
    "/jobs/{job_id}/events",
    summary="Progress as server-sent events",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "`progress` events, then one `end`."},
        **NOT_FOUND,
    },
)
async def job_events(request: Request, job_id: str = Path(..., pattern=JOB_ID_PATTERN)):
    """A ``progress`` event (the job as JSON) whenever it changes, then ``end`` when it finishes."""
    ctx: AppContext = request.app.state.ctx
    job = _job(ctx, job_id)

    async def stream():
        last = None
        while True:
            state = job.public()
            if state != last:
                kind = "end" if state["status"] in FINAL else "progress"
                yield f"event: {kind}\ndata: {json.dumps(state)}\n\n"
                last = state
                if kind == "end":
                    return
            if await request.is_disconnected():
                return
            await asyncio.sleep(0.25)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})
