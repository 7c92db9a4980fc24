"""The bundled world is reproducible from the facts, and the trade fitting is correct."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from critmin.build import build_world
from critmin.build.allocation import allocate_trade, ras
from critmin.build.facts import confidence, number
from critmin.build.targets import build_targets, write_targets
from critmin.world.model import bundled_folder


def test_rebuilding_from_facts_reproduces_the_bundled_world(tmp_path, facts):
    build_world(facts).to_folder(tmp_path)
    for path in sorted(bundled_folder().glob("*.csv")):
        assert (tmp_path / path.name).read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), (
            f"{path.name} differs from a fresh build: run `make world`"
        )
    target_file = write_targets(build_targets(facts), tmp_path / "targets.csv")
    assert target_file.read_text() == (bundled_folder().parent / "calibration_targets.csv").read_text()


@pytest.mark.parametrize(
    ("flag", "level"),
    [
        ("yes", "confirmed"),
        ("yes (reported NA)", "confirmed"),
        ("secondary", "secondary"),
        ("partial", "secondary"),
        ("derived", "secondary"),
        ("low-quality secondary", "secondary"),
        ("unconfirmed", "assumption"),
        ("not found", "assumption"),
    ],
)
def test_confidence_mapping(flag, level):
    assert confidence(flag) == level


def test_number_parsing():
    assert number("12,000") == 12000
    assert number("~530 million (A$800m)") == 530
    assert number("1.09-1.16 billion") == pytest.approx(1090)
    assert number("not found") is None


def test_ras_textbook_example():
    """A uniform 2x2 prior fitted to rows (3, 7) and columns (4, 6) gives the product of the margins / total."""
    fitted = ras(np.ones((2, 2)), np.array([3.0, 7.0]), np.array([4.0, 6.0]))
    assert fitted == pytest.approx(np.outer([3, 7], [4, 6]) / 10)


def test_ras_keeps_structural_zeros_and_reports_infeasible_margins():
    prior = np.array([[1.0, 0.0], [1.0, 1.0]])
    fitted = ras(prior, np.array([2.0, 3.0]), np.array([4.0, 1.0]))
    assert fitted[0, 1] == 0 and fitted.sum(axis=1) == pytest.approx([2, 3]) and fitted.sum(0) == pytest.approx([4, 1])
    with pytest.raises(ValueError, match="RAS did not converge"):
        ras(prior, np.array([2.0, 3.0]), np.array([1.0, 4.0]))  # row 0 can only reach column 0, which wants 1


def test_allocation_respects_pins():
    supply = pd.Series({"CHN": 100.0, "JPN": 20.0})
    intake = pd.Series({"CHN": 60.0, "USA": 30.0, "JPN": 5.0, "EU": 25.0})
    flows = allocate_trade(supply, intake, {("CHN", "USA"): 20.0})
    table = flows.set_index(["origin", "destination"])["quantity"]
    assert table[("CHN", "USA")] == 20.0
    assert table[("JPN", "USA")] == pytest.approx(10.0)  # USA's unpinned need can only come from JPN
    assert table[("CHN", "EU")] == pytest.approx(20.0) and table[("JPN", "EU")] == pytest.approx(5.0)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(min_value=0, max_value=1e6), min_size=4, max_size=4),
    st.lists(st.floats(min_value=0.01, max_value=1.0), min_size=4, max_size=4),
)
def test_allocation_balances_every_node(outputs, weights):
    regions = ["A", "B", "C", "D"]
    supply = pd.Series(outputs, index=regions)
    intake = pd.Series(weights, index=regions) / sum(weights) * supply.sum()
    flows = allocate_trade(supply, intake)
    exports = flows.groupby("origin")["quantity"].sum().reindex(regions, fill_value=0)
    imports = flows.groupby("destination")["quantity"].sum().reindex(regions, fill_value=0)
    scale = max(supply.sum(), 1.0)
    assert np.allclose(supply - exports + imports, intake, atol=1e-7 * scale)
    assert (flows["quantity"] >= 0).all()
    assert not (flows["origin"] == flows["destination"]).any()
