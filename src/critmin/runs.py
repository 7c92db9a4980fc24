"""Runs in the DuckDB store: provenance, per-step results and summaries, written in one transaction."""

from __future__ import annotations

import datetime as dt
import uuid

import numpy as np
import pandas as pd
import xarray as xr

from critmin._version import __version__
from critmin.errors import NotFoundError
from critmin.market.data import values_in
from critmin.scenario.load import scenario_hash
from critmin.simulate.loop import RunResult
from critmin.simulate.plausibility import FLAG_COLUMNS, FLAG_KINDS, POLICY_COLUMNS, plausibility_flags, policy_frame
from critmin.simulate.summary import SUMMARY_COLUMNS, element_shortfall
from critmin.store import Store, data_version
from critmin.vocabulary import PATHS
from critmin.world.model import World

RUN_DDL = [
    """CREATE TABLE IF NOT EXISTS runs (
        run_id VARCHAR PRIMARY KEY, scenario VARCHAR, scenario_hash VARCHAR, scenario_yaml VARCHAR,
        data_version VARCHAR, critmin_version VARCHAR, solver VARCHAR, solver_status VARCHAR,
        steps BIGINT, start_date DATE, end_date DATE, started_at TIMESTAMP, wall_s DOUBLE)""",
    """CREATE TABLE IF NOT EXISTS run_prices (
        run_id VARCHAR, path VARCHAR, date DATE, region VARCHAR, product VARCHAR, price_usd_per_kg DOUBLE)""",
    """CREATE TABLE IF NOT EXISTS run_shortfall (
        run_id VARCHAR, path VARCHAR, date DATE, region VARCHAR, element VARCHAR, shortfall DOUBLE,
        demand DOUBLE, unit VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS run_sector_shortfall (
        run_id VARCHAR, path VARCHAR, date DATE, region VARCHAR, sector VARCHAR, product VARCHAR,
        shortfall DOUBLE, consumption DOUBLE)""",
    """CREATE TABLE IF NOT EXISTS run_stocks (
        run_id VARCHAR, path VARCHAR, date DATE, region VARCHAR, product VARCHAR, holder VARCHAR, level DOUBLE)""",
    """CREATE TABLE IF NOT EXISTS run_flows (
        run_id VARCHAR, path VARCHAR, date DATE, origin VARCHAR, destination VARCHAR, product VARCHAR,
        quantity DOUBLE)""",
    """CREATE TABLE IF NOT EXISTS run_summary (
        run_id VARCHAR, region VARCHAR, element VARCHAR, max_shortfall_pct DOUBLE, cumulative_shortfall_t DOUBLE,
        peak_price_ratio DOUBLE, tts_days BIGINT, ttr_days BIGINT, short_from DATE, recovered_on DATE,
        price_product VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS run_flags (
        run_id VARCHAR, kind VARCHAR, path VARCHAR, region VARCHAR, product VARCHAR, first_date DATE,
        last_date DATE, months BIGINT, worst_value DOUBLE, threshold DOUBLE, unit VARCHAR, message VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS run_policies (
        run_id VARCHAR, name VARCHAR, type VARCHAR, region VARCHAR, product VARCHAR, target_t DOUBLE,
        bought_t DOUBLE, mean_buy_price DOUBLE, released_t DOUBLE, delivered_t DOUBLE, acted BOOLEAN,
        reason VARCHAR)""",
    # the unit of each product's quantities when the run was made, for exports (product id -> t, t REO, t Ga)
    """CREATE TABLE IF NOT EXISTS run_product_units (run_id VARCHAR, product VARCHAR, unit VARCHAR)""",
]
RESULT_TABLES = (
    "run_prices", "run_shortfall", "run_sector_shortfall", "run_stocks", "run_flows", "run_summary", "run_flags",
    "run_policies",
)  # fmt: skip


class UnknownTableError(NotFoundError, ValueError):
    """A run table or column that does not exist."""


class RunNotFoundError(NotFoundError, KeyError):
    def __str__(self) -> str:
        return f"no run {self.args[0]!r} in the store: see `critmin runs list`"


def ensure_tables(store: Store) -> None:
    """Create the run tables if missing; once per store object (a server reads them on every request)."""
    if getattr(store, "run_tables_ready", False):
        return
    for ddl in RUN_DDL:
        store.con.execute(ddl)
    store.run_tables_ready = True


def _tidy(arrays: dict[str, xr.DataArray], run_id: str, path: str) -> pd.DataFrame:
    """Arrays on one grid as rows: run_id, path, one column per dim, then one per array; the cells present
    (non-NaN) in every array, in the arrays' own order (numpy indexing, no MultiIndex)."""
    first = next(iter(arrays.values()))
    values = {name: np.asarray(a.transpose(*first.dims).values) for name, a in arrays.items()}
    cells = np.nonzero(np.logical_and.reduce([~np.isnan(v) for v in values.values()]))
    columns: dict[str, object] = {"run_id": run_id, "path": path}
    for dim, index in zip(first.dims, cells, strict=True):
        labels = first.coords[dim].values
        columns[dim] = pd.to_datetime(labels[index]).date if dim == "date" else labels[index]
    columns.update({name: v[cells] for name, v in values.items()})
    return pd.DataFrame(columns)


def result_tables(
    run: RunResult, run_id: str, summary: pd.DataFrame, units: dict[str, str], flags: pd.DataFrame | None = None
) -> dict[str, pd.DataFrame]:
    out: dict[str, list[pd.DataFrame]] = {t: [] for t in RESULT_TABLES}
    for path in PATHS:
        out["run_prices"].append(
            _tidy({"price_usd_per_kg": run.series(path, "price")}, run_id, path)[
                ["run_id", "path", "date", "region", "product", "price_usd_per_kg"]
            ]
        )
        short, demand = element_shortfall(run, path)
        frame = _tidy({"shortfall": short, "demand": demand}, run_id, path)
        frame = frame[frame["demand"] > 0]
        frame["unit"] = frame["element"].map(units).fillna("t")
        out["run_shortfall"].append(
            frame[["run_id", "path", "date", "region", "element", "shortfall", "demand", "unit"]]
        )
        sector = _tidy(
            {"shortfall": run.series(path, "shortfall"), "consumption": run.series(path, "consumption")}, run_id, path
        )
        out["run_sector_shortfall"].append(
            sector[["run_id", "path", "date", "region", "sector", "product", "shortfall", "consumption"]]
        )
        first = run.stocks[path][0]
        stocks = first.expand_dims(date=pd.to_datetime(run.dates)).copy(
            data=np.stack([values_in(level, *first.dims) for level in run.stocks[path]])
        )
        out["run_stocks"].append(
            _tidy({"level": stocks}, run_id, path)[["run_id", "path", "date", "region", "product", "holder", "level"]]
        )
        flows = _tidy({"quantity": run.series(path, "trade")}, run_id, path)
        flows = flows[flows["quantity"].abs() > 1e-9]
        out["run_flows"].append(flows[["run_id", "path", "date", "origin", "destination", "product", "quantity"]])
    summary = summary.copy()
    summary.insert(0, "run_id", run_id)
    out["run_summary"] = [summary]
    flags = plausibility_flags(run) if flags is None else flags
    out["run_flags"] = [flags[FLAG_COLUMNS].assign(run_id=run_id)[["run_id", *FLAG_COLUMNS]]]
    out["run_policies"] = [policy_frame(run).assign(run_id=run_id)[["run_id", *POLICY_COLUMNS]]]
    return {name: pd.concat(frames, ignore_index=True) for name, frames in out.items()}


def save_run(
    store: Store,
    world: World,
    run: RunResult,
    scenario_yaml: str,
    summary: pd.DataFrame,
    wall_s: float,
    units: pd.Series,
    flags: pd.DataFrame | None = None,
) -> str:
    """Write the run, its results, plausibility flags (computed here unless given) and policy reports in one
    transaction; returns the run id."""
    ensure_tables(store)
    run_id = f"{run.scenario.name}-{dt.datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"
    tables = result_tables(run, run_id, summary, units, flags)
    con = store.con
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id, run.scenario.name, scenario_hash(run.scenario), scenario_yaml, data_version(world),
                __version__, "HiGHS (highspy), sparse arrays", ",".join(sorted(set(run.statuses))), len(run.dates),
                run.dates[0], run.dates[-1], dt.datetime.now(), wall_s,
            ],
        )  # fmt: skip
        for name, frame in tables.items():
            if frame.empty:  # nothing to write (and no column types for DuckDB to infer)
                continue
            con.register("frame_view", frame)
            con.execute(f"INSERT INTO {name} SELECT * FROM frame_view")
            con.unregister("frame_view")
        products = world.table("product")
        con.executemany(
            "INSERT INTO run_product_units VALUES (?, ?, ?)",
            [[run_id, p, u] for p, u in zip(products["id"], products["unit"], strict=True)],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return run_id


def list_runs(store: Store) -> pd.DataFrame:
    """Every stored run with its provenance: scenario, hashes, versions, solver status, steps, wall time."""
    ensure_tables(store)
    return store.con.execute(
        "SELECT run_id, scenario, start_date, end_date, steps, solver_status, data_version, scenario_hash, "
        "critmin_version, started_at, round(wall_s, 2) AS wall_s FROM runs ORDER BY started_at"
    ).df()


def resolve_run(store: Store, run_id: str) -> str:
    """A run id, or ``latest``, or a unique prefix / scenario name (its latest run)."""
    ensure_tables(store)
    if run_id == "latest":
        row = store.con.execute("SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()
    else:
        row = store.con.execute(
            "SELECT run_id FROM runs WHERE run_id = ? OR scenario = ? OR starts_with(run_id, ?) "
            "ORDER BY (run_id = ?) DESC, started_at DESC LIMIT 1",
            [run_id, run_id, run_id, run_id],
        ).fetchone()
    if row is None:
        raise RunNotFoundError(run_id)
    return row[0]


def run_summary(store: Store, run_id: str) -> pd.DataFrame:
    """A stored run's summary per region x element (shortfall, price ratio, TTS/TTR); ``run_id`` may be a
    prefix or ``latest``."""
    rid = resolve_run(store, run_id)
    frame = store.con.execute("SELECT * FROM run_summary WHERE run_id = ? ORDER BY region, element", [rid]).df()
    return _normalise_summary(frame)


def _normalise_summary(frame: pd.DataFrame) -> pd.DataFrame:
    for col in ("short_from", "recovered_on"):
        frame[col] = frame[col].map(lambda v: None if pd.isna(v) else pd.Timestamp(v).date().isoformat())
    for col in ("tts_days", "ttr_days"):
        frame[col] = frame[col].astype("Int64")
    return frame[["run_id", *SUMMARY_COLUMNS]]


def run_flags(store: Store, run_id: str) -> pd.DataFrame:
    """A stored run's plausibility flags (``FLAG_COLUMNS`` with run_id first; dates as ISO strings)."""
    rid = resolve_run(store, run_id)
    kinds = ", ".join(f"'{k}'" for k in FLAG_KINDS)
    frame = store.con.execute(
        f"SELECT * FROM run_flags WHERE run_id = ? "
        f"ORDER BY list_position([{kinds}], kind), path, region NULLS FIRST, product NULLS FIRST",
        [rid],
    ).df()
    for col in ("first_date", "last_date"):
        frame[col] = frame[col].map(lambda v: None if pd.isna(v) else pd.Timestamp(v).date().isoformat())
    frame["months"] = frame["months"].astype("int64")
    return frame[["run_id", *FLAG_COLUMNS]]


def run_policies(store: Store, run_id: str) -> pd.DataFrame:
    """A stored run's policy reports (``POLICY_COLUMNS`` with run_id first): what each policy shock bought and
    released, and whether it acted."""
    rid = resolve_run(store, run_id)
    frame = store.con.execute("SELECT * FROM run_policies WHERE run_id = ? ORDER BY rowid", [rid]).df()
    return frame[["run_id", *POLICY_COLUMNS]]


def product_units(store: Store, run_id: str) -> dict[str, str]:
    """Product id -> quantity unit for a stored run; runs stored before units were kept use the active world's."""
    rid = resolve_run(store, run_id)
    rows = store.con.execute("SELECT product, unit FROM run_product_units WHERE run_id = ?", [rid]).fetchall()
    if (
        not rows
        and store.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'world_product'"
        ).fetchone()[0]
    ):
        rows = store.con.execute("SELECT id, any_value(unit) FROM world_product GROUP BY id").fetchall()
    return dict(rows)


def run_element_units(store: Store, run_id: str) -> dict[str, str]:
    """Element -> the unit of its shortfall and demand in a stored run (t REO, t Ga, t)."""
    rid = resolve_run(store, run_id)
    rows = store.con.execute(
        "SELECT element, any_value(unit) FROM run_shortfall WHERE run_id = ? GROUP BY element", [rid]
    ).fetchall()
    return dict(rows)


def run_info(store: Store, run_id: str) -> dict:
    """A stored run's record in the ``runs`` table (provenance and timings)."""
    rid = resolve_run(store, run_id)
    frame = store.con.execute("SELECT * FROM runs WHERE run_id = ?", [rid]).df()
    return frame.iloc[0].to_dict()


def compare_runs(store: Store, a: str, b: str) -> pd.DataFrame:
    """Two runs' summaries side by side per region x element, with the change from ``a`` to ``b``."""
    left, right = run_summary(store, a), run_summary(store, b)
    key = ["region", "element"]
    merged = left.merge(right, on=key, suffixes=("_a", "_b"), how="outer")
    out = merged[key].copy()
    out["run_a"], out["run_b"] = (
        left["run_id"].iloc[0] if len(left) else a,
        right["run_id"].iloc[0] if len(right) else b,
    )
    for col in ("max_shortfall_pct", "cumulative_shortfall_t", "peak_price_ratio", "tts_days", "ttr_days"):
        out[f"{col}_a"] = merged[f"{col}_a"]
        out[f"{col}_b"] = merged[f"{col}_b"]
        out[f"{col}_change"] = merged[f"{col}_b"] - merged[f"{col}_a"]
    return out


TABLE_COLUMNS = {
    "prices": ("run_prices", ["path", "date", "region", "product", "price_usd_per_kg"]),
    "shortfall": ("run_shortfall", ["path", "date", "region", "element", "shortfall", "demand", "unit"]),
    "sector_shortfall": (
        "run_sector_shortfall",
        ["path", "date", "region", "sector", "product", "shortfall", "consumption"],
    ),
    "stocks": ("run_stocks", ["path", "date", "region", "product", "holder", "level"]),
    "flows": ("run_flows", ["path", "date", "origin", "destination", "product", "quantity"]),
}


def run_table(
    store: Store, run_id: str, table: str, *, limit: int | None = None, offset: int = 0, **equals: str | None
) -> tuple[pd.DataFrame, int]:
    """Rows of one result table of a run (``prices``, ``shortfall``, ``sector_shortfall``, ``stocks``, ``flows``),
    filtered by equality on its columns (None = any), ordered by date; returns the page and the total count."""
    if table not in TABLE_COLUMNS:
        raise UnknownTableError(f"unknown table {table!r}; choose from: {', '.join(TABLE_COLUMNS)}")
    name, columns = TABLE_COLUMNS[table]
    unknown = set(equals) - set(columns)
    if unknown:
        raise UnknownTableError(f"{table} has no column(s) {', '.join(sorted(unknown))}")
    rid = resolve_run(store, run_id)
    where, params = ["run_id = ?"], [rid]
    for column, value in equals.items():
        if value is not None:
            where.append(f'"{column}" = ?')
            params.append(value)
    clause = " AND ".join(where)
    total = store.con.execute(f"SELECT count(*) FROM {name} WHERE {clause}", params).fetchone()[0]
    page = f" LIMIT {int(limit)} OFFSET {int(offset)}" if limit is not None else ""
    order = ", ".join(f'"{c}"' for c in columns if c not in ("price_usd_per_kg", "shortfall", "demand", "level"))
    frame = store.con.execute(
        f"SELECT {', '.join(columns)} FROM {name} WHERE {clause} ORDER BY {order}{page}", params
    ).df()
    frame["date"] = pd.to_datetime(frame["date"]).dt.date.map(lambda d: d.isoformat())
    return frame, int(total)
