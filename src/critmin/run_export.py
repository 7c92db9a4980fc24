"""A stored run written out for analysis as CSV, Parquet, Excel or netCDF.

Every result table carries a ``unit`` column, and numbers are rounded to ``SIGNIFICANT`` significant digits:
the model's inputs are known to two or three, and full doubles only show float noise (6.1831190000000005).
Output appears whole or not at all: everything is written to temporary names first, then renamed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from critmin.errors import NotFoundError, OutputExistsError, UsageError
from critmin.runs import RESULT_TABLES, product_units, resolve_run, run_element_units
from critmin.store import Store

SIGNIFICANT = 6
DATE_COLUMNS = ("date", "start_date", "end_date", "short_from", "recovered_on", "first_date", "last_date")


FORMATS = ("csv", "parquet", "xlsx", "netcdf")


class UnknownFormatError(NotFoundError, ValueError):
    """An export format critmin does not write."""


SINGLE_FILE = {"xlsx": ".xlsx", "netcdf": ".nc"}  # the other formats write one file per table into a folder


def round_significant(values: pd.Series, digits: int = SIGNIFICANT) -> pd.Series:
    """Floats to ``digits`` significant digits, each the double nearest its decimal (so 6.18312, not
    6.1831190000000005); NaN stays NaN."""
    return values.map(lambda v: v if pd.isna(v) else float(f"{v:.{digits}g}")).astype("float64")


def _unit_after(frame: pd.DataFrame, column: str, units: pd.Series) -> pd.DataFrame:
    out = frame.drop(columns=["unit"], errors="ignore")
    out.insert(list(out.columns).index(column) + 1, "unit", units.to_numpy())
    return out


def run_tables(store: Store, run_id: str) -> dict[str, pd.DataFrame]:
    """A run's tables as exported: ``runs`` (provenance) and each result table, with units and rounding.

    Units: prices USD/kg; shortfall and demand in the element's unit per month; sector shortfall and
    consumption, and flows, in the product's unit per month; stock levels in the product's unit; the summary's
    unit is that of cumulative_shortfall_t (its other columns name theirs: pct, ratio, days); policy
    quantities (*_t) in the product's unit, mean_buy_price in USD/kg; flags name theirs."""
    rid = resolve_run(store, run_id)
    products, elements = product_units(store, rid), run_element_units(store, rid)

    def unit_of(names: pd.Series, units: dict[str, str], suffix: str = "") -> pd.Series:
        return names.map(lambda n: units.get(n, "t") + suffix)

    tables = {}
    for name in ("runs", *RESULT_TABLES):
        frame = store.con.execute(f"SELECT * FROM {name} WHERE run_id = ?", [rid]).df()
        key = name.removeprefix("run_")
        if key == "prices":
            frame = frame.assign(unit="USD/kg")
        elif key == "shortfall":
            frame = _unit_after(frame, "demand", frame["unit"] + "/month")
        elif key == "sector_shortfall":
            frame = frame.assign(unit=unit_of(frame["product"], products, "/month"))
        elif key == "stocks":
            frame = frame.assign(unit=unit_of(frame["product"], products))
        elif key == "flows":
            frame = frame.assign(unit=unit_of(frame["product"], products, "/month"))
        elif key == "summary":
            frame = _unit_after(frame, "cumulative_shortfall_t", unit_of(frame["element"], elements))
        elif key == "policies":
            frame = _unit_after(frame, "delivered_t", unit_of(frame["product"], products))
        for column in frame.columns:
            if column in DATE_COLUMNS:
                frame[column] = pd.to_datetime(frame[column]).dt.date.astype(object).where(frame[column].notna())
            elif frame[column].dtype == "float64":
                frame[column] = round_significant(frame[column])
        tables[key] = frame
    return tables


def targets(out: Path, fmt: str, names: list[str]) -> list[Path]:
    """The files an export writes: one per table in folder ``out`` (csv, parquet), or the one file ``out``."""
    if fmt in SINGLE_FILE:
        if out.is_dir():
            raise UsageError(
                f"{out} is a folder: --format {fmt} writes one file, e.g. {out / ('run' + SINGLE_FILE[fmt])}"
            )
        return [out]
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} is a file: --format {fmt} writes one file per table into a folder")
    return [out / f"{name}.{fmt}" for name in names]


def write_export(tables: dict[str, pd.DataFrame], out: Path, fmt: str, *, force: bool = False) -> list[Path]:
    """Write ``tables`` to ``out``; refuses to replace existing files unless ``force``. Returns the paths."""
    if fmt not in FORMATS:
        raise UnknownFormatError(f"unknown export format {fmt!r}; choose from: {', '.join(FORMATS)}")
    paths = targets(out, fmt, list(tables))
    folder = out if fmt not in SINGLE_FILE else out.parent
    return write_all_or_nothing(
        tables, paths, fmt, folder, lambda path: to_dataset(tables).to_netcdf(path, engine="scipy"), force=force
    )


def write_all_or_nothing(tables, paths: list[Path], fmt: str, folder: Path, write_one, *, force: bool) -> list[Path]:
    """Write ``tables`` to ``paths``: csv and parquet one file per table, xlsx one sheet per table, any other
    format through ``write_one(path)``. Every file is written under a temporary name and renamed into place
    once all are written; nothing is written if a path is blocked, or exists and ``force`` is not set."""
    blocked = [p for p in paths if p.exists() and not p.is_file()]
    if blocked:  # found before anything is written: an export is all there or not at all
        raise UsageError(f"{blocked[0]} is in the way (not a file); nothing was written")
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        shown = ", ".join(str(p) for p in existing[:3])
        more = "..." if len(existing) > 3 else ""
        raise OutputExistsError(f"{shown}{more} already exist(s); use --force to overwrite")
    folder.mkdir(parents=True, exist_ok=True)
    temporary = [p.with_name(f".{p.name}.partial{p.suffix}") for p in paths]
    try:
        if fmt == "csv":
            for frame, tmp in zip(tables.values(), temporary, strict=True):
                frame.to_csv(tmp, index=False)
        elif fmt == "parquet":
            _parquet(tables, temporary)
        elif fmt == "xlsx":
            _xlsx(tables, temporary[0])
        else:
            write_one(temporary[0])
        for tmp, path in zip(temporary, paths, strict=True):
            tmp.replace(path)
    finally:
        for tmp in temporary:
            tmp.unlink(missing_ok=True)
    return paths


def _xlsx(tables: dict[str, pd.DataFrame], path: Path) -> None:
    """One sheet per table, streamed (openpyxl's write-only mode: several times faster than pandas' writer)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    for name, frame in tables.items():
        sheet = book.create_sheet(name)
        sheet.append(list(frame.columns))
        dates = [c in DATE_COLUMNS for c in frame.columns]
        for row in frame.itertuples(index=False, name=None):
            cells = []
            for value, is_date in zip(row, dates, strict=True):
                if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
                    value = None
                elif hasattr(value, "item"):  # numpy scalars
                    value = value.item()
                if is_date and value is not None:
                    cell = WriteOnlyCell(sheet, value)
                    cell.number_format = "yyyy-mm-dd"
                    value = cell
                cells.append(value)
            sheet.append(cells)
    book.save(path)


def _parquet(tables: dict[str, pd.DataFrame], temporary: list[Path]) -> None:
    """Parquet through DuckDB (no pyarrow needed); date columns stay dates."""
    import duckdb

    con = duckdb.connect()
    try:
        for frame, tmp in zip(tables.values(), temporary, strict=True):
            con.register("frame_view", frame)
            casts = ", ".join(f'CAST("{c}" AS DATE) AS "{c}"' if c in DATE_COLUMNS else f'"{c}"' for c in frame.columns)
            target = str(tmp).replace("'", "''")
            con.execute(f"COPY (SELECT {casts} FROM frame_view) TO '{target}' (FORMAT parquet)")
            con.unregister("frame_view")
    finally:
        con.close()


# netCDF: each result table becomes variables on named dimensions; tables of records get a record dimension
CUBES = {
    "prices": (["path", "month", "region", "product"], {"price_usd_per_kg": "price"}),
    "shortfall": (["path", "month", "region", "element"], {"shortfall": "shortfall", "demand": "demand"}),
    "sector_shortfall": (
        ["path", "month", "region", "sector", "product"],
        {"shortfall": "sector_shortfall", "consumption": "sector_consumption"},
    ),
    "stocks": (["path", "month", "region", "product", "holder"], {"level": "stock_level"}),
    "flows": (["path", "month", "origin", "destination", "product"], {"quantity": "flow"}),
}
CUBE_UNITS = {
    "price": "USD/kg",
    "shortfall": "element_unit per month",
    "demand": "element_unit per month",
    "sector_shortfall": "product_unit per month",
    "sector_consumption": "product_unit per month",
    "stock_level": "product_unit",
    "flow": "product_unit per month",
    "max_shortfall_pct": "%",
    "cumulative_shortfall_t": "element_unit",
    "peak_price_ratio": "1",
    "tts_days": "days",
    "ttr_days": "days",
}


def to_dataset(tables: dict[str, pd.DataFrame]):
    """One xarray Dataset: result cubes on dims path, month, region, product, element, sector, holder, origin,
    destination; the summary on region x element; flags and policies on record dims ``flag`` and ``policy``;
    provenance in global attributes. Quantity units vary by product or element: ``units`` names the variable
    that holds them (product_unit, element_unit)."""
    import xarray as xr

    arrays: dict[str, xr.DataArray] = {}
    product_unit: dict[str, str] = {}
    element_unit: dict[str, str] = {}
    for key, (dims, variables) in CUBES.items():
        frame = tables[key].rename(columns={"date": "month"})
        frame["month"] = pd.to_datetime(frame["month"])
        if "product" in frame and key != "prices":
            product_unit.update(zip(frame["product"], frame["unit"].str.removesuffix("/month"), strict=True))
        if key == "shortfall":
            element_unit.update(zip(frame["element"], frame["unit"].str.removesuffix("/month"), strict=True))
        cube = frame.set_index(dims)[list(variables)].rename(columns=variables).to_xarray()
        arrays.update({name: cube[name] for name in variables.values()})
    summary = tables["summary"]
    element_unit.update(zip(summary["element"], summary["unit"], strict=True))
    cube = summary.drop(columns=["run_id", "unit"]).set_index(["region", "element"]).to_xarray()
    arrays.update({name: cube[name] for name in cube.data_vars})
    ds = xr.Dataset(arrays)
    for name in ("short_from", "recovered_on", "price_product"):  # strings: no NaN in a netCDF-3 char array
        ds[name] = ds[name].fillna("").astype(str)
    ds["product_unit"] = ("product", [product_unit.get(p, "t") for p in ds["product"].values])
    ds["element_unit"] = ("element", [element_unit.get(e, "t") for e in ds["element"].values])
    for record, key in (("flag", "flags"), ("policy", "policies")):
        frame = tables[key].drop(columns=["run_id"])
        for column in frame.columns:
            values = frame[column]
            if values.dtype == object or column in DATE_COLUMNS:
                values = values.map(lambda v: "" if v is None or v is pd.NA or v != v else str(v))
            elif values.dtype == bool:
                values = values.astype("int8")
            ds[f"{record}_{column}"] = (record, values.to_numpy())
    for name, unit in CUBE_UNITS.items():
        ds[name].attrs["units"] = unit
    run = tables["runs"].iloc[0]
    ds.attrs.update({k: str(v) for k, v in run.items() if not (isinstance(v, float) and np.isnan(v))})
    ds.attrs["rounding"] = f"{SIGNIFICANT} significant digits"
    return ds
