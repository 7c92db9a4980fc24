"""Issue 11, defect 15: CLI output. Tables cut numbers at 80 columns ('14.…'), `runs compare` cut all 19
headers even at 250 columns, `runs list` cut run ids, `runs show` / `runs compare` lacked `run`'s -r/-e
filters, and `runs export` wrote CSV only, without units for flows, stocks and sector shortfall and with float
noise (6.1831190000000005). Two short runs are shared by every test here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

import critmin
from critmin.cli import output
from critmin.cli.main import app

SCENARIO = """\
name: {name}
start: 2025-01-01
end: 2025-02-28
shocks:
  - type: export_control
    exporter: {{regions: [CHN]}}
    elements: [Dy]
    mode: quota
    magnitude: {magnitude}
    start: 2025-02-01
  - type: stockpile_policy
    name: Dy reserve
    where: {{regions: [JPN]}}
    products: [Dy_oxide]
    target_days: 90
    build_months: 12
    release_multiple: 1.2
    start: 2025-01-01
"""
RESULT_TABLES = ("prices", "shortfall", "sector_shortfall", "stocks", "flows", "summary", "flags", "policies")
runner = CliRunner()


def cli(*args: str, code: int = 0):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> tuple[Path, str, str]:
    """A store with two runs of a 2-month Dy quota (50% and 80%), with a stockpile policy: (db, id A, id B)."""
    folder = tmp_path_factory.mktemp("cli-output")
    db = folder / "store.duckdb"
    ids = []
    for name, magnitude in (("cli-output-a", 0.5), ("cli-output-b", 0.8)):
        path = folder / f"{name}.yaml"
        path.write_text(SCENARIO.format(name=name, magnitude=magnitude), encoding="utf-8")
        records = json.loads(cli("run", path, "--db", db, "--format", "json").stdout)
        ids.append(records[0]["run_id"])
    return db, ids[0], ids[1]


@pytest.fixture
def columns(monkeypatch):
    """``columns(n)``: tables print for a console n columns wide (the console a terminal of that width gets)."""
    return lambda n: monkeypatch.setattr(output.console, "width", n)


def numbers_whole(text: str, values: list[float]) -> None:
    """Every value appears as a whole number in ``text`` (as tables print them), and nothing is cut."""
    assert "…" not in text
    for v in values:
        shown = f"{v:,.1f}" if abs(v) >= 100 else f"{v:,.4g}"
        assert f" {shown} " in text, shown


def test_numbers_are_whole_at_80_columns(store, columns):
    db, _, b = store
    columns(80)
    table = cli("runs", "show", b, "--db", db).stdout
    assert max(len(line) for line in table.splitlines()) <= 80
    records = json.loads(cli("runs", "show", b, "--db", db, "--format", "json").stdout)
    numbers_whole(table, [r[c] for r in records for c in ("max_shortfall_pct", "cumulative_shortfall_t") if r[c]])


def test_tables_fit_any_width_without_cutting_numbers(columns, capsys):
    """Many wide number columns and a long text column, from very narrow to wide consoles."""
    frame = pd.DataFrame(
        {
            "label": ["a", "b"],
            **{f"quantity_number_{i}_t": [123456789.123 * (i + 1), -0.000123456] for i in range(12)},
            "note": ["a long note that has to wrap somewhere " * 3, "short"],
        }
    )
    values = [v for c in frame.columns[1:-1] for v in frame[c]]
    for width in (40, 60, 80, 120, 250):
        columns(width)
        output.emit(frame, output.Format.table, title="wide", units={c: "t" for c in frame.columns[1:-1]})
        text = capsys.readouterr().out
        assert max(len(line) for line in text.splitlines()) <= width, width
        numbers_whole(text, values)


def test_compare_headers_and_numbers_are_readable_at_250_and_80_columns(store, columns):
    db, a, b = store
    records = json.loads(cli("runs", "compare", a, b, "--db", db, "--format", "json").stdout)
    for width in (250, 80):
        columns(width)
        text = cli("runs", "compare", a, b, "--db", db).stdout
        assert max(len(line) for line in text.splitlines()) <= width
        for name in ("region", "element", "measure", "unit", "change", "max_shortfall_pct", "cumulative_shortfall_t"):
            assert name in text, (width, name)
        numbers_whole(
            text, [r[c] for r in records for c in ("cumulative_shortfall_t_a", "max_shortfall_pct_b") if r[c]]
        )
        assert f"A: {a}" in text and f"B: {b}" in text


def test_runs_list_shows_full_run_ids(store, columns):
    db, a, b = store
    columns(80)
    text = cli("runs", "list", "--db", db).stdout
    lines = text.splitlines()
    assert any(a in line for line in lines) and any(b in line for line in lines)
    assert "…" not in text and "[months]" in text and "[s]" in text


def test_columns_from_the_environment_when_piped(store):
    """$COLUMNS sets the width of tables written to a pipe (a terminal's own width applies on a terminal)."""
    db, _, b = store
    env = {**os.environ, "COLUMNS": "80", "PYTHONPATH": str(Path(critmin.__file__).parents[1])}  # this critmin
    shown = subprocess.run(
        [sys.executable, "-m", "critmin.cli.main", "runs", "show", b, "--db", str(db)],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    assert max(len(line) for line in shown.stdout.splitlines()) <= 80 and "…" not in shown.stdout


@pytest.mark.parametrize("command", [["runs", "show", "{b}"], ["runs", "compare", "{a}", "{b}"]])
def test_show_and_compare_take_the_region_and_element_filters_of_run(store, command):
    db, a, b = store
    args = [c.format(a=a, b=b) for c in command]
    every = json.loads(cli(*args, "--db", db, "--format", "json").stdout)
    only = json.loads(cli(*args, "-r", "JPN", "--element", "Dy", "-e", "Nd", "--db", db, "--format", "json").stdout)
    assert {(r["region"], r["element"]) for r in only} == {("JPN", "Dy"), ("JPN", "Nd")} and len(every) > 2
    table = cli(*args, "--region", "EU", "--db", db).stdout.split("Plausibility flags")[0]  # as `run`: summary
    assert " EU " in table and " JPN " not in table
    help_text = cli(*command[:2], "--help").stdout
    assert "--region" in help_text and "-r" in help_text and "--element" in help_text


def test_every_printed_number_of_a_run_has_a_unit(store, columns):
    db, a, b = store
    columns(250)
    shown = cli("runs", "show", b, "--db", db).stdout
    for header in ("max_shortfall_pct [%]", "peak_price_ratio [ratio]", "tts_days [days]", "ttr_days [days]"):
        assert header in shown
    assert "shortfall_unit" in shown and " t REO " in shown  # the unit of cumulative_shortfall_t, per element
    assert "target_t [t]" in shown and "mean_buy_price [USD/kg]" in shown
    compared = cli("runs", "compare", a, b, "--db", db).stdout
    assert " unit " in compared and " % " in compared and " days " in compared


def read_back(out: Path, fmt: str) -> dict[str, pd.DataFrame]:
    """An export read with other libraries than the ones that wrote it."""
    if fmt == "csv":
        return {t: pd.read_csv(out / f"{t}.csv") for t in ("runs", *RESULT_TABLES)}
    if fmt == "parquet":
        return {t: duckdb.sql(f"SELECT * FROM '{out / (t + '.parquet')}'").df() for t in ("runs", *RESULT_TABLES)}
    import openpyxl

    book = openpyxl.load_workbook(out, read_only=True)
    tables = {}
    for sheet in book.sheetnames:
        rows = list(book[sheet].iter_rows(values_only=True))
        tables[sheet] = pd.DataFrame(rows[1:], columns=rows[0])
    return tables


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_export_tables_have_units_and_rounded_numbers(store, tmp_path, fmt):
    db, _, b = store
    out = tmp_path / ("run.xlsx" if fmt == "xlsx" else "export")
    cli("runs", "export", b, "--format", fmt, "--out", out, "--db", db)
    tables = read_back(out, fmt)
    assert set(tables) == {"runs", *RESULT_TABLES}
    for name in RESULT_TABLES:
        assert "unit" in tables[name].columns, name
    assert set(tables["prices"]["unit"]) == {"USD/kg"}
    assert set(tables["flows"]["unit"]) <= {"t/month", "t REO/month", "t Ga/month"} and len(tables["flows"])
    assert set(tables["stocks"]["unit"]) <= {"t", "t REO", "t Ga"} and len(tables["stocks"])
    assert set(tables["sector_shortfall"]["unit"]) <= {"t/month", "t REO/month", "t Ga/month"}
    assert set(tables["shortfall"]["unit"]) <= {"t/month", "t REO/month", "t Ga/month"}
    assert tables["policies"]["unit"].tolist() == ["t REO"]  # Dy_oxide's unit
    for name, frame in tables.items():
        for column in frame.select_dtypes("float").columns:
            values = frame[column].dropna()
            assert (values.map(lambda v: float(f"{v:.6g}")) == values).all(), (name, column)
    # the rounding is to 6 significant digits, not to a fixed decimal: small flows keep their size
    flows = tables["flows"]["quantity"].abs()
    assert flows.min() > 0


def test_netcdf_export_is_one_dataset_with_named_dimensions_and_units(store, tmp_path):
    import xarray as xr

    db, _, b = store
    out = tmp_path / "run.nc"
    cli("runs", "export", b, "-f", "netcdf", "-o", out, "--db", db)
    cli("runs", "export", b, "-f", "csv", "-o", tmp_path / "csv", "--db", db)
    with xr.open_dataset(out, engine="scipy") as ds:
        ds.load()
    assert ds["price"].dims == ("path", "month", "region", "product") and ds["price"].attrs["units"] == "USD/kg"
    assert ds["flow"].dims == ("path", "month", "origin", "destination", "product")
    assert ds["stock_level"].attrs["units"] == "product_unit" and ds["product_unit"].sel(product="Dy_oxide") == "t REO"
    assert ds["max_shortfall_pct"].dims == ("region", "element") and ds["max_shortfall_pct"].attrs["units"] == "%"
    assert ds.attrs["run_id"] == b and list(ds["policy_name"].values) == ["Dy reserve"]
    prices = pd.read_csv(tmp_path / "csv" / "prices.csv").iloc[-1]
    cell = ds["price"].sel(
        path=prices["path"], month=prices["date"], region=prices["region"], product=prices["product"]
    )
    assert float(cell) == prices["price_usd_per_kg"]


@pytest.mark.parametrize("fmt", ["csv", "netcdf"])  # a folder of files, and one file
def test_export_keeps_existing_files_unless_forced(store, tmp_path, fmt):
    import xarray as xr

    db, a, b = store
    out = tmp_path / ("run.nc" if fmt == "netcdf" else "export")
    written = out if fmt == "netcdf" else out / "runs.csv"
    cli("runs", "export", a, "-f", fmt, "-o", out, "--db", db)
    first = written.read_bytes()
    refused = cli("runs", "export", b, "-f", fmt, "-o", out, "--db", db, code=2)
    assert "--force" in refused.output and written.read_bytes() == first
    cli("runs", "export", b, "-f", fmt, "-o", out, "--db", db, "--force")
    if fmt == "netcdf":
        with xr.open_dataset(out, engine="scipy") as ds:
            assert ds.attrs["run_id"] == b
    else:
        assert pd.read_csv(written)["run_id"].tolist() == [b]
    assert not [p for p in tmp_path.rglob("*") if "partial" in p.name]


def test_an_export_that_cannot_finish_writes_nothing(store, tmp_path):
    db, _, b = store
    out = tmp_path / "export"
    (out / "flows.csv").mkdir(parents=True)  # in the way of one table
    failed = cli("runs", "export", b, "-o", out, "--db", db, "--force", code=2)
    assert "nothing was written" in failed.output
    assert [p.name for p in out.iterdir()] == ["flows.csv"]
