"""Comparators for market results, in the spirit of ``xarray.testing.assert_allclose``: one cleared step
(:class:`~critmin.market.results.StepResult`) or one simulation (:class:`~critmin.simulate.loop.RunResult`).

On a difference they raise ``AssertionError`` with a readable diff: the field, the coordinates of each value
that differs (``region=CHN product=Dy_oxide date=2025-06-01``), actual and expected values, their absolute and
relative difference, and how many values differ (the worst ``MAX_SHOWN`` are listed, worst first).

A value passes when ``|actual - expected| <= atol + rtol * |expected|`` (``numpy.isclose``; NaN equals NaN:
a missing value, such as the price of a node the model does not have, must be missing on both sides). The
defaults are the solver's tolerance, as the golden tests assert it: HiGHS's feasibility and optimality
tolerances are 1e-7, and the exact (interior-point) answers are polished and checked to 1e-7 (``market/polish.py``), so
``atol = 1e-6`` in the field's own unit (t per step, USD/kg for prices, thousand USD for the objective) and
``rtol = 1e-6`` of the expected value. Two solves of one world pass. Looser, explicit tolerances are needed
across curve forms (stepwise prices sit on a 5% grid), and where the equilibrium is degenerate (zero freight,
ties between routes: flows may split differently at the same cost; compare prices and totals there).

Coordinates are compared as label sets: the same labels in another order are aligned, not reported.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from critmin.market.results import StepResult
from critmin.scenario.load import scenario_hash

if TYPE_CHECKING:  # the simulation (and linopy) need not load for a comparison of steps
    from critmin.simulate.loop import RunResult

DEFAULT_RTOL = 1e-6  # of the expected value
DEFAULT_ATOL = 1e-6  # in the field's unit (t, USD/kg, thousand USD)
MAX_SHOWN = 10  # values listed per field, worst first

# the labelled arrays of a step (everything but status and objective), in declaration order
STEP_FIELDS: tuple[str, ...] = tuple(
    f.name for f in dataclasses.fields(StepResult) if f.name not in ("status", "objective")
)


def assert_step_close(
    actual: StepResult,
    expected: StepResult,
    *,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    fields: Iterable[str] | None = None,
) -> None:
    """Assert two cleared steps agree: status, objective and every labelled array (price, activity, trade,
    consumption, shortfall, unserved, release, restock, relief, switch), or only ``fields`` (names from those
    and ``objective``). Tolerances as in the module doc; every differing field is reported at once.

    >>> import dataclasses
    >>> from critmin.market import clear
    >>> from critmin.testing import tiny_world
    >>> world = tiny_world(["A"], [{"id": "x", "stage": "mine", "form": "mineral", "element": "Ga"}],
    ...     reference_price=[{"product": "x", "price": 10.0}],
    ...     production=[{"region": "A", "product": "x", "quantity": 100.0}],
    ...     demand=[{"region": "A", "sector": "other", "product": "x", "quantity": 100.0}])
    >>> step = clear(world)
    >>> assert_step_close(step, dataclasses.replace(step, price=step.price + 1e-8))
    >>> assert_step_close(step, dataclasses.replace(step, price=step.price + 0.5))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    AssertionError: cleared steps differ in 1 field(s) (rtol=1e-06, atol=1e-06):
    price: 1 of 1 values differ; worst 1:
      region=A product=x: actual 10, expected 10.5, abs diff 0.5, rel diff 0.0476...
    """
    wanted = _wanted(fields, ("objective", *STEP_FIELDS))
    problems = []
    if actual.status != expected.status:
        problems.append(f"status: actual {actual.status!r}, expected {expected.status!r}")
    if "objective" in wanted:
        problems += _value_problems("objective", actual.objective, expected.objective, rtol, atol)
    for name in STEP_FIELDS:
        if name in wanted:
            problems += array_problems(name, getattr(actual, name), getattr(expected, name), rtol, atol)
    if problems:
        raise AssertionError(_report("cleared steps", problems, rtol, atol))


def assert_run_close(
    actual: RunResult,
    expected: RunResult,
    *,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    paths: Sequence[str] | None = None,
    fields: Iterable[str] | None = None,
    check_scenario: bool = True,
) -> None:
    """Assert two simulations agree: dates, paths and statuses, then on each path (``paths``, default every
    path of ``expected``: ``baseline``, ``scenario``) each step's status and objective and every step array over
    time (``series(path, name)``), the stocks, the substitution shares and the balance residuals, and the
    policy reports (numbers within tolerance, the rest exact). ``fields`` limits the per-step arrays compared
    (names as in :func:`assert_step_close`). ``check_scenario``: the scenarios' content hashes must match.

    Dates that differ are reported alone: nothing else can be aligned.

    >>> from critmin.scenario import parse_scenario
    >>> from critmin.simulate.loop import simulate
    >>> from critmin.testing import tiny_world
    >>> world = tiny_world(["A"], [{"id": "x", "stage": "mine", "form": "mineral", "element": "Ga"}],
    ...     reference_price=[{"product": "x", "price": 10.0}],
    ...     production=[{"region": "A", "product": "x", "quantity": 100.0}],
    ...     demand=[{"region": "A", "sector": "other", "product": "x", "quantity": 100.0}])
    >>> scenario = parse_scenario("name: two\\nstart: 2025-01-01\\nend: 2025-02-28\\n")
    >>> run = simulate(world, scenario, cache=None)
    >>> assert_run_close(run, simulate(world, scenario, cache=None))
    """
    problems: list[str] = []
    if list(actual.dates) != list(expected.dates):
        raise AssertionError(_report("runs", [_dates_problem(actual.dates, expected.dates)], rtol, atol))
    wanted = _wanted(fields, ("objective", *STEP_FIELDS))
    if check_scenario and scenario_hash(actual.scenario) != scenario_hash(expected.scenario):
        problems.append(
            f"scenario: actual {actual.scenario.name!r} (hash {scenario_hash(actual.scenario)}), expected "
            f"{expected.scenario.name!r} (hash {scenario_hash(expected.scenario)})"
        )
    if sorted(actual.steps) != sorted(expected.steps):
        problems.append(f"paths: actual {sorted(actual.steps)}, expected {sorted(expected.steps)}")
    dates = list(expected.dates)
    problems += _label_problems("statuses", actual.statuses, expected.statuses, dates)
    for path in paths if paths is not None else list(expected.steps):
        if path not in actual.steps or path not in expected.steps:
            problems.append(f"{path}: no such path in {'actual' if path not in actual.steps else 'expected'}")
            continue
        a_steps, e_steps = actual.steps[path], expected.steps[path]
        problems += _label_problems(f"{path}.status", [s.status for s in a_steps], [s.status for s in e_steps], dates)
        if "objective" in wanted:
            a_obj, e_obj = (_over_time([s.objective for s in steps], dates) for steps in (a_steps, e_steps))
            problems += array_problems(f"{path}.objective", a_obj, e_obj, rtol, atol)
        for name in STEP_FIELDS:
            if name in wanted:
                a, e = actual.series(path, name), expected.series(path, name)
                problems += array_problems(f"{path}.{name}", a, e, rtol, atol)
        for name in ("stocks", "substitution", "balance_residual"):
            a_by_path, e_by_path = getattr(actual, name), getattr(expected, name)
            if (path in a_by_path) != (path in e_by_path):
                problems.append(f"{path}.{name}: only in {'actual' if path in a_by_path else 'expected'}")
            elif path in a_by_path:
                a, e = _over_time(a_by_path[path], dates), _over_time(e_by_path[path], dates)
                problems += array_problems(f"{path}.{name}", a, e, rtol, atol)
    problems += _report_problems(actual.policy_reports, expected.policy_reports, rtol, atol)
    if problems:
        raise AssertionError(_report("runs", problems, rtol, atol))


def array_problems(
    label: str, actual: xr.DataArray, expected: xr.DataArray, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL
) -> list[str]:
    """What differs between two labelled arrays, as lines of the diff (empty when they agree): dims, then
    each dimension's labels (compared as sets, so order does not matter), then the values.

    >>> a = xr.DataArray([1.0, 2.0], coords={"region": ["A", "B"]}, dims="region")
    >>> array_problems("price", a, a.sel(region=["B", "A"]))
    []
    >>> print(array_problems("price", a, a + [0, 1])[0])
    price: 1 of 2 values differ; worst 1:
      region=B: actual 2, expected 3, abs diff 1, rel diff 0.333333
    """
    if set(actual.dims) != set(expected.dims):
        return [f"{label}: dims differ: actual {tuple(actual.dims)}, expected {tuple(expected.dims)}"]
    problems = []
    for dim in actual.dims:
        a_labels, e_labels = _labels(actual, dim), _labels(expected, dim)
        if set(a_labels) != set(e_labels):
            missing = [v for v in e_labels if v not in set(a_labels)]
            extra = [v for v in a_labels if v not in set(e_labels)]
            problems.append(
                f"{label}: coordinate {dim!r} differs ({len(a_labels)} labels in actual, {len(e_labels)} expected)"
                + (f"; missing in actual: {_few(missing)}" if missing else "")
                + (f"; extra in actual: {_few(extra)}" if extra else "")
            )
    if problems:
        return problems
    # align expected to actual's dimension order and label order
    labels = {d: actual[d].values for d in actual.dims if d in actual.coords}
    expected = expected.transpose(*actual.dims).reindex(labels)
    a = np.asarray(actual.values, dtype=float)
    e = np.asarray(expected.values, dtype=float)
    bad = ~np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)
    if not bad.any():
        return []
    index = np.argwhere(bad)
    with np.errstate(invalid="ignore", divide="ignore"):
        diff = np.abs(a - e)
        # how far past its tolerance each value is; a value missing on one side only is worst of all
        excess = np.where(np.isnan(diff) | np.isinf(diff), np.inf, diff / (atol + rtol * np.abs(e)))[bad]
    order = np.argsort(-excess, kind="stable")[:MAX_SHOWN]
    lines = [f"{label}: {len(index)} of {a.size} values differ; worst {len(order)}:"]
    for k in order:
        at = tuple(index[k])
        where = " ".join(f"{d}={_format_label(actual[d].values[i])}" for d, i in zip(actual.dims, at, strict=True))
        lines.append(f"  {where or '(scalar)'}: {_difference(a[at], e[at])}")
    if len(index) > len(order):
        lines.append(f"  ... and {len(index) - len(order)} more")
    return ["\n".join(lines)]


def _wanted(fields: Iterable[str] | None, known: tuple[str, ...]) -> set[str]:
    if fields is None:
        return set(known)
    wanted = set(fields)
    unknown = sorted(wanted - set(known))
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return wanted


def _report(what: str, problems: list[str], rtol: float, atol: float) -> str:
    return f"{what} differ in {len(problems)} field(s) (rtol={rtol:g}, atol={atol:g}):\n" + "\n".join(problems)


def _value_problems(label: str, actual: float, expected: float, rtol: float, atol: float) -> list[str]:
    if np.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True):
        return []
    return [f"{label}: {_difference(float(actual), float(expected))}"]


def _difference(a: float, e: float) -> str:
    if np.isnan(a) or np.isnan(e):
        return f"actual {a:.6g}, expected {e:.6g} (missing on one side)"
    diff = abs(a - e)
    rel = f"{diff / abs(e):.6g}" if e != 0 else "inf"
    return f"actual {a:.6g}, expected {e:.6g}, abs diff {diff:.6g}, rel diff {rel}"


def _labels(array: xr.DataArray, dim: str) -> list:
    return list(array[dim].values) if dim in array.coords else list(range(array.sizes[dim]))


def _format_label(value) -> str:
    if isinstance(value, np.datetime64 | pd.Timestamp | dt.datetime):
        stamp = pd.Timestamp(value)
        return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()
    return str(value)


def _few(values: list, n: int = MAX_SHOWN) -> str:
    shown = ", ".join(_format_label(v) for v in values[:n])
    return shown + (f", ... ({len(values) - n} more)" if len(values) > n else "")


def _over_time(values: list, dates: list[dt.date]) -> xr.DataArray:
    """A per-step list (numbers or arrays on one grid) as one array with a trailing date dimension."""
    when = pd.to_datetime(dates)
    if values and isinstance(values[0], xr.DataArray):
        return xr.concat(values, dim=pd.Index(when, name="date"), join="outer").transpose(..., "date")
    return xr.DataArray(np.asarray(values, dtype=float), coords={"date": when}, dims="date")


def _dates_problem(actual: list[dt.date], expected: list[dt.date]) -> str:
    def span(dates):
        return f"{len(dates)} steps" + (f" {dates[0]}..{dates[-1]}" if dates else "")

    first = next((i for i, (a, e) in enumerate(zip(actual, expected, strict=False)) if a != e), None)
    where = "" if first is None else f"; first difference at step {first}: {actual[first]} vs {expected[first]}"
    return f"dates differ: actual {span(actual)}, expected {span(expected)}{where}"


def _label_problems(label: str, actual: list[str], expected: list[str], dates: list[dt.date]) -> list[str]:
    if list(actual) == list(expected):
        return []
    if len(actual) != len(expected):
        return [f"{label}: {len(actual)} in actual, {len(expected)} expected"]
    differ = [(d, a, e) for d, a, e in zip(dates, actual, expected, strict=True) if a != e]
    lines = [f"{label}: {len(differ)} of {len(actual)} differ; first {min(len(differ), MAX_SHOWN)}:"]
    lines += [f"  date={d}: actual {a!r}, expected {e!r}" for d, a, e in differ[:MAX_SHOWN]]
    return ["\n".join(lines)]


REPORT_KEYS = ("name", "type", "region", "product")  # what names a policy report in the diff


def _report_problems(actual: list[dict], expected: list[dict], rtol: float, atol: float) -> list[str]:
    if len(actual) != len(expected):
        return [f"policy_reports: {len(actual)} records in actual, {len(expected)} expected"]
    lines = []
    for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
        named = " ".join(f"{k}={e[k]}" for k in REPORT_KEYS if k in e)
        if set(a) != set(e):
            lines.append(f"  [{i}] {named}: keys differ: actual {sorted(a)}, expected {sorted(e)}")
            continue
        for key in e:
            x, y = a[key], e[key]
            numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (x, y))
            if numbers and not np.isclose(x, y, rtol=rtol, atol=atol, equal_nan=True):
                lines.append(f"  [{i}] {named}: {key}: {_difference(float(x), float(y))}")
            elif not numbers and x != y:
                lines.append(f"  [{i}] {named}: {key}: actual {x!r}, expected {y!r}")
    if not lines:
        return []
    shown = lines[:MAX_SHOWN] + ([f"  ... and {len(lines) - MAX_SHOWN} more"] if len(lines) > MAX_SHOWN else [])
    return [f"policy_reports: {len(lines)} value(s) differ:\n" + "\n".join(shown)]
