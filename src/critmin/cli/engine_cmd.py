"""critmin clear / validate / scenario / run / runs: the market engine on the command line."""

from __future__ import annotations

import datetime as dt
import enum
import json
import sys
from pathlib import Path

import typer
from rich.markup import escape

from critmin.cli.output import (
    DB_OPTION,
    FORMAT_OPTION,
    WORLD_OPTION,
    Format,
    console,
    emit,
    err_console,
    month_progress,
    print_flags,
    print_policies,
    report,
    resolve_world,
    user_errors,
    without_dask_arrays,
)

scenario_app = typer.Typer(
    help="Scenario files: the JSON Schema for editors, and the bundled scenarios.", no_args_is_help=True
)


class ExportFormat(enum.StrEnum):
    csv = "csv"
    parquet = "parquet"
    xlsx = "xlsx"
    netcdf = "netcdf"


runs_app = typer.Typer(help="Stored runs: list, show, flags, policies, compare and export.", no_args_is_help=True)

SCENARIO_ARG = typer.Argument(..., exists=True, dir_okay=False, help="Scenario YAML file.")
# one definition for `run`, `runs show` and `runs compare`, so the filters read and behave the same
REGION_OPTION = typer.Option(None, "--region", "-r", help="Show only these regions (repeatable).")
ELEMENT_OPTION = typer.Option(None, "--element", "-e", help="Show only these elements (repeatable).")
RUN_ARG = typer.Argument("latest", help="Run id, unique prefix, scenario name or 'latest'.")
# units of the summary columns in table headers (ratio: scenario price over baseline price); cumulative shortfall
# is in each element's unit (column "shortfall_unit")
SUMMARY_UNITS = {"max_shortfall_pct": "%", "peak_price_ratio": "ratio", "tts_days": "days",
                 "ttr_days": "days"}  # fmt: skip


def _only(frame, region: list[str] | None, element: list[str] | None):
    """Rows of a region x element frame kept by the -r/-e filters (no filter: every row)."""
    if region:
        frame = frame[frame["region"].isin(region)]
    if element:
        frame = frame[frame["element"].isin(element)]
    return frame


def _with_units(summary, units: dict[str, str]):
    """A summary for the table format: the unit of cumulative_shortfall_t (t REO, t Ga, t) after it (not named
    "unit": a table split to fit repeats a "unit" column in every part, and this one is for one column)."""
    at = list(summary.columns).index("cumulative_shortfall_t") + 1
    out = summary.copy()
    out.insert(at, "shortfall_unit", out["element"].map(units).fillna("t"))
    return out


def clear(
    world: Path = typer.Option(..., "--world", exists=True, file_okay=False, help="World folder to clear."),
    scenario: Path = typer.Option(
        None, "--scenario", exists=True, dir_okay=False, help="Apply this scenario's shocks."
    ),
    date: str = typer.Option(
        None, "--date", help="Date whose active shocks apply (YYYY-MM-DD) [default: scenario start]."
    ),
    curves: str = typer.Option(
        None,
        "--curves",
        help="linear (exact, a QP) or stepwise (an LP) [default: the scenario's market.curves if it sets one, "
        "else linear].",
    ),
    step_years: float = typer.Option(
        1.0, "--step-years", min=1e-6, help="Length of the step in years; quantities are per step."
    ),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Clear a world folder for one period: a spatial price equilibrium solved with HiGHS.

    With --scenario, the shocks active on --date apply, and so do the scenario's market settings (its `market:`
    block, e.g. allow_reexport); --curves overrides the curve form.

    JSON: {status, objective_kusd, prices: [{region, product, price}], flows: [{origin, destination, product,
    quantity}], production: [...], shortfall: [...], units}. Prices in USD/kg; quantities in each product's unit
    per step."""
    from critmin import api
    from critmin.api import World, load_scenario

    without_dask_arrays()
    with user_errors():
        if curves not in (None, "linear", "stepwise"):
            raise typer.BadParameter("--curves must be linear or stepwise")
        w = World.from_folder(world)
        sc = load_scenario(scenario, w) if scenario else None
        when = dt.date.fromisoformat(date) if date else None
        result = api.clear(w, scenario=sc, date=when, step_years=step_years, curves=curves)
    prices, flows = result.prices(), result.flows()
    if fmt is Format.json:
        payload = {
            "status": result.status,
            "objective_kusd": result.objective,
            "prices": prices.to_dict("records"),
            "flows": flows.to_dict("records"),
            "production": result.production().to_dict("records"),
            "shortfall": result.shortfalls().to_dict("records"),
            "units": {"price": "USD/kg", "quantity": f"product unit per {step_years:g} yr"},
        }
        sys.stdout.write(json.dumps(payload, indent=2, allow_nan=False, default=float) + "\n")
    elif fmt is Format.csv:
        sys.stdout.write(prices.assign(kind="price").to_csv(index=False))
        sys.stdout.write(flows.assign(kind="flow").to_csv(index=False))
    else:
        emit(prices, fmt, title=f"Prices, status {result.status}", units={"price": "USD/kg"})
        emit(flows, fmt, title="Flows", units={"quantity": f"product unit per {step_years:g} yr"})


def validate(
    path: Path = SCENARIO_ARG, world: Path = WORLD_OPTION, db: Path = DB_OPTION, fmt: Format = FORMAT_OPTION
) -> None:
    """Check a scenario file against the schema and the world. Problems print as file:line: field: reason."""
    from critmin.api import ScenarioError, load_scenario, scenario_hash

    problems = None
    with user_errors():
        try:
            sc = load_scenario(path, resolve_world(world, db))
        except ScenarioError as exc:
            if fmt is Format.table:
                raise
            problems = [{"file": p.file, "line": p.line, "field": p.column, "reason": p.reason} for p in exc.problems]
    if problems is not None:  # machine-readable formats get the problems as records on stdout
        import pandas as pd

        if fmt is Format.json:
            emit(pd.DataFrame([{"file": str(path), "valid": False, "problems": problems}]), fmt)
        else:  # csv: one row per problem
            emit(pd.DataFrame(problems, columns=["file", "line", "field", "reason"]), fmt)
        raise typer.Exit(1)
    report(
        fmt,
        f"{path}: valid scenario {sc.name!r}, {len(sc.shocks)} shock(s), {sc.start} to {sc.end}",
        {
            "file": str(path),
            "valid": True,
            "name": sc.name,
            "shocks": len(sc.shocks),
            "scenario_hash": scenario_hash(sc),
        },
    )


@scenario_app.command("schema")
def scenario_schema() -> None:
    """Print the scenario JSON Schema (for editor validation and completion)."""
    from critmin.api import Scenario

    sys.stdout.write(json.dumps(Scenario.model_json_schema(), indent=2) + "\n")


@scenario_app.command("list")
def scenario_list(fmt: Format = FORMAT_OPTION) -> None:
    """The bundled scenarios."""
    import pandas as pd

    from critmin import api
    from critmin.api import describe, load_scenario

    rows = [describe(load_scenario(path)) for path in api.bundled_scenarios().values()]
    emit(pd.DataFrame(rows, columns=["name", "shocks", "start", "end", "description"]), fmt, title="Bundled scenarios")


def run(
    path: Path = SCENARIO_ARG,
    world: Path = WORLD_OPTION,
    db: Path = DB_OPTION,
    region: list[str] = REGION_OPTION,
    element: list[str] = ELEMENT_OPTION,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Simulate a scenario month by month against its baseline, store the run, and print its summary.

    JSON records: {region, element, max_shortfall_pct, cumulative_shortfall_t, peak_price_ratio, tts_days,
    ttr_days, short_from, recovered_on, price_product, run_id}. Shortfall is beyond the baseline's, in % of
    baseline demand and t of the element; the price ratio is scenario over baseline for the element's oxide
    (or primary product); TTS/TTR are days from the first shock to the first short month / to recovery.

    Every run is checked for implausible results (prices near zero or far above reference, baseline shortfall,
    mass-balance residuals, policies that did not act): the table format prints these plausibility flags after
    the summary; with json or csv the records stay the summary alone, a count of flags goes to stderr, and
    `critmin runs flags RUN_ID` lists them."""
    from critmin.api import Store, affected, element_units, load_scenario, run_and_store, run_flags, run_policies

    without_dask_arrays()
    with user_errors():
        w = resolve_world(world, db)
        sc = load_scenario(path, w)
        with month_progress(f"running {sc.name}", sc.months) as advance:
            run_id, result, summary, wall = run_and_store(w, sc, path.read_text(encoding="utf-8"), db, advance)
        with Store(db) as store:
            flags, policies = run_flags(store, run_id), run_policies(store, run_id)
    shown = _only(summary, region, element).assign(run_id=run_id)
    if fmt is Format.table:
        console.print(
            f"run [bold]{run_id}[/bold]: {len(result.dates)} months in {wall:.1f} s, stored in the DuckDB store"
        )
        interesting = shown if (region or element) else affected(shown)
        emit(
            _with_units(interesting.drop(columns=["run_id"]).head(60), element_units(w)),
            fmt,
            title="Summary (regions x elements affected)",
            units=SUMMARY_UNITS,
        )
        print_flags(flags, run_id)
        print_policies(policies)
    else:
        emit(shown, fmt)
        if len(flags):
            err_console.print(
                f"[yellow]{len(flags)} plausibility flag(s)[/yellow]: critmin runs flags {escape(run_id)}",
                highlight=False,
            )


@runs_app.command("list")
def runs_list(db: Path = DB_OPTION, fmt: Format = FORMAT_OPTION) -> None:
    """Stored runs with their provenance (scenario hash, data version, code version, solver status); steps in
    months, wall_s in seconds."""
    from critmin.api import Store, list_runs

    with user_errors(), Store(db) as store:
        emit(list_runs(store), fmt, title="Runs", units={"steps": "months", "wall_s": "s"})


@runs_app.command("show")
def runs_show(
    run_id: str = RUN_ARG,
    region: list[str] = REGION_OPTION,
    element: list[str] = ELEMENT_OPTION,
    db: Path = DB_OPTION,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """A stored run's summary per region x element; the table format adds its plausibility flags and policies.

    Units: max_shortfall_pct in % of baseline demand, cumulative_shortfall_t in the element's unit (t REO, t Ga,
    t; column "shortfall_unit" in the table), peak_price_ratio scenario over baseline, tts_days and ttr_days in days.
    JSON and CSV: the summary records alone (see `critmin runs flags` and `critmin runs policies`)."""
    from critmin.api import Store, resolve_run, run_element_units, run_flags, run_policies, run_summary

    with user_errors(), Store(db) as store:
        rid = resolve_run(store, run_id)
        summary = _only(run_summary(store, rid), region, element)
        flags, policies, units = run_flags(store, rid), run_policies(store, rid), run_element_units(store, rid)
    if fmt is not Format.table:
        emit(summary, fmt)
        return
    emit(_with_units(summary.drop(columns=["run_id"]), units), fmt, title=f"Run {rid}", units=SUMMARY_UNITS)
    print_flags(flags.drop(columns=["run_id"]), rid)
    print_policies(policies)


@runs_app.command("flags")
def runs_flags(
    run_id: str = RUN_ARG,
    db: Path = DB_OPTION,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """A stored run's plausibility flags: one record per kind x path x region x product.

    JSON records: {run_id, kind, path, region, product, first_date, last_date, months, worst_value, threshold,
    unit, message}. Kinds: price_floor (a price at or below checks.min_price_multiple x reference, either
    path), price_spike (a scenario price above checks.max_price_multiple x reference), baseline_shortfall
    (baseline shortfall above checks.baseline_shortfall_pct % of reference demand), balance_residual (a
    relative mass-balance residual above checks.balance_tolerance), policy_inactive (a policy that did not
    act). worst_value and threshold are in unit (USD/kg, %, - or t)."""
    from critmin.api import Store, resolve_run, run_flags

    with user_errors(), Store(db) as store:
        rid = resolve_run(store, run_id)
        flags = run_flags(store, rid)
    if fmt is Format.table:
        print_flags(flags, rid, limit=len(flags))
    else:
        emit(flags, fmt)


@runs_app.command("policies")
def runs_policies(
    run_id: str = RUN_ARG,
    db: Path = DB_OPTION,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """What each policy shock of a stored run did.

    JSON records: {run_id, name, type, region, product, target_t, bought_t, mean_buy_price (USD/kg),
    released_t, delivered_t, acted, reason}; quantities in t of the product."""
    from critmin.api import Store, resolve_run, run_policies

    with user_errors(), Store(db) as store:
        policies = run_policies(store, resolve_run(store, run_id))
    emit(policies, fmt, title="Policies", units={"target_t": "t", "bought_t": "t", "mean_buy_price": "USD/kg",
                                                 "released_t": "t", "delivered_t": "t"})  # fmt: skip


COMPARED = ("max_shortfall_pct", "cumulative_shortfall_t", "peak_price_ratio", "tts_days", "ttr_days")


def _compare_long(table, units: dict[str, str]):
    """One row per region x element x measure (A, B, change): a comparison that fits any terminal."""
    import pandas as pd

    parts = [
        pd.DataFrame({
            "region": table["region"], "element": table["element"], "measure": measure,
            "unit": table["element"].map(units).fillna("t") if measure == "cumulative_shortfall_t"
            else SUMMARY_UNITS[measure],
            "A": table[f"{measure}_a"].astype("Float64"), "B": table[f"{measure}_b"].astype("Float64"),
            "change": table[f"{measure}_change"].astype("Float64"),
        })
        for measure in COMPARED
    ]  # fmt: skip
    order = {m: i for i, m in enumerate(COMPARED)}
    long = pd.concat(parts, ignore_index=True)
    return long.sort_values(["region", "element", "measure"], key=lambda s: s.map(order) if s.name == "measure"
                            else s, kind="stable").reset_index(drop=True)  # fmt: skip


@runs_app.command("compare")
def runs_compare(
    a: str = typer.Argument(..., help="First run (A): id, unique prefix, scenario name or 'latest'."),
    b: str = typer.Argument(..., help="Second run (B)."),
    region: list[str] = REGION_OPTION,
    element: list[str] = ELEMENT_OPTION,
    db: Path = DB_OPTION,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Two runs' summaries side by side, with the change from A to B.

    The table format has one row per region x element x measure (A, B, change = B - A) with the measure's
    unit: max_shortfall_pct %, cumulative_shortfall_t the element's unit, peak_price_ratio a ratio (scenario over
    baseline), tts_days and ttr_days days. JSON and CSV: one record per region x element with {measure}_a, {measure}_b
    and {measure}_change columns."""
    from critmin.api import Store, compare_runs, resolve_run, run_element_units

    with user_errors(), Store(db) as store:
        ra, rb = resolve_run(store, a), resolve_run(store, b)
        table = _only(compare_runs(store, ra, rb), region, element)
        units = {**run_element_units(store, rb), **run_element_units(store, ra)}
    if fmt is not Format.table:
        emit(table, fmt)
        return
    emit(_compare_long(table, units), fmt, title=f"A: {ra}\nB: {rb}")


@runs_app.command("export")
def runs_export(
    run_id: str = typer.Argument(..., help="Run id, prefix, scenario name or 'latest'."),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Folder for csv and parquet (one file per table); the file for xlsx and netcdf."
    ),
    export_format: ExportFormat = typer.Option(
        ExportFormat.csv, "--format", "-f", help="csv, parquet, xlsx (one sheet per table) or netcdf (one dataset)."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite export files already there."),
    db: Path = DB_OPTION,
) -> None:
    """Write every table of a run: runs (provenance), prices, shortfall, sector_shortfall, stocks, flows,
    summary, flags and policies.

    Each result table has a unit column: prices USD/kg; shortfall and demand in the element's unit per month
    (t REO, t Ga, t); sector shortfall, consumption and flows in the product's unit per month; stock levels in
    the product's unit; summary: the unit of cumulative_shortfall_t (max_shortfall_pct %, peak_price_ratio
    a ratio, tts/ttr days); policies: the unit of the *_t quantities (mean_buy_price USD/kg).
    Numbers are rounded to 6 significant digits, far finer than the data (float noise such as 6.1831190000000005
    goes).
    netcdf: variables on dims path, month, region, product, element, ...; units in each variable's "units"
    attribute (product_unit and element_unit hold the per-product and per-element ones); provenance in global
    attributes. Existing files are kept unless --force; files appear only once written in full."""
    from critmin.api import Store, run_tables, write_export

    with user_errors():
        with Store(db) as store:
            tables = run_tables(store, run_id)
        paths = write_export(tables, out, str(export_format), force=force)
    console.print(f"wrote {len(paths)} {export_format} file(s) to {out}", highlight=False)
