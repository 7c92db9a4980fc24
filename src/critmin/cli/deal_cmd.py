"""critmin deal value / list / show: a deal's tariff relief and the security value of its cooperation measures,
per side, stored in the DuckDB store (docs/deals.md). Money in MUSD per year."""

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

from critmin.cli.output import DB_OPTION, Format, console, emit, err_console, records, user_errors

app = typer.Typer(
    help="Deals: a tariff regime change plus cooperation measures (stockpiles, projects), valued per side: "
    "tariff relief (GSIM), security value (shortfall cost saved over the plan's scenarios), cost of the "
    "measures and the break-even ally premium. Value (and store), list, show. Money in MUSD per year.",
    no_args_is_help=True,
)
UNITS = {
    "tariff_relief_musd_per_yr": "MUSD/yr", "security_expected_musd_per_yr": "MUSD/yr",
    "security_cvar_musd_per_yr": "MUSD/yr", "measures_cost_musd_per_yr": "MUSD/yr", "net_musd_per_yr": "MUSD/yr",
    "allied_purchases_musd_per_yr": "MUSD/yr", "break_even_premium_pct": "%", "quantile": "-",
    "security_value_musd_per_yr": "MUSD/yr",
}  # fmt: skip
TABLE_UNITS = {  # units of the stored tables' columns (critmin deal show --table)
    "probability": "0-1", "quantile": "0-1", "rate_before_pct": "%", "rate_after_pct": "%", "change_pct": "%",
    "wall_s": "s", "scenarios": "scenarios", "measures": "measures",
}  # fmt: skip
JSON_OPTION = typer.Option(False, "--json", help="Print one JSON object instead of tables.")


class Table(enum.StrEnum):
    sides = "sides"
    distribution = "distribution"
    scenarios = "scenarios"
    flows = "flows"
    welfare = "welfare"


def units_of(columns) -> dict[str, str]:
    """Header units: *_musd_per_yr MUSD/yr, *_musd MUSD, the rest as TABLE_UNITS says."""
    units = {}
    for c in map(str, columns):
        if c in UNITS or c in TABLE_UNITS:
            units[c] = UNITS.get(c) or TABLE_UNITS[c]
        elif c.endswith("_musd_per_yr"):
            units[c] = "MUSD/yr"
        elif c.endswith("_musd"):
            units[c] = "MUSD"
    return units


def _plain(value):
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _json(payload) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, allow_nan=False, default=_plain) + "\n")


def _rows(frame) -> list[dict]:
    return [{k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in row.items()}
            for row in records(frame)]  # fmt: skip


@contextmanager
def deal_errors() -> Iterator[None]:
    """A deal file (or its plan) with problems: every problem as file:line: field: reason, exit code 2, as
    `critmin plan run` and `critmin trade run` exit on a bad file."""
    from critmin.api import DealError, PlanError

    try:
        yield
    except (DealError, PlanError) as exc:
        err_console.print(f"[bold red]error:[/bold red] {len(exc.problems)} problem(s); nothing was valued.")
        for problem in exc.problems[:100]:
            err_console.print(f"  {problem}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


@app.command()
def value(
    file: Path = typer.Argument(..., help="Deal YAML (e.g. deals/us-japan-2025.yaml)."),
    db: Path = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Value a deal per side: the tariff relief between its two regimes (GSIM welfare), the expected security
    value of its measures and its reduction of CVaR (the side's shortfall cost over the plan's scenarios), the
    measures' public cost, and the highest ally premium the side could pay before the package costs more than
    it is worth; then the security value's quantiles beside the tariff relief.

    The valuation is stored (see `critmin deal list`, `critmin deal show ID`, `critmin report deal ID`) under
    the id <name>-<hash>, the hash over the deal file's text, its plan file's, the plan's disruption model's and
    the world's data version; the last line printed is the stored deal id (--json: its "deal_id")."""
    from critmin import api

    with user_errors(), deal_errors():
        deal = api.load_deal(file)
        world = api.load_world()

        def progress(what: str, done: int, total: int) -> None:
            if done == total or done % 8 == 0:
                err_console.print(f"deal {deal.name}: {what} {done}/{total}", highlight=False)

        started = time.perf_counter()
        result = api.value_deal(world, deal, progress)
        wall_s = time.perf_counter() - started
        with api.Store(db) as store:
            deal_id = api.save_deal_value(store, result, file, api.data_version(world), wall_s=wall_s)
            store_path = store.path
    trade = result.trade
    if as_json:
        payload = {"deal": deal.name, "before": deal.before.isoformat(), "after": deal.after.isoformat(),
                   "tariff_scope": deal.tariff_scope, "units": UNITS, "sides": _rows(result.sides),
                   "distribution": _rows(result.distribution), "scenarios": _rows(result.scenarios),
                   "deal_id": deal_id}  # fmt: skip
        sys.stdout.write(json.dumps(payload, indent=2, allow_nan=False) + "\n")
        return
    console.print(f"[bold]{deal.name}[/bold]: tariffs {deal.before} -> {deal.after} ({deal.tariff_scope} arcs), "
                  f"{len(deal.measures)} measures, {len(result.problem.scenario_names)} scenarios of "
                  f"{Path(result.problem.plan.risk_model).name}", highlight=False)  # fmt: skip
    flow = trade.flows
    head = flow[(flow.importer == "USA") & (flow.exporter == "JPN") & (flow.good == "passenger_vehicles")]
    if len(head):
        h = head.iloc[0]
        console.print(f"Japan -> USA passenger vehicles: tariff {h.rate_before_pct:g}% -> {h.rate_after_pct:g}%, "
                      f"{h.flow_before_musd:,.0f} -> {h.flow_after_musd:,.0f} MUSD ({h.change_pct:+.1f}%)",
                      highlight=False)  # fmt: skip
    emit(result.sides, Format.table, title="Per side (MUSD per year)", units=UNITS)
    wide = result.distribution.pivot(index="quantile", columns="side", values="security_value_musd_per_yr")
    wide.columns = [f"security_{c}_musd_per_yr" for c in wide.columns]
    relief = result.sides.set_index("side")["tariff_relief_musd_per_yr"]
    for side, r in relief.items():
        wide[f"tariff_relief_{side}_musd_per_yr"] = r
    units = {c: "MUSD/yr" for c in wide.columns} | {"quantile": "-"}
    emit(wide.reset_index(), Format.table, title="Security value (quantiles over scenarios) beside the tariff relief",
         units=units)  # fmt: skip
    console.print(f"stored deal id: [bold]{deal_id}[/bold] (in {store_path}); see also: critmin deal show {deal_id}",
                  highlight=False)  # fmt: skip


@app.command("list")
def deal_list(db: Path = DB_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Stored deal valuations, oldest first.

    Columns: deal_id, name, created_at (UTC), wall_s (s), before and after (the two tariff regimes),
    tariff_scope, scenarios, sides, measures, and net_musd_per_yr (the sides' net values summed, MUSD/yr)."""
    from critmin.api import Store, list_deals

    with user_errors(), Store(db) as store:
        deals = list_deals(store)
    if as_json:
        _json(_rows(deals))
        return
    emit(deals, Format.table, title="Deal valuations", units=units_of(deals.columns))


@app.command("show")
def deal_show(
    deal: str = typer.Argument(..., metavar="ID", help="Deal id, a unique prefix of one, or 'latest'."),
    table: Table = typer.Option(
        None,
        "--table",
        "-t",
        help="Show one stored table: sides (per side: tariff relief, security value, cost, net, break-even "
        "premium), distribution (security value quantiles), scenarios (each side's shortfall cost without and "
        "with the measures), flows (GSIM flows that changed) or welfare (GSIM welfare per country) "
        "\\[default: the per-side table].",
    ),
    db: Path = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """A stored deal valuation: its record and per-side values, or one of its tables with --table.

    Units: per side MUSD/yr; shortfall costs (scenarios) MUSD over the plan's horizon; flows and welfare MUSD
    for a year of flows; rates and break-even premium in %. --json: {"deal": record, "table": name, "rows"}."""
    from critmin.api import Store, deal_info, read_deal_table

    name = str(table or "sides")
    with user_errors(), Store(db) as store:
        info = deal_info(store, deal)
        rows = read_deal_table(store, info["deal_id"], name)
    if as_json:
        record = {k: v for k, v in info.items() if k not in ("deal_yaml", "plan_yaml")}
        _json({"deal": record, "table": name, "rows": _rows(rows)})
        return
    console.print(f"[bold]{info['deal_id']}[/bold]: tariffs {info['before']} -> {info['after']} "
                  f"({info['tariff_scope']} arcs), {info['measures']} measures, {info['scenarios']} scenarios; "
                  f"valued {(info['created_at'] or '?')[:19].replace('T', ' ')} UTC, data version "
                  f"{info['data_version']}", highlight=False)  # fmt: skip
    emit(rows, Format.table, title=f"{name} ({len(rows):,} rows)", units=units_of(rows.columns))
