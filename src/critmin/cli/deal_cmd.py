"""critmin deal value: a deal's tariff relief and the security value of its cooperation measures, per side
(docs/deals.md). Money in MUSD per year."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import typer

from critmin.cli.output import Format, console, emit, err_console, records, user_errors

app = typer.Typer(
    help="Deals: a tariff regime change plus cooperation measures (stockpiles, projects), valued per side: "
    "tariff relief (GSIM), security value (shortfall cost saved over the plan's scenarios), cost of the "
    "measures and the break-even ally premium. Money in MUSD per year.",
    no_args_is_help=True,
)
UNITS = {
    "tariff_relief_musd_per_yr": "MUSD/yr", "security_expected_musd_per_yr": "MUSD/yr",
    "security_cvar_musd_per_yr": "MUSD/yr", "measures_cost_musd_per_yr": "MUSD/yr", "net_musd_per_yr": "MUSD/yr",
    "allied_purchases_musd_per_yr": "MUSD/yr", "break_even_premium_pct": "%", "quantile": "-",
    "security_value_musd_per_yr": "MUSD/yr",
}  # fmt: skip


def _rows(frame) -> list[dict]:
    return [{k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in row.items()}
            for row in records(frame)]  # fmt: skip


@app.command()
def value(
    file: Path = typer.Argument(..., help="Deal YAML (e.g. deals/us-japan-2025.yaml)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of tables."),
) -> None:
    """Value a deal per side: the tariff relief between its two regimes (GSIM welfare), the expected security
    value of its measures and its reduction of CVaR (the side's shortfall cost over the plan's scenarios), the
    measures' public cost, and the highest ally premium the side could pay before the package costs more than
    it is worth; then the security value's quantiles beside the tariff relief."""
    from critmin import api

    with user_errors():
        deal = api.load_deal(file)
        world = api.load_world()

        def progress(what: str, done: int, total: int) -> None:
            if done == total or done % 8 == 0:
                err_console.print(f"deal {deal.name}: {what} {done}/{total}", highlight=False)

        result = api.value_deal(world, deal, progress)
    trade = result.trade
    if as_json:
        payload = {"deal": deal.name, "before": deal.before.isoformat(), "after": deal.after.isoformat(),
                   "tariff_scope": deal.tariff_scope, "units": UNITS, "sides": _rows(result.sides),
                   "distribution": _rows(result.distribution), "scenarios": _rows(result.scenarios)}  # fmt: skip
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
