"""critmin data: build the store, list sources and assumptions, generate the data docs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from critmin.cli.output import (
    DB_OPTION,
    FORMAT_OPTION,
    WORLD_OPTION,
    Format,
    emit,
    err_console,
    report,
    resolve_world,
    user_errors,
)

if TYPE_CHECKING:
    pass

app = typer.Typer(help="The store and the data behind it: load, sources, assumptions, docs.", no_args_is_help=True)


@app.command("load")
def load(db: Path = DB_OPTION, fmt: Format = FORMAT_OPTION) -> None:
    """Build the store from the bundled, sourced 2024 world (replaces the active world and its overrides)."""
    from rich.progress import Progress

    from critmin.api import Store, World

    with user_errors(), Progress(console=err_console, transient=True) as progress:
        task = progress.add_task("reading and validating the bundled world", total=2)
        world = World.bundled()
        progress.update(task, advance=1, description="writing to DuckDB")
        with Store(db, rebuild=True) as store:
            version = store.load(world, origin="bundled")
            path = store.path
        progress.update(task, advance=1)
    rows = sum(len(t) for t in world.tables.values())
    report(
        fmt,
        f"loaded the bundled world into {path}: {rows} rows in {len(world.tables)} tables, data version {version}",
        {"action": "load", "store": str(path), "rows": rows, "tables": len(world.tables), "data_version": version},
    )


@app.command("sources")
def sources(
    assumptions: bool = typer.Option(
        False,
        "--assumptions",
        help="List every row that is a critmin assumption (confidence=assumption) instead of the sources.",
    ),
    component: str = typer.Option(None, "--component", "-c", help="Only rows of this component (e.g. production)."),
    events: bool = typer.Option(
        False, "--events", help="List the policy timeline instead: each event with its dates, source and confidence."
    ),
    since: str = typer.Option(
        None,
        "--since",
        help="With --events: only events announced or effective from this date (YYYY-MM-DD), e.g. 2025-01-01.",
    ),
    world: Path = WORLD_OPTION,
    db: Path = DB_OPTION,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Sources cited by the data, with how many rows cite each; with --assumptions, the assumption rows; with
    --events, the policy timeline (export controls, suspensions, frameworks, stockpiles) with sources."""
    from critmin.api import cited_rows, sources_table

    with user_errors():
        w = resolve_world(world, db)
        if events:
            timeline = _events(w, since)
            emit(timeline, fmt, title=f"{len(timeline)} policy events" + (f" since {since}" if since else ""))
            return
        if assumptions:
            cited = cited_rows(w, component=component, assumptions=True)
            title = f"{len(cited)} assumption rows (override them with `critmin world import DIR --override NAME`)"
            emit(cited, fmt, title=title)
            return
        src = sources_table(w, component=component)
    emit(src, fmt, title=f"{len(src)} sources")


def _events(world, since: str | None):
    """The policy_event table with each event's source citation and address, oldest first."""
    import datetime as dt

    from critmin.errors import UsageError

    events = world.table("policy_event").copy()
    sources = world.table("source").set_index("id")
    day = events["effective"].fillna(events["announced"]).astype(str)
    if since:
        try:
            dt.date.fromisoformat(since)
        except ValueError:
            raise UsageError(f"--since {since!r} is not a date (YYYY-MM-DD)") from None
        keep = (events["announced"].astype(str) >= since) | (day >= since)
        events, day = events[keep], day[keep]
    events = events.assign(_day=day).sort_values(["_day", "id"])
    citation = events["source"].map(sources["citation"]) if "citation" in sources else events["source"]
    address = events["source"].map(sources["url"]) if "url" in sources else ""
    out = events.assign(citation=citation, url=address)
    columns = ["id", "announced", "effective", "end", "actor", "target", "measure", "elements", "description",
               "source", "citation", "url", "confidence"]  # fmt: skip
    return out[[c for c in columns if c in out]].reset_index(drop=True)


@app.command("docs")
def docs() -> None:
    """Print the data documentation generated from the schema (docs/data.md)."""
    from critmin.api import render_markdown

    typer.echo(render_markdown(), nl=False)
