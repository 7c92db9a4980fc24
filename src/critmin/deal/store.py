"""Deal valuations in the DuckDB store, as :mod:`critmin.plan.store` keeps plan runs: one ``deals`` row per
valuation (provenance and the terms) and one long table per result (``deal_sides``, ``deal_distribution``,
``deal_scenarios``, ``deal_flows``, ``deal_welfare``), each keyed by ``deal_id``, written in one transaction.

Money per side in MUSD per year (``*_musd_per_yr``); the scenarios' shortfall costs in MUSD over the plan's
horizon; GSIM's flows and welfare in MUSD for a year of flows. ``deal_flows`` keeps only the flows that changed
(tariff or value); ``critmin trade`` has them all.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from critmin._version import __version__
from critmin.deal.value import DealValue
from critmin.errors import NotFoundError
from critmin.record_ids import RecordKind, create_record_tables, resolve_record, write_record
from critmin.store import Store
from critmin.store import data_version as world_data_version

# column -> DuckDB type
DEAL_COLUMNS = {
    "deal_id": "VARCHAR PRIMARY KEY", "name": "VARCHAR", "deal_file": "VARCHAR", "plan_file": "VARCHAR",
    "risk_model": "VARCHAR", "trade_world": "VARCHAR", "deal_hash": "VARCHAR", "plan_hash": "VARCHAR",
    "risk_hash": "VARCHAR", "deal_yaml": "VARCHAR", "plan_yaml": "VARCHAR", "data_version": "VARCHAR",
    "critmin_version": "VARCHAR", "created_at": "TIMESTAMP", "wall_s": "DOUBLE", "before": "DATE", "after": "DATE",
    "tariff_scope": "VARCHAR", "scenarios": "BIGINT", "sides": "VARCHAR", "measures": "BIGINT",
}  # fmt: skip
TABLES: dict[str, dict[str, str]] = {
    "sides": {
        "side": "VARCHAR", "country": "VARCHAR", "tariff_relief_musd_per_yr": "DOUBLE",
        "security_expected_musd_per_yr": "DOUBLE", "security_cvar_musd_per_yr": "DOUBLE",
        "measures_cost_musd_per_yr": "DOUBLE", "net_musd_per_yr": "DOUBLE", "allied_purchases_musd_per_yr": "DOUBLE",
        "break_even_premium_pct": "DOUBLE",
    },
    "distribution": {
        "side": "VARCHAR", "quantile": "DOUBLE", "security_value_musd_per_yr": "DOUBLE",
        "tariff_relief_musd_per_yr": "DOUBLE",
    },
    "scenarios": {
        "scenario": "VARCHAR", "probability": "DOUBLE", "side": "VARCHAR", "shortfall_without_musd": "DOUBLE",
        "shortfall_with_musd": "DOUBLE", "saved_musd": "DOUBLE",
    },
    "flows": {
        "importer": "VARCHAR", "exporter": "VARCHAR", "good": "VARCHAR", "rate_before_pct": "DOUBLE",
        "rate_after_pct": "DOUBLE", "flow_before_musd": "DOUBLE", "flow_after_musd": "DOUBLE",
        "change_musd": "DOUBLE", "change_pct": "DOUBLE",
    },
    "welfare": {
        "country": "VARCHAR", "consumer_surplus_musd": "DOUBLE", "producer_surplus_musd": "DOUBLE",
        "revenue_musd": "DOUBLE", "total_musd": "DOUBLE",
    },
}  # fmt: skip
DEAL_TABLES = tuple(TABLES)
ID_CHARS = 8  # hex digits of the hash in a deal id: <name>-<hash8>
CHANGED_MUSD = 1e-9  # a flow whose value moved less than this (and whose tariff did not change) is left out
UNITS = {
    "wall_s": "s", "probability": "0-1", "quantile": "0-1", "break_even_premium_pct": "% of price",
    "rate_before_pct": "%", "rate_after_pct": "%", "change_pct": "%", "_musd_per_yr": "MUSD/yr",
    "_musd": "MUSD (scenarios: over the plan's horizon; flows and welfare: a year of flows)",
}  # fmt: skip


def table_name(table: str) -> str:
    return f"deal_{table}"


def ensure_deal_tables(store: Store) -> None:
    """Create the deal tables if missing; once per store object."""
    if getattr(store, "deal_tables_ready", False):
        return
    create_record_tables(store.con, DEAL_KIND, DEAL_COLUMNS, TABLES, "deal_")
    store.deal_tables_ready = True


class DealNotFoundError(NotFoundError, KeyError):
    """No stored deal valuation of that id, or a prefix that more than one deal id starts with."""

    def __str__(self) -> str:
        return str(self.args[0])


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def deal_key(name: str, deal_text: str, plan_text: str, risk_text: str, data_version: str) -> str:
    """A deal valuation's id: ``<name>-<hash8>``, the hash (SHA-256) over the deal file's text, its plan file's
    text, the plan's disruption model's text and the world's data version."""
    key = [_sha(t) for t in (deal_text, plan_text, risk_text)] + [data_version]
    return f"{name}-{hashlib.sha256(json.dumps(key).encode('utf-8')).hexdigest()[:ID_CHARS]}"


def deal_tables(value: DealValue) -> dict[str, pd.DataFrame]:
    """A valuation's result tables (the stored columns, without deal_id): the scenarios long (one row per
    scenario and side), the flows only where the tariff or the value changed."""
    wide = value.scenarios
    scenarios = []
    for side in value.sides["side"]:
        part = pd.DataFrame({
            "scenario": wide["scenario"], "probability": wide["probability"].astype(float), "side": side,
            "shortfall_without_musd": wide[f"{side}_shortfall_without_musd"].astype(float),
            "shortfall_with_musd": wide[f"{side}_shortfall_with_musd"].astype(float),
        })  # fmt: skip
        part["saved_musd"] = part["shortfall_without_musd"] - part["shortfall_with_musd"]
        scenarios.append(part)
    flows = value.trade.flows
    changed = (flows["rate_before_pct"] != flows["rate_after_pct"]) | (flows["change_musd"].abs() > CHANGED_MUSD)
    return {
        "sides": value.sides[list(TABLES["sides"])].copy(),
        "distribution": value.distribution[list(TABLES["distribution"])].copy(),
        "scenarios": pd.concat(scenarios, ignore_index=True)[list(TABLES["scenarios"])],
        "flows": flows.loc[changed, list(TABLES["flows"])].reset_index(drop=True),
        "welfare": value.trade.welfare[list(TABLES["welfare"])].copy(),
    }


def save_deal_value(store: Store, value: DealValue, deal_path: str | Path, data_version: str | None = None, *,
                    wall_s: float = float("nan")) -> str:  # fmt: skip
    """Store a deal valuation (its ``deals`` row and every result table, in one transaction, replacing an
    earlier valuation of the same id) and return its id. ``deal_path`` is the deal file the valuation was
    loaded from (its text is kept, and its plan's); ``data_version`` is the world's the valuation used
    (default: the store's active world's); ``wall_s`` the seconds it took."""
    ensure_deal_tables(store)
    deal, deal_path = value.deal, Path(deal_path)
    deal_text = deal_path.read_text(encoding="utf-8")
    plan_text = Path(deal.plan).read_text(encoding="utf-8")
    risk_model = str(value.problem.plan.risk_model)
    risk_text = Path(risk_model).read_text(encoding="utf-8")
    version = data_version if data_version is not None else world_data_version(store.world())
    deal_id = deal_key(deal.name, deal_text, plan_text, risk_text, version)
    row = {
        "deal_id": deal_id, "name": deal.name, "deal_file": str(deal_path.resolve()), "plan_file": str(deal.plan),
        "risk_model": risk_model, "trade_world": deal.trade_world or "bundled", "deal_hash": _sha(deal_text),
        "plan_hash": _sha(plan_text), "risk_hash": _sha(risk_text), "deal_yaml": deal_text, "plan_yaml": plan_text,
        "data_version": version, "critmin_version": __version__,
        "created_at": datetime.now(UTC).replace(tzinfo=None), "wall_s": float(wall_s), "before": deal.before,
        "after": deal.after, "tariff_scope": deal.tariff_scope, "scenarios": len(value.problem.scenario_names),
        "sides": "+".join(s.id for s in deal.sides), "measures": len(deal.measures),
    }  # fmt: skip
    tables = deal_tables(value)
    write_record(store.con, DEAL_KIND, deal_id, row, DEAL_COLUMNS, TABLES, tables, "deal_")
    return deal_id


def list_deals(store: Store) -> pd.DataFrame:
    """Every stored deal valuation, oldest first: deal_id, name, created_at (UTC), wall_s (s), before, after,
    tariff_scope, scenarios, sides, measures, and the sides' summed net value (MUSD/yr)."""
    ensure_deal_tables(store)
    return store.con.execute(
        'SELECT d.deal_id, d.name, d.created_at, round(d.wall_s, 2) AS wall_s, d."before", d."after", '
        "d.tariff_scope, d.scenarios, d.sides, d.measures, "
        "(SELECT sum(s.net_musd_per_yr) FROM deal_sides s WHERE s.deal_id = d.deal_id) AS net_musd_per_yr "
        "FROM deals d ORDER BY d.created_at, d.deal_id"
    ).df()


DEAL_KIND = RecordKind("deals", "deal_id", "deal valuation", "deal",
                       "no deal valuations in the store yet: value one with `critmin deal value`", "critmin deal list")


def resolve_deal(store: Store, deal_id: str) -> str:
    """A deal id from its id, a unique prefix of it, or ``latest`` (the most recently created). Raises
    :class:`DealNotFoundError` (a NotFoundError) for an unknown id or a prefix of several."""
    ensure_deal_tables(store)
    return resolve_record(store.con, DEAL_KIND, deal_id, DealNotFoundError)


def deal_info(store: Store, deal_id: str) -> dict:
    """A deal valuation's ``deals`` row (``deal_id`` may be a unique prefix or ``latest``) as plain values:
    ``created_at`` an ISO timestamp (UTC), ``before``/``after`` ISO dates."""
    did = resolve_deal(store, deal_id)
    columns = ", ".join(f'"{c}"' for c in DEAL_COLUMNS)
    values = store.con.execute(f"SELECT {columns} FROM deals WHERE deal_id = ?", [did]).fetchone()
    info = {}
    for key, value in zip(DEAL_COLUMNS, values, strict=True):
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        info[key] = value
    return info


def read_deal_table(store: Store, deal_id: str, table: str) -> pd.DataFrame:
    """A stored result table of a deal valuation (its columns, in its order). ``deal_id`` may be a unique
    prefix or ``latest``."""
    if table not in TABLES:
        raise NotFoundError(f"no deal table {table!r}; choose from: {', '.join(DEAL_TABLES)}")
    did = resolve_deal(store, deal_id)
    columns = ", ".join(f'"{c}"' for c in TABLES[table])
    frame = store.con.execute(f"SELECT {columns} FROM {table_name(table)} WHERE deal_id = ? ORDER BY _ord", [did]).df()
    return frame.reset_index(drop=True)


__all__ = [
    "DEAL_TABLES",
    "UNITS",
    "DealNotFoundError",
    "deal_info",
    "deal_key",
    "deal_tables",
    "list_deals",
    "read_deal_table",
    "resolve_deal",
    "save_deal_value",
]
