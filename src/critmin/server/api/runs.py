"""Stored runs: list, provenance and summary, result tables as JSON or CSV, and comparison."""

from __future__ import annotations

import json
from typing import Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import Field

from critmin.api import (
    TABLE_COLUMNS,
    RunNotFoundError,
    RunPath,
    compare_runs,
    list_runs,
    resolve_run,
    run_flags,
    run_info,
    run_policies,
    run_summary,
    run_table,
)
from critmin.server.api.common import ID_PATTERN, RUN_ID_PATTERN, OutputFormat, Page, context, records, tabular
from critmin.server.context import AppContext
from critmin.server.errors import COMMON_ERRORS, CSV_OR_JSON, api_error, error_responses

router = APIRouter(prefix="/api/runs", tags=["runs"], responses=COMMON_ERRORS)
TABULAR = {**CSV_OR_JSON, **error_responses(404)}  # every route but /{run_id} answers CSV too
RunTable = Literal[tuple(TABLE_COLUMNS)]  # type: ignore[valid-type]
RUN_ID = Path(..., pattern=RUN_ID_PATTERN, description="Run id, unique prefix, scenario name or 'latest'.")


def _read(ctx: AppContext, loc: list, fn, *args, **kwargs):
    view = ctx.cursor()
    try:
        return fn(view, *args, **kwargs)
    except RunNotFoundError as exc:
        raise api_error(404, loc, str(exc), "not_found") from None
    finally:
        view.close()


class SummaryPage(Page):
    """The summary records, with the run's plausibility flags and policy reports."""

    flags: list[dict[str, Any]] = Field(
        description="Plausibility flags {kind, path, region, product, first_date, last_date, months, worst_value, "
        "threshold, unit, message}; kinds price_floor, price_spike, baseline_shortfall, balance_residual, "
        "policy_inactive."
    )
    policies: list[dict[str, Any]] = Field(
        description="Policy reports {name, type, region, product, target_t, bought_t, mean_buy_price (USD/kg), "
        "released_t, delivered_t (t beyond the baseline, projects and recycling), acted, reason}."
    )


def _cached(ctx: AppContext, key: tuple, frame_of, extra_of=None) -> Response:
    """Stored runs never change, and only this server writes the store while it runs, so encoded answers are
    kept until the next run is stored (``ctx.run_cache`` is cleared then). ``extra_of`` gives more JSON keys
    (frames, as records) next to the page's records; CSV is the frame alone."""
    hit = ctx.run_cache.get(key)
    if hit is None:
        fmt = key[-1]
        frame = frame_of()
        if fmt == "csv":
            hit = (frame.to_csv(index=False).encode(), "text/csv; charset=utf-8")
        else:
            payload = {"records": records(frame), "total": len(frame), "limit": None, "offset": 0}
            for name, extra in (extra_of() if extra_of else {}).items():
                payload[name] = records(extra)
            hit = (json.dumps(payload, allow_nan=False).encode(), "application/json")
        if len(ctx.run_cache) >= 256:
            ctx.run_cache.clear()
        ctx.run_cache[key] = hit
    return Response(content=hit[0], media_type=hit[1])


@router.get("", response_model=Page, responses=CSV_OR_JSON, summary="Stored runs with their provenance")
def runs(fmt: OutputFormat = Query("json"), ctx: AppContext = Depends(context)):
    return _cached(ctx, ("runs", fmt), lambda: _read(ctx, [], list_runs))


@router.get("/compare", response_model=Page, responses=TABULAR, summary="Two runs' summaries side by side")
def compare(
    a: str = Query(..., pattern=RUN_ID_PATTERN, description="First run (id, prefix, scenario name or 'latest')."),
    b: str = Query(..., pattern=RUN_ID_PATTERN, description="Second run."),
    fmt: OutputFormat = Query("json"),
    ctx: AppContext = Depends(context),
):
    """Per region x element: each summary column for A and B and the change from A to B."""
    for key, rid in (("a", a), ("b", b)):
        _read(ctx, ["query", key], resolve_run, rid)
    return tabular(_read(ctx, ["query"], compare_runs, a, b), fmt)


@router.get(
    "/{run_id}", response_model=dict[str, Any], responses=error_responses(404), summary="A run's provenance and summary"
)
def run(run_id: str = RUN_ID, ctx: AppContext = Depends(context)):
    """{run: provenance (scenario hash and YAML, data and code versions, solver status), summary: records
    {region, element, max_shortfall_pct, cumulative_shortfall_t, peak_price_ratio, tts_days, ttr_days, ...},
    flags: plausibility flags, policies: policy reports (as in ``/summary``)}."""
    info = _read(ctx, ["path", "run_id"], run_info, run_id)
    rid = info["run_id"]
    summary = _read(ctx, ["path", "run_id"], run_summary, rid)
    return {
        "run": records(pd.DataFrame([info]))[0],
        "summary": records(summary),
        "flags": records(_read(ctx, ["path", "run_id"], run_flags, rid)),
        "policies": records(_read(ctx, ["path", "run_id"], run_policies, rid)),
    }


@router.get(
    "/{run_id}/summary", response_model=SummaryPage, responses=TABULAR, summary="A run's summary per region x element"
)
def summary(run_id: str = RUN_ID, fmt: OutputFormat = Query("json"), ctx: AppContext = Depends(context)):
    """JSON: {records: summary records, total, limit, offset, flags: plausibility flags, policies: policy
    reports}. CSV: the summary records alone (flags: ``/flags?fmt=csv``)."""
    rid = _read(ctx, ["path", "run_id"], resolve_run, run_id)
    return _cached(
        ctx,
        ("summary", rid, fmt),
        lambda: _read(ctx, ["path", "run_id"], run_summary, rid),
        lambda: {
            "flags": _read(ctx, ["path", "run_id"], run_flags, rid),
            "policies": _read(ctx, ["path", "run_id"], run_policies, rid),
        },
    )


@router.get("/{run_id}/flags", response_model=Page, responses=TABULAR, summary="A run's plausibility flags")
def flags(run_id: str = RUN_ID, fmt: OutputFormat = Query("json"), ctx: AppContext = Depends(context)):
    """One record per kind x path x region x product: {run_id, kind, path, region, product, first_date,
    last_date, months, worst_value, threshold, unit, message}. Kinds: price_floor (a price at or below
    checks.min_price_multiple x reference, either path), price_spike (a scenario price above
    checks.max_price_multiple x reference), baseline_shortfall (baseline shortfall above
    checks.baseline_shortfall_pct % of reference demand), balance_residual (a relative mass-balance residual
    above checks.balance_tolerance), policy_inactive (a policy shock that did not act). worst_value and threshold
    are in unit."""
    rid = _read(ctx, ["path", "run_id"], resolve_run, run_id)
    return _cached(ctx, ("flags", rid, fmt), lambda: _read(ctx, ["path", "run_id"], run_flags, rid))


@router.get("/{run_id}/policies", response_model=Page, responses=TABULAR, summary="What a run's policy shocks did")
def policies(run_id: str = RUN_ID, fmt: OutputFormat = Query("json"), ctx: AppContext = Depends(context)):
    """{run_id, name, type, region, product, target_t, bought_t, mean_buy_price (USD/kg), released_t, acted,
    reason} per policy shock."""
    rid = _read(ctx, ["path", "run_id"], resolve_run, run_id)
    return _cached(ctx, ("policies", rid, fmt), lambda: _read(ctx, ["path", "run_id"], run_policies, rid))


@router.get(
    "/{run_id}/tables/{table}",
    response_model=Page,
    responses=TABULAR,
    summary="One result table of a run, filtered and paged",
)
def table(
    run_id: str = RUN_ID,
    table: RunTable = Path(..., description="prices, shortfall, sector_shortfall, stocks or flows."),
    path: RunPath | None = Query(None, description="Baseline or shocked path."),
    region: str | None = Query(None, pattern=ID_PATTERN),
    product: str | None = Query(None, pattern=ID_PATTERN),
    element: str | None = Query(None, pattern=ID_PATTERN),
    sector: str | None = Query(None, pattern=ID_PATTERN),
    limit: int = Query(10_000, ge=1, le=100_000, description="Rows per page."),
    offset: int = Query(0, ge=0, le=10_000_000),
    fmt: OutputFormat = Query("json"),
    ctx: AppContext = Depends(context),
):
    """Prices in USD/kg; shortfall and demand in the element's unit per month; sector shortfall and
    consumption in the product's unit per month; stock levels in the product's unit; flows in the product's
    unit per month."""
    columns = TABLE_COLUMNS[table][1]
    filters = {"path": path, "region": region, "product": product, "element": element, "sector": sector}
    for name, value in filters.items():
        if value is not None and name not in columns:
            raise api_error(422, ["query", name], f"the {table} table has no {name} column")
    equals = {k: v for k, v in filters.items() if k in columns}
    frame, total = _read(
        ctx, ["path", "run_id"], run_table, run_id, table, limit=min(limit, ctx.config.max_page_rows),
        offset=offset, **equals,
    )  # fmt: skip
    return tabular(frame, fmt, total=total, limit=limit, offset=offset)
