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
    import pandas as pd

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


def _row_key(comp_name: str, row: pd.Series) -> str:
    from critmin.api import components

    comp = components()[comp_name]
    return ", ".join(f"{k}={row[k]}" for k in comp.key)


def _main_value(comp_name: str, row: pd.Series):
    import pandas as pd

    from critmin.api import components

    comp = components()[comp_name]
    for attr in comp.attributes:
        if attr.type == "float" and not attr.key and pd.notna(row.get(attr.name)):
            return f"{attr.name}={row[attr.name]:g}"
    return None


@app.command("sources")
def sources(
    assumptions: bool = typer.Option(
        False,
        "--assumptions",
        help="List every row that is a critmin assumption (confidence=assumption) instead of the sources.",
    ),
    component: str = typer.Option(None, "--component", "-c", help="Only rows of this component (e.g. production)."),
    world: Path = WORLD_OPTION,
    db: Path = DB_OPTION,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Sources cited by the data, with how many rows cite each; or, with --assumptions, the assumption rows."""
    import pandas as pd

    from critmin.api import components

    with user_errors():
        w = resolve_world(world, db)
        if component is not None and component not in components():
            raise ValueError(f"unknown component {component!r}; choose from: {', '.join(components())}")
    cited = []
    for name, comp in components().items():
        if not comp.provenance or (component and name != component):
            continue
        table = w.table(name)
        if assumptions:
            table = table[table["confidence"] == "assumption"]
        for _, row in table.iterrows():
            cited.append(
                {
                    "component": name,
                    "key": _row_key(name, row),
                    "value": _main_value(name, row),
                    "unit": row["unit"],
                    "year": row["year"],
                    "confidence": row["confidence"],
                    "source": row["source"],
                    "note": row["note"],
                }
            )
    cited = pd.DataFrame(cited, columns=["component", "key", "value", "unit", "year", "confidence", "source", "note"])
    if assumptions:
        emit(
            cited,
            fmt,
            title=f"{len(cited)} assumption rows (override them with `critmin world import DIR --override NAME`)",
        )
        return
    src = w.table("source")
    counts = cited.groupby("source").size()
    confidence = cited.groupby("source")["confidence"].agg(lambda s: "/".join(sorted(set(s))))
    src["rows"] = src["id"].map(counts).fillna(0).astype(int)
    src["confidence"] = src["id"].map(confidence)
    src = src[src["rows"] > 0] if component else src
    emit(src[["id", "rows", "confidence", "confirmed_raw", "citation", "url"]], fmt, title=f"{len(src)} sources")


@app.command("docs")
def docs() -> None:
    """Print the data documentation generated from the schema (docs/data.md)."""
    from critmin.api import render_markdown

    typer.echo(render_markdown(), nl=False)
