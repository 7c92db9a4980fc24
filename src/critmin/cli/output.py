"""Rendering tidy records as a rich table, CSV or JSON (a list of records), and uniform error reporting.

pandas and duckdb are imported where they are used, not here: every command module imports this one, and
``critmin --help`` / ``--version`` must not pay for them."""

from __future__ import annotations

import enum
import json
import math
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

from critmin.api import ProblemList

if TYPE_CHECKING:
    import pandas as pd

# Tables piped to a file or another program are not squeezed into 80 columns, unless $COLUMNS asks for a width.
# no emoji codes: rich would turn "trade_flow.csv:100:" into "trade_flow.csv💯" and lose the line number
console = Console(emoji=False) if sys.stdout.isatty() or os.environ.get("COLUMNS") else Console(width=200, emoji=False)
err_console = Console(stderr=True, emoji=False)


class Format(enum.StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


FORMAT_OPTION = typer.Option(
    Format.table, "--format", "-f", help="Output format: table, csv or json (list of records)."
)
DB_OPTION = typer.Option(
    None,
    "--db",
    help="DuckDB store path \\[default: $CRITMIN_DB or the per-user data path].",
    envvar="CRITMIN_DB",
    show_envvar=True,
)
WORLD_OPTION = typer.Option(
    None,
    "--world",
    help="Read this world folder instead of the store's active world.",
    exists=True,
    file_okay=False,
    dir_okay=True,
)


def _clean(value):
    from pandas import NA

    if value is None or (isinstance(value, float) and math.isnan(value)) or value is NA:
        return None
    if hasattr(value, "isoformat"):  # timestamps
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def records(frame: pd.DataFrame) -> list[dict]:
    return [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _cell(value, column: str) -> str:
    if hasattr(value, "hour"):  # a timestamp: a date at midnight, else to the second
        midnight = (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0)
        return value.date().isoformat() if midnight else value.isoformat(sep=" ", timespec="seconds")
    value = _clean(value)
    if value is None:
        return "-"
    if isinstance(value, float):
        if column.endswith("share") and abs(value) <= 1:
            return f"{value:.1%}"
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:,.4g}"
    return str(value)


def _numeric(values: pd.Series) -> bool:
    """Numbers, including an object column of numbers and missing values (right-aligned, never wrapped)."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(values):
        return False
    if pd.api.types.is_numeric_dtype(values):
        return True
    present = values.dropna()
    return (
        values.dtype == object
        and len(present) > 0
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present)
    )


def emit(frame: pd.DataFrame, fmt: Format, *, title: str | None = None, units: dict[str, str] | None = None) -> None:
    """Write a table to stdout in the chosen format. ``units`` label table headers."""

    from critmin.cli.tables import Column, layout

    if fmt is Format.json:
        sys.stdout.write(json.dumps(records(frame), indent=2, allow_nan=False) + "\n")
    elif fmt is Format.csv:
        sys.stdout.write(frame.to_csv(index=False))
    else:
        columns = [
            Column(
                f"{col} [{units[col]}]" if units and units.get(col) else str(col),
                [_cell(v, col) for v in frame[col]],
                numeric=_numeric(frame[col]),
            )
            for col in frame.columns
        ]
        for table in layout(columns, console.width, title):
            console.print(table)
        if frame.empty:
            console.print("[dim]no rows match[/dim]")


def print_flags(flags: pd.DataFrame, run_id: str, *, limit: int = 40) -> None:
    """A run's plausibility flags as a table (kind, path, where, months, message), or a green all-clear line."""
    from rich.table import Table

    if flags.empty:
        console.print("[green]No plausibility flags[/green]")
        return
    table = Table(title=f"Plausibility flags ({len(flags)})", title_justify="left", header_style="bold")
    for col in ("kind", "path", "region", "product", "months"):
        table.add_column(col, justify="right" if col == "months" else "left", no_wrap=True)
    table.add_column("message", overflow="fold")
    for row in flags.head(limit).itertuples(index=False):
        cells = (row.kind, row.path, row.region, row.product, row.months, row.message)
        table.add_row(*(escape(_cell(v, "")) for v in cells))
    console.print(table)
    if len(flags) > limit:
        console.print(f"[dim]... and {len(flags) - limit} more: critmin runs flags {escape(run_id)}[/dim]")


def print_policies(policies: pd.DataFrame) -> None:
    """What each policy shock did: bought, mean buy price, released, acted (nothing printed without policies)."""
    if policies.empty:
        return
    columns = ["name", "type", "region", "product", "target_t", "bought_t", "mean_buy_price", "released_t",
               "delivered_t", "acted", "reason"]  # fmt: skip
    emit(
        policies[columns],
        Format.table,
        title="Policies",
        units={"target_t": "t", "bought_t": "t", "mean_buy_price": "USD/kg", "released_t": "t", "delivered_t": "t"},
    )


def report(fmt: Format, message: str, record: dict) -> None:
    """The outcome of an action: a sentence for people (table format), one record for programs."""
    if fmt is Format.table:
        console.print(message, highlight=False)
    else:
        import pandas as pd

        emit(pd.DataFrame([record]), fmt)


ISSUES_URL = "https://github.com/critmin/critmin/issues"


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn critmin's errors into clear messages and exit codes (1 data or scenario problems, 2 anything else
    the user can fix). File-system errors (a missing or unreadable path) count as the user's too. Any other
    exception is a bug in critmin: it is shown with its traceback and a request to report it (exit 70)."""
    from critmin.errors import CritminError

    try:
        yield
    except ProblemList as exc:  # world data or a scenario: every problem, root causes first
        err_console.print(f"[bold red]error:[/bold red] {len(exc.problems)} problem(s); nothing was changed.")
        for problem in exc.problems[:100]:
            err_console.print(f"  {problem}", markup=False, highlight=False, soft_wrap=True)
        if len(exc.problems) > 100:
            err_console.print(f"  ... and {len(exc.problems) - 100} more")
        raise typer.Exit(1) from None
    except (CritminError, OSError) as exc:
        err_console.print(f"[bold red]error:[/bold red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except (typer.Exit, typer.Abort):  # typer's own ways out, not bugs
        raise
    except Exception:
        err_console.print_exception()
        err_console.print(
            f"[bold red]critmin hit a bug[/bold red] (not a problem with your input). Please report it at "
            f"{ISSUES_URL} with the command you ran and the traceback above.",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(70) from None


def resolve_world(world_dir: Path | None, db: Path | None):
    """The world a command works on: a folder if given, else the store's active world (loaded if empty)."""
    from critmin.api import Store, World

    if world_dir is not None:
        return World.from_folder(world_dir)
    with Store(db) as store:
        if store.is_empty():
            err_console.print(f"[dim]store {store.path} is empty: loading the bundled world[/dim]")
        return store.world()


def without_dask_arrays() -> None:
    """Tell xarray that this process holds no dask arrays, so it does not import dask.array (0.5-1.5 s) on its
    first array. xarray imports it whenever dask is installed, and linopy requires dask; a CLI command's arrays
    are all numpy, and the process ends with the command. Only for CLI processes: a library must not change
    xarray for its caller's code. This uses xarray's private duck-array cache, so any failure (another xarray
    version) leaves xarray as it is, and it does nothing once dask.array is loaded or xarray has looked."""
    if "dask.array" in sys.modules:
        return
    try:
        from xarray.namedarray import pycompat

        if "dask" in pycompat._cached_duck_array_modules:
            return
        absent = object.__new__(pycompat.DuckArrayModule)
        absent.module, absent.version, absent.type, absent.available = None, pycompat.Version("0.0.0"), (), False
        pycompat._cached_duck_array_modules["dask"] = absent
    except Exception:
        return


@contextmanager
def month_progress(description: str, months: int, every_s: float = 5.0) -> Iterator:
    """A progress callback ``advance(done, total)`` for a run, on stderr: a bar with the months from the start
    on a terminal; otherwise a line at most every ``every_s`` seconds and at the end (logs and CI show it)."""
    if err_console.is_terminal:
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} months"),
                   TimeRemainingColumn())  # fmt: skip
        with Progress(*columns, console=err_console, transient=True) as bar:
            task = bar.add_task(description, total=months)
            yield lambda done, total: bar.update(task, completed=done, total=total)
        return
    import time

    last = [time.monotonic()]

    def advance(done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - last[0] >= every_s:
            last[0] = now
            err_console.print(f"{description}: {done}/{total} months", highlight=False)

    yield advance
