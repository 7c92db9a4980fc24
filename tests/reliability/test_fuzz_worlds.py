"""Issue 11: fuzzed world folders. The bundled world, exported, gets one seeded mutation per case (rows
deleted or duplicated, cells blanked, garbled, of the wrong type, NaN, infinite, negative or huge, unknown
ids, bad encodings, columns missing or extra, files truncated, empty, header-only, missing or unknown) and is
then validated in-process, as `critmin world import` and `world check --world` read it. For every case:

- nothing but the project's own WorldValidationError escapes (no traceback);
- every problem names a file of the folder, and a problem on a row also its line and field;
- a mutation that must be refused is refused with a problem at the mutated file (and line and field);
- a world that validates is loaded (every 25th case: imported into a store; every 3rd, if the mutation
  changed the market's tables: run for two months);
- a refused import (every 25th case) leaves the store's tables exactly as they were.

The cases run in two worker processes (the suite's own process uses one core); the tests assert on what
each case reported.

Also the regression test of defect 10: schema and reference problems in one pass."""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from pathlib import Path

import pytest

from critmin.schema import components
from critmin.store import Store
from critmin.world.model import World
from critmin.world.problems import WorldValidationError

FAST_CASES = 200
SLOW_CASES = 1000  # under --slow, on top of the fast ones
SEED = 20261122
IMPORT_EVERY = 25  # every 25th case is also imported into a store (a refused one must leave it unchanged)
RUN_EVERY = 3  # every 3rd case, if it validates and changed the market's data, is run for two months
WHOLE_ROW = ("has ", "malformed CSV", "not UTF-8")  # reasons about a whole row or the bytes: no field
COMPS = components()
FILES = sorted(c.file for c in COMPS.values())
COMP_OF = {c.file: c for c in COMPS.values()}


@dataclass
class Mutation:
    kind: str
    file: str  # the file mutated (or added)
    content: bytes | None  # None: the file is deleted
    must_fail: bool = False  # a world with this mutation may not validate
    line: int | None = None  # ... and a problem must be at this line (of ``file``)
    field: str | None = None  # ... and this field


def rows_of(text: str) -> tuple[list[str], list[list[str]]]:
    parsed = list(csv.reader(io.StringIO(text)))
    return parsed[0], parsed[1:]


def write(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    return out.getvalue().encode("utf-8")


JUNK = ["", " ", "@@", ":x:", "ZZZ-unknown", "Japón", "1,5", '"', "\t", "x" * 300, "None", "null", "-", "\u2028"]
NUMBERS = {
    # text: must it be refused in a numeric column (with min 0 for most)?
    "nan": True, "NaN": True, "inf": True, "-inf": True, "Infinity": True, "1e400": True, "abc": True,
    "12 t": True, "0x10": True, "--1": True, "-1": None, "-1e-300": None, "0": None, "1e300": True,
    "1e-320": None, "123456789012345678901234567890": True, "3.5": None, "1_000": None, "1e12": None,
}  # fmt: skip


def mutate(rng: random.Random, texts: dict[str, str]) -> Mutation:
    file = rng.choice(FILES)
    comp = COMP_OF[file]
    header, rows = rows_of(texts[file])
    kinds = ["empty", "header_only", "delete_file", "unknown_file", "encoding", "extra_column", "missing_column",
             "duplicate_header", "truncate", "bom_crlf", "swap_header"]  # fmt: skip
    if rows:
        kinds += ["delete_row", "duplicate_row", "blank_cell", "garble_cell", "number", "unknown_id",
                  "field_count", "quote", "shuffle", "padding"] * 3  # fmt: skip
    kind = rng.choice(kinds)
    i = rng.randrange(len(rows)) if rows else 0
    line = i + 2
    core = comp.name in ("source", "region", "element", "product")
    if kind == "empty":
        return Mutation(kind, file, b"", must_fail=True, line=1)
    if kind == "header_only":
        return Mutation(kind, file, write(header, []), must_fail=core)
    if kind == "delete_file":
        return Mutation(kind, file, None, must_fail=core)
    if kind == "unknown_file":
        return Mutation(kind, rng.choice(["extra.csv", "Region.csv", "region.CSV.csv"]), b"id\nx\n", must_fail=True)
    if kind == "encoding":
        text = texts[file]
        how = rng.choice(["cp1252", "utf-16", "byte"])
        if how == "byte" or not rows:
            at = rng.randrange(len(text) + 1)
            data = text[:at].encode() + b"\xff\xfe\x80" + text[at:].encode()
            return Mutation(kind, file, data, must_fail=True)
        data = (text.replace(",", ",Ü", 1) if how == "cp1252" else text).encode(how)
        return Mutation(kind, file, data, must_fail=True)
    if kind == "extra_column":
        return Mutation(kind, file, write([*header, "bogus"], [[*r, "1"] for r in rows]), True, 1, "bogus")
    if kind == "missing_column":
        j = rng.randrange(len(header))
        attr = comp.attribute(header[j])
        drop = lambda r: r[:j] + r[j + 1 :]  # noqa: E731
        required = attr.required and not attr.default
        return Mutation(kind, file, write(drop(header), [drop(r) for r in rows]), required, 1, attr.name)
    if kind == "duplicate_header":
        j = rng.randrange(len(header))
        return Mutation(kind, file, write([*header, header[j]], [[*r, r[j]] for r in rows]), True, 1, header[j])
    if kind == "truncate":
        data = texts[file].encode()
        return Mutation(kind, file, data[: rng.randrange(len(data))], must_fail=False)
    if kind == "bom_crlf":  # what spreadsheet programs write: must still read as the same table
        return Mutation(kind, file, b"\xef\xbb\xbf" + texts[file].replace("\n", "\r\n").encode())
    if kind == "swap_header":
        a, b = rng.sample(range(len(header)), 2)
        swapped = list(header)
        swapped[a], swapped[b] = swapped[b], swapped[a]
        return Mutation(kind, file, write(swapped, rows))
    rows = [list(r) for r in rows]
    if kind == "delete_row":
        del rows[i]
        return Mutation(kind, file, write(header, rows))
    if kind == "duplicate_row":
        rows.insert(rng.randrange(len(rows) + 1), list(rows[i]))
        return Mutation(kind, file, write(header, rows), must_fail=bool(comp.key))
    if kind == "shuffle":
        rng.shuffle(rows)
        return Mutation(kind, file, write(header, rows))
    if kind == "padding":  # blanks around every cell of a row, and a blank line: read as the same table
        rows[i] = [f"  {cell} " for cell in rows[i]]
        rows.insert(i, [])
        return Mutation(kind, file, write(header, rows))
    if kind == "field_count":
        rows[i] = rows[i][:-1] if rng.random() < 0.5 else [*rows[i], "extra"]
        return Mutation(kind, file, write(header, rows), True, line)
    if kind == "quote":  # an unmatched quote opens a row: the reader runs on to the end of the file
        lines = texts[file].split("\n")
        lines[line - 1] = '"' + lines[line - 1]
        return Mutation(kind, file, "\n".join(lines).encode())
    j = rng.randrange(len(header))
    attr = comp.attribute(header[j])
    if kind == "unknown_id":
        refs = [k for k, name in enumerate(header) if comp.attribute(name).references]
        if refs:
            j = rng.choice(refs)
            rows[i][j] = "ZZZ" + rows[i][j]
            return Mutation(kind, file, write(header, rows), True, line, header[j])
        kind = "garble_cell"
    if kind == "number":
        numeric = [k for k, name in enumerate(header) if comp.attribute(name).type in ("float", "int")]
        if numeric:
            j = rng.choice(numeric)
            attr = comp.attribute(header[j])
            text = rng.choice(sorted(NUMBERS))
            rows[i][j] = text
            refused = NUMBERS[text] or _out_of_range(attr, text)
            return Mutation(kind, file, write(header, rows), refused, line, attr.name)
        kind = "garble_cell"
    if kind == "blank_cell":
        rows[i][j] = ""
        refused = attr.required and not attr.default
        return Mutation(kind, file, write(header, rows), refused, line, attr.name)
    rows[i][j] = rng.choice(JUNK)  # garble_cell
    refused = bool(attr.allowed) and rows[i][j].strip() not in attr.allowed and rows[i][j].strip() != ""
    return Mutation("garble_cell", file, write(header, rows), refused, line if refused else None, attr.name)


def _out_of_range(attr, text: str) -> bool:
    try:
        value = float(text)
    except ValueError:
        return True
    if attr.type == "int" and not text.lstrip("-").isdigit():
        return True
    return (attr.min is not None and value < attr.min) or (attr.max is not None and value > attr.max)


def fingerprint(db: Path) -> tuple:
    """Every table of the store: its name, row count and a hash of its rows (summed: row order is free)."""
    with Store(db) as store:
        tables = [r[0] for r in store.con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        return tuple(
            (table, *store.con.execute(f"SELECT count(*), sum(hash(t)) FROM {table} AS t").fetchone())
            for table in tables
        )


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, bundled_folder_copy) -> dict[str, str]:
    folder = bundled_folder_copy(tmp_path_factory.mktemp("fuzz-pristine") / "world")
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.csv"))}


# --- the cases run in two worker processes (each with its own folder and store); the tests assert on what they
# report: a status, and None when every check held, else the failed check or the escaped traceback.

_WORKER: dict = {}


def _start_worker(base: str, texts: dict[str, str]) -> None:
    import os
    import tempfile

    from critmin.world.model import bundled_folder

    home = Path(tempfile.mkdtemp(prefix=f"worker{os.getpid()}-", dir=base))
    folder = home / "world"
    folder.mkdir()
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    db = home / "fuzz.duckdb"
    with Store(db) as store:
        store.import_folder(bundled_folder())
    _WORKER.update(texts=texts, folder=folder, db=db)


def _run_case(case: int) -> tuple[int, str, str | None]:
    import traceback

    try:
        return case, check_case(case, _WORKER["texts"], _WORKER["folder"], _WORKER["db"]), None
    except BaseException:  # reported to the test, which fails with it
        return case, "failed", traceback.format_exc(limit=8)


def run_cases(base: Path, texts: dict[str, str], cases: range) -> dict[int, tuple[str, str | None]]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")  # not fork: the test process may hold threads and locks
    with ProcessPoolExecutor(2, mp_context=context, initializer=_start_worker, initargs=(str(base), texts)) as pool:
        return {case: (status, why) for case, status, why in pool.map(_run_case, cases, chunksize=5)}


def check_case(case: int, texts: dict[str, str], folder: Path, db: Path) -> str:
    rng = random.Random(f"{SEED}-{case}")
    mutation = mutate(rng, texts)
    target = folder / mutation.file
    if mutation.content is None:
        target.unlink()
    else:
        target.write_bytes(mutation.content)
    try:
        return check_folder(case, mutation, folder, db)
    finally:  # back to the exported world for the next case
        if mutation.file in texts:
            target.write_text(texts[mutation.file], encoding="utf-8")
        else:
            target.unlink()


def check_folder(case, mutation: Mutation, folder: Path, db: Path) -> str:
    what = f"case {case}: {mutation.kind} of {mutation.file}"
    try:
        world = World.from_folder(folder)
    except WorldValidationError as exc:  # the only exception allowed: anything else fails the case
        problems = exc.problems
        assert problems, what
        for p in problems:
            assert isinstance(p.reason, str) and p.reason and "Traceback" not in p.reason, (what, p)
            assert p.file == str(folder) or Path(p.file).parent == folder or p.file in FILES, (what, p)
            if p.line is not None and p.line > 1 and not p.reason.startswith(WHOLE_ROW):
                assert p.column, (what, p)  # a problem on a row names its field
        if mutation.must_fail:
            at = [p for p in problems if Path(p.file).name == mutation.file]
            assert at, (what, problems[:5])
            if mutation.line is not None:
                at = [p for p in at if p.line == mutation.line]
                assert at, (what, mutation.line, problems[:5])
            if mutation.field is not None and mutation.line is not None and mutation.kind != "field_count":
                assert any(p.column == mutation.field for p in at), (what, mutation.field, at)
        if case % IMPORT_EVERY:
            return "refused"
        before = fingerprint(db)
        with Store(db) as store:
            try:
                store.import_folder(folder)
            except WorldValidationError:
                pass
            else:
                raise AssertionError(f"{what}: refused by validation, yet imported")
        assert fingerprint(db) == before, f"{what}: a refused import changed the store"
        return "refused, import refused"
    assert not mutation.must_fail, f"{what}: validated, but it must be refused"
    assert len(world.table("region")) and len(world.table("product")), what
    status = "validated"
    if case % IMPORT_EVERY == 0:
        with Store(db) as store:
            store.import_folder(folder)
            assert len(store.active_world().table("region")) == len(world.table("region")), what
        status += ", imported"
    if case % RUN_EVERY == 0 and mutation.kind in RUNNABLE_KINDS and mutation.file in MARKET_FILES:
        run_two_months(world)
        status += ", ran"
    return status


# mutations of the data itself (not only of its formatting, which reads as the bundled world)
RUNNABLE_KINDS = ("delete_row", "number", "blank_cell", "garble_cell", "header_only", "delete_file", "truncate")
MARKET_FILES = {f"{name}.csv" for name in (
    "region", "element", "product", "composition", "recipe", "production", "trade_flow", "demand", "sector",
    "product_switch", "demand_response", "capacity", "supply_curve", "trade_cost", "reference_price",
    "reservation_price", "stock",
)}  # fmt: skip


def run_two_months(world: World) -> None:
    """What validates runs: a two-month run of a small shock on the mutated world."""
    from critmin.scenario import parse_scenario
    from critmin.simulate.loop import simulate

    scenario = parse_scenario(
        "name: fuzz\nstart: 2025-01-01\nend: 2025-02-28\nshocks:\n"
        "  - {type: export_control, exporter: {regions: [CHN]}, elements: [Dy], mode: quota, magnitude: 0.5,"
        " start: 2025-02-01}\n",
        "<fuzz>",
        world,
    )
    result = simulate(world, scenario, cache=None)
    assert result is not None


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory, pristine) -> dict[int, tuple[str, str | None]]:
    return run_cases(tmp_path_factory.mktemp("fuzz-workers"), pristine, range(FAST_CASES))


@pytest.fixture(scope="module")
def slow_outcomes(tmp_path_factory, pristine) -> dict[int, tuple[str, str | None]]:
    return run_cases(tmp_path_factory.mktemp("fuzz-workers"), pristine, range(FAST_CASES, FAST_CASES + SLOW_CASES))


@pytest.mark.parametrize("case", range(FAST_CASES))
def test_a_fuzzed_world_folder_validates_or_is_refused_with_file_line_field(case, outcomes):
    _, why = outcomes[case]
    assert why is None, why


@pytest.mark.slow
def test_more_fuzzed_world_folders(slow_outcomes):
    """SLOW_CASES more cases (one test, so that the fast run does not list a thousand skipped ones)."""
    failed = {case: why for case, (_, why) in slow_outcomes.items() if why is not None}
    assert not failed, "\n\n".join(f"case {case}:\n{why}" for case, why in list(failed.items())[:10])
    assert len(slow_outcomes) == SLOW_CASES


def test_the_fuzzed_worlds_are_refused_imported_and_run(outcomes, pristine):
    """The fuzzer is not idle: it draws every kind of mutation, a good share must be refused, some worlds
    validate, and the import and run checks do happen."""
    drawn = [mutate(random.Random(f"{SEED}-{case}"), pristine) for case in range(FAST_CASES)]
    assert len({m.kind for m in drawn}) >= 18, sorted({m.kind for m in drawn})
    assert sum(m.must_fail for m in drawn) >= FAST_CASES // 4
    assert len({m.file for m in drawn}) >= 20
    statuses = [status for status, _ in outcomes.values()]
    assert sum(s.startswith("refused") for s in statuses) >= FAST_CASES // 4, statuses
    assert sum(s.startswith("validated") for s in statuses) >= FAST_CASES // 4, statuses
    assert sum("import refused" in s for s in statuses) >= 4 and sum("imported" in s for s in statuses) >= 2
    assert sum("ran" in s for s in statuses) >= 3, statuses


# --- issue 11, defect 10: two rounds of errors ----------------------------------------------------------------


def test_schema_and_reference_problems_are_reported_in_one_pass(tmp_path, bundled_folder_copy):
    folder = bundled_folder_copy(tmp_path / "world")
    production = folder / "production.csv"
    header, rows = rows_of(production.read_text(encoding="utf-8"))
    rows[0][header.index("quantity")] = "abc"  # a schema problem at line 2
    production.write_bytes(write(header, rows))
    flows = folder / "trade_flow.csv"
    header, rows = rows_of(flows.read_text(encoding="utf-8"))
    rows[4][header.index("origin")] = "XXX"  # a dangling reference at line 6 of another file
    flows.write_bytes(write(header, rows))
    with pytest.raises(WorldValidationError) as caught:
        World.from_folder(folder)
    shown = [(Path(p.file).name, p.line, p.column) for p in caught.value.problems]
    assert shown == [("production.csv", 2, "quantity"), ("trade_flow.csv", 6, "origin")]


def test_a_missing_core_file_does_not_hide_the_other_files_reference_problems(tmp_path, bundled_folder_copy):
    """Before: with a core file missing, no cross-table check ran at all (a second round was needed)."""
    folder = bundled_folder_copy(tmp_path / "world")
    (folder / "source.csv").unlink()
    flows = folder / "trade_flow.csv"
    header, rows = rows_of(flows.read_text(encoding="utf-8"))
    rows[0][header.index("product")] = "no_such_product"
    flows.write_bytes(write(header, rows))
    with pytest.raises(WorldValidationError) as caught:
        World.from_folder(folder)
    problems = caught.value.problems
    assert (Path(problems[0].file).name, problems[0].reason) == ("source.csv", "required file is missing")
    assert [(Path(p.file).name, p.line, p.column) for p in problems[1:]] == [("trade_flow.csv", 2, "product")]


def test_a_bad_row_in_a_table_others_refer_to_does_not_cascade(tmp_path, bundled_folder_copy):
    """A region row dropped for a wrong field count, a region id cell blanked: each is one problem, not one
    'unknown region' per row that names it."""
    folder = bundled_folder_copy(tmp_path / "world")
    regions = folder / "region.csv"
    header, rows = rows_of(regions.read_text(encoding="utf-8"))
    chn = next(i for i, r in enumerate(rows) if r[0] == "CHN")
    jpn = next(i for i, r in enumerate(rows) if r[0] == "JPN")
    rows[chn] = [*rows[chn], "extra"]
    rows[jpn][0] = ""
    regions.write_bytes(write(header, rows))
    composition = folder / "composition.csv"
    header, rows = rows_of(composition.read_text(encoding="utf-8"))
    rows[0][header.index("share")] = "lots"  # its product's sum is not reported as off as well
    composition.write_bytes(write(header, rows))
    with pytest.raises(WorldValidationError) as caught:
        World.from_folder(folder)
    shown = [(Path(p.file).name, p.line, p.column) for p in caught.value.problems]
    assert shown == [
        ("region.csv", chn + 2, None), ("region.csv", jpn + 2, "id"), ("composition.csv", 2, "share")
    ], caught.value.problems  # fmt: skip


def test_a_number_too_large_to_solve_with_is_refused_at_validation(tmp_path, bundled_folder_copy):
    """Found by the slow fuzz run (case 1146): a reference price of 1e300 USD/kg validated, and every run on
    the world failed ('HiGHS returned Unknown'); 1e15 did too. Figures beyond 1e12 are refused now."""
    folder = bundled_folder_copy(tmp_path / "world")
    prices = folder / "reference_price.csv"
    header, rows = rows_of(prices.read_text(encoding="utf-8"))
    rows[38][header.index("price")] = "1e15"
    prices.write_bytes(write(header, rows))
    with pytest.raises(WorldValidationError) as caught:
        World.from_folder(folder)
    [problem] = caught.value.problems
    assert (Path(problem.file).name, problem.line, problem.column) == ("reference_price.csv", 40, "price")
    assert "1e+15 is too large" in problem.reason
