"""Indicators against analytic cases with known answers, and the bundled world's headline figures."""

import csv

import pytest

import critmin
from critmin import metrics as ind
from critmin.testing import assert_balanced, tiny_world
from critmin.world.flows import element_flows

OXIDE_CHAIN = [
    {"id": "conc", "stage": "mine", "form": "concentrate", "unit": "t REO"},
    {"id": "X_oxide", "stage": "separation", "element": "X", "unit": "t REO"},
]
PURE_X = [{"product": "conc", "element": "X", "share": 100.0}]


def chain_world():
    """A and B mine X; A's concentrate is separated in C, B separates its own; D imports oxide.

    mine:        A 100, B 50           (A ships all 100 to C)
    separation:  C 100, B 50
    use:         C 40, B 30, D 80      (D imports 60 from C and 20 from B)
    """
    return tiny_world(
        ["A", "B", "C", "D"],
        OXIDE_CHAIN,
        composition=PURE_X,
        production=[
            {"region": "A", "product": "conc", "quantity": 100.0},
            {"region": "B", "product": "conc", "quantity": 50.0},
            {"region": "C", "product": "X_oxide", "quantity": 100.0},
            {"region": "B", "product": "X_oxide", "quantity": 50.0},
        ],
        trade_flow=[
            {"origin": "A", "destination": "C", "product": "conc", "quantity": 100.0},
            {"origin": "C", "destination": "D", "product": "X_oxide", "quantity": 60.0},
            {"origin": "B", "destination": "D", "product": "X_oxide", "quantity": 20.0},
        ],
        demand=[
            {"region": "C", "sector": "other", "product": "X_oxide", "quantity": 40.0},
            {"region": "B", "sector": "other", "product": "X_oxide", "quantity": 30.0},
            {"region": "D", "sector": "other", "product": "X_oxide", "quantity": 80.0},
        ],
        region_parameter=[
            {"region": r, "parameter": "wgi_mean", "value": v, "unit": "index"}
            for r, v in {"A": 0.0, "B": 1.0, "C": -1.0, "D": 2.0}.items()
        ],
        element_parameter=[
            {"element": "X", "parameter": "eol_rir_pct", "value": 10.0, "unit": "%"},
            {"element": "X", "parameter": "substitution_index", "value": 1.0, "unit": "-"},
        ],
    )


def test_textbook_formulas():
    assert ind.herfindahl_hirschman_index([1.0]) == 10000
    assert ind.herfindahl_hirschman_index([0.25] * 4) == pytest.approx(2500)
    assert ind.top_n_share([0.5, 0.1, 0.2, 0.2], 3) == pytest.approx(90)
    assert ind.scaled_wgi(2.5) == 0 and ind.scaled_wgi(-2.5) == 10


def test_chain_world_is_balanced():
    assert_balanced(chain_world())


def test_concentration_on_chain_world():
    table = critmin.indicators(chain_world(), indicator="hhi")
    hhi = table.set_index("stage")["value"]
    expected = (100 * 2 / 3) ** 2 + (100 / 3) ** 2
    assert hhi["mine"] == pytest.approx(expected) and hhi["separation"] == pytest.approx(expected)


def test_look_through_origin_on_chain_world():
    table = critmin.exposure(chain_world(), region="D", element="X")
    shares = {(r.origin_stage, r.origin_region): r.share for r in table.itertuples()}
    assert shares == pytest.approx(
        {("separation", "C"): 0.75, ("separation", "B"): 0.25, ("mine", "A"): 0.75, ("mine", "B"): 0.25}
    )
    own = critmin.exposure(chain_world(), region="C", element="X")
    assert {(r.origin_stage, r.origin_region): r.share for r in own.itertuples()} == pytest.approx(
        {("separation", "C"): 1.0, ("mine", "A"): 1.0}
    )


def test_import_reliance_on_chain_world():
    table = critmin.indicators(chain_world(), indicator="import_reliance")
    value = {(r.stage, r.region): r.value for r in table.itertuples()}
    assert value[("separation", "D")] == pytest.approx(100)
    assert value[("separation", "C")] == 0 and value[("separation", "B")] == 0
    assert value[("mine", "C")] == pytest.approx(100) and value[("mine", "B")] == 0
    assert ("mine", "A") not in value  # A exports all it mines: no apparent consumption, reliance undefined


def test_eu_supply_risk_by_hand():
    """Separation shares C 2/3, B 1/3; WGI scaled C 7, B 3; D sources 3/4 from C, 1/4 from B; IR = 1;
    EOL-RIR 10 %, SI 1:  SR = [31/9 * 1/2 + 4.125 * 1/2] * 0.9 = 3.40625."""
    table = critmin.indicators(chain_world(), indicator="eu_supply_risk", region="D", stage="separation", element="X")
    assert table["value"].tolist() == pytest.approx([(31 / 9 / 2 + 4.125 / 2) * 0.9])


def test_mine_hhi_matches_usgs_2024_by_hand(facts, bundled):
    quantities = {}
    with (facts / "production.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if (row["material"], row["year"], row["stage"], row["confirmed"]) == (
                "rare_earths",
                "2024",
                "mine_production",
                "yes",
            ) and row["country_iso3"] != "WLD":
                quantities[row["country_iso3"]] = float(row["quantity"])
    total = sum(quantities.values())
    by_hand = sum((100 * q / total) ** 2 for q in quantities.values())
    table = critmin.indicators(bundled, indicator="hhi", stage="mine", element="REE")
    assert table["value"].tolist() == pytest.approx([by_hand], abs=1e-3)
    assert 4900 < by_hand < 4950


def test_japan_dy_comes_from_chinese_separation(bundled):
    table = critmin.exposure(bundled, region="JPN", element="Dy")
    china = table.query("origin_stage == 'separation' and origin_region == 'CHN'")["share"].item()
    assert china > 0.8
    for _, group in table.groupby("origin_stage"):
        assert group["share"].sum() <= 1 + 1e-9
    assert table.query("origin_stage == 'separation'")["share"].sum() == pytest.approx(1.0)


def test_magnet_stage_exposure_and_aggregates(bundled):
    magnets = critmin.exposure(bundled, region="JPN", element="Dy", stage="magnet")
    assert set(magnets["origin_stage"]) == {"metal", "separation", "mine"}
    ree = critmin.exposure(bundled, region="USA", element="REE")
    assert ree.query("origin_stage == 'separation'")["share"].sum() == pytest.approx(1.0)


def test_indicator_records_are_tidy(bundled):
    table = critmin.indicators(bundled, stage="separation", element="Dy")
    assert list(table.columns) == ["indicator", "stage", "element", "region", "value", "unit"]
    assert table.query("indicator == 'hhi'")["region"].isna().all()
    assert table["unit"].notna().all()
    hhi = table.query("indicator == 'hhi'")["value"].item()
    assert 0 <= hhi <= 10000


def test_bad_arguments_are_rejected(bundled):
    with pytest.raises(ValueError, match="unknown element"):
        critmin.indicators(bundled, element="Kryptonite")
    with pytest.raises(ValueError, match="unknown region"):
        critmin.exposure(bundled, region="XXX", element="Dy")


def test_flows_as_labelled_arrays(bundled):
    production = element_flows(bundled).production_array()
    assert production.dims == ("region", "stage", "element")
    assert float(production.sel(stage="mine", element="REE").sum()) == pytest.approx(393950, rel=1e-6)
    trade = element_flows(bundled).trade_array()
    assert trade.dims == ("origin", "destination", "stage", "element")
    assert float(trade.sel(origin="CHN", stage="magnet", element="Dy").sum()) > 0


def origins(world, region):
    table = critmin.exposure(world, region=region, element="X")
    return {(r.origin_stage, r.origin_region): r.share for r in table.itertuples()}


def test_secondary_supply_is_not_traced_to_mines():
    """A separates 50 t of M's concentrate and recycles 50 t; D buys all 100 t."""
    world = tiny_world(
        ["A", "M", "D"],
        OXIDE_CHAIN,
        composition=PURE_X,
        production=[
            {"region": "M", "product": "conc", "quantity": 50.0},
            {"region": "A", "product": "X_oxide", "quantity": 50.0},
            {"region": "A", "product": "X_oxide", "route": "secondary", "quantity": 50.0},
        ],
        trade_flow=[
            {"origin": "M", "destination": "A", "product": "conc", "quantity": 50.0},
            {"origin": "A", "destination": "D", "product": "X_oxide", "quantity": 100.0},
        ],
        demand=[{"region": "D", "sector": "other", "product": "X_oxide", "quantity": 100.0}],
    )
    assert_balanced(world)
    assert origins(world, "D") == pytest.approx({("separation", "A"): 1.0, ("mine", "M"): 0.5, ("secondary", "A"): 0.5})


def test_re_exports_carry_their_origin():
    """A separates 100 t and ships it to trader T, which passes it all on to D."""
    world = tiny_world(
        ["A", "T", "D"],
        OXIDE_CHAIN,
        composition=PURE_X,
        production=[
            {"region": "A", "product": "conc", "quantity": 100.0},
            {"region": "A", "product": "X_oxide", "quantity": 100.0},
        ],
        trade_flow=[
            {"origin": "A", "destination": "T", "product": "X_oxide", "quantity": 100.0},
            {"origin": "T", "destination": "D", "product": "X_oxide", "quantity": 100.0},
        ],
        demand=[{"region": "D", "sector": "other", "product": "X_oxide", "quantity": 100.0}],
    )
    assert_balanced(world)
    assert origins(world, "D") == pytest.approx({("separation", "A"): 1.0, ("mine", "A"): 1.0})


def test_pools_are_used_pro_rata():
    """T makes 50 t and imports 50 t from A, uses 50 t and exports 50 t: both halves are half A, half T."""
    world = tiny_world(
        ["A", "T", "D"],
        OXIDE_CHAIN,
        composition=PURE_X,
        production=[
            {"region": "A", "product": "conc", "quantity": 50.0},
            {"region": "T", "product": "conc", "quantity": 50.0},
            {"region": "A", "product": "X_oxide", "quantity": 50.0},
            {"region": "T", "product": "X_oxide", "quantity": 50.0},
        ],
        trade_flow=[
            {"origin": "A", "destination": "T", "product": "X_oxide", "quantity": 50.0},
            {"origin": "T", "destination": "D", "product": "X_oxide", "quantity": 50.0},
        ],
        demand=[
            {"region": "D", "sector": "other", "product": "X_oxide", "quantity": 50.0},
            {"region": "T", "sector": "other", "product": "X_oxide", "quantity": 50.0},
        ],
    )
    assert_balanced(world)
    half = {("separation", "A"): 0.5, ("separation", "T"): 0.5, ("mine", "A"): 0.5, ("mine", "T"): 0.5}
    assert origins(world, "D") == pytest.approx(half)
    assert origins(world, "T") == pytest.approx(half)


def test_use_origins_sum_to_one_with_secondary(bundled):
    table = critmin.exposure(bundled, region="JPN", element="Nd")
    upstream = table[table["origin_stage"].isin(["mine", "secondary"])]["share"].sum()
    assert upstream == pytest.approx(1.0)
    assert table.query("origin_stage == 'secondary'")["share"].sum() > 0
