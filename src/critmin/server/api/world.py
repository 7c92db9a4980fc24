"""The world the server holds: regions, products, capacities, production, trade flows and sources."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from critmin.api import Stage
from critmin.server.api.common import ID_PATTERN, OutputFormat, Page, check_member, context, tabular, world_rows
from critmin.server.context import AppContext
from critmin.server.errors import COMMON_ERRORS, CSV_OR_JSON

router = APIRouter(prefix="/api/world", tags=["world"], responses={**COMMON_ERRORS, **CSV_OR_JSON})
FORMAT = Query("json", description="json (a page of records) or csv.")


def _filtered(ctx: AppContext, table: str, fmt: str, **equals):
    frame = world_rows(ctx.world.table(table))
    for column, value in equals.items():
        if value is not None:
            frame = frame[frame[column] == value]
    return tabular(frame.reset_index(drop=True), fmt)


@router.get("/regions", response_model=Page, summary="Regions (ISO3 countries, EU, ROW)")
def regions(fmt: OutputFormat = FORMAT, ctx: AppContext = Depends(context)):
    return _filtered(ctx, "region", fmt)


@router.get("/products", response_model=Page, summary="Products by stage, with their unit")
def products(
    stage: Stage | None = Query(None),
    fmt: OutputFormat = FORMAT,
    ctx: AppContext = Depends(context),
):
    return _filtered(ctx, "product", fmt, stage=stage)


@router.get("/capacities", response_model=Page, summary="Installed capacity by region and product (unit/yr)")
def capacities(
    region: str | None = Query(None, pattern=ID_PATTERN),
    product: str | None = Query(None, pattern=ID_PATTERN),
    fmt: OutputFormat = FORMAT,
    ctx: AppContext = Depends(context),
):
    check_member(region, ctx.regions, ["query", "region"], "region")
    check_member(product, ctx.products, ["query", "product"], "product")
    return _filtered(ctx, "capacity", fmt, region=region, product=product)


@router.get("/production", response_model=Page, summary="Production by region, product and route (unit/yr)")
def production(
    region: str | None = Query(None, pattern=ID_PATTERN),
    product: str | None = Query(None, pattern=ID_PATTERN),
    fmt: OutputFormat = FORMAT,
    ctx: AppContext = Depends(context),
):
    check_member(region, ctx.regions, ["query", "region"], "region")
    check_member(product, ctx.products, ["query", "product"], "product")
    return _filtered(ctx, "production", fmt, region=region, product=product)


@router.get("/flows", response_model=Page, summary="Bilateral trade flows (unit/yr)")
def flows(
    origin: str | None = Query(None, pattern=ID_PATTERN),
    destination: str | None = Query(None, pattern=ID_PATTERN),
    product: str | None = Query(None, pattern=ID_PATTERN),
    fmt: OutputFormat = FORMAT,
    ctx: AppContext = Depends(context),
):
    check_member(origin, ctx.regions, ["query", "origin"], "region")
    check_member(destination, ctx.regions, ["query", "destination"], "region")
    check_member(product, ctx.products, ["query", "product"], "product")
    return _filtered(ctx, "trade_flow", fmt, origin=origin, destination=destination, product=product)


@router.get("/sources", response_model=Page, summary="The sources every figure cites")
def sources(fmt: OutputFormat = FORMAT, ctx: AppContext = Depends(context)):
    return _filtered(ctx, "source", fmt)
