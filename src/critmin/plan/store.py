"""Plan runs in the DuckDB store: one ``plans`` row per run (provenance and the headline numbers) and one long
table per result (``plan_portfolio``, ``plan_coalitions``, ``plan_options``, ``plan_shapley``,
``plan_scenarios``, ``plan_frontier``, ``plan_shortlist``), each keyed by ``plan_id``. A run's row and tables
are written in one transaction, as :func:`critmin.risk.study_store.save_study` writes a study.

All money in MUSD. A coalition is labelled by its players sorted and joined with ``+`` (``JPN+USA``); the
empty coalition (no plan) is ``none``.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from critmin._version import __version__
from critmin.errors import NotFoundError
from critmin.plan.problem import INSTRUMENTS
from critmin.plan.run import PlanRun, shortlist
from critmin.record_ids import RecordKind, create_record_tables, resolve_record, write_record
from critmin.store import Store
from critmin.store import data_version as world_data_version

NONE = "none"  # the empty coalition's label: no plan
# column -> DuckDB type; every table starts with plan_id VARCHAR
PLAN_COLUMNS = {
    "plan_id": "VARCHAR PRIMARY KEY", "name": "VARCHAR", "plan_file": "VARCHAR", "risk_model": "VARCHAR",
    "plan_hash": "VARCHAR", "plan_yaml": "VARCHAR", "data_version": "VARCHAR", "critmin_version": "VARCHAR",
    "created_at": "TIMESTAMP", "wall_s": "DOUBLE", "scenarios": "BIGINT", "players": "VARCHAR",
    "risk_weight": "DOUBLE", "alpha": "DOUBLE", "objective_musd": "DOUBLE", "evpi_musd": "DOUBLE",
    "vss_musd": "DOUBLE", "cvar_premium_musd": "DOUBLE", "joint_saving_musd": "DOUBLE", "superadditive": "BOOLEAN",
    "violations": "VARCHAR",
}  # fmt: skip
TABLES: dict[str, dict[str, str]] = {
    "portfolio": {
        "coalition": "VARCHAR", "option": "VARCHAR", "owner": "VARCHAR", "instrument": "VARCHAR",
        "modules": "BIGINT", "public_cost_musd": "DOUBLE",
    },
    "coalitions": {
        "coalition": "VARCHAR", "size": "BIGINT", "objective_musd": "DOUBLE", "expected_musd": "DOUBLE",
        "cvar_musd": "DOUBLE", "public_musd": "DOUBLE", "saving_musd": "DOUBLE", "lower_bound_musd": "DOUBLE",
        "gap": "DOUBLE", "iterations": "BIGINT", "method": "VARCHAR", "wall_s": "DOUBLE",
    },
    "options": {
        "option": "VARCHAR", "kind": "VARCHAR", "owner": "VARCHAR", "region": "VARCHAR", "product": "VARCHAR",
        "modules": "BIGINT", "modules_max": "BIGINT", "instrument": "VARCHAR", "cheapest_instrument": "VARCHAR",
        "public_cost_musd": "DOUBLE", "cost_per_module_musd": "DOUBLE", "marginal_value_musd": "DOUBLE",
        "value_per_musd": "DOUBLE", "first_output": "DATE", "confidence": "VARCHAR", "source": "VARCHAR",
    },
    "shapley": {"player": "VARCHAR", "shapley_musd": "DOUBLE"},
    "scenarios": {
        "scenario": "VARCHAR", "probability": "DOUBLE", "draws": "BIGINT", "no_plan_musd": "DOUBLE",
        "joint_plan_musd": "DOUBLE",
    },
    "frontier": {
        "risk_weight": "DOUBLE", "expected_musd": "DOUBLE", "cvar_musd": "DOUBLE", "objective_musd": "DOUBLE",
        "public_musd": "DOUBLE", "modules": "BIGINT",
    },
    "shortlist": {
        "rank": "BIGINT", "option": "VARCHAR", "owner": "VARCHAR", "instrument": "VARCHAR", "modules": "BIGINT",
        "public_cost_musd": "DOUBLE", "value_per_musd": "DOUBLE", "first_output": "DATE",
    },
}  # fmt: skip
PLAN_TABLES = tuple(TABLES)
SORT = {
    "portfolio": "length(coalition) - length(replace(coalition, '+', '')), coalition, option, instrument",
    "coalitions": "size, coalition",
    "options": "_ord",
    "shapley": "player",
    "scenarios": "_ord",
    "frontier": "risk_weight",
    "shortlist": "rank",
}
ID_CHARS = 8  # hex digits of the hash in a plan id: <name>-<hash8>


def table_name(table: str) -> str:
    return f"plan_{table}"


def ensure_plan_tables(store: Store) -> None:
    """Create the plan tables if missing; once per store object."""
    if getattr(store, "plan_tables_ready", False):
        return
    create_record_tables(store.con, PLAN_KIND, PLAN_COLUMNS, TABLES, "plan_")
    store.plan_tables_ready = True


class PlanNotFoundError(NotFoundError, KeyError):
    """No stored plan run of that id, or a prefix that more than one plan id starts with."""

    def __str__(self) -> str:
        return str(self.args[0])


def coalition_label(players) -> str:
    """``JPN+USA`` for {USA, JPN}; ``none`` for the empty coalition (no plan)."""
    return "+".join(sorted(players)) or NONE


def plan_key(name: str, plan_text: str, risk_text: str, data_version: str) -> str:
    """A plan run's id: ``<name>-<hash8>``, the hash (SHA-256) over the plan file's text, its disruption
    model's text, the world's data version and critmin's version (everything the run's numbers depend on: a
    new version may solve differently, so its runs are not mistaken for the old ones)."""
    key = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in (plan_text, risk_text)] + [data_version]
    key.append(__version__)
    return f"{name}-{hashlib.sha256(json.dumps(key).encode('utf-8')).hexdigest()[:ID_CHARS]}"


def plan_id_of(plan_path: str | Path, plan, data_version: str) -> str:
    """The id a run of the (loaded, validated) plan in ``plan_path`` gets, against a world of ``data_version``."""
    return plan_key(plan.name, Path(plan_path).read_text(encoding="utf-8"),
                    Path(plan.risk_model).read_text(encoding="utf-8"), data_version)  # fmt: skip


def _finite(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def plan_tables(run: PlanRun) -> dict[str, pd.DataFrame]:
    """A run's result tables (the stored columns, without plan_id)."""
    problem, players = run.problem, run.players
    saving = run.saving()
    portfolio, coalitions = [], []
    order = sorted(run.solutions, key=lambda c: (len(c), coalition_label(c)))
    for members in order:
        solution, label = run.solutions[members], coalition_label(members)
        for o, option in enumerate(run.plan.options):
            for i, instrument in enumerate(INSTRUMENTS):
                modules = round(float(solution.modules[o, i]))
                if modules > 0:
                    portfolio.append({
                        "coalition": label, "option": option.id, "owner": option.owner, "instrument": instrument,
                        "modules": modules, "public_cost_musd": modules * float(problem.cost[o, i]),
                    })  # fmt: skip
        coalitions.append({
            "coalition": label, "size": len(members), "objective_musd": solution.objective,
            "expected_musd": solution.expected_musd, "cvar_musd": solution.cvar_musd,
            "public_musd": solution.public_musd, "saving_musd": saving[members],
            "lower_bound_musd": solution.lower_bound, "gap": solution.gap, "iterations": solution.iterations,
            "method": solution.method, "wall_s": solution.wall_s,
        })  # fmt: skip
    shapley = run.shapley
    scenarios = pd.DataFrame({
        "scenario": problem.scenario_names, "probability": np.asarray(problem.probability, dtype=float),
        "draws": np.asarray(problem.draws_per_scenario, dtype="int64"),
        "no_plan_musd": np.asarray(run.no_plan.second_stage_musd, dtype=float),
        "joint_plan_musd": np.asarray(run.joint.second_stage_musd, dtype=float),
    })  # fmt: skip
    return {
        "portfolio": pd.DataFrame(portfolio, columns=list(TABLES["portfolio"])),
        "coalitions": pd.DataFrame(coalitions, columns=list(TABLES["coalitions"])),
        "options": run.options[list(TABLES["options"])].copy(),
        "shapley": pd.DataFrame({"player": players, "shapley_musd": [shapley[p] for p in players]}),
        "scenarios": scenarios,
        "frontier": run.frontier[list(TABLES["frontier"])].copy(),
        "shortlist": shortlist(run)[list(TABLES["shortlist"])].copy(),
    }


def save_plan_run(store: Store, run: PlanRun, plan_path: str | Path, *, data_version: str | None = None) -> str:
    """Store a plan run (its ``plans`` row and every result table, in one transaction, replacing an earlier
    run of the same id) and return its id. ``plan_path`` is the plan file the run was loaded from (its text is
    kept); ``data_version`` is the world's the run used (default: the store's active world's)."""
    ensure_plan_tables(store)
    plan_path = Path(plan_path)
    plan_text = plan_path.read_text(encoding="utf-8")
    version = data_version if data_version is not None else world_data_version(store.world())
    plan_id = plan_key(run.plan.name, plan_text, Path(run.plan.risk_model).read_text(encoding="utf-8"), version)
    violations = [
        {"s": coalition_label(s), "t": coalition_label(t), "shortfall_musd": float(gap)}
        for s, t, gap in run.superadditivity
    ]
    row = {
        "plan_id": plan_id, "name": run.plan.name, "plan_file": str(plan_path.resolve()),
        "risk_model": run.plan.risk_model, "plan_hash": hashlib.sha256(plan_text.encode("utf-8")).hexdigest(),
        "plan_yaml": plan_text, "data_version": version, "critmin_version": __version__,
        "created_at": datetime.now(UTC).replace(tzinfo=None), "wall_s": float(run.wall_s),
        "scenarios": len(run.problem.scenario_names), "players": "+".join(run.players),
        "risk_weight": float(run.plan.risk_weight), "alpha": float(run.plan.alpha),
        "objective_musd": _finite(run.joint.objective), "evpi_musd": _finite(run.evpi), "vss_musd": _finite(run.vss),
        "cvar_premium_musd": _finite(run.cvar_premium), "joint_saving_musd": _finite(run.joint_saving),
        "superadditive": not violations, "violations": json.dumps(violations),
    }  # fmt: skip
    tables = plan_tables(run)
    write_record(store.con, PLAN_KIND, plan_id, row, PLAN_COLUMNS, TABLES, tables, "plan_")
    return plan_id


def list_plans(store: Store) -> pd.DataFrame:
    """Every stored plan run, oldest first: plan_id, name, created_at (UTC), wall_s (s), scenarios, players,
    risk_weight (λ), objective, EVPI, VSS, CVaR premium and joint saving (MUSD), and superadditive."""
    ensure_plan_tables(store)
    return store.con.execute(
        "SELECT plan_id, name, created_at, round(wall_s, 2) AS wall_s, scenarios, players, risk_weight, "
        "objective_musd, evpi_musd, vss_musd, cvar_premium_musd, joint_saving_musd, superadditive FROM plans "
        "ORDER BY created_at, plan_id"
    ).df()


PLAN_KIND = RecordKind("plans", "plan_id", "plan run", "plan",
                       "no plan runs in the store yet: run one with `critmin plan run`", "critmin plan list")


def resolve_plan(store: Store, plan_id: str) -> str:
    """A plan id from its id, a unique prefix of it, or ``latest`` (the most recently created). Raises
    :class:`PlanNotFoundError` (a NotFoundError) for an unknown id or a prefix of several."""
    ensure_plan_tables(store)
    return resolve_record(store.con, PLAN_KIND, plan_id, PlanNotFoundError)


def plan_info(store: Store, plan_id: str) -> dict:
    """A plan run's ``plans`` row (``plan_id`` may be a unique prefix or ``latest``) as plain values:
    ``created_at`` an ISO timestamp (UTC), ``violations`` a list of {s, t, shortfall_musd}."""
    pid = resolve_plan(store, plan_id)
    frame = store.con.execute("SELECT * FROM plans WHERE plan_id = ?", [pid]).df()
    row = frame.iloc[0].to_dict()
    info = {}
    for key in PLAN_COLUMNS:
        value = row[key]
        if value is None or value is pd.NaT or (isinstance(value, float) and not math.isfinite(value)):
            value = None
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        elif hasattr(value, "item"):
            value = value.item()
        info[key] = value
    info["superadditive"] = bool(info["superadditive"])
    info["violations"] = json.loads(info["violations"] or "[]")
    return info


def read_plan_table(store: Store, plan_id: str, table: str) -> pd.DataFrame:
    """A stored result table of a plan run (its columns, in its order; dates as ISO strings). ``plan_id`` may
    be a unique prefix or ``latest``."""
    if table not in TABLES:
        raise NotFoundError(f"no plan table {table!r}; choose from: {', '.join(PLAN_TABLES)}")
    pid = resolve_plan(store, plan_id)
    types = TABLES[table]
    columns = ", ".join(f'"{c}"' for c in types)
    frame = store.con.execute(
        f"SELECT {columns} FROM {table_name(table)} WHERE plan_id = ? ORDER BY {SORT[table]}", [pid]
    ).df()
    for column, kind in types.items():
        if kind == "BIGINT":
            frame[column] = frame[column].astype("int64")
        elif kind == "DATE":
            frame[column] = [None if pd.isna(d) else pd.Timestamp(d).date().isoformat() for d in frame[column]]
    return frame.reset_index(drop=True)


def plan_tables_stored(store: Store, plan_id: str) -> dict[str, pd.DataFrame]:
    """Every stored result table of a plan run, by table name."""
    pid = resolve_plan(store, plan_id)
    return {table: read_plan_table(store, pid, table) for table in TABLES}


COMPARED = {  # measure -> (plans column, unit)
    "objective": ("objective_musd", "MUSD"),
    "evpi": ("evpi_musd", "MUSD"),
    "vss": ("vss_musd", "MUSD"),
    "cvar_premium": ("cvar_premium_musd", "MUSD"),
    "joint_saving": ("joint_saving_musd", "MUSD"),
    "risk_weight": ("risk_weight", "-"),
    "scenarios": ("scenarios", "scenarios"),
}


def compare_plans(store: Store, a: str, b: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two plan runs side by side: (measures, options). ``measures``: measure, unit, a, b, change (b - a) for
    the joint objective, EVPI, VSS, CVaR premium and joint saving (MUSD), λ and the scenario count;
    ``options``: option, owner, modules_a, modules_b, change, instrument_a, instrument_b (the joint plans'
    modules; an option only one plan has shows 0 modules in the other)."""
    info_a, info_b = plan_info(store, a), plan_info(store, b)
    rows = []
    for measure, (column, unit) in COMPARED.items():
        va, vb = info_a[column], info_b[column]
        change = vb - va if va is not None and vb is not None else None
        rows.append({"measure": measure, "unit": unit, "a": va, "b": vb, "change": change})
    measures = pd.DataFrame(rows)
    oa = read_plan_table(store, info_a["plan_id"], "options")[["option", "owner", "modules", "instrument"]]
    ob = read_plan_table(store, info_b["plan_id"], "options")[["option", "owner", "modules", "instrument"]]
    options = oa.merge(ob, on="option", how="outer", suffixes=("_a", "_b"), sort=False)
    options["owner"] = options["owner_a"].fillna(options["owner_b"])
    for side in ("a", "b"):
        options[f"modules_{side}"] = options[f"modules_{side}"].fillna(0).astype("int64")
        options[f"instrument_{side}"] = options[f"instrument_{side}"].fillna("")
    options["change"] = options["modules_b"] - options["modules_a"]
    options = options[["option", "owner", "modules_a", "modules_b", "change", "instrument_a", "instrument_b"]]
    return measures, options.reset_index(drop=True)


class _Text:
    """A text file among an export's tables: written by ``write_all_or_nothing`` as it writes a CSV."""

    def __init__(self, text: str):
        self.text = text

    def to_csv(self, path, index: bool = False) -> None:
        Path(path).write_text(self.text, encoding="utf-8")


def export_plan(store: Store, plan_id: str, out: str | Path, *, force: bool = False) -> list[Path]:
    """Write a stored plan run to folder ``out``: one CSV per table (<table>.csv), the plan file as stored
    (plan.yaml) and the run's record with units (run.json). All or nothing: every file is written under a
    temporary name and renamed once all are; existing files are kept unless ``force``. Returns the paths."""
    from critmin.run_export import write_all_or_nothing

    out = Path(out)
    info = plan_info(store, plan_id)
    files: dict[str, object] = {f"{t}.csv": read_plan_table(store, info["plan_id"], t) for t in PLAN_TABLES}
    record = {k: v for k, v in info.items() if k != "plan_yaml"}
    files["plan.yaml"] = _Text(info["plan_yaml"])
    files["run.json"] = _Text(json.dumps({
        "plan": record, "tables": {f"{t}.csv": len(files[f"{t}.csv"]) for t in PLAN_TABLES}, "units": UNITS,
    }, indent=1, allow_nan=False) + "\n")  # fmt: skip
    if out.exists() and not out.is_dir():
        from critmin.errors import UsageError

        raise UsageError(f"{out} is a file: a plan export writes a folder of files (give a folder for --out)")
    paths = [out / name for name in files]
    return write_all_or_nothing(files, paths, "csv", out, None, force=force)


# units of the stored columns (every *_musd column is MUSD)
UNITS = {
    "wall_s": "s", "risk_weight": "- (λ, weight on CVaR)", "alpha": "- (CVaR level)", "probability": "0-1",
    "gap": "- (relative)", "value_per_musd": "MUSD saved per MUSD of public cost", "modules": "modules",
    "draws": "draws", "_musd": "MUSD",
}  # fmt: skip


__all__ = [
    "NONE",
    "PLAN_TABLES",
    "UNITS",
    "PlanNotFoundError",
    "coalition_label",
    "compare_plans",
    "export_plan",
    "list_plans",
    "plan_id_of",
    "plan_info",
    "plan_key",
    "plan_tables",
    "read_plan_table",
    "resolve_plan",
    "save_plan_run",
]
