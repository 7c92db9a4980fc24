"""Mass balance at every node and the calibration of the 2024 baseline against the facts."""

import pytest

from critmin.metrics.calibration import calibration_report
from critmin.testing import assert_balanced
from critmin.world import World
from critmin.world.balance import balance_report


def test_bundled_world_balances_everywhere(bundled):
    assert_balanced(bundled)
    report = balance_report(bundled)
    assert set(report["check"]) == {"node", "coproduction"}
    assert len(report) > 400


def test_a_broken_flow_is_caught(bundled):
    tables = {k: v.copy() for k, v in bundled.tables.items()}
    flows = tables["trade_flow"]
    position = flows.index[flows["product"] == "NdFeB_gbd"][0]
    flows.loc[position, "quantity"] += 10.0
    report = balance_report(World(tables))
    failing = report[~report["ok"]]
    row = flows.loc[position]
    assert {(row["origin"], row["product"]), (row["destination"], row["product"])} == set(
        zip(failing["region"], failing["product"], strict=True)
    )


def test_extra_concentrate_shows_up_in_coproduction(bundled):
    tables = {k: v.copy() for k, v in bundled.tables.items()}
    flows = tables["trade_flow"]
    position = flows.index[(flows["product"] == "conc_monazite") & (flows["destination"] == "CHN")][0]
    flows.loc[position, "quantity"] += 100.0
    report = balance_report(World(tables))
    failing = report[~report["ok"]]
    assert (flows.loc[position, "origin"], "conc_monazite") in set(
        zip(failing["region"], failing["product"], strict=True)
    )
    assert (failing.query("region == 'CHN'")["check"] == "coproduction").all()


def test_a_wrong_composition_breaks_coproduction(bundled):
    tables = {k: v.copy() for k, v in bundled.tables.items()}
    comp = tables["composition"]
    first = comp.index[comp["product"] == "conc_bastnaesite_mp"]
    comp.loc[first[0], "share"] += 0.3  # La up, Ce down: still sums to 100
    comp.loc[first[1], "share"] -= 0.3
    report = balance_report(World(tables))
    failing = report[(~report["ok"]) & (report["check"] == "coproduction")]
    assert {"La_oxide", "Ce_oxide"} <= set(failing["product"])


@pytest.fixture(scope="module")
def calibration(bundled):
    return calibration_report(bundled).set_index("id")


def test_usgs_mine_shares_within_half_a_point(calibration):
    usgs = calibration[calibration.index.str.startswith("usgs-mine-share-")]
    assert len(usgs) >= 12
    assert (usgs["error"].abs() <= 0.5).all()


def test_iea_separation_and_magnet_shares_within_one_point(calibration):
    assert abs(calibration.loc["iea-separation-CHN", "modelled"] - 91) <= 1
    assert abs(calibration.loc["iea-magnet-CHN", "modelled"] - 94) <= 1


def test_no_toleranced_target_is_missed(calibration):
    assert (calibration.loc[calibration["tolerance"].notna(), "status"] == "ok").all()
    assert set(calibration["status"]) <= {"ok", "context"}
