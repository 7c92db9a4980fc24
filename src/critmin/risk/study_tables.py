"""A study's analysis tables, computed from its chunk files (:mod:`critmin.risk.study_files`) one region at a
time, so memory grows with the draws of one region, never with every outcome of the study.

Tables (their columns are public: the REST API and the dashboard read them):

- ``measures``: per region x element x loss (``shortfall_pct`` in % of baseline demand, worst month;
  ``shortfall_t`` cumulative over the horizon in the element's unit): expected loss, P(any shortfall), VaR and
  CVaR at 95% and 99% (:func:`critmin.risk.analyse.risk_measures`).
- ``ranking``: per region, elements by expected shortfall cost, the shortfall valued at the reference price
  of the element's price product (:func:`critmin.risk.analyse.rank_elements`), flagged when on the USGS 2025
  list of top risks.
- ``fan``: per region x element (its price product) x month: mean and quantiles of the price ratio to the
  baseline, from the merged histogram (quantiles to its 1% bins), and the baseline price itself.
- ``exceedance``: P(loss > level) per region x element x loss, cells with any shortfall only, thinned to at
  most ``MAX_LEVELS`` levels.
- ``durations``: the distribution of the times to survive and to recover (days).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from critmin.risk.analyse import duration_distribution, exceedance_curve, rank_elements, risk_measures
from critmin.risk.chunk import histogram_quantiles
from critmin.risk.evaluate import price_products_of
from critmin.risk.model import RiskModel
from critmin.risk.sample import to_scenario
from critmin.risk.study_files import merged_histogram, outcome_files
from critmin.world.model import World

STUDY_TABLES = ("measures", "ranking", "fan", "exceedance", "durations")
LOSSES = ("shortfall_pct", "shortfall_t")
PCT_UNIT = "% of baseline demand"
COST_UNIT = "USD (shortfall valued at the reference price)"
# USGS, 2025 List of Critical Minerals: the minerals of highest supply risk to the US economy
USGS_2025_TOP_RISKS = ("Sm", "Rh", "Lu", "Tb", "Dy", "Ga", "Ge", "Gd")
MAX_LEVELS = 200  # exceedance levels kept per cell
KG_PER_T = 1000.0

COLUMNS = {
    "measures": ["region", "element", "loss", "unit", "draws", "weight", "expected_loss", "prob_any_shortfall",
                 "var_95", "cvar_95", "var_99", "cvar_99"],
    "ranking": ["region", "element", "expected_cost", "unit", "share", "rank", "on_reference_list"],
    "fan": ["region", "element", "product", "date", "mean", "q05", "q25", "q50", "q75", "q95",
            "baseline_price_usd_per_kg"],
    "exceedance": ["region", "element", "loss", "level", "exceedance_prob"],
    "durations": ["region", "element", "column", "unit", "draws", "share_defined", "mean", "min", "q05", "q25",
                  "q50", "q75", "q95", "max"],
}  # fmt: skip
SORT = {
    "measures": ["region", "element", "loss"],
    "ranking": ["region", "rank"],
    "fan": ["region", "element", "date"],
    "exceedance": ["region", "element", "loss", "level"],
    "durations": ["region", "element", "column"],
}


def study_tables(world: World, model: RiskModel, folder, chunks: int) -> dict[str, pd.DataFrame]:
    """Every table of ``STUDY_TABLES`` for a study whose ``chunks`` chunk files are all in ``folder``."""
    files = outcome_files(folder, chunks)
    con = duckdb.connect()
    try:
        cells = con.execute(
            "SELECT region, element, any_value(shortfall_unit) FROM read_parquet(?) GROUP BY region, element "
            "ORDER BY region, element",
            [files],
        ).fetchall()
        units = {element: unit for _, element, unit in cells}
        parts: dict[str, list[pd.DataFrame]] = {name: [] for name in STUDY_TABLES if name != "fan"}
        cost_of = _cost_per_unit(world)
        for region in dict.fromkeys(region for region, _, _ in cells):
            outcomes = _region_outcomes(con, files, region, [e for r, e, _ in cells if r == region])
            for name, frame in _region_tables(outcomes, region, units, cost_of).items():
                parts[name].append(frame)
        histogram = merged_histogram(con, folder, chunks)
    finally:
        con.close()
    tables = {name: pd.concat(frames, ignore_index=True) if frames else pd.DataFrame() for name, frames in
              parts.items()}  # fmt: skip
    tables["fan"] = _fan(world, model, histogram)
    return {name: _tidy(name, tables[name]) for name in STUDY_TABLES}


def _region_outcomes(con: duckdb.DuckDBPyConnection, files: list[str], region: str, elements: list[str]):
    """One region's outcomes, ordered by draw and element: numbers, with region and element as categoricals
    (DuckDB hands over the element's position, not a string per row: a tenth of the memory and time)."""
    frame = con.execute(
        "SELECT draw, weight, list_position(?, element) - 1 AS element, shortfall_pct, shortfall_t, "
        "CAST(tts_days AS DOUBLE) AS tts_days, CAST(ttr_days AS DOUBLE) AS ttr_days "
        "FROM read_parquet(?) WHERE region = ? ORDER BY draw, element",
        [elements, files, region],
    ).df()
    frame["element"] = pd.Categorical.from_codes(frame["element"].to_numpy(), categories=elements)
    frame.insert(2, "region", pd.Categorical.from_codes(np.zeros(len(frame), dtype=np.int8), categories=[region]))
    return frame


def _tidy(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    columns = COLUMNS[name]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame = frame[columns].copy()
    for column in ("region", "element"):
        frame[column] = frame[column].astype(str)
    return frame.sort_values(SORT[name], kind="stable", ignore_index=True)


def _cost_per_unit(world: World) -> dict[str, float]:
    """USD per t (of the element's unit) of shortfall: 1000 kg/t x the reference price (USD/kg) of the
    element's price product."""
    prices = world.table("reference_price").set_index("product")["price"]
    return {e: KG_PER_T * float(prices[p]) for e, p in price_products_of(world).items() if p in prices.index}


def _region_tables(outcomes: pd.DataFrame, region: str, units: dict, cost_of: dict) -> dict[str, pd.DataFrame]:
    measures = []
    for loss in LOSSES:
        frame = outcomes.dropna(subset=[loss])
        if frame.empty:
            continue
        table = risk_measures(frame, loss=loss, levels=(0.95, 0.99))
        table["unit"] = PCT_UNIT if loss == "shortfall_pct" else table["element"].map(units).fillna("t")
        measures.append(table)
    measures = pd.concat(measures, ignore_index=True) if measures else pd.DataFrame()

    priced = outcomes[outcomes["element"].isin(list(cost_of))]
    priced = priced.assign(cost_usd=priced["shortfall_t"].fillna(0.0) * priced["element"].map(cost_of))
    ranking = pd.DataFrame()
    if not priced.empty:
        ranking = rank_elements(priced, region, cost="cost_usd", reference=USGS_2025_TOP_RISKS)
        ranking.insert(0, "region", region)
        ranking["unit"] = COST_UNIT

    exceedance = _exceedance(outcomes, measures)
    durations = pd.concat(
        [duration_distribution(outcomes, column) for column in ("tts_days", "ttr_days")], ignore_index=True
    )
    return {"measures": measures, "ranking": ranking, "exceedance": exceedance, "durations": durations}


def _exceedance(outcomes: pd.DataFrame, measures: pd.DataFrame) -> pd.DataFrame:
    """Exceedance curves of the cells with any shortfall, each thinned to at most MAX_LEVELS levels (the
    first and the last kept, the rest evenly spaced by rank)."""
    if measures.empty:
        return pd.DataFrame()
    short = measures[measures["prob_any_shortfall"] > 0]
    curves = []
    for loss, cells in short.groupby("loss", sort=True):
        frame = outcomes[outcomes["element"].isin(cells["element"])].dropna(subset=[loss])
        if frame.empty:
            continue
        curve = exceedance_curve(frame, loss=loss)
        for _, cell in curve.groupby(["region", "element"], sort=True):
            if len(cell) > MAX_LEVELS:
                keep = np.unique(np.linspace(0, len(cell) - 1, MAX_LEVELS).round().astype(int))
                cell = cell.iloc[keep]
            curves.append(cell.assign(loss=loss))
    return pd.concat(curves, ignore_index=True) if curves else pd.DataFrame()


def baseline_prices(world: World, model: RiskModel) -> pd.DataFrame:
    """The baseline path's prices over the model's horizon: region, product, date, price (USD/kg). Solved by
    the exact engine (a draw with no event shares the study's baseline; it comes from the process's cache
    when this process evaluated draws)."""
    from critmin.simulate.draws import simulate_draws

    empty = pd.DataFrame({"draw": pd.Series(dtype="int64"), "event": pd.Series(dtype=object),
                          "occurs": pd.Series(dtype=bool)})  # fmt: skip
    price = simulate_draws(world, [to_scenario(empty, model)]).baseline_price
    frame = price.transpose("region", "product", "date").to_dataframe(name="price").reset_index()
    return frame.dropna(subset=["price"])


def _fan(world: World, model: RiskModel, histogram: pd.DataFrame) -> pd.DataFrame:
    if histogram.empty:
        return pd.DataFrame()
    fan = histogram_quantiles(histogram)
    product_of = price_products_of(world)
    base = baseline_prices(world, model)
    base["date"] = [pd.Timestamp(d).date() for d in base["date"]]
    dates = sorted(set(base["date"]))  # month m of the histogram is the horizon's m-th month
    fan["product"] = fan["element"].map(product_of)
    fan["date"] = [dates[m] for m in fan["month"]]
    fan = fan.merge(
        base.rename(columns={"price": "baseline_price_usd_per_kg"}), on=["region", "product", "date"], how="left"
    )
    return fan
