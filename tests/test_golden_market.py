"""Golden spatial equilibria: tiny worlds whose equilibrium is derived by hand, cleared through the Python API
(`critmin.api.clear`); one smoke test checks that `critmin clear` prints the same answer.

Conventions used in every derivation: a supply_curve row (ref_cost c, ref_quantity q0, elasticity e) gives the
marginal cost c + c/(e q0) (q - q0); a demand row (quantity q0, elasticity -e) with reference price p0 gives
the inverse demand p0 + p0/(e q0) (q0 - x). Capacities are set far above the equilibrium so they never bind.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from critmin.api import clear, load_scenario
from critmin.cli.main import app
from critmin.testing import tiny_world

TOL = 1e-6
BIG = 1e6


def _clear(tmp_path, world, *args) -> dict:
    """Clear ``world`` with the options `critmin clear` would take (--scenario, --date, --curves), through the
    Python API; the records are those of `critmin clear --format json`."""
    options = dict(zip(args[::2], args[1::2], strict=True))
    scenario = load_scenario(options["--scenario"], world) if "--scenario" in options else None
    date = dt.date.fromisoformat(options["--date"]) if "--date" in options else None
    result = clear(world, scenario=scenario, date=date, curves=options.get("--curves"))
    tables = {"prices": result.prices(), "flows": result.flows(), "production": result.production()}
    return {name: table.to_dict("records") for name, table in tables.items()}


def test_the_clear_command_prints_the_api_s_answer(tmp_path):
    folder = tmp_path / "world"
    _two_regions().to_folder(folder)
    printed = CliRunner().invoke(app, ["clear", "--world", str(folder), "--format", "json"])
    assert printed.exit_code == 0, printed.output
    out, expected = json.loads(printed.stdout), _clear(tmp_path, _two_regions())
    for table in ("prices", "flows"):
        assert len(out[table]) == len(expected[table])
        for got, want in zip(out[table], expected[table], strict=True):
            for key, value in want.items():
                assert got[key] == (pytest.approx(value, abs=TOL) if isinstance(value, float) else value)


def _price(out: dict, region: str, product: str) -> float:
    return next(p["price"] for p in out["prices"] if p["region"] == region and p["product"] == product)


def _flow(out: dict, origin: str, destination: str, product: str) -> float:
    return sum(
        f["quantity"]
        for f in out["flows"]
        if (f["origin"], f["destination"], f["product"]) == (origin, destination, product)
    )


def _two_regions(**arc) -> object:
    return tiny_world(
        ["A", "B"],
        [{"id": "x", "stage": "mine", "form": "mineral", "element": "Ga"}],
        reference_price=[{"product": "x", "price": 10.0}],
        supply_curve=[
            {
                "region": "A",
                "process": "extract",
                "product": "x",
                "ref_cost": 10.0,
                "ref_quantity": 100.0,
                "elasticity": 1.0,
            }
        ],
        capacity=[{"region": "A", "product": "x", "capacity": BIG}],
        demand=[
            {"region": "A", "sector": "other", "product": "x", "quantity": 100.0, "elasticity": -1.0},
            {"region": "B", "sector": "other", "product": "x", "quantity": 100.0, "elasticity": -0.5},
        ],
        trade_cost=[{"origin": "A", "destination": "B", "product": "x", "freight": 3.0, **arc}],
    )


def test_two_regions_with_transport_cost(tmp_path):
    """Supply in A: MC = 0.1 q (q = 10 p). Demand A: x = 200 - 10 p; demand B: x = 150 - 5 p. Freight 3.

    With trade, p_B = p_A + 3 and 10 p_A = (200 - 10 p_A) + (150 - 5 (p_A + 3)), so 25 p_A = 335:
    p_A = 13.4, p_B = 16.4, flow A->B = 150 - 82 = 68, output 134, consumption in A 66."""
    out = _clear(tmp_path, _two_regions())
    assert _price(out, "A", "x") == pytest.approx(13.4, abs=TOL)
    assert _price(out, "B", "x") == pytest.approx(16.4, abs=TOL)
    assert _flow(out, "A", "B", "x") == pytest.approx(68.0, abs=TOL)
    produced = sum(p["quantity"] for p in out["production"] if p["region"] == "A")
    assert produced == pytest.approx(134.0, abs=TOL)


def test_tariff_wedge(tmp_path):
    """As above with a 20% tariff on A->B, levied on the reference price 10: a wedge of 3 + 2 = 5.

    25 p_A = 350 - 25, so p_A = 13, p_B = 18, flow = 150 - 90 = 60, output 130, consumption in A 70."""
    out = _clear(tmp_path, _two_regions(tariff_pct=20.0))
    assert _price(out, "A", "x") == pytest.approx(13.0, abs=TOL)
    assert _price(out, "B", "x") == pytest.approx(18.0, abs=TOL)
    assert _flow(out, "A", "B", "x") == pytest.approx(60.0, abs=TOL)


def _ban_world():
    # a mine-stage product: separated products get producer inventories that buy at 0.7x and sell at 1x the
    # reference price, which would cap these textbook prices
    return tiny_world(
        ["A", "B", "C"],
        [{"id": "x", "stage": "mine", "form": "mineral", "element": "Ga"}],
        reference_price=[{"product": "x", "price": 10.0}],
        supply_curve=[
            {
                "region": "A",
                "process": "extract",
                "product": "x",
                "ref_cost": 10.0,
                "ref_quantity": 100.0,
                "elasticity": 1.0,
            },
            {
                "region": "B",
                "process": "extract",
                "product": "x",
                "ref_cost": 20.0,
                "ref_quantity": 100.0,
                "elasticity": 1.0,
            },
        ],
        capacity=[{"region": r, "product": "x", "capacity": BIG} for r in ("A", "B")],
        demand=[
            {"region": "A", "sector": "other", "product": "x", "quantity": 100.0, "elasticity": -1.0},
            {"region": "C", "sector": "other", "product": "x", "quantity": 100.0, "elasticity": -1.0},
        ],
        trade_cost=[
            {"origin": o, "destination": d, "product": "x", "freight": 1.0}
            for o, d in (("A", "C"), ("B", "A"), ("B", "C"))
        ],
    )


BAN = """\
name: ban-a-to-c
start: 2025-01-01
end: 2025-12-31
shocks:
  - type: export_control
    exporter: {regions: [A]}
    destinations: {regions: [C]}
    products: [x]
    mode: ban
    start: 2025-01-01
"""


def test_ban_on_one_arc(tmp_path):
    """Supply A: q = 10 p (MC 0.1 q); supply B: q = 5 p (MC 20 + 0.2 (q - 100) = 0.2 q); demand A: x = 200 - 10 p;
    demand C: x = 200 - 10 p (reference 100 at 10, elasticity -1). Freight 1 on A->C, B->A, B->C.

    Open: suppose A->C and B->C flow, so p_C = p_A + 1 = p_B + 1 and p_A = p_B = p. C takes
    200 - 10 (p + 1) = (10 p - (200 - 10 p)) + 5 p, so 35 p = 390: p = 78/7, p_C = 85/7, B->C = 390/7,
    A->C = 20 p - 200 = 160/7.
    Ban on A->C: C is served by B alone: 190 - 10 p_B = 5 p_B, p_B = 38/3, p_C = 41/3, B->C = 190/3; A is in
    autarky: 10 p_A = 200 - 10 p_A, p_A = 10 (B->A does not pay: 10 < 38/3 + 1)."""
    world = _ban_world()
    open_ = _clear(tmp_path, world)
    assert _price(open_, "A", "x") == pytest.approx(78 / 7, abs=TOL)
    assert _price(open_, "C", "x") == pytest.approx(85 / 7, abs=TOL)
    assert _flow(open_, "A", "C", "x") == pytest.approx(160 / 7, abs=TOL)
    assert _flow(open_, "B", "C", "x") == pytest.approx(390 / 7, abs=TOL)

    scenario = tmp_path / "ban.yaml"
    scenario.write_text(BAN)
    banned = _clear(tmp_path, world, "--scenario", str(scenario), "--date", "2025-06-01")
    assert _price(banned, "A", "x") == pytest.approx(10.0, abs=TOL)
    assert _price(banned, "B", "x") == pytest.approx(38 / 3, abs=TOL)
    assert _price(banned, "C", "x") == pytest.approx(41 / 3, abs=TOL)
    assert _flow(banned, "A", "C", "x") == pytest.approx(0.0, abs=TOL)
    assert _flow(banned, "B", "C", "x") == pytest.approx(190 / 3, abs=TOL)


def test_coproduction_in_fixed_ratio(tmp_path):
    """One mine yields ore that separates free of cost into 60% X and 40% Y. Mine: MC = 0.1 q (q = 10 p_ore).
    Demand X: x = 120 - 4 p (reference 60 at 15, elasticity -1); demand Y: y = 80 - 8 p (40 at 5, -1).

    Zero-profit separation: p_ore = 0.6 p_X + 0.4 p_Y. With X = 0.6 q and Y = 0.4 q:
    p_X = 30 - 0.15 q, p_Y = 10 - 0.05 q, p_ore = 22 - 0.11 q = q / 10, so q = 220 / 2.1 = 104.7619...,
    p_X = 30 - 0.15 q, p_Y = 10 - 0.05 q."""
    world = tiny_world(
        ["A"],
        [
            {"id": "ore", "stage": "mine", "form": "concentrate"},
            {"id": "X_ox", "stage": "separation", "element": "Nd"},
            {"id": "Y_ox", "stage": "separation", "element": "La"},
        ],
        composition=[
            {"product": "ore", "element": "Nd", "share": 60.0},
            {"product": "ore", "element": "La", "share": 40.0},
        ],
        reference_price=[
            {"product": "ore", "price": 10.0},
            {"product": "X_ox", "price": 15.0},
            {"product": "Y_ox", "price": 5.0},
        ],
        supply_curve=[
            {
                "region": "A",
                "process": "extract",
                "product": "ore",
                "ref_cost": 10.0,
                "ref_quantity": 100.0,
                "elasticity": 1.0,
            },
            {
                "region": "A",
                "process": "separate",
                "product": "ore",
                "ref_cost": 0.0,
                "ref_quantity": 100.0,
                "elasticity": 1.0,
            },
        ],
        capacity=[{"region": "A", "product": p, "capacity": BIG} for p in ("ore", "X_ox", "Y_ox")],
        demand=[
            {"region": "A", "sector": "other", "product": "X_ox", "quantity": 60.0, "elasticity": -1.0},
            {"region": "A", "sector": "other", "product": "Y_ox", "quantity": 40.0, "elasticity": -1.0},
        ],
    )
    out = _clear(tmp_path, world)
    q = 220 / 2.1
    assert _price(out, "A", "ore") == pytest.approx(q / 10, abs=TOL)
    assert _price(out, "A", "X_ox") == pytest.approx(30 - 0.15 * q, abs=TOL)
    assert _price(out, "A", "Y_ox") == pytest.approx(10 - 0.05 * q, abs=TOL)
    mined = next(p["quantity"] for p in out["production"] if p["process"] == "extract")
    assert mined == pytest.approx(q, abs=TOL)


def _hub_world():
    """A makes x (MC = 0.1 q); B (demand x = 100 - 5 p) and C (demand x = 200 - 10 p) buy it. Freight A->B 1,
    B->C 1, A->C 5: the route through B is cheaper. B's own supply (MC = 99 + q) never runs, so without
    re-exports B can export nothing."""
    return tiny_world(
        ["A", "B", "C"],
        [{"id": "x", "stage": "mine", "form": "mineral", "element": "Ga"}],
        reference_price=[{"product": "x", "price": 10.0}],
        supply_curve=[
            {"region": r, "process": "extract", "product": "x", "ref_cost": c, "ref_quantity": q, "elasticity": e}
            for r, c, q, e in (("A", 10.0, 100.0, 1.0), ("B", 100.0, 1.0, 100.0))
        ],
        capacity=[{"region": r, "product": "x", "capacity": BIG} for r in ("A", "B")],
        demand=[
            {"region": "B", "sector": "other", "product": "x", "quantity": 50.0, "elasticity": -1.0},
            {"region": "C", "sector": "other", "product": "x", "quantity": 100.0, "elasticity": -1.0},
        ],
        trade_cost=[
            {"origin": o, "destination": d, "product": "x", "freight": f}
            for o, d, f in (("A", "B", 1.0), ("B", "C", 1.0), ("A", "C", 5.0))
        ],
    )


REEXPORT = """\
name: reexport
start: 2025-01-01
end: 2025-12-31
market: {allow_reexport: true%s}
"""


def test_scenario_market_block_allows_reexports(tmp_path):
    """Default (no re-exports): C is served directly, p_B = p_A + 1, p_C = p_A + 5, and
    10 p = (100 - 5 (p + 1)) + (200 - 10 (p + 5)), so p_A = 9.8, p_B = 10.8, p_C = 14.8, A->B = 46, A->C = 52
    (B->C would pay 4 > 1, but B makes nothing to export).
    With re-exports (the scenario's market block): C is served through B, p_C = p_A + 2, and
    10 p = (100 - 5 (p + 1)) + (200 - 10 (p + 2)), so p_A = 11, p_B = 12, p_C = 13, B->C = 70, A->B = 40 + 70
    = 110, A->C = 0 (it would pay 2 < 5). An explicit --curves overrides the block's curve form."""
    world = _hub_world()
    default = _clear(tmp_path, world)
    for region, price in (("A", 9.8), ("B", 10.8), ("C", 14.8)):
        assert _price(default, region, "x") == pytest.approx(price, abs=TOL)
    for arc, flow in ((("A", "B"), 46.0), (("A", "C"), 52.0), (("B", "C"), 0.0)):
        assert _flow(default, *arc, "x") == pytest.approx(flow, abs=TOL)

    scenario = tmp_path / "reexport.yaml"
    scenario.write_text(REEXPORT % "")
    stepwise = tmp_path / "reexport-stepwise.yaml"
    stepwise.write_text(REEXPORT % ", curves: stepwise")
    for args in (["--scenario", str(scenario)], ["--scenario", str(stepwise), "--curves", "linear"]):
        out = _clear(tmp_path, world, *args)
        for region, price in (("A", 11.0), ("B", 12.0), ("C", 13.0)):
            assert _price(out, region, "x") == pytest.approx(price, abs=TOL)
        for arc, flow in ((("A", "B"), 110.0), (("A", "C"), 0.0), (("B", "C"), 70.0)):
            assert _flow(out, *arc, "x") == pytest.approx(flow, abs=TOL)
    # without --curves the block's own curve form applies: the same route, prices resolved to the grid
    out = _clear(tmp_path, world, "--scenario", str(stepwise))
    assert _flow(out, "A", "C", "x") == pytest.approx(0.0, abs=TOL)
    assert _flow(out, "B", "C", "x") > 0
    assert abs(_price(out, "A", "x") - 11.0) > 1e-3
