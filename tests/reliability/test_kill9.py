"""Issue 11: `kill -9` during `critmin world import` and `critmin run`. Each trial starts the command as a
subprocess on a store, sends it SIGKILL after a delay (spread over the command's whole duration, measured
first), and then checks that:

- the store opens, and its world is exactly one of the two complete states (the one before the import, or the
  imported one), table by table, never a mixture;
- every run the store lists is complete (as many result rows as an uninterrupted run of the same scenario),
  and no result rows belong to a run it does not list;
- the next command succeeds: the store's world and runs are read after every kill, and at the end an import
  and a run go through on a store the kills left.

Trials run two at a time, each pair on two stores (the commands are single-threaded; the machine has two
cores at least)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from critmin.store import Store

IMPORT_TRIALS = 10
RUN_TRIALS = 10
SLOW_FACTOR = 4  # under --slow: this many times as many trials
SCENARIO = """\
name: kill-nine
start: 2025-02-01
end: 2025-02-28
shocks:
  - type: export_control
    exporter: {regions: [CHN]}
    elements: [Dy, Tb]
    mode: quota
    magnitude: 0.4
    start: 2025-02-01
"""
PARALLEL = 2


def command(*args: str, db: Path) -> list[str]:
    return [sys.executable, "-m", "critmin.cli.main", *args, "--db", str(db)]


def finish(args: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    started = time.monotonic()
    done = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False)
    return time.monotonic() - started, done


def kill_after(trials: list[tuple[list[str], float]]) -> list[int]:
    """Run each command, PARALLEL at a time, and SIGKILL it after its delay (s). Returns the exit codes: -9 for
    a killed command, 0 (or 1) for one that ended first."""
    codes: list[int] = [0] * len(trials)
    pending = list(enumerate(trials))
    running: list[tuple[int, subprocess.Popen, float]] = []
    while pending or running:
        while pending and len(running) < PARALLEL:
            i, (args, delay) = pending.pop(0)
            process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            running.append((i, process, time.monotonic() + delay))
        time.sleep(0.01)
        for entry in list(running):
            i, process, deadline = entry
            if process.poll() is None and time.monotonic() < deadline:
                continue
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
            codes[i] = process.wait(timeout=60)
            running.remove(entry)
    return codes


WORLD_TABLES_SQL = "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'world_%' ORDER BY 1"


def world_state(db: Path) -> tuple:
    """The store's world, table by table (row count and a hash of its rows), and its layers."""
    with Store(db) as store:
        con = store.con
        tables = [r[0] for r in con.execute(WORLD_TABLES_SQL).fetchall()]
        state = [(t, *con.execute(f"SELECT count(*), sum(hash(x)) FROM {t} AS x").fetchone()) for t in tables]
        layers = con.execute("SELECT name, kind, data_version, row_count FROM layers ORDER BY position").fetchall()
    return tuple(state), tuple(layers)


def run_counts(db: Path) -> dict[str, tuple]:
    """run_id -> result rows per table, for every run the store lists; fails on rows of unlisted runs."""
    from critmin.runs import RESULT_TABLES, ensure_tables, list_runs

    with Store(db) as store:
        ensure_tables(store)
        listed = list(list_runs(store)["run_id"])
        counts = {}
        for run_id in listed:
            counts[run_id] = tuple(
                store.con.execute(f"SELECT count(*) FROM {t} WHERE run_id = ?", [run_id]).fetchone()[0]
                for t in RESULT_TABLES
            )
        for table in RESULT_TABLES:
            orphans = store.con.execute(
                f"SELECT count(*) FROM {table} WHERE run_id NOT IN (SELECT run_id FROM runs)"
            ).fetchone()[0]
            assert orphans == 0, f"{orphans} rows of {table} belong to no listed run"
    return counts


@pytest.fixture(scope="module")
def folders(tmp_path_factory, bundled_folder_copy) -> tuple[Path, Path]:
    """Two world folders of different content: the bundled world, and the bundled world with one note changed
    (an import of either replaces the other's whole world)."""
    base = tmp_path_factory.mktemp("kill9-worlds")
    first = bundled_folder_copy(base / "first")
    second = bundled_folder_copy(base / "second")
    regions = second / "region.csv"
    lines = regions.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1] + " (kill -9 trial)"
    regions.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return first, second


def import_trials(trials: int, folders, base: Path) -> None:
    first, second = folders
    dbs = [base / f"import-{i}.duckdb" for i in range(PARALLEL)]
    for db in dbs:
        with Store(db) as store:
            store.import_folder(first)
    states = {first: world_state(dbs[0])}
    full, done = finish(command("world", "import", str(second), db=dbs[0]))  # how long an import takes
    assert done.returncode == 0, done.stderr
    states[second] = world_state(dbs[0])
    assert states[first] != states[second]
    # delays from early in start-up to the end, on both stores in turn; each store's imports alternate folders
    plan = [(dbs[i % PARALLEL], (first, second)[(i // PARALLEL + i % PARALLEL) % 2], full * (0.1 + 0.9 * i / trials))
            for i in range(trials)]  # fmt: skip
    codes = []
    now = {db: world_state(db) for db in dbs}
    for start in range(0, trials, PARALLEL):
        batch = plan[start : start + PARALLEL]
        codes += kill_after([(command("world", "import", str(folder), db=db), delay) for db, folder, delay in batch])
        for db, folder, _ in batch:
            after = world_state(db)  # opens: the store is usable, and its world is one complete state
            assert after in (now[db], states[folder]), "the store holds a world that is neither before nor after"
            now[db] = after
    assert sum(code == -signal.SIGKILL for code in codes) >= trials // 2, codes
    _, done = finish(command("world", "import", str(second), db=dbs[-1]))  # the next command goes through
    assert done.returncode == 0, done.stderr
    assert world_state(dbs[-1]) == states[second]
    with Store(dbs[-1]) as store:
        assert len(store.active_world().table("region")) > 0


def run_trials(trials: int, base: Path, bundled) -> None:
    scenario = base / "kill-nine.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    dbs = [base / f"run-{i}.duckdb" for i in range(PARALLEL)]
    for db in dbs:
        with Store(db) as store:
            store.load(bundled, origin="bundled")
    # how long a run takes (its baseline solved and cached); the second store's first killed runs die while the
    # baseline is solved or cached, the first store's runs solve the scenario path alone
    full, done = finish(command("run", str(scenario), "--format", "json", db=dbs[0]))
    assert done.returncode == 0, done.stderr
    complete = set(run_counts(dbs[0]).values())
    assert len(complete) == 1 and all(n > 0 for n in next(iter(complete))[:2]), complete
    plan = [(dbs[i % PARALLEL], full * (0.1 + 0.9 * i / trials)) for i in range(trials)]
    codes = []
    now = {db: run_counts(db) for db in dbs}
    for start in range(0, trials, PARALLEL):
        batch = plan[start : start + PARALLEL]
        before = {db: now[db] for db, _ in batch}
        codes += kill_after([(command("run", str(scenario), "--format", "json", db=db), delay) for db, delay in batch])
        for db, _ in batch:
            after = run_counts(db)
            assert set(before[db]) <= set(after), "a stored run was lost"
            assert len(after) - len(before[db]) <= 1
            assert set(after.values()) <= complete, f"a run was stored in part: {after}"
            now[db] = after
    assert sum(code == -signal.SIGKILL for code in codes) >= trials // 2, codes
    # the next command goes through, and its run is complete (on the store whose baseline cache was killed into)
    _, done = finish(command("run", str(scenario), "--format", "json", db=dbs[-1]))
    assert done.returncode == 0, done.stderr
    assert set(run_counts(dbs[-1]).values()) == complete


def test_kill_9_during_world_import_leaves_the_world_before_or_after(tmp_path, folders):
    import_trials(IMPORT_TRIALS, folders, tmp_path)


def test_kill_9_during_a_run_stores_the_run_whole_or_not_at_all(tmp_path, bundled):
    run_trials(RUN_TRIALS, tmp_path, bundled)


@pytest.mark.slow
def test_more_kill_9_trials_during_world_import(tmp_path, folders):
    import_trials(IMPORT_TRIALS * SLOW_FACTOR, folders, tmp_path)


@pytest.mark.slow
def test_more_kill_9_trials_during_runs(tmp_path, bundled):
    run_trials(RUN_TRIALS * SLOW_FACTOR, tmp_path, bundled)
