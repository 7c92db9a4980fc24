"""critmin trade run: GSIM between two dated tariff regimes of a trade world (docs/deals.md). Money in MUSD."""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from critmin.cli.output import Format, console, emit, err_console, records, user_errors

app = typer.Typer(
    help="Trade policy: a GSIM Armington partial equilibrium of tariff changes between two dates of a trade "
    "world's dated schedules (bundled: the 2025 US-Japan talks). Money in MUSD.",
    no_args_is_help=True,
)
HEADLINE = ("USA", "JPN", "passenger_vehicles")  # importer, exporter, good shown first


@contextmanager
def trade_errors() -> Iterator[None]:
    """A trade world with problems: every problem as file:line: field: reason, exit code 2."""
    from critmin.api import TradeWorldError

    try:
        yield
    except TradeWorldError as exc:
        err_console.print(f"[bold red]error:[/bold red] {len(exc.problems)} problem(s) in the trade world; "
                          "nothing was run.")  # fmt: skip
        for problem in exc.problems[:100]:
            err_console.print(f"  {problem}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def _day(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        err_console.print(f"[bold red]error:[/bold red] {option} {value!r} is not a date (YYYY-MM-DD)")
        raise typer.Exit(2) from None


def _rows(frame) -> list[dict]:
    return [{k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in row.items()}
            for row in records(frame)]  # fmt: skip


@app.command()
def run(
    file: Path = typer.Argument(None, help="Trade world YAML [default: the bundled us-japan-2025]."),
    date: str = typer.Option(None, "--date", help="The regime evaluated (YYYY-MM-DD) [default: today]."),
    against: str = typer.Option(
        None, "--against", help="The baseline regime (YYYY-MM-DD) [default: the last day of the flows' year]."
    ),
    importer: list[str] = typer.Option(None, "--importer", "-i", help="Show only these importers (repeatable)."),
    exporter: list[str] = typer.Option(None, "--exporter", "-x", help="Show only these exporters (repeatable)."),
    good: list[str] = typer.Option(None, "--good", "-g", help="Show only these goods (repeatable)."),
    between: list[str] = typer.Option(
        None, "--between", "-b", help="Only arcs among these countries move to --date's regime, both ways (repeat: "
        "--between USA --between JPN for a bilateral deal alone); every other arc keeps --against's.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of tables."),
) -> None:
    """Solve GSIM from the tariffs in force on --against to those in force on --date and print Japan's
    passenger-vehicle exports to the US before and after, world price changes and welfare per country (consumer
    and producer surplus, tariff revenue; MUSD). Filters narrow the flow and price tables, not the welfare."""
    after, before = _day(date, "--date"), _day(against, "--against")
    from critmin import api

    with user_errors(), trade_errors():
        world = api.load_trade_world(file)
        try:
            result = api.run_trade(world, before, after, list(between) if between else None)
        except ValueError as exc:  # a country not in the trade world
            err_console.print(f"[bold red]error:[/bold red] --between: {exc}", highlight=False)
            raise typer.Exit(2) from None
    flows, prices = result.flows, result.prices
    if importer:
        flows = flows[flows.importer.isin(importer)]
    if exporter:
        flows, prices = flows[flows.exporter.isin(exporter)], prices[prices.exporter.isin(exporter)]
    if good:
        flows, prices = flows[flows.good.isin(good)], prices[prices.good.isin(good)]
    f = result.flows
    head = f[(f.importer == HEADLINE[0]) & (f.exporter == HEADLINE[1]) & (f.good == HEADLINE[2])]
    headline = _rows(head)[0] if len(head) else None
    if as_json:
        payload = {"world": result.world, "date": result.date_after.isoformat(),
                   "against": result.date_before.isoformat(), "headline": headline, "units": result.units,
                   "flows": _rows(flows), "prices": _rows(prices), "welfare": _rows(result.welfare),
                   "revenue": _rows(result.revenue)}  # fmt: skip
        sys.stdout.write(json.dumps(payload, indent=2, allow_nan=False) + "\n")
        return
    console.print(f"[bold]{result.world}[/bold]: tariffs in force on {result.date_after} against "
                  f"{result.date_before} (GSIM, MUSD)", highlight=False)  # fmt: skip
    if headline:
        h = headline
        console.print(
            f"Japan -> USA passenger vehicles: tariff {h['rate_before_pct']:g}% -> {h['rate_after_pct']:g}%; "
            f"exports {h['flow_before_musd']:,.0f} -> {h['flow_after_musd']:,.0f} MUSD, change "
            f"{h['change_musd']:+,.0f} MUSD ({h['change_pct']:+.1f}%)",
            highlight=False,
        )
    moved = prices[prices.world_price_pct.abs() >= 0.005]
    emit(moved, Format.table, title="World price changes (exporter x good)", units=result.units)
    changed = flows[(flows.rate_before_pct != flows.rate_after_pct) | (flows.change_musd.abs() >= 0.5)]
    emit(changed, Format.table, title="Flows that changed (at world prices)", units=result.units)
    emit(result.welfare, Format.table, title="Welfare change per country", units=result.units)
