"""Indicators, look-through exposure and supply-chain links of the served world."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Path, Query

from critmin.api import INDICATORS, IntakeStage, OriginStage
from critmin.server.api.common import ID_PATTERN, OutputFormat, Page, check_member, context, tabular
from critmin.server.context import AppContext
from critmin.server.errors import COMMON_ERRORS, CSV_OR_JSON

router = APIRouter(prefix="/api", tags=["analysis"], responses={**COMMON_ERRORS, **CSV_OR_JSON})
Indicator = Literal[INDICATORS]  # type: ignore[valid-type]


@router.get("/indicators", response_model=Page, summary="HHI, top-3 share, production, import reliance, supply risk")
def indicators(
    indicator: Indicator | None = Query(None),
    stage: OriginStage | None = Query(None),
    element: str | None = Query(None, pattern=ID_PATTERN, description="Element id, e.g. Dy, Ga, NdPr."),
    region: str | None = Query(None, pattern=ID_PATTERN, description="Region id for regional indicators."),
    fmt: OutputFormat = Query("json"),
    ctx: AppContext = Depends(context),
):
    """Records {indicator, stage, element, region, value, unit}: HHI 0-10,000, shares and reliance in %."""
    check_member(element, ctx.elements, ["query", "element"], "element")
    check_member(region, ctx.regions, ["query", "region"], "region")
    return tabular(ctx.indicators(indicator, stage, element, region), fmt)


@router.get("/exposure", response_model=Page, summary="Look-through origin of a region's intake of an element")
def exposure(
    region: str = Query(..., pattern=ID_PATTERN, description="Consuming region, e.g. JPN."),
    element: str = Query(..., pattern=ID_PATTERN, description="Element, e.g. Dy."),
    stage: IntakeStage = Query("use", description="Stage of intake: use (final consumption) or an upstream stage."),
    fmt: OutputFormat = Query("json"),
    ctx: AppContext = Depends(context),
):
    """Records {region, element, stage, origin_stage, origin_region, share}; share is a fraction (0-1)."""
    check_member(region, ctx.regions, ["query", "region"], "region")
    check_member(element, ctx.elements, ["query", "element"], "element")
    return tabular(ctx.exposure(region, element, stage), fmt)


@router.get("/supply-chain/{element}", response_model=Page, summary="Sankey links mine -> ... -> use for an element")
def supply_chain(
    element: str = Path(..., pattern=ID_PATTERN),
    top: int = Query(8, ge=1, le=30, description="Regions kept per stage; the rest are folded into Other."),
    fmt: OutputFormat = Query("json"),
    ctx: AppContext = Depends(context),
):
    """Records {source_stage, source_region, target_stage, target_region, quantity, unit}: element content per
    year, each stage's input traced pro rata to the regions supplying its pool."""
    check_member(element, ctx.elements, ["path", "element"], "element")
    return tabular(ctx.sankey(element, top), fmt)
