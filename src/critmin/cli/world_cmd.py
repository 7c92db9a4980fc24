"""critmin world: import and export world folders, list layers, check balance and calibration."""

from __future__ import annotations

from pathlib import Path

import typer

from critmin.cli.output import (
    DB_OPTION,
    FORMAT_OPTION,
    WORLD_OPTION,
    Format,
    console,
    emit,
    err_console,
    report,
    resolve_world,
    user_errors,
)
from critmin.errors import OutputExistsError

app = typer.Typer(
    help="World folders (CSV tables in the schema): import, export, layers, checks.", no_args_is_help=True
)


@app.command("import")
def import_(
    folder: Path = typer.Argument(..., exists=True, file_okay=False, help="World folder of CSV tables."),
    override: str = typer.Option(
        None,
        "--override",
        "-o",
        help="Import as an override layer with this name "
        "(rows replace matching keys of the active world) instead of as the active world.",
    ),
    db: Path = DB_OPTION,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Import a world folder in one transaction. Any bad row aborts the import and leaves the store unchanged;
    every problem is listed as file:line: column: reason."""
    from rich.progress import Progress

    from critmin.api import Store, balance_report

    with user_errors(), Progress(console=err_console, transient=True) as progress:
        progress.add_task(f"validating and importing {folder}", total=None)
        with Store(db) as store:
            imported, version = store.import_folder(folder, override=override)
            path = store.path
        unbalanced = int((~balance_report(imported)["ok"]).sum())
    if unbalanced:
        err_console.print(
            f"[yellow]warning:[/yellow] {unbalanced} node(s) of the imported world do not balance; "
            "see `critmin world check`"
        )
    what = f"override layer {override!r}" if override else "the active world"
    report(
        fmt,
        f"imported {folder} as {what} into {path} (data version {version})",
        {
            "action": "import",
            "folder": str(folder),
            "layer": override or "base",
            "store": str(path),
            "data_version": version,
        },
    )


@app.command("export")
def export(
    folder: Path = typer.Argument(..., file_okay=False, help="Folder to write the CSV tables into."),
    force: bool = typer.Option(False, "--force", help="Overwrite world CSV files already in the folder."),
    world: Path = WORLD_OPTION,
    db: Path = DB_OPTION,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Write the active world (base plus overrides) as a world folder. Import-then-export round-trips exactly."""
    from critmin.api import components

    with user_errors():
        existing = [c.file for c in components().values() if (folder / c.file).exists()]
        if existing and not force:
            raise OutputExistsError(
                f"{folder} already holds world files ({', '.join(existing[:3])}...); use --force to overwrite"
            )
        paths = resolve_world(world, db).to_folder(folder)
    report(
        fmt, f"wrote {len(paths)} tables to {folder}", {"action": "export", "folder": str(folder), "tables": len(paths)}
    )


@app.command("layers")
def layers(db: Path = DB_OPTION, fmt: Format = FORMAT_OPTION) -> None:
    """List the store's layers: the active (base) world and override layers, in the order applied."""
    from critmin.api import Store

    with user_errors(), Store(db) as store:
        emit(store.layers(), fmt, title=f"Layers in {store.path}")


@app.command("drop-layer")
def drop_layer(
    name: str = typer.Argument(..., help="Override layer to remove."), db: Path = DB_OPTION, fmt: Format = FORMAT_OPTION
) -> None:
    """Remove an override layer."""
    from critmin.api import Store

    with user_errors(), Store(db) as store:
        store.drop_layer(name)
    report(fmt, f"dropped layer {name!r}", {"action": "drop-layer", "layer": name})


@app.command("check")
def check(
    show_all: bool = typer.Option(False, "--all", help="List every balance node, not only failing ones."),
    calibration_check: bool = typer.Option(
        True,
        "--calibration/--no-calibration",
        help="Compare with the observed 2024 figures (turn off for worlds that are not about 2024, such as "
        "textbook cases).",
    ),
    trade_check: bool = typer.Option(
        True,
        "--trade/--no-trade",
        help="Clear the unshocked market once and compare every recorded trade arc with its equilibrium flow.",
    ),
    world: Path = WORLD_OPTION,
    db: Path = DB_OPTION,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Mass-balance residuals at every node (tolerance scaled to the data), calibration error against the
    observed 2024 figures, and the calibration error of every recorded trade arc in the unshocked equilibrium
    (t/yr). Exits 1 if a node fails, a target with a tolerance is missed, or an arc is off by more than 10%."""
    import pandas as pd

    from critmin.api import TOLERANCE_PCT, MarketDataError, arc_calibration, balance_report, calibration_report

    with user_errors():
        w = resolve_world(world, db)
        balance = balance_report(w)
        calibration = calibration_report(w) if calibration_check else pd.DataFrame(columns=["status"])
        arcs, skipped = pd.DataFrame(columns=["status"]), ""
        if trade_check and len(w.table("trade_flow")):
            try:
                arcs = arc_calibration(w)
            except MarketDataError as error:  # e.g. a textbook world without reference prices
                skipped = str(error)
    failing = balance[~balance["ok"]]
    shown = balance if show_all else failing
    misses = pd.concat([calibration[calibration["status"] == "MISS"], arcs[arcs["status"] == "MISS"]])
    if fmt is Format.table:
        ratio = (balance["residual"].abs() / balance["tolerance"]).max()
        console.print(
            f"[bold]Mass balance[/bold]: {len(balance) - len(failing)} of {len(balance)} checks within "
            f"tolerance (largest |residual| / tolerance = {ratio:.3g})"
        )
        if len(shown):
            emit(shown, fmt, title="Balance nodes" if show_all else "Failing balance nodes")
        if calibration_check:
            emit(
                calibration[["id", "observed", "modelled", "error", "unit", "tolerance", "status", "confidence"]],
                fmt,
                title="Calibration against observed 2024 figures "
                "(status ok/MISS where a tolerance applies; context otherwise)",
            )
        if skipped:
            console.print(f"[yellow]Trade calibration skipped[/yellow]: the market cannot be cleared: {skipped}")
        if len(arcs):
            worst = arcs.loc[arcs["error_pct"].abs().idxmax()]
            console.print(
                f"[bold]Trade calibration[/bold]: {int((arcs['status'] == 'ok').sum())} of {len(arcs)} recorded arcs "
                f"within {TOLERANCE_PCT:g}% in the unshocked equilibrium; largest error {worst['error_pct']:+.3g}% "
                f"({worst['origin']}->{worst['destination']} {worst['product']})"
            )
            off = arcs if show_all else arcs[arcs["error_pct"].abs() > 1.0]
            if len(off):
                emit(
                    off,
                    fmt,
                    title="Trade arcs (value at reference price)",
                    units={"recorded": "t/yr", "equilibrium": "t/yr", "error_pct": "%", "value_musd": "MUSD/yr"},
                )
    else:
        emit(
            pd.concat(
                [shown.assign(table="balance"), calibration.assign(table="calibration"), arcs.assign(table="trade")],
                ignore_index=True,
            ),
            fmt,
        )
    if len(failing) or len(misses):
        err_console.print(f"[bold red]{len(failing)} balance failure(s), {len(misses)} calibration miss(es)[/bold red]")
        raise typer.Exit(1)


# `--format` names the input file's format here (as the issue asks), so the output format is `--output-format`
OUTPUT_FORMAT_OPTION = typer.Option(
    Format.table, "--output-format", "-f", help="Output format: table, csv or json (list of records)."
)


def _report_import(fmt: Format, path: Path, result, store_path: Path, what: str) -> None:
    from critmin.api import balance_report

    unbalanced = int((~balance_report(result.world)["ok"]).sum())
    if unbalanced:
        err_console.print(
            f"[yellow]warning:[/yellow] {unbalanced} node(s) of the world with this layer do not balance; "
            "see `critmin world check`"
        )
    skipped = ", ".join(f"{n} {reason}" for reason, n in sorted(result.skipped.items()))
    rule = f", shared HS codes split by {result.allocation}" if result.allocation else ""
    report(
        fmt,
        f"imported {path} ({what} {result.year}) as override layer {result.layer!r}: {result.rows} "
        f"{result.table} row(s) citing {result.source_id}{rule}; skipped rows: {skipped or 'none'} "
        f"(store {store_path}, data version {result.data_version})",
        {"action": "import", "file": str(path), "store": str(store_path), **result.as_dict()},
    )


@app.command("import-trade")
def import_trade(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Trade file (CSV)."),
    data_format: str = typer.Option(..., "--format", help="File format: baci or comtrade."),
    override: str = typer.Option(..., "--override", "-o", help="Name of the override layer to write."),
    codes: Path = typer.Option(
        None,
        "--codes",
        exists=True,
        dir_okay=False,
        help="Country-code file (BACI's country_codes_V*.csv: country_code, country_iso3); default: critmin's "
        "own table of the world's countries and EU members, other codes going to ROW.",
    ),
    year: int = typer.Option(None, "--year", help="Year to read (needed when the file holds several)."),
    allocation: str = typer.Option(
        "composition",
        "--allocation",
        help="Split of HS codes shared by several products: composition (the world's trade shares on the arc, "
        "else globally) or unit_value (the flow's unit value against the products' reference prices).",
    ),
    db: Path = DB_OPTION,
    fmt: Format = OUTPUT_FORMAT_OPTION,
) -> None:
    """Import bilateral trade (CEPII BACI or UN Comtrade CSV) as an override layer of trade_flow rows, mapped to
    critmin's regions and products (HS codes through hs_map.csv). All or nothing: a bad row is listed as
    file:line: field: reason and nothing is written."""
    from critmin.api import Store
    from critmin.api import import_trade as run_import

    with user_errors(), Store(db) as store:
        result = run_import(
            store, file, fmt=data_format, override=override, codes=codes, year=year, allocation=allocation
        )
        path = store.path
    _report_import(fmt, file, result, path, data_format)


@app.command("import-production")
def import_production(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Production file (CSV)."),
    data_format: str = typer.Option(..., "--format", help="File format: usgs (MCS data-release world table)."),
    override: str = typer.Option(..., "--override", "-o", help="Name of the override layer to write."),
    year: int = typer.Option(None, "--year", help="Production year to read (default: the latest column)."),
    db: Path = DB_OPTION,
    fmt: Format = OUTPUT_FORMAT_OPTION,
) -> None:
    """Import mine production (USGS Mineral Commodity Summaries data release) as an override layer of production
    rows. All or nothing: a bad row is listed as file:line: field: reason and nothing is written."""
    from critmin.api import Store
    from critmin.api import import_production as run_import

    with user_errors(), Store(db) as store:
        result = run_import(store, file, fmt=data_format, override=override, year=year)
        path = store.path
    _report_import(fmt, file, result, path, data_format)
