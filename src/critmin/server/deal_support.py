"""Trade runs and deal valuations as JSON for the REST API and the dashboard: the bundled plans and deals, the
tables of a GSIM run (flows, prices, welfare, revenue, with units) and a finished deal's result (sides,
security-value distribution, scenarios, the trade welfare and the flows that changed). Money in MUSD (deals:
MUSD per year)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

HEADLINE = ("USA", "JPN", "passenger_vehicles")  # importer, exporter, good shown first (as `critmin trade run`)
MIN_CHANGE_MUSD = 0.5  # a flow "changed" when its tariff changed or it moved by at least this much
DEAL_UNITS = {
    "tariff_relief_musd_per_yr": "MUSD/yr", "security_expected_musd_per_yr": "MUSD/yr",
    "security_cvar_musd_per_yr": "MUSD/yr", "measures_cost_musd_per_yr": "MUSD/yr", "net_musd_per_yr": "MUSD/yr",
    "allied_purchases_musd_per_yr": "MUSD/yr", "break_even_premium_pct": "%", "quantile": "- (0-1)",
    "security_value_musd_per_yr": "MUSD/yr", "probability": "probability (0-1)",
    "shortfall_musd": "MUSD over the plan's horizon (columns *_shortfall_without_musd, *_shortfall_with_musd)",
}  # fmt: skip


def _repo_folder(name: str) -> dict[str, Path]:
    """YAML files of the repository's ``name`` folder (or the package copy), by file stem."""
    from importlib import resources

    roots = [Path(__file__).resolve().parents[3] / name, Path(str(resources.files("critmin"))) / name]
    for root in roots:
        if root.is_dir():
            return {p.stem: p for p in sorted(root.glob("*.yaml"))}
    return {}


def bundled_plans() -> dict[str, Path]:
    """Plans shipped in the repository's plans/ folder, by file stem."""
    return _repo_folder("plans")


def bundled_deals() -> dict[str, Path]:
    """Deals shipped in the repository's deals/ folder, by file stem."""
    return _repo_folder("deals")


def rows(frame: pd.DataFrame) -> list[dict]:
    """JSON-safe records (NaN and infinities -> null, numpy scalars -> Python)."""
    out = json.loads(frame.to_json(orient="records", date_format="iso"))
    return [{k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in r.items()} for r in out]


def changed_flows(flows: pd.DataFrame) -> pd.DataFrame:
    """The arcs whose tariff changed or that moved by at least MIN_CHANGE_MUSD, largest change first."""
    moved = flows[(flows.rate_before_pct != flows.rate_after_pct) | (flows.change_musd.abs() >= MIN_CHANGE_MUSD)]
    return moved.reindex(moved.change_musd.abs().sort_values(ascending=False).index).reset_index(drop=True)


def headline(flows: pd.DataFrame) -> dict | None:
    """Japan's passenger-vehicle exports to the USA: the row of ``flows`` (None when absent)."""
    importer, exporter, good = HEADLINE
    head = flows[(flows.importer == importer) & (flows.exporter == exporter) & (flows.good == good)]
    return rows(head)[0] if len(head) else None


def trade_payload(run, between: list[str] | None = None) -> dict:
    """A GSIM run as JSON: world, dates, the arcs it moved (``between``), headline, units and every table."""
    return {
        "world": run.world, "date": run.date_after.isoformat(), "against": run.date_before.isoformat(),
        "between": between, "headline": headline(run.flows), "units": dict(run.units), "flows": rows(run.flows),
        "prices": rows(run.prices), "welfare": rows(run.welfare), "revenue": rows(run.revenue),
    }  # fmt: skip


def deal_result(value) -> dict:
    """A finished deal valuation (:class:`critmin.api.DealValue`) as the JSON a deal job keeps."""
    deal, trade = value.deal, value.trade
    return {
        "deal": deal.name, "before": deal.before.isoformat(), "after": deal.after.isoformat(),
        "tariff_scope": deal.tariff_scope, "plan": value.problem.plan.name,
        "risk_model": Path(value.problem.plan.risk_model).name, "scenarios_count": len(value.problem.scenario_names),
        "measures": [m.model_dump() for m in deal.measures],
        "units": {**DEAL_UNITS, **dict(trade.units)},
        "sides": rows(value.sides), "distribution": rows(value.distribution), "scenarios": rows(value.scenarios),
        "headline": headline(trade.flows), "welfare": rows(trade.welfare), "flows": rows(changed_flows(trade.flows)),
    }  # fmt: skip
