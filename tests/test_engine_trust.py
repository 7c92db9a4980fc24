"""Answers an analyst can believe: the bundled scenarios run as a new user would run them, checked against
issue 9's acceptance figures (steady baseline, calibrated trade, licensing, the framework, exact mode)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from critmin.market import MarketSettings, base_step_data, build_market, market_inputs
from critmin.market.curves import GRID
from critmin.market.step_solver import StepSolver
from critmin.scenario import load_scenario
from critmin.scenario import schema as S
from critmin.simulate.handlers import CompiledShock, civil_share, licence_share
from critmin.simulate.loop import simulate
from critmin.simulate.plausibility import plausibility_flags
from critmin.simulate.summary import summarise
from critmin.world.model import World

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
MAGNETS = ["NdFeB_hree", "NdFeB_gbd", "NdFeB_free"]


@pytest.fixture(scope="module")
def world(bundled) -> World:
    return bundled


@pytest.fixture(scope="module")
def runs(run_bundled):
    """The bundled scenarios as a new user runs them (shared with other modules: once per session)."""
    names = [
        "baseline-2024",
        "china-2025-04-licensing",
        "china-controls-2027-repeat",
        "china-controls-2027-repeat-framework",
    ]
    return {name: run_bundled(name) for name in names}


def _ratio(run, path: str = "scenario") -> xr.DataArray:
    ref = xr.DataArray(run.inputs.ref_price.to_numpy(), coords={"product": run.inputs.products}, dims="product")
    return run.series(path, "price") / ref


def _cumulative(run, region: str, element: str) -> float:
    row = summarise(run, [region], [element]).iloc[0]
    return float(row["cumulative_shortfall_t"])


# --- baseline -----------------------------------------------------------------------------------------


def test_baseline_holds_still_at_reference(runs):
    run = runs["baseline-2024"]
    assert len(run.dates) == 36
    ratio = _ratio(run, "baseline")
    present = ratio.notnull()
    assert int(present.sum()) > 10_000
    assert float(abs(ratio - 1).where(present).max()) <= 0.10
    assert float(ratio.where(present).min()) > 0.01
    assert float(run.series("baseline", "shortfall").sum()) < 1e-3  # t over 36 months, all nodes
    assert plausibility_flags(run).empty
    # quantities hold still too: every activity at its reference output, consumption at reference demand,
    # and no stock drawn or built
    output = run.series("baseline", "activity").to_series().dropna()
    reference = run.inputs.activities.set_index(["process", "region", "product"])["ref_quantity"] / 12
    expected = reference.reindex(output.index.droplevel("date")).to_numpy()
    # within 1%: the thinnest node (EU scandium metal, about 0.1 t a month) sits 0.8% inside its curve step
    assert np.nanmax(np.abs(output.to_numpy() / expected - 1)) < 0.01
    consumption = run.series("baseline", "consumption").sum("sector")
    demand = consumption + run.series("baseline", "shortfall").sum("sector")
    assert float(abs(consumption - demand).max()) < 1e-6
    moved = sum(float(r.release.sum() + r.restock.sum()) for r in run.steps["baseline"])
    # producers' stocks only cover the rounding imbalances of the data (its CSVs keep a tonne to three
    # decimals): about 3 kg a month over every node, against hundreds of kt a month of throughput
    assert moved < 0.5  # t over 36 months and every stock


def test_baseline_reproduces_the_largest_recorded_arcs(world, runs):
    run = runs["baseline-2024"]
    ref = run.inputs.ref_price
    recorded = world.table("trade_flow").groupby(["origin", "destination", "product"])["quantity"].sum()
    modelled = run.steps["baseline"][0].trade.to_series().dropna() * 12  # t per month -> t/yr

    # magnets compared over all grades, as trade_flow.csv reports the total
    def by_grade(series):
        frame = series.rename("q").reset_index()
        frame["product"] = frame["product"].where(~frame["product"].isin(MAGNETS), "NdFeB (all grades)")
        return frame.groupby(["origin", "destination", "product"])["q"].sum()

    rec, mod = by_grade(recorded), by_grade(modelled).reindex(by_grade(recorded).index).fillna(0.0)
    price = rec.index.get_level_values("product").map(lambda p: ref.get(p, ref[MAGNETS].mean()))
    top = (rec * np.asarray(price)).sort_values(ascending=False).index[:30]
    assert ("CHN", "JPN", "NdFeB (all grades)") in top
    error = (mod[top] / rec[top] - 1).abs()
    assert float(error.max()) <= 0.10, error.sort_values().tail()
    assert float(mod[("CHN", "JPN", "NdFeB (all grades)")]) == pytest.approx(5075.0, rel=0.10)


# --- licensing ----------------------------------------------------------------------------------------


def test_licensing_cuts_only_controlled_magnet_grades(runs):
    run = runs["china-2025-04-licensing"]
    exports = run.series("scenario", "trade").sel(origin="CHN", product=MAGNETS).sum("destination")
    base = run.series("baseline", "trade").sel(origin="CHN", product=MAGNETS).sum("destination")
    total, base_total = exports.sum("product"), base.sum("product")
    may = dict(date="2025-05-01")
    assert float(total.sel(**may)) < 0.8 * float(base_total.sel(**may))  # they fall
    assert float(total.min()) > 0.3 * float(base_total.max())  # but never to zero
    # the Dy/Tb-free grade is not controlled, and takes up part of the slack
    assert float(exports.sel(product="NdFeB_free", **may)) >= float(base.sel(product="NdFeB_free", **may))
    assert float(exports.sel(product="NdFeB_hree", **may)) < 0.5 * float(base.sel(product="NdFeB_hree", **may))


def test_licensing_prices_stay_believable(world, runs):
    run = runs["china-2025-04-licensing"]
    ratio = _ratio(run)
    assert float(ratio.max()) <= 20.0
    china_dy = ratio.sel(region="CHN", product="Dy_oxide")
    reservation = world.table("reservation_price").set_index("product").loc["Dy_oxide", "multiple"]
    assert float(china_dy.min()) < 0.95  # China's price falls while exports are held back
    assert float(china_dy.min()) >= reservation - 1e-6  # but producers stock rather than sell below
    outside = ratio.sel(region="JPN", product="Dy_oxide").sel(date="2025-06-01")
    assert float(outside) > float(china_dy.sel(date="2025-06-01"))  # an ex-China premium
    assert plausibility_flags(run).empty


def test_licensing_does_not_cut_chinese_la_ce(runs):
    run = runs["china-2025-04-licensing"]
    products = [p for p in run.inputs.products if p.split("_")[0] in ("La", "Ce")]
    shortfall = run.series("scenario", "shortfall").sel(region="CHN", product=products)
    assert float(shortfall.sum()) < 1e-3


def test_licensing_uses_the_ways_out_before_rationing(runs):
    run = runs["china-2025-04-licensing"]
    window = dict(date=slice("2025-05-01", "2025-12-01"))
    switched = run.series("scenario", "switch").sel(region=["JPN", "USA"], **window)
    relief = run.series("scenario", "relief").sel(region=["JPN", "USA"], **window)
    # grade switching: both Dy/Tb grades are controlled, so the uncontrolled Dy/Tb-free grade stands in
    assert float(switched.sel(source="NdFeB_free", product=["NdFeB_hree", "NdFeB_gbd"]).sum()) > 0
    assert float(relief.sel(option="thrift").sum()) > 0
    # private inventories outside China are drawn before anything else
    private = xr.concat(run.stocks["scenario"], dim="step").sel(region="JPN", holder="private")
    assert float(private.sel(product="Dy_metal").isel(step=-1)) < float(private.sel(product="Dy_metal").isel(step=0))


def test_producer_stocks_absorb_blocked_exports(runs):
    run = runs["china-2025-04-licensing"]
    stocks = xr.concat(run.stocks["scenario"], dim="step").sel(region="CHN", holder="producer")
    start = float(stocks.sel(product="Dy_oxide").isel(step=0))
    assert float(stocks.sel(product="Dy_oxide").max()) > start  # held, not dumped
    assert max(run.balance_residual["scenario"]) < 1e-9  # nothing thrown away


def test_substitution_unwinds_to_its_persistent_share(runs):
    run = runs["china-2025-04-licensing"]
    share = xr.concat(run.substitution["scenario"], dim="step")
    peak = share.max("step")
    last = share.isel(step=-1)
    moved = peak > 1e-4
    assert bool(moved.any())
    assert bool((last.where(moved) < peak.where(moved)).any())  # it reverses once prices normalise
    persistence = run.scenario.dynamics.substitution_persistence_pct / 100
    assert bool(((last >= persistence * peak - 1e-12) | ~moved).all())  # but never below the persistent part


# --- the framework --------------------------------------------------------------------------------------


def test_framework_reduces_us_japan_shortfall_in_the_2027_repeat(runs):
    alone, framework = runs["china-controls-2027-repeat"], runs["china-controls-2027-repeat-framework"]
    for region in ("USA", "JPN"):
        for element in ("Dy", "Tb"):
            assert _cumulative(framework, region, element) < _cumulative(alone, region, element), (region, element)
    stocks = framework.stocks["scenario"][framework.dates.index(dt.date(2027, 4, 1))]
    public = stocks.sel(holder="public", region=["USA", "JPN"], product=["Dy_oxide", "Tb_oxide"])
    assert bool((public > 0).all())
    assert all(report["acted"] for report in framework.policy_reports)
    kinds = {report["type"] for report in framework.policy_reports}
    assert kinds == {"stockpile_policy", "project", "recycling_policy"}
    delivered = {r["name"]: r["delivered_t"] for r in framework.policy_reports if r["type"] == "project"}
    assert all(t > 0 for t in delivered.values()), delivered  # every financed plant produced
    assert plausibility_flags(framework).empty


@pytest.mark.parametrize(
    "name",
    [
        "us-japan-framework-2025",
        "china-2025-10-expansion",
        "china-embargo-us-jpn-12m",
        "myanmar-clay-outage",
        "backtest/quota-2010",
    ],
)
def test_every_other_bundled_scenario_runs_without_flags(run_bundled, name):
    run = run_bundled(name)
    flags = plausibility_flags(run)
    assert flags.empty, flags[["kind", "region", "product", "message"]].to_string()


def test_a_stockpile_that_cannot_buy_says_so(world):
    scenario = S.Scenario(
        name="stockpile-too-cheap",
        start=dt.date(2025, 1, 1),
        end=dt.date(2025, 6, 30),
        shocks=[
            S.StockpilePolicy(
                type="stockpile_policy",
                name="cheap stockpile",
                where=S.Places(regions=["USA"]),
                products=["Dy_oxide"],
                target_days=90,
                build_months=3,
                max_buy_multiple=0.5,
                start=dt.date(2025, 1, 1),
            )
        ],
    )
    run = simulate(world, scenario)
    (report,) = run.policy_reports
    assert report["bought_t"] == pytest.approx(0.0, abs=1e-9)
    assert not report["acted"] and "buy limit in 3 of 3 build months" in report["reason"]
    flags = plausibility_flags(run)
    assert list(flags["kind"]) == ["policy_inactive"]


# --- licence regimes ------------------------------------------------------------------------------------


def _licence(**fields) -> S.ExportControl:
    base = dict(
        type="export_control",
        exporter=S.Places(regions=["CHN"]),
        elements=["Dy"],
        mode="licence",
        start=dt.date(2025, 4, 4),
    )
    return S.ExportControl(**{**base, **fields})


REGIONS = ["CHN", "JPN", "USA"]


def _compiled(control: S.ExportControl, general: tuple[str, ...] = ()) -> CompiledShock:
    covers = [np.isin(REGIONS, a.destinations.regions or REGIONS) for a in control.approval]
    return CompiledShock(control, None, np.array(covers, bool).reshape(-1, 3), np.isin(REGIONS, general))


def test_licence_share_mid_month_start_counts_days_outside_the_window():
    control = _licence(start=dt.date(2025, 4, 16), approval=[S.Approval(start=dt.date(2025, 4, 16), share=0.5)])
    shares, outside = civil_share(control, _compiled(control), dt.date(2025, 4, 1))
    assert outside.sum() == 15
    assert shares.mean(axis=0) == pytest.approx([0.75] * 3)  # 15 free days and 15 days at one half


def test_licence_share_processing_lag_and_destination_schedules():
    control = _licence(
        lag_days=30,
        approval=[
            S.Approval(start=dt.date(2025, 4, 4), share=0.5),
            S.Approval(start=dt.date(2025, 5, 10), share=0.9, destinations=S.Places(regions=["JPN"])),
        ],
    )
    compiled = _compiled(control, general=("USA",))
    april, _ = civil_share(control, compiled, dt.date(2025, 4, 1))
    assert april.mean(axis=0)[0] == pytest.approx(3 / 30)  # CHN column: 3 days before the control, then the lag
    assert april.mean(axis=0)[2] == pytest.approx(1.0)  # a general licence needs no licence and waits for none
    may, _ = civil_share(control, compiled, dt.date(2025, 5, 1))
    # the lag ends on 4 May; JPN gets 0.5 for 6 days, then its own 0.9 from 10 May
    assert may.mean(axis=0)[1] == pytest.approx((6 * 0.5 + 22 * 0.9) / 31)
    assert may.mean(axis=0)[0] == pytest.approx(28 * 0.5 / 31)


def test_defence_end_use_gets_the_military_share(world):
    inputs = market_inputs(world, MarketSettings(curves="stepwise"))
    data = base_step_data(inputs, 1 / 12)
    control = _licence(approval=[S.Approval(start=dt.date(2025, 4, 4), share=0.5)], military_share=0.0)
    compiled = CompiledShock(
        control, None, np.ones((1, len(inputs.regions)), bool), np.zeros(len(inputs.regions), bool)
    )
    allowed = licence_share(control, compiled, data, dt.date(2025, 6, 1))
    usa = data.demand.sel(region="USA", product="NdFeB_hree").fillna(0)
    defence = float(usa.sel(sector="defence") / usa.sum())
    assert 0 < defence < 1
    assert float(allowed.sel(destination="USA", product="NdFeB_hree")) == pytest.approx(0.5 * (1 - defence))
    in_lag = _licence(approval=control.approval, military_share=1.0, lag_days=90)
    lagged = licence_share(in_lag, compiled, data, dt.date(2025, 6, 1))
    assert float(lagged.sel(destination="USA", product="NdFeB_hree")) == 0.0  # nothing ships in the lag


def test_general_licence_keeps_a_destination_supplied(world):
    def jpn_dy_imports(control):
        scenario = S.Scenario(name="licence", start=dt.date(2025, 4, 1), end=dt.date(2025, 4, 30), shocks=[control])
        run = simulate(world, scenario)
        trade = run.steps["scenario"][0].trade.sel(origin="CHN", destination="JPN", product="Dy_oxide")
        return float(trade), float(
            run.steps["baseline"][0].trade.sel(origin="CHN", destination="JPN", product="Dy_oxide")
        )

    banned, base = jpn_dy_imports(_licence(start=dt.date(2025, 4, 1)))
    licensed, _ = jpn_dy_imports(_licence(start=dt.date(2025, 4, 1), general_licence=S.Places(regions=["JPN"])))
    assert banned == pytest.approx(0.0, abs=1e-9)
    assert base > 0 and licensed >= 0.99 * base


# --- exact mode -----------------------------------------------------------------------------------------


@pytest.mark.slow  # a 36-month run with the exact QP on every step (about 15 s): in `make test-slow`, which CI runs too
def test_exact_mode_runs_the_licensing_scenario(world):
    scenario = load_scenario(SCENARIOS / "china-2025-04-licensing.yaml")
    scenario = scenario.model_copy(update={"market": MarketSettings(curves="linear")})
    run = simulate(world, scenario)
    assert len(run.dates) == 36
    ratio = _ratio(run)
    assert float(ratio.max()) <= 20.0 and float(ratio.min()) > 0.5
    dy = summarise(run, ["JPN"], ["Dy"]).iloc[0]
    assert dy["max_shortfall_pct"] > 5  # the shock bites in exact mode too


def test_stepwise_matches_linear_on_the_full_world(world):
    results = {}
    for curves in ("linear", "stepwise"):
        settings = MarketSettings(curves=curves)
        inputs = market_inputs(world, settings)
        data = base_step_data(inputs, 1 / 12)
        controlled = (data.arc_cap.origin == "CHN") & data.arc_cap["product"].isin(["Dy_oxide", "Dy_metal"])
        shocked = data.with_(arc_cap=data.arc_cap.where(~controlled, 0.5 * data.arc_contract))
        results[curves] = StepSolver(build_market(inputs, data, settings)).solve(shocked)
    linear, stepwise = results["linear"], results["stepwise"]
    # prices within one grid step of the stepwise curves at their level
    ref = xr.DataArray(inputs.ref_price.to_numpy(), coords={"product": inputs.products}, dims="product")
    level = (linear.price / ref).to_series().dropna()
    above = np.clip(np.searchsorted(GRID, level.to_numpy()), 1, len(GRID) - 1)
    steps = np.diff(GRID)
    # the grid step the linear price falls in, or its neighbour's when it sits on a grid level
    step = np.maximum(steps[above - 1], steps[np.minimum(above, len(steps) - 1)])
    gap = (abs(stepwise.price - linear.price) / ref).to_series().reindex(level.index).to_numpy()
    assert bool((gap <= step + 1e-6).all()), float(np.max(gap - step))
    # flows: value-weighted total within 2%
    value = lambda r: float((r.trade.sum(["origin", "destination"]).fillna(0) * ref).sum())  # noqa: E731
    moved = lambda r: abs(r.trade.fillna(0) - linear.trade.fillna(0))  # noqa: E731
    assert float((moved(stepwise).sum(["origin", "destination"]) * ref).sum()) <= 0.02 * value(linear)


def test_trend_growth_keeps_supply_with_the_demand_it_serves(world):
    scenario = load_scenario(SCENARIOS / "baseline-2024.yaml").model_copy(
        update={"dynamics": S.Dynamics(growth="trend"), "end": dt.date(2026, 12, 31)}
    )
    run = simulate(world, scenario)
    demand = run.series("baseline", "consumption") + run.series("baseline", "shortfall")
    magnets = demand.sel(product=MAGNETS).sum(["region", "sector", "product"])
    # consumption plus shortfall moves a little with the price along the demand curve
    assert float(magnets.isel(date=-1) / magnets.isel(date=0)) == pytest.approx(1.087 ** (23 / 12), rel=0.01)
    assert float(run.series("baseline", "shortfall").sum()) < 1e-3  # capacity keeps up
    ratio = _ratio(run, "baseline")
    magnet_elements = [p for p in run.inputs.products if p.split("_")[0] in ("Nd", "Pr", "Dy", "Tb")] + MAGNETS
    assert float(abs(ratio.sel(product=magnet_elements) - 1).max()) <= 0.10
    # slower-growing co-products find a stock, not a zero price
    reservation = world.table("reservation_price").set_index("product")["multiple"]
    la = ratio.sel(region="CHN", product="La_oxide")
    assert float(la.min()) >= reservation["La_oxide"] - 1e-6 and float(la.isel(date=-1)) < 1.0
