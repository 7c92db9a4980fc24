"""critmin command line: thin layer over the Python API (critmin.api).

pandas, xarray and linopy (through critmin.api and the store) are imported inside the commands
that use them, so ``critmin --help`` and ``critmin --version`` stay fast; tests/test_fast_commands.py checks it."""

from __future__ import annotations

import inspect
from pathlib import Path

import typer

from critmin._version import __version__
from critmin.api import INDICATORS, ORIGIN_STAGES
from critmin.cli import (
    data_cmd,
    deal_cmd,
    engine_cmd,
    plan_cmd,
    report_cmd,
    risk_cmd,
    serve_cmd,
    trade_cmd,
    world_cmd,
)
from critmin.cli.output import DB_OPTION, FORMAT_OPTION, WORLD_OPTION, Format, console, emit, resolve_world, user_errors

app = typer.Typer(
    name="critmin",
    help="Critical-mineral supply-chain security: sourced rare-earth, gallium and graphite supply chains and "
    "exposure indicators. Data live in an embedded DuckDB store (--db or $CRITMIN_DB).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(data_cmd.app, name="data")
app.add_typer(world_cmd.app, name="world")
app.add_typer(engine_cmd.scenario_app, name="scenario")
app.add_typer(engine_cmd.runs_app, name="runs")
app.add_typer(risk_cmd.app, name="risk")
app.add_typer(plan_cmd.app, name="plan")
app.add_typer(trade_cmd.app, name="trade")
app.add_typer(deal_cmd.app, name="deal")
app.command()(engine_cmd.clear)
app.command()(engine_cmd.validate)
app.command()(engine_cmd.run)
app.command()(serve_cmd.serve)
app.command()(report_cmd.report)


def _reflow_help(typer_app: typer.Typer) -> None:
    """Join the lines of each help paragraph: typer keeps a docstring's line breaks after its first paragraph,
    so at 80 columns every 110-character source line broke again mid-sentence."""
    for info in typer_app.registered_commands:
        doc = info.callback.__doc__ if info.callback else None
        if doc and info.help is None:
            first, *rest = inspect.cleandoc(doc).split("\n\n")
            info.callback.__doc__ = "\n\n".join([first, *(" ".join(p.split()) for p in rest)])
    for group in typer_app.registered_groups:
        _reflow_help(group.typer_instance)


def _version(value: bool) -> None:
    if value:
        console.print(f"critmin {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """critmin: map, measure and stress-test critical-mineral supply chains."""


@app.command()
def indicators(
    indicator: str = typer.Option(None, "--indicator", "-i", help=f"One of: {', '.join(INDICATORS)} [default: all]."),
    stage: str = typer.Option(None, "--stage", "-s", help="mine, separation, metal or magnet [default: all]."),
    element: str = typer.Option(None, "--element", "-e", help="Element id, e.g. Dy, Ga, graphite, NdPr, REE."),
    region: str = typer.Option(None, "--region", "-r", help="Region id (ISO3, EU, ROW) for regional indicators."),
    world: Path = WORLD_OPTION,
    db: Path = DB_OPTION,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Concentration (HHI 0-10,000, top-3 share %), production and shares, import reliance (%), and EU-style
    supply risk, per stage x element (x region). JSON: {indicator, stage, element, region, value, unit}."""
    everything = world is None and not (indicator or stage or element or region)
    with user_errors():
        table = _stored_indicators(db) if everything else None
        if table is None:
            from critmin import api

            active = resolve_world(world, db)
            table = api.indicators(active, indicator=indicator, stage=stage, element=element, region=region)
            if everything:
                _keep_indicators(db, table)
    emit(table, fmt, title="Indicators")


def _stored_indicators(db: Path | None):
    """Every record of the store's active world, from the store's cache (None when not cached)."""
    from critmin.api import Store, cached_indicators

    with Store(db) as store:
        return None if store.is_empty() else cached_indicators(store)


def _keep_indicators(db: Path | None, table) -> None:
    from critmin.api import Store, keep_indicators

    with Store(db) as store:
        keep_indicators(store, table)


@app.command()
def exposure(
    region: str = typer.Option(..., "--region", "-r", help="Consuming region, e.g. JPN."),
    element: str = typer.Option(..., "--element", "-e", help="Element, e.g. Dy (or an aggregate: REE, NdPr)."),
    stage: str = typer.Option(
        "use",
        "--stage",
        "-s",
        help="Stage at which the region takes the element in: use (final consumption), magnet, metal or separation.",
    ),
    world: Path = WORLD_OPTION,
    db: Path = DB_OPTION,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Look-through origin: the share of REGION's ELEMENT that comes from each region at each upstream stage.
    JSON: {region, element, stage, origin_stage, origin_region, share} with share a fraction (0-1)."""
    from critmin import api

    with user_errors():
        table = api.exposure(resolve_world(world, db), region=region, element=element, stage=stage)
    emit(table, fmt, title=f"Where {region}'s {element} comes from (share of its {stage} input)")


@app.command()
def overview(world: Path = WORLD_OPTION, db: Path = DB_OPTION, fmt: Format = FORMAT_OPTION) -> None:
    """Top producers per stage for NdPr, Dy, Tb, Ga and graphite, and Japan's and the US's look-through
    exposure to China for Dy and Tb."""
    import pandas as pd

    from critmin import api

    with user_errors():
        result = api.overview(resolve_world(world, db))
    if fmt is not Format.table:
        frames = [result["producers"].assign(table="top_producers"), result["exposure"].assign(table="exposure")]
        emit(pd.concat(frames, ignore_index=True), fmt)
        return
    producers = result["producers"]
    compact = (
        producers.assign(top=producers["region"] + " " + producers["share_pct"].map("{:.1f}%".format))
        .groupby(["element", "stage"], sort=False)
        .agg(top_producers=("top", ", ".join))
        .reset_index()
    )
    emit(compact, fmt, title="Top 3 producers by stage (2024 baseline; shares of element content)")
    exposure = result["exposure"].pivot_table(
        index=["region", "element"], columns="origin_stage", values="china_share_pct", sort=False
    )
    exposure = exposure[list(ORIGIN_STAGES)].reset_index()
    emit(
        exposure,
        fmt,
        title="Look-through exposure to China: % of final use that passed through China at each stage",
        units=dict.fromkeys(ORIGIN_STAGES, "%"),
    )
    console.print(
        "[dim]Sources: critmin data sources; assumptions: critmin data sources --assumptions; "
        "balance and calibration: critmin world check[/dim]"
    )


_reflow_help(app)  # after every command is registered (the ones defined below too)

if __name__ == "__main__":
    app()
