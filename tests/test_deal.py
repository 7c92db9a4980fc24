"""Deals (issue 15): a tariff regime change plus cooperation measures valued per side, on a small plan (three
scenarios, one yearly step): the accounting identities, the bilateral tariff scope, the CLI and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from critmin.cli.main import app
from critmin.deal import DealError, load_deal
from critmin.deal.value import QUANTILES, value_deal
from critmin.trade.load import load_trade_world
from critmin.trade.run import run_trade

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


def small_deal(folder: Path, **changes) -> Path:
    plan = yaml.safe_load((REPO / "plans" / "us-japan-2025.yaml").read_text(encoding="utf-8"))
    plan.update(scenarios=3, years=1, step_months=12, risk_model=str(REPO / "risks" / "china-controls.yaml"))
    plan["options"] = [o for o in plan["options"] if o["id"] in ("jpn-dy-stock", "usa-tb-stock")]
    (folder / "plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False))
    deal = yaml.safe_load((REPO / "deals" / "us-japan-2025.yaml").read_text(encoding="utf-8"))
    deal.update(plan="plan.yaml", measures=[{"option": "jpn-dy-stock", "modules": 3},
                                            {"option": "usa-tb-stock", "modules": 2}])  # fmt: skip
    deal.update(changes)
    path = folder / "deal.yaml"
    path.write_text(yaml.safe_dump(deal, sort_keys=False, default_flow_style=None))
    return path


@pytest.fixture(scope="module")
def valued(tmp_path_factory, bundled):
    path = small_deal(tmp_path_factory.mktemp("deal"))
    return value_deal(bundled, load_deal(path))


def test_each_side_adds_up(valued):
    sides = valued.sides.set_index("side")
    assert list(sides.index) == ["USA", "JPN"]
    net = sides.tariff_relief_musd_per_yr + sides.security_expected_musd_per_yr - sides.measures_cost_musd_per_yr
    np.testing.assert_allclose(sides.net_musd_per_yr, net, rtol=1e-12)
    bought = sides.allied_purchases_musd_per_yr
    assert (bought > 0).all()
    np.testing.assert_allclose(sides.break_even_premium_pct * bought / 100, sides.net_musd_per_yr, rtol=1e-9)
    # the tariff relief is GSIM's welfare change of the side's country
    welfare = valued.trade.welfare.set_index("country").total_musd
    np.testing.assert_allclose(sides.tariff_relief_musd_per_yr, welfare[["USA", "JPN"]].to_numpy())
    # each side pays only for its own measures: JPN its Dy stock, USA its Tb stock
    assert (sides.measures_cost_musd_per_yr > 0).all()


def test_security_value_is_the_shortfall_saved(valued):
    p = valued.scenarios.probability.to_numpy()
    for side in ("USA", "JPN"):
        without = valued.scenarios[f"{side}_shortfall_without_musd"].to_numpy()
        with_it = valued.scenarios[f"{side}_shortfall_with_musd"].to_numpy()
        assert (with_it <= without + 1e-9).all()  # a stock released at home never adds to its shortfall
        expected = valued.sides.set_index("side").loc[side, "security_expected_musd_per_yr"]
        assert expected == pytest.approx(p @ (without - with_it), rel=1e-9)
        quantiles = valued.distribution[valued.distribution.side == side]
        assert list(quantiles["quantile"]) == list(QUANTILES)
        assert np.all(np.diff(quantiles.security_value_musd_per_yr) >= 0)


def test_bilateral_scope_leaves_other_arcs_alone():
    world = load_trade_world()
    deal = run_trade(world, "2025-08-06", "2025-10-01", between=["USA", "JPN"])
    everything = run_trade(world, "2025-08-06", "2025-10-01")
    f = deal.flows
    others = f[~(f.importer.isin(["USA", "JPN"]) & f.exporter.isin(["USA", "JPN"]))]
    assert (others.rate_before_pct == others.rate_after_pct).all()
    cars = deal.flow("USA", "JPN", "passenger_vehicles")
    assert (cars.rate_before_pct, cars.rate_after_pct) == pytest.approx((27.5, 15.0))
    # other countries' changes between the dates are in the full regime change, not in the deal
    changed = everything.flows[everything.flows.rate_before_pct != everything.flows.rate_after_pct]
    assert len(changed) > len(f[f.rate_before_pct != f.rate_after_pct])


def test_cli_prints_both_sides(tmp_path):
    path = small_deal(tmp_path)
    result = runner.invoke(app, ["deal", "value", str(path), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout[result.stdout.index("{"):])
    assert [s["side"] for s in payload["sides"]] == ["USA", "JPN"]
    assert {d["quantile"] for d in payload["distribution"]} == set(QUANTILES)
    table = runner.invoke(app, ["deal", "value", str(path)])
    assert table.exit_code == 0, table.output
    assert "break_even_premium_pct" in table.output and "Japan -> USA passenger vehicles: tariff 27.5% -> 15%" in (
        table.output)  # fmt: skip


def test_unknown_option_names_the_measure(tmp_path, bundled):
    path = small_deal(tmp_path, measures=[{"option": "no-such-option", "modules": 1}])
    with pytest.raises(DealError, match=r"measures\.0\.option: unknown option 'no-such-option'"):
        value_deal(bundled, load_deal(path))
    bad = tmp_path / "bad.yaml"
    bad.write_text(path.read_text().replace("before: 2025-08-06", "before: not-a-date"))
    result = runner.invoke(app, ["deal", "value", str(bad)])
    assert result.exit_code == 2  # a bad file exits 2, as for plans and trade worlds
    assert "bad.yaml:" in result.output and "before" in result.output
