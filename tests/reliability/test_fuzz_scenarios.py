"""Issue 11: fuzzed scenarios. Each case takes a bundled scenario, changes one thing in it (a number to 0,
negative, NaN, infinite, huge or text; a string emptied or made an unknown id; a date made impossible; a list
emptied or given junk; an unknown key; a key deleted; start and end swapped; ...) and validates the YAML
against the bundled world, as `critmin validate` does. For every case:

- nothing but ScenarioError escapes, and each of its problems names the file, and (but for problems with the
  whole document) a line and a field; the line is the one that holds the field;
- a change that cannot be valid (NaN, infinity, text for a number, an unknown key or id, an impossible date)
  is refused at the changed field;
- every 12th scenario that validates is run, on a two-month window that starts at its first shock, in a worker
  process with a time limit: what validates runs, and never hangs;
- every 10th case goes to POST /api/scenarios/validate too: 200 or 422, never a 5xx.

Also the regression test of defect 10 for scenarios: schema and reference problems in one pass."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import math
import random
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from critmin.scenario import ScenarioError, parse_scenario

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = sorted((ROOT / "scenarios").glob("*.yaml"))
FAST_CASES = 240
SLOW_CASES = 2000
SEED = 11_2026
RUN_EVERY = 12  # every 12th valid scenario is run (two months)
API_EVERY = 10
RUN_LIMIT_S = 300  # a run of two months takes a few seconds; this long means it hangs
WHOLE_DOCUMENT = ("not valid YAML", "nested more than", "a scenario is a YAML mapping", "characters, over")

NUMBERS = [0, -1, -1e9, 1e308, 2**70, 1e-300, math.nan, math.inf, -math.inf, "abc", True, None, [], {}]
STRINGS = ["", "ZZZ", "zz-unknown", "x" * 3000, 12, None, [], {"a": 1}, "CHN", "Dy", "Ünïcode ✓"]
DATES = ["2025-13-01", "2025-02-30", "1999-01-01", "2300-01-01", "not a date", 20250101, None, "2025-1-1"]
JUNK = ["ZZZ", None, {}, [], 0, {"type": "nonsense"}, {"type": "tariff"}]
NEVER_VALID_NUMBERS = (math.nan, math.inf, -math.inf, "abc", [], {})


@dataclass
class Case:
    number: int
    source: str  # the bundled scenario it comes from
    change: str
    path: tuple
    text: str
    must_fail: bool

    @property
    def file(self) -> str:
        return f"fuzz-{self.number}.yaml"


def paths(node, prefix=()) -> list[tuple]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += paths(value, (*prefix, i))
    return found


def at(data, path: tuple):
    for step in path:
        data = data[step]
    return data


def put(data, path: tuple, value) -> None:
    at(data, path[:-1])[path[-1]] = value


def field_of(path: tuple) -> str:
    """A path as the validator names it: shocks[0].exporter.regions[1]."""
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else ("." if out else "") + str(step)
    return out


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the test's own reading and writing: the fast ones
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@functools.cache
def _parsed(text: str):
    return yaml.load(text, Loader=_LOADER)  # a safe loader (the C one)


def make_case(number: int, texts: dict[str, str]) -> Case:
    rng = random.Random(f"{SEED}-{number}")
    source = rng.choice(sorted(texts))
    data = copy.deepcopy(_parsed(texts[source]))
    path = rng.choice(paths(data)[1:])
    value = at(data, path)
    must_fail = False
    bare_date = None
    last = path[-1]
    if rng.random() < 0.1:  # changes to the whole scenario
        change = rng.choice(["swap_dates", "long_horizon", "bad_name", "no_shocks", "unknown_top_key", "drop_name"])
        path = ()
        if change == "swap_dates":
            data["start"], data["end"] = data["end"], data["start"]
            must_fail = data["start"] > data["end"]
        elif change == "long_horizon":
            data["end"] = dt.date(data["start"].year + 51, 1, 1)
            must_fail = True
        elif change == "bad_name":
            data["name"] = rng.choice(["Bad Name!", "", "-x", "é"])
            must_fail = True
        elif change == "no_shocks":
            data["shocks"] = []
        elif change == "unknown_top_key":
            data["bogus"] = 1
            must_fail = True
        else:
            del data["name"]
            must_fail = True
    elif isinstance(value, dict):
        change = rng.choice(["unknown_key", "delete_key", "not_a_mapping"])
        if change == "unknown_key":
            value["bogus_key"] = 1
            must_fail = True
        elif change == "delete_key" and value:
            del value[rng.choice(sorted(value))]
        else:
            change = "not_a_mapping"
            put(data, path, rng.choice(["x", 3, [1]]))
            must_fail = True
    elif isinstance(value, list):
        change = rng.choice(["empty_list", "junk_item", "duplicate_item", "not_a_list"])
        if change == "empty_list":
            value.clear()
        elif change == "junk_item":
            value.append(rng.choice(JUNK))
        elif change == "duplicate_item" and value:
            value.append(value[0])
        else:
            change = "not_a_list"
            put(data, path, rng.choice(["CHN", 5, {"a": 1}]))
            must_fail = True
    elif isinstance(value, bool) or value is None:
        change = "flip"
        put(data, path, rng.choice([not value, "maybe", 2]))
    elif isinstance(value, int | float):
        change = "number"
        new = rng.choice(NUMBERS)
        put(data, path, new)
        must_fail = any(new is bad or new == bad for bad in NEVER_VALID_NUMBERS if not isinstance(bad, float)) or (
            isinstance(new, float) and not math.isfinite(new)
        )
    elif isinstance(value, dt.date):
        change = "date"
        new = rng.choice(DATES)
        put(data, path, new)
        must_fail = new in ("2025-13-01", "2025-02-30", "not a date") or (new is None and last != "end")
        if isinstance(new, str) and new[:2] in ("19", "20") and rng.random() < 0.5:
            bare_date = new  # written unquoted: YAML reads it as a timestamp, and it must fail there cleanly
    else:  # a string
        change = "string"
        new = rng.choice(STRINGS)
        put(data, path, new)
        in_id_list = isinstance(last, int) and len(path) >= 2 and path[-2] in ("regions", "elements", "products")
        must_fail = (in_id_list and new not in ("CHN", "Dy")) or isinstance(new, list | dict)
    text = yaml.dump(data, Dumper=_DUMPER, sort_keys=False, allow_unicode=True)
    if bare_date:
        text = text.replace(f"'{bare_date}'", bare_date)
    return Case(number, source, change, path, text, must_fail)


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in BUNDLED}


@pytest.fixture(scope="module")
def world(bundled):
    return bundled


def validate(case: Case, world):
    """The scenario, or None when refused; asserts everything a refusal must say."""
    try:
        return parse_scenario(case.text, case.file, world)
    except ScenarioError as exc:  # the only exception allowed
        lines = case.text.splitlines()
        what = f"case {case.number}: {case.change} at {field_of(case.path)} of {case.source}"
        assert exc.problems, what
        for p in exc.problems:
            assert p.file == case.file and p.reason and "Traceback" not in p.reason, (what, p)
            if not p.reason.startswith(WHOLE_DOCUMENT):
                assert p.column and p.line is not None and 1 <= p.line <= len(lines), (what, p)
                key = p.column.rsplit(".", 1)[-1].split("[")[0]
                if p.reason != "Field required" and not p.column.endswith("]"):  # a missing key has no line
                    assert key in lines[p.line - 1], (what, p, lines[p.line - 1])
        if case.must_fail and case.path:  # refused at the changed field (or the item that holds it)
            changed = field_of(case.path)
            assert any(
                p.column is not None and (p.column.startswith(changed) or changed.startswith(p.column))
                for p in exc.problems
            ) or any(p.reason.startswith(WHOLE_DOCUMENT) for p in exc.problems), (what, exc.problems)
        return None


def first_window(scenario):
    """Two months of the horizon from the first shock's start (the horizon's start if none)."""
    starts = [s.start for s in scenario.shocks if scenario.start <= s.start <= scenario.end]
    first = max(min(starts, default=scenario.start), scenario.start)
    start = dt.date(first.year, first.month, 1)
    end_month = dt.date(start.year + (start.month // 12), start.month % 12 + 1, 1)
    end = min(dt.date(end_month.year, end_month.month, 28), scenario.end)
    return start, end


# --- runs in worker processes, with a time limit --------------------------------------------------------------

_WORLD: dict = {}


def _start_worker() -> None:
    from critmin.world.model import World

    _WORLD["world"] = World.bundled()


def _run(text: str, file: str) -> tuple[str, int]:
    from critmin.simulate.loop import simulate

    world = _WORLD["world"]
    scenario = parse_scenario(text, file, world)
    start, end = first_window(scenario)
    short = scenario.model_copy(update={"start": start, "end": end})
    result = simulate(world, short)
    return file, len(result.months) if hasattr(result, "months") else short.months


def run_valid(cases: list[Case]) -> dict[str, str | None]:
    """file -> None if it ran, else what went wrong (an exception, or the time limit)."""
    import multiprocessing
    import traceback
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures import TimeoutError as Timeout

    outcome: dict[str, str | None] = {}
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(2, mp_context=context, initializer=_start_worker)
    try:
        futures = {case.file: pool.submit(_run, case.text, case.file) for case in cases}
        for file, future in futures.items():
            try:
                future.result(timeout=RUN_LIMIT_S)
                outcome[file] = None
            except Timeout:
                outcome[file] = f"still running after {RUN_LIMIT_S} s"
            except Exception:
                outcome[file] = traceback.format_exc(limit=10)
    finally:
        processes = list((pool._processes or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:  # a run that hangs would hold the suite: its worker is ended
            if process.is_alive():
                process.kill()
    return outcome


def check_cases(numbers: range, texts, world, db: Path) -> tuple[dict[int, str | None], dict[str, int]]:
    """case -> None when every check held (else why not), and counts of what happened."""
    from fastapi.testclient import TestClient

    from critmin.server.app import create_app
    from critmin.server.config import ServerConfig

    outcomes: dict[int, str | None] = {}
    counts = {"refused": 0, "valid": 0, "ran": 0, "api": 0}
    cases = [make_case(n, texts) for n in numbers]
    to_run: list[Case] = []
    for case in cases:
        what = f"case {case.number} ({case.change} at {field_of(case.path) or 'the top'} of {case.source})"
        try:
            scenario = validate(case, world)
        except AssertionError as exc:
            outcomes[case.number] = f"{what}: {exc}"
            continue
        outcomes[case.number] = None
        if scenario is None:
            counts["refused"] += 1
        elif case.must_fail:
            outcomes[case.number] = f"{what}: validated, but it must be refused"
        else:
            counts["valid"] += 1
            if counts["valid"] % RUN_EVERY == 1:
                to_run.append(case)
    with TestClient(create_app(ServerConfig(db=db)), raise_server_exceptions=False) as client:
        for case in cases[::API_EVERY]:
            response = client.post("/api/scenarios/validate", json={"yaml": case.text})
            counts["api"] += 1
            if response.status_code not in (200, 422) or "Traceback" in response.text:
                outcomes[case.number] = f"case {case.number}: the API answered {response.status_code}: {response.text}"
    ran = run_valid(to_run)
    for case in to_run:
        if ran[case.file] is None:
            counts["ran"] += 1
        else:
            outcomes[case.number] = (
                f"case {case.number} ({case.change} of {case.source}) validated, but: {ran[case.file]}"
            )
    return outcomes, counts


@pytest.fixture(scope="module")
def fast(texts, world, tmp_path_factory):
    return check_cases(range(FAST_CASES), texts, world, tmp_path_factory.mktemp("fuzz-api") / "api.duckdb")


@pytest.fixture(scope="module")
def slow(texts, world, tmp_path_factory):
    cases = range(FAST_CASES, FAST_CASES + SLOW_CASES)
    return check_cases(cases, texts, world, tmp_path_factory.mktemp("fuzz-api") / "api.duckdb")


@pytest.mark.parametrize("number", range(FAST_CASES))
def test_a_fuzzed_scenario_is_refused_at_file_line_field_or_runs(number, fast):
    outcomes, _ = fast
    assert outcomes[number] is None, outcomes[number]


@pytest.mark.slow
def test_more_fuzzed_scenarios(slow):
    """SLOW_CASES more cases (one test, so that the fast run does not list two thousand skipped ones)."""
    outcomes, counts = slow
    failed = {number: why for number, why in outcomes.items() if why is not None}
    assert not failed, "\n\n".join(list(failed.values())[:10])
    assert len(outcomes) == SLOW_CASES and counts["ran"] >= SLOW_CASES // 100, counts


def test_the_fuzzed_scenarios_are_refused_validated_and_run(fast, texts):
    """The fuzzer is not idle: many cases must be refused, many validate, and runs and API calls happen."""
    _, counts = fast
    cases = [make_case(n, texts) for n in range(FAST_CASES)]
    assert len({c.change for c in cases}) >= 15, sorted({c.change for c in cases})
    assert len({c.source for c in cases}) == len(texts)
    assert sum(c.must_fail for c in cases) >= FAST_CASES // 5
    assert counts["refused"] >= FAST_CASES // 2 and counts["valid"] >= FAST_CASES // 6, counts
    assert counts["ran"] >= 3 and counts["api"] == len(range(0, FAST_CASES, API_EVERY)), counts


# --- issue 11, defect 10: two rounds of errors ----------------------------------------------------------------

TWO_ROUNDS = """\
name: two-rounds
start: 2025-01-01
end: 2025-06-30
shocks:
  - type: export_control
    exporter: {regions: [CHN]}
    elements: [Dy]
    mode: quota
    magnitude: .nan
    start: 2025-02-01
  - type: tariff
    importer: {regions: [USA]}
    origins: {regions: [XXX]}
    elements: [Qq]
    rate_pct: 25
    start: 2025-03-01
"""


def test_schema_and_reference_problems_of_a_scenario_are_reported_in_one_pass(world):
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(TWO_ROUNDS, "two.yaml", world)
    shown = [(p.line, p.column) for p in caught.value.problems]
    assert shown == [(9, "shocks[0].magnitude"), (13, "shocks[1].origins.regions[0]"), (14, "shocks[1].elements[0]")]
    assert "unknown region 'XXX'" in caught.value.problems[1].reason
