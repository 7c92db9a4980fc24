"""critmin plan run / list / show / compare / export: two-stage plans of projects, financing instruments,
stockpiles and recycling against a disruption model (plans/*.yaml, docs/plan.md)."""

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
    help="Plans: choose which projects to finance (and with which instrument), how much to stockpile and which "
    "recycling to support, for each coalition of players, against a disruption model's scenarios; with EVPI, VSS, "
    "the CVaR premium, the value of cooperation and its Shapley split. Run, list, show, compare, export. Money in "
    "MUSD.",
    no_args_is_help=True,
)


class Table(enum.StrEnum):
    portfolio = "portfolio"
    coalitions = "coalitions"
    options = "options"
    shapley = "shapley"
    scenarios = "scenarios"
    frontier = "frontier"
    shortlist = "shortlist"


PLAN_ARG = typer.Argument(..., help="Plan run id, a unique prefix of one, or 'latest'.")
JSON_OPTION = typer.Option(False, "--json", help="Print one JSON object instead of tables.")
MEASURES = {  # the value measures: plans column -> (label, what it is)
    "objective_musd": ("objective", "joint plan: E[cost] + λ·CVaR[cost] (public cost + second-stage cost)"),
    "evpi_musd": ("EVPI", "expected value of perfect information: what knowing the scenario in advance is worth"),
    "vss_musd": ("VSS", "value of the stochastic solution: the mean-value plan's objective less the joint plan's"),
    "cvar_premium_musd": ("CVaR premium", "expected cost paid for risk aversion: E[cost] at λ less at λ = 0"),
}
COMPARED_OPTION_UNITS = {"modules_a": "modules", "modules_b": "modules", "change": "modules"}


def units_of(columns) -> dict[str, str]:
    """Header units of a plan table's numeric columns (every *_musd column is MUSD)."""
    fixed = {
        "wall_s": "s", "probability": "0-1", "gap": "-", "value_per_musd": "MUSD/MUSD", "modules": "modules",
        "modules_max": "modules", "draws": "draws", "risk_weight": "λ", "scenarios": "scenarios",
        "size": "players", "iterations": "iterations",
    }  # fmt: skip
    return {c: fixed.get(c, "MUSD") for c in columns if c in fixed or str(c).endswith("_musd")}


def _json(payload) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, allow_nan=False, default=_plain) + "\n")


def _plain(value):
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
    return (iso or "?")[:19].replace("T", " ")


NOISE_MUSD = 1e-9  # solver round-off: printed as 0 (stored and --json as computed)


def _tidy(frame):
    """A table for printing: MUSD values within round-off of zero as 0."""
    frame = frame.copy()
    for column in frame.columns:
        if str(column).endswith("_musd"):
            frame[column] = frame[column].map(lambda v: 0.0 if v is not None and abs(v) < NOISE_MUSD else v)
    return frame


def _musd(value) -> str:
    return "-" if value is None else f"{0.0 if abs(value) < NOISE_MUSD else value:,.4g} MUSD"


@contextmanager
def plan_errors() -> Iterator[None]:
    """A plan file with problems: every problem as file:line: field: reason, exit code 2."""
    from critmin.api import PlanError

    try:
        yield
    except PlanError as exc:
        err_console.print(f"[bold red]error:[/bold red] {len(exc.problems)} problem(s) in the plan; nothing was run.")
        for problem in exc.problems[:100]:
            err_console.print(f"  {problem}", markup=False, highlight=False, soft_wrap=True)
        if len(exc.problems) > 100:
            err_console.print(f"  ... and {len(exc.problems) - 100} more")
        raise typer.Exit(2) from None


@contextmanager
def plan_progress(description: str, every_s: float = 5.0) -> Iterator:
    """A progress callback ``progress(what, done, total)`` for run_plan, on stderr: a bar per phase
    (scenarios, coalitions, measures, options) on a terminal, else a line at each phase's end and at most every
    ``every_s`` seconds."""
    started = time.monotonic()
    if err_console.is_terminal:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                   TextColumn("{task.fields[what]}"), TimeElapsedColumn())  # fmt: skip
        with Progress(*columns, console=err_console, transient=True) as bar:
            task = bar.add_task(description, total=None, what="")
            yield lambda what, done, total: bar.update(task, completed=done, total=total, what=what)
        return
    last = [started]

    def advance(what: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - last[0] >= every_s:
            last[0] = now
            err_console.print(f"{description}: {what} {done}/{total} ({now - started:,.1f} s)", highlight=False)

    yield advance


def _stored(db: Path | None, plan_id: str) -> tuple[dict, dict]:
    """A stored run's record and tables."""
    from critmin.api import PLAN_TABLES, Store, plan_info, read_plan_table

    with Store(db) as store:
        info = plan_info(store, plan_id)
        tables = {t: read_plan_table(store, info["plan_id"], t) for t in PLAN_TABLES}
    return info, tables


def _record(info: dict) -> dict:
    return {k: v for k, v in info.items() if k != "plan_yaml"}


def _joint_label(info: dict) -> str:
    return "+".join(sorted(info["players"].split("+")))


def _summary_json(info: dict, tables: dict, **extra) -> dict:
    joint = _joint_label(info)
    portfolio = tables["portfolio"]
    return {
        "plan": _record(info), **extra,
        "portfolio": _rows(portfolio[portfolio["coalition"] == joint].drop(columns="coalition")),
        "measures": {MEASURES[c][0]: info[c] for c in MEASURES},
        "coalitions": _rows(tables["coalitions"]), "shapley": _rows(tables["shapley"]),
        "joint_saving_musd": info["joint_saving_musd"], "superadditive": info["superadditive"],
        "violations": info["violations"], "shortlist": _rows(tables["shortlist"]),
        "units": {"*_musd": "MUSD", "wall_s": "s", "value_per_musd": "MUSD saved per MUSD of public cost",
                  "modules": "modules", "probability": "0-1"},
    }  # fmt: skip


def _print_summary(info: dict, tables: dict) -> None:
    """A run's joint portfolio, value measures, cooperation and shortlist."""
    import pandas as pd

    joint = _joint_label(info)
    portfolio = tables["portfolio"]
    portfolio = portfolio[portfolio["coalition"] == joint][["option", "owner", "instrument", "modules",
                                                            "public_cost_musd"]]  # fmt: skip
    if portfolio.empty:
        console.print(f"[yellow]The joint plan ({escape(joint)}) takes no option[/yellow]")
    else:
        emit(portfolio, Format.table, title=f"Joint portfolio ({joint}): modules and public cost",
             units=units_of(portfolio.columns))  # fmt: skip
    measures = pd.DataFrame([
        {"measure": label, "value_musd": info[column], "meaning": meaning}
        for column, (label, meaning) in MEASURES.items()
    ])  # fmt: skip
    emit(_tidy(measures), Format.table, title=f"Value measures (λ = {info['risk_weight']:g}, α = {info['alpha']:g}, "
         f"{info['scenarios']} scenarios)", units={"value_musd": "MUSD"})  # fmt: skip
    coalitions = tables["coalitions"][["coalition", "objective_musd", "expected_musd", "cvar_musd", "public_musd",
                                       "saving_musd"]]  # fmt: skip
    emit(_tidy(coalitions), Format.table, title="Cooperation: each coalition's optimum and its saving over no plan",
         units=units_of(coalitions.columns))  # fmt: skip
    emit(_tidy(tables["shapley"]), Format.table, title="Shapley split of the grand coalition's saving",
         units=units_of(tables["shapley"].columns))  # fmt: skip
    console.print(
        f"joint saving (value of cooperation: the stand-alone plans side by side less the joint plan): "
        f"{_musd(info['joint_saving_musd'])}",
        highlight=False,
    )
    console.print(_superadditive_line(info), highlight=False)
    shortlist = tables["shortlist"]
    if shortlist.empty:
        console.print("[dim]shortlist: empty (the joint plan takes no option)[/dim]")
    else:
        emit(shortlist, Format.table, title="Shortlist: the joint plan's options by value per MUSD of their last "
             "module", units=units_of(shortlist.columns))  # fmt: skip


def _superadditive_line(info: dict) -> str:
    if info["superadditive"]:
        return "superadditive: yes (no coalition saves less than its parts apart, beyond the solves' gap)"
    shown = "; ".join(
        f"{v['s']} with {v['t']} saves {v['shortfall_musd']:,.4g} MUSD less than apart" for v in info["violations"][:5]
    )
    more = f"; ... {len(info['violations']) - 5} more" if len(info["violations"]) > 5 else ""
    return f"superadditive: no (violations: {shown}{more})"


def _headline(info: dict) -> str:
    return (
        f"plan [bold]{info['plan_id']}[/bold] ({escape(info['name'])}): players {escape(info['players'])}, "
        f"{info['scenarios']} scenarios, λ = {info['risk_weight']:g}; created {_when(info['created_at'])} UTC in "
        f"{info['wall_s'] or 0:,.1f} s; data version {info['data_version']}"
    )


@app.command("run")
def plan_run(
    path: Path = typer.Argument(
        ..., exists=True, dir_okay=False, metavar="FILE", help="Plan YAML, e.g. plans/us-japan-2025.yaml."
    ),
    rerun: bool = typer.Option(
        False, "--rerun", help="Run again even if this plan (same file, disruption model and data) is stored."
    ),
    db: Path = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Solve the plan in FILE for every coalition of its players, store the run, and print its results.

    Validates the plan against the store's active world (problems as file:line: field: reason, exit code 2),
    samples its disruption model, solves each coalition's two-stage program and the value measures, stores
    everything and prints: the joint portfolio (option, owner, instrument, modules, public cost), the value
    measures (objective, EVPI, VSS, CVaR premium), the cooperation table (each coalition's objective and
    saving over no plan, the joint saving, the Shapley split of the grand coalition's saving, and whether
    savings are superadditive) and the shortlist, then the stored plan id.

    The plan id is <name>-<hash>, the hash over the plan file's text, its disruption model's text and the
    world's data version: running the same plan again shows the stored run (--rerun solves it again).

    Units: money in MUSD (second-stage costs relative to the no-event scenario without a plan); value_per_musd
    in MUSD saved per MUSD of public cost; wall time in s. --json prints one object: the run's record,
    "portfolio", "measures", "coalitions", "shapley", "shortlist" and "units"."""
    from critmin.api import Store, data_version, load_plan, plan_id_of, run_plan, save_plan_run

    with user_errors(), plan_errors():
        world = resolve_world(None, db)
        plan = load_plan(path, world)
        version = data_version(world)
        pid = plan_id_of(path, plan, version)
        with Store(db) as store:
            already = not rerun and _exists(store, pid)
            store_path = store.path
        if not already:
            with plan_progress(f"plan {plan.name}") as progress:
                run = run_plan(world, plan, progress)
            with Store(store_path) as store:
                pid = save_plan_run(store, run, path, data_version=version)
        info, tables = _stored(store_path, pid)
    if as_json:
        _json(_summary_json(info, tables, already_stored=already))
        return
    if already:
        console.print(f"plan {pid} is already stored (same plan file, disruption model and data); showing it. "
                      "--rerun solves it again.", highlight=False)  # fmt: skip
    console.print(_headline(info), highlight=False)
    _print_summary(info, tables)
    console.print(f"stored plan id: [bold]{pid}[/bold] (in {store_path}); see also: critmin plan show {pid}",
                  highlight=False)  # fmt: skip


def _exists(store, plan_id: str) -> bool:
    from critmin.api import PlanNotFoundError, resolve_plan

    try:
        return resolve_plan(store, plan_id) == plan_id
    except PlanNotFoundError:
        return False


@app.command("list")
def plan_list(db: Path = DB_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Stored plan runs, oldest first.

    Columns: plan_id, name, created_at (UTC), wall_s (s), scenarios, players, risk_weight (λ, the weight on
    CVaR), the joint plan's objective, EVPI, VSS, CVaR premium and joint saving (MUSD) and superadditive (is
    every coalition's saving at least that of its parts apart)."""
    from critmin.api import Store, list_plans

    with user_errors(), Store(db) as store:
        plans = list_plans(store)
    if as_json:
        _json(_rows(plans))
        return
    emit(_tidy(plans), Format.table, title="Plan runs", units=units_of(plans.columns))


@app.command("show")
def plan_show(
    plan: str = PLAN_ARG,
    table: Table = typer.Option(
        None,
        "--table",
        "-t",
        help="Show one stored table: portfolio (every coalition's modules by option and instrument, public cost), "
        "coalitions (objective, E[cost], CVaR, public cost, saving, bound, gap), options (every option: modules, "
        "instrument, cost per module, marginal value per MUSD, first output), shapley, scenarios (probability, "
        "second-stage cost without and with the joint plan) or shortlist \\[default: the run's summary].",
    ),
    db: Path = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """A stored plan run: its summary (as `critmin plan run` prints it), or one of its tables with --table.

    Units: money in MUSD (every *_musd column); probability 0-1; value_per_musd in MUSD saved per MUSD of
    public cost; wall_s in s. --json: the summary object, or {"plan": record, "table": name, "rows": [...]}."""
    with user_errors():
        info, tables = _stored(db, plan)
    if as_json:
        if table is None:
            _json(_summary_json(info, tables))
        else:
            _json({"plan": _record(info), "table": str(table), "rows": _rows(tables[str(table)])})
        return
    console.print(_headline(info), highlight=False)
    if table is None:
        _print_summary(info, tables)
        return
    rows = tables[str(table)]
    emit(rows, Format.table, title=f"{table} ({len(rows):,} rows)", units=units_of(rows.columns))


@app.command("compare")
def plan_compare(
    a: str = typer.Argument(..., help="First plan run (A): id, unique prefix or 'latest'."),
    b: str = typer.Argument(..., help="Second plan run (B)."),
    db: Path = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Two stored plan runs side by side: objective, EVPI, VSS, CVaR premium and joint saving (MUSD), λ and the
    scenario count, with change = B - A; then each option's modules in the two joint plans.

    --json: {"a": id, "b": id, "measures": [{measure, unit, a, b, change}], "options": [{option, owner,
    modules_a, modules_b, change, instrument_a, instrument_b}]}."""
    from critmin.api import Store, compare_plans, resolve_plan

    with user_errors(), Store(db) as store:
        ida, idb = resolve_plan(store, a), resolve_plan(store, b)
        measures, options = compare_plans(store, ida, idb)
    if as_json:
        _json({"a": ida, "b": idb, "measures": _rows(measures), "options": _rows(options)})
        return
    emit(measures.rename(columns={"a": "A", "b": "B"}), Format.table, title=f"A: {ida}\nB: {idb}")
    emit(options, Format.table, title="Joint plans' modules by option (A, B)", units=COMPARED_OPTION_UNITS)


@app.command("export")
def plan_export(
    plan: str = PLAN_ARG,
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (created if missing)."),
    force: bool = typer.Option(False, "--force", help="Overwrite export files already there."),
    db: Path = DB_OPTION,
) -> None:
    """Write a stored plan run to a folder: one CSV per table (portfolio, coalitions, options, shapley,
    scenarios, shortlist), the plan file as run (plan.yaml) and the run's record with units (run.json).

    Money in MUSD (every *_musd column); probability 0-1; value_per_musd in MUSD saved per MUSD of public cost.
    All or nothing: files appear only once all are written; existing files are kept unless --force."""
    from critmin.api import Store, export_plan

    with user_errors(), Store(db) as store:
        paths = export_plan(store, plan, out, force=force)
    console.print(f"wrote {len(paths)} file(s) to {out}: {', '.join(p.name for p in paths)}", highlight=False)
