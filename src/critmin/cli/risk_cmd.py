"""critmin risk run / list / show / compare / export: Monte Carlo risk studies of a disruption model."""

from __future__ import annotations

import enum
import json
import math
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.markup import escape

from critmin.cli.output import DB_OPTION, Format, console, emit, err_console, records, resolve_world, user_errors

app = typer.Typer(
    help="Risk studies: sample a disruption model (risks/*.yaml), run every draw through the market, and store "
    "expected shortfall, VaR/CVaR, element rankings, price fans and durations. Run, list, show, compare, export.",
    no_args_is_help=True,
)


class Sampler(enum.StrEnum):
    mc = "mc"
    lhs = "lhs"
    sobol = "sobol"


class Engine(enum.StrEnum):
    fast = "fast"
    exact = "exact"


class Table(enum.StrEnum):
    measures = "measures"
    ranking = "ranking"
    fan = "fan"
    exceedance = "exceedance"
    durations = "durations"


PCT = "% of baseline demand"
COST = "USD"
STUDY_ARG = typer.Argument(..., help="Study id, a unique prefix of one, or 'latest'.")
JSON_OPTION = typer.Option(False, "--json", help="Print one JSON object instead of tables.")
REGION_FILTER = typer.Option(None, "--region", "-r", help="Show only these regions (repeatable).")
ELEMENT_FILTER = typer.Option(None, "--element", "-e", help="Show only these elements (repeatable).")
CVAR_ROWS = 15  # rows of the CVaR table after a run
RANKING_ROWS = 20  # rows of the ranking after a run (elements with a cost only)
# units of each table's numeric columns in table headers (columns named "unit" hold the per-row ones)
TABLE_UNITS = {
    "measures": {"weight": "sum of draw weights", "prob_any_shortfall": "0-1"},
    "ranking": {"expected_cost": COST},
    "fan": {q: "ratio" for q in ("mean", "q05", "q25", "q50", "q75", "q95")},
    "exceedance": {"exceedance_prob": "0-1"},
    "durations": {"share_defined": "0-1"},
}


def _json(payload) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, allow_nan=False, default=_finite) + "\n")


def _finite(value):
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _rows(frame) -> list[dict]:
    """Records for JSON: NaN and infinities as null."""
    return [
        {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in row.items()}
        for row in records(frame)
    ]


def _when(iso: str | None) -> str:
    """An ISO timestamp to the second, with a space: 2026-01-31 12:00:00."""
    return (iso or "?")[:19].replace("T", " ")


def _only(frame, region: list[str] | None, element: list[str] | None):
    if region:
        frame = frame[frame["region"].isin(region)]
    if element:
        frame = frame[frame["element"].isin(element)]
    return frame


@contextmanager
def draw_progress(description: str, every_s: float = 5.0) -> Iterator:
    """A progress callback ``advance(done, total)`` counting draws, on stderr, with the rate in draws/min since
    the first report: a bar on a terminal, else a line at most every ``every_s`` seconds and at the end."""
    first: dict = {}

    def rate(done: int) -> str:
        now = time.monotonic()
        if not first:
            first.update(done=done, at=now)
        elapsed = now - first["at"]
        if done <= first["done"] or elapsed <= 0:
            return "... draws/min"
        return f"{(done - first['done']) / elapsed * 60:,.0f} draws/min"

    if err_console.is_terminal:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,}/{task.total:,} draws"),
                   TextColumn("{task.fields[rate]}"), TimeElapsedColumn())  # fmt: skip
        with Progress(*columns, console=err_console, transient=True) as bar:
            task = bar.add_task(description, total=None, rate="")
            yield lambda done, total: bar.update(task, completed=done, total=total, rate=rate(done))
        return
    last = [time.monotonic()]

    def advance(done: int, total: int) -> None:
        now, speed = time.monotonic(), rate(done)
        if done >= total or now - last[0] >= every_s:
            last[0] = now
            err_console.print(f"{description}: {done:,}/{total:,} draws ({speed})", highlight=False)

    yield advance


@app.command("run")
def risk_run(
    path: Path = typer.Argument(
        ..., exists=True, dir_okay=False, metavar="FILE", help="Disruption model YAML, e.g. risks/china-controls.yaml."
    ),
    draws: int = typer.Option(..., "--draws", "-n", min=1, max=10_000_000, help="Number of draws (samples)."),
    seed: int = typer.Option(..., "--seed", min=0, max=2**63 - 1, help="Seed of the sampler (0 to 2**63 - 1)."),
    workers: int = typer.Option(
        None,
        "--workers",
        "-w",
        min=1,
        help="Worker processes on a local dask cluster; 1 evaluates in this process \\[default: the CPUs, at most "
        "8]. Not with --scheduler.",
    ),
    scheduler: str = typer.Option(
        None, "--scheduler", help="Address of a running dask scheduler, tcp://host:port. Not with --workers."
    ),
    sampler: Sampler = typer.Option(
        Sampler.mc, "--sampler", help="mc (a seed per draw), lhs (Latin hypercube) or sobol (scrambled Sobol)."
    ),
    chunk: int = typer.Option(
        500,
        "--chunk",
        min=1,
        help="Draws per chunk (one task, one file; resume skips finished chunks). At least 100 is advised: below "
        "that a task's overhead outweighs its work.",
    ),
    engine: Engine = typer.Option(
        Engine.fast, "--engine", help="fast (the batch engine) or exact (every draw through the LP time loop)."
    ),
    region: str = typer.Option("JPN", "--region", "-r", help="Region whose element ranking is printed."),
    name: str = typer.Option(None, "--name", help="A label for the study \\[default: the model's name]."),
    db: Path = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Run (or resume) a risk study of the disruption model in FILE, store it, and print its ranking and tails.

    Samples --draws draws of the model, evaluates every draw through the market (monthly, against the
    baseline), stores the results and prints the element ranking of --region and the worst tails (CVaR).

    The study id is a hash of the model text, the world's data version, --draws, --seed, --sampler, --chunk and
    --engine. Running the same command again resumes an interrupted study (finished chunks are kept on disk,
    beside the store in <db stem>-studies/<id>/) or, when it is complete, shows it. Results are identical
    whatever the number of workers.

    Units: shortfall in % of baseline demand (worst month, beyond the baseline's) or in t of the element
    (cumulative over the horizon); P(any shortfall) a probability (0-1); VaR95 and CVaR95 the 95% value at risk
    and expected shortfall beyond it; expected cost in USD (shortfall valued at the reference price).
    --json prints one object: the study's record, "ranking" and "cvar" rows, and "units"."""
    from critmin.api import (
        Store,
        StudyNotFoundError,
        data_version,
        load_risk_model,
        run_study,
        study_info,
        study_key,
        study_table,
    )

    if workers is not None and scheduler is not None:
        raise typer.BadParameter(
            "--workers and --scheduler exclude each other (a scheduler's cluster has its own workers); give one",
            param_hint="'--workers' / '--scheduler'",
        )
    with user_errors():
        world = resolve_world(None, db)
        model = load_risk_model(path, world)
        text = path.read_text(encoding="utf-8")
        sid = study_key(text, data_version(world), draws=draws, seed=seed, sampler=str(sampler), chunk=chunk,
                        engine=str(engine))  # fmt: skip
        with Store(db) as store:
            try:
                before = study_info(store, sid)["status"]
            except StudyNotFoundError:
                before = None
            store_path = store.path
        already = before == "complete"
        if not already:
            with draw_progress(f"study {sid} ({model.name})") as advance:
                run_study(
                    world, model, model_text=text, draws=draws, seed=seed, sampler=str(sampler), engine=str(engine),
                    workers=workers, scheduler=scheduler, chunk=chunk, store=store_path, progress=advance, name=name,
                )  # fmt: skip
        with Store(store_path) as store:
            info = study_info(store, sid)
            ranking = study_table(store, sid, "ranking")
            measures = study_table(store, sid, "measures")
    regions = sorted(set(measures["region"]))
    if region not in regions:
        err_console.print(f"[yellow]no outcomes for --region {escape(region)}[/yellow]; regions: {', '.join(regions)}")
    ranking = ranking[ranking["region"] == region].drop(columns=["region", "unit"])
    cvar = _cvar_table(measures)
    rate = info["draws_evaluated"] / info["wall_s"] * 60 if info.get("wall_s") and not already else None
    if as_json:
        payload = {
            **{k: info[k] for k in ("study_id", "name", "model", "status", "draws", "seed", "sampler", "engine",
                                    "chunk", "workers", "scheduler", "wall_s", "directory", "created_at")},
            "already_complete": already, "draws_evaluated": 0 if already else info.get("draws_evaluated"),
            "draws_per_min": rate, "chunks": info.get("chunks"), "chunks_resumed": info.get("chunks_resumed"),
            "region": region, "ranking": _rows(ranking), "cvar": _rows(cvar),
            "units": {"expected_cost": f"{COST} (shortfall valued at the reference price)", "share": "0-1",
                      "expected_pct": PCT, "var95_pct": PCT, "cvar95_pct": PCT, "p_any_shortfall": "0-1",
                      "wall_s": "s", "draws_per_min": "draws/min"},
        }  # fmt: skip
        _json(payload)
        return
    if already:
        console.print(
            f"study [bold]{sid}[/bold] ({escape(info['name'])}) is already complete in the store "
            f"(created {_when(info['created_at'])} UTC, {info['draws']:,} draws); showing it. See also: critmin "
            f"risk show {sid}",
            highlight=False,
        )
    else:
        resumed = f"; resumed {info['chunks_resumed']} of {info['chunks']} chunks" if info["chunks_resumed"] else ""
        console.print(
            f"study [bold]{sid}[/bold] ({escape(info['name'])}): {info['draws']:,} draws in {info['wall_s']:,.1f} s, "
            f"{rate:,.0f} draws/min{resumed}; stored in {store_path}, chunks in {escape(info['directory'])}",
            highlight=False,
        )
    _print_ranking(ranking, region)
    _print_cvar(cvar)


def _cvar_table(measures):
    """The worst tails: region x element rows by CVaR95 of the worst month's shortfall (%), largest first."""
    pct = measures[(measures["loss"] == "shortfall_pct") & (measures["cvar_95"] > 0)]
    pct = pct.sort_values(["cvar_95", "region", "element"], ascending=[False, True, True]).head(CVAR_ROWS)
    return pct.rename(
        columns={"expected_loss": "expected_pct", "prob_any_shortfall": "p_any_shortfall", "var_95": "var95_pct",
                 "cvar_95": "cvar95_pct"}
    )[["region", "element", "expected_pct", "p_any_shortfall", "var95_pct", "cvar95_pct"]]  # fmt: skip


def _print_ranking(ranking, region: str) -> None:
    costly = ranking[ranking["expected_cost"] > 0].head(RANKING_ROWS)
    if costly.empty:
        console.print(f"[green]No shortfall cost to {escape(region)} in any draw[/green]")
        return
    table = costly[["rank", "element", "expected_cost", "share", "on_reference_list"]].rename(
        columns={"on_reference_list": "usgs_2025_top_risk"}
    )
    emit(
        table,
        Format.table,
        title=f"Elements by expected shortfall cost to {region} (shortfall valued at the reference price; share of "
        "the region's total)",
        units={"expected_cost": COST},
    )


def _print_cvar(cvar) -> None:
    if cvar.empty:
        console.print("[green]No shortfall in any draw[/green]")
        return
    emit(
        cvar,
        Format.table,
        title=f"Worst tails: top {CVAR_ROWS} region x element by CVaR95 of the worst month's shortfall",
        units={"expected_pct": "%", "p_any_shortfall": "0-1", "var95_pct": "%", "cvar95_pct": "%"},
    )


@app.command("list")
def risk_list(db: Path = DB_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Stored studies with their parameters, wall time and status.

    Columns: id, name, model, draws, seed, sampler, engine, workers (processes used; empty on a scheduler's
    cluster), created_at (UTC), wall_s (s, of the run that completed the study) and status (complete, running,
    failed, interrupted: run the same `critmin risk run` again to resume)."""
    from critmin.api import Store, list_studies

    with user_errors(), Store(db) as store:
        studies = list_studies(store)
    if as_json:
        _json(_rows(studies))
        return
    emit(studies, Format.table, title="Risk studies", units={"wall_s": "s"})


@app.command("show")
def risk_show(
    study: str = STUDY_ARG,
    table: Table = typer.Option(
        Table.measures,
        "--table",
        "-t",
        help="measures (expected loss, P(any shortfall), VaR/CVaR 95 and 99), ranking (expected shortfall cost, "
        "USD), fan (monthly price ratio to the baseline: mean and quantiles), exceedance (P(loss > level)) or "
        "durations (times to survive and recover, days).",
    ),
    region: list[str] = REGION_FILTER,
    element: list[str] = ELEMENT_FILTER,
    limit: int = typer.Option(100, "--limit", min=1, help="Rows printed in the table format (--json: all)."),
    db: Path = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """A stored study's record and one of its tables.

    Units: measures' losses are shortfall_pct (% of baseline demand, worst month) and shortfall_t (the
    element's unit, cumulative over the horizon), in the "unit" column; probabilities 0-1; ranking in USD
    (shortfall valued at the reference price of the element's oxide, primary gallium or processed graphite);
    fan ratios are the month's price over the baseline's (baseline_price_usd_per_kg in USD/kg); durations in
    days (share_defined: the share of draws with a shortage). --json: {"study": record, "table": name, "rows":
    [...]}."""
    from critmin.api import Store, resolve_study, study_info, study_table

    with user_errors(), Store(db) as store:
        sid = resolve_study(store, study)
        info = study_info(store, sid)
        rows = _only(study_table(store, sid, str(table)), region, element)
        units = None
        if table is Table.exceedance:
            measures = study_table(store, sid, "measures")
            units = measures.set_index(["region", "element", "loss"])["unit"]
    if as_json:
        _json({"study": {k: v for k, v in info.items() if k != "model_yaml"}, "table": str(table),
               "rows": _rows(rows)})  # fmt: skip
        return
    console.print(
        f"study [bold]{sid}[/bold] ({escape(str(info['name']))}, model {escape(str(info['model']))}): "
        f"{info['draws']:,} draws, seed {info['seed']}, sampler {info['sampler']}, engine {info['engine']}, chunk "
        f"{info['chunk']}, status {info['status']}; created {_when(info['created_at'])} UTC, "
        f"{info['wall_s'] or 0:,.1f} s",
        highlight=False,
    )
    if units is not None:  # the level's unit is the loss's
        at = list(rows.columns).index("level")
        rows = rows.copy()
        rows.insert(at, "unit", [units.get((r, e, loss), "") for r, e, loss in
                                 zip(rows["region"], rows["element"], rows["loss"], strict=True)])  # fmt: skip
    shown = rows.head(limit)
    emit(shown, Format.table, title=f"{table} ({len(rows):,} rows)", units=TABLE_UNITS[str(table)])
    if len(rows) > limit:
        console.print(
            f"[dim]... {len(rows) - limit:,} more rows: --limit, --region/--element, --json or critmin risk export"
            "[/dim]"
        )


COMPARED = ("expected_loss", "cvar_95", "prob_any_shortfall")


@app.command("compare")
def risk_compare(
    a: str = typer.Argument(..., help="First study (A): id, unique prefix or 'latest'."),
    b: str = typer.Argument(..., help="Second study (B)."),
    region: list[str] = REGION_FILTER,
    element: list[str] = ELEMENT_FILTER,
    db: Path = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Two studies' risk measures side by side per region x element x loss, with the change from A to B.

    The table format has one row per region x element x loss x measure (expected_loss, cvar_95,
    prob_any_shortfall) with A, B and change = B - A, only where A or B is not zero; the unit column is the
    loss's (% of baseline demand, or the element's t) and 0-1 for prob_any_shortfall. --json: one record per
    region x element x loss with {measure}_a, {measure}_b and {measure}_change."""
    import pandas as pd

    from critmin.api import Store, compare_studies

    with user_errors(), Store(db) as store:
        table = _only(compare_studies(store, a, b), region, element)
    if as_json:
        _json(_rows(table))
        return
    long = pd.concat(
        [
            pd.DataFrame({
                "region": table["region"], "element": table["element"], "loss": table["loss"], "measure": measure,
                "unit": "0-1" if measure == "prob_any_shortfall" else table["unit"],
                "A": table[f"{measure}_a"], "B": table[f"{measure}_b"], "change": table[f"{measure}_change"],
            })
            for measure in COMPARED
        ],
        ignore_index=True,
    )  # fmt: skip
    long = long[(long["A"].fillna(0) != 0) | (long["B"].fillna(0) != 0)]
    long = long.sort_values(["region", "element", "loss"], kind="stable", ignore_index=True)
    ids = (table["study_a"].iloc[0], table["study_b"].iloc[0]) if len(table) else (a, b)
    emit(long, Format.table, title=f"A: {ids[0]}\nB: {ids[1]}")


@app.command("export")
def risk_export(
    study: str = STUDY_ARG,
    out: Path = typer.Option(
        ...,
        "--out",
        "-o",
        help="Output file; its suffix picks the format: .csv or .parquet (one file per table, named "
        "<stem>.<table>.csv), .xlsx (one sheet per table) or .json (one object).",
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite export files already there."),
    db: Path = DB_OPTION,
) -> None:
    """Write a stored study's record and tables to a .csv, .parquet, .xlsx or .json file.

    The record (table "study": provenance, parameters, engine notes) and the tables measures, ranking, fan,
    exceedance and durations.

    Units are in each table's unit column and column names (shortfall_pct: % of baseline demand; shortfall_t:
    the element's t; expected_cost: USD; fan: price ratios to the baseline, baseline_price_usd_per_kg in USD/kg;
    durations: days; probabilities 0-1). Numbers are rounded to 6 significant digits. Existing files are kept
    unless --force; files appear only once written in full."""
    from critmin.api import Store, export_study

    with user_errors(), Store(db) as store:
        paths = export_study(store, study, out, force=force)
    console.print(f"wrote {len(paths)} file(s): {', '.join(str(p) for p in paths)}", highlight=False)
