"""Issue 15, the tariff model: GSIM against hand-solved cases, symmetry, zero change, the welfare identity and a
property (a higher tariff on one arc never raises that arc's flow); SMART against a hand computation; the dated
US tariff schedules of the bundled trade world."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from critmin.trade.gsim import solve_gsim
from critmin.trade.load import load_trade_world
from critmin.trade.run import run_trade
from critmin.trade.smart import smart
from property_budget import property_test


def two_country(tariff: float, E_m: float, E_x: float, value: float = 100.0):
    """Country 0 imports ``value`` from country 1; one good; free trade before, ``tariff`` after."""
    V = np.zeros((2, 2, 1))
    V[0, 1, 0] = value
    T0, T1 = np.ones_like(V), np.ones_like(V)
    T1[0, 1, 0] = 1 + tariff
    ones = np.ones((2, 1))
    return V, T0, T1, E_m * ones, 5.0 * ones, E_x * ones


@pytest.mark.parametrize(("tariff", "E_m", "E_x"), [(0.10, -2.0, 2.0), (0.25, -1.25, 3.0), (-0.2, -0.5, 10.0)])
def test_two_countries_one_good_by_hand(tariff, E_m, E_x):
    r"""One importer, one exporter, one good. With one source the composite price is the source's domestic
    price, so in logs (p = ln π the world price ratio, τ = ln T1/T0):

        demand      ln M = E_m · (p + τ)
        supply      ln X = E_x · p
        clearing    E_x · p = E_m · (p + τ)   =>   p = E_m · τ / (E_x − E_m)

    The domestic price moves by p + τ = E_x · τ / (E_x − E_m) and the quantity by exp(E_x · p). With
    E_m = −2, E_x = 2 and a 10% tariff the exporter's price falls by half the tariff wedge in logs. Welfare:
    ΔPS = V (π^(E_x+1) − 1)/(E_x+1), ΔCS = −V (P̂^(E_m+1) − 1)/(E_m+1) (E_m ≠ −1), revenue t · V · π · M̂."""
    V, T0, T1, Em, Es, Ex = two_country(tariff, E_m, E_x)
    r = solve_gsim(V, T0, T1, Em, Es, Ex)
    tau = math.log1p(tariff)
    p = E_m * tau / (E_x - E_m)
    assert r.world_price[1, 0] == pytest.approx(math.expm1(p), rel=1e-9)
    assert r.domestic_price[0, 1, 0] == pytest.approx(math.expm1(E_x * tau / (E_x - E_m)), rel=1e-9)
    quantity = math.exp(E_x * p)
    assert r.volume1[0, 1, 0] == pytest.approx(100 * quantity, rel=1e-9)
    assert r.V1[0, 1, 0] == pytest.approx(100 * quantity * math.exp(p), rel=1e-9)
    assert r.producer_surplus[1, 0] == pytest.approx(100 * math.expm1((E_x + 1) * p) / (E_x + 1), rel=1e-9)
    big_p = math.exp(p + tau)
    assert r.consumer_surplus[0, 0] == pytest.approx(-100 * (big_p ** (E_m + 1) - 1) / (E_m + 1), rel=1e-9)
    assert r.revenue1[0, 0] == pytest.approx(tariff * 100 * quantity * math.exp(p), rel=1e-9)
    assert r.diversion[0, 1, 0] == pytest.approx(0, abs=1e-9)  # one source: all creation


def symmetric_world(n: int = 3):
    V = np.full((n, n, 2), 50.0)
    V[np.arange(n), np.arange(n), :] = 0
    T0 = np.ones_like(V)
    T1 = np.full_like(V, 1.1)
    ones = np.ones((n, 2))
    return V, T0, T1, -1.5 * ones, 4.0 * ones, 2.0 * ones


def test_identical_countries_with_symmetric_tariffs_get_identical_results():
    r = solve_gsim(*symmetric_world())
    w = r.welfare()
    for key in ("consumer_surplus", "producer_surplus", "revenue", "total"):
        assert np.allclose(w[key], w[key][0], rtol=1e-10), key
    assert np.allclose(r.world_price, r.world_price[0, 0])
    off = ~np.eye(3, dtype=bool)
    assert np.allclose(r.V1[off], r.V1[off][0])


def test_zero_tariff_change_changes_nothing():
    V, T0, _, Em, Es, Ex = symmetric_world()
    T0 = T0 * np.random.default_rng(1).uniform(1.0, 1.3, V.shape)
    r = solve_gsim(V, T0, T0.copy(), Em, Es, Ex)
    assert np.allclose(r.world_price, 0) and np.allclose(r.domestic_price, 0)
    assert np.allclose(r.V1, V) and np.allclose(r.creation, 0) and np.allclose(r.diversion, 0)
    assert np.allclose(r.revenue1, r.revenue0)
    assert all(np.allclose(v, 0) for v in r.welfare().values())


def random_world(seed: int, n: int = 4, goods: int = 3):
    rng = np.random.default_rng(seed)
    V = rng.uniform(0, 100, (n, n, goods)) * (rng.uniform(size=(n, n, goods)) > 0.2)
    V[np.arange(n), np.arange(n), :] = 0
    T0 = 1 + rng.uniform(0, 0.3, V.shape)
    T1 = 1 + rng.uniform(0, 0.3, V.shape)
    return (
        V,
        T0,
        T1,
        -rng.uniform(0.3, 3, (n, goods)),
        rng.uniform(0.5, 10, (n, goods)),
        rng.uniform(0.3, 8, (n, goods)),
    )


def test_the_welfare_identity():
    r = solve_gsim(*random_world(7))
    w = r.welfare()
    assert np.allclose(w["total"], w["consumer_surplus"] + w["producer_surplus"] + w["revenue"])
    world_total = r.consumer_surplus.sum() + r.producer_surplus.sum() + (r.revenue1 - r.revenue0).sum()
    assert w["total"].sum() == pytest.approx(world_total, rel=1e-12)
    # creation and diversion make up the volume change on every arc
    V = random_world(7)[0]
    assert np.allclose(r.creation + r.diversion, r.volume1 - V)


def test_a_tariff_from_free_trade_lowers_world_welfare():
    V, _, T1, Em, Es, Ex = random_world(3)
    r = solve_gsim(V, np.ones_like(V), T1, Em, Es, Ex)
    assert r.welfare()["total"].sum() < 0


@property_test(
    fast=15, full=100,
    settings=settings(deadline=None, suppress_health_check=[HealthCheck.too_slow]),
    seed=st.integers(0, 10_000), arc=st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 2)),
    rise=st.floats(0.001, 1.0),
)  # fmt: skip
def test_a_higher_tariff_on_an_arc_never_raises_its_flow(seed, arc, rise):
    V, T0, T1, Em, Es, Ex = random_world(seed)
    i, r, g = arc
    if i == r:
        r = (r + 1) % 4
    V[i, r, g] = max(V[i, r, g], 10.0)
    low = solve_gsim(V, T0, T1, Em, Es, Ex)
    T1[i, r, g] += rise
    high = solve_gsim(V, T0, T1, Em, Es, Ex)
    assert high.volume1[i, r, g] <= low.volume1[i, r, g] * (1 + 1e-9)
    assert high.V1[i, r, g] <= low.V1[i, r, g] * (1 + 1e-9)


def test_smart_by_hand():
    """Two exporters of 100 each at 10%; the tariff on exporter 0 is cut to 0. d = (0 − 0.1)/1.1 = −1/11 for
    source 0, 0 for source 1; shares ½, so the average d̄ = −1/22. With E_m = −1.5, E_s = 3:
    creation_0 = −1.5 · 100 · (−1/11) = 13.636; diversion_0 = −3 · 100 · (−1/11 + 1/22) = 13.636,
    diversion_1 = −3 · 100 · (0 + 1/22) = −13.636. New imports 127.27 and 86.36; revenue 20 → 8.636;
    ΔCS = 0.1 · (100 + 127.27)/2 = 11.364 (source 0 only); welfare = 11.364 − 11.364 = 0.0."""
    r = smart([100.0, 100.0], [0.1, 0.1], [0.0, 0.1], E_m=-1.5, E_s=3.0)
    assert r.creation == pytest.approx([150 / 11, 0.0])
    assert r.diversion == pytest.approx([150 / 11, -150 / 11])
    assert r.imports1 == pytest.approx([100 + 300 / 11, 100 - 150 / 11])
    assert r.revenue0 == pytest.approx(20.0) and r.revenue1 == pytest.approx(0.1 * (100 - 150 / 11))
    assert r.consumer_surplus == pytest.approx(0.1 * (200 + 300 / 11) / 2)
    assert r.welfare == pytest.approx(r.consumer_surplus + r.revenue1 - r.revenue0)
    assert r.diversion.sum() == pytest.approx(0, abs=1e-12)


def test_smart_with_finite_supply_is_laird_yeats():
    """One source: TC = M · E_m · Δt / ((1 + t0)(1 − E_m/E_x)) = 100 · (−1)(0.1)/(1 · 1.5) = −6.667."""
    r = smart([100.0], [0.0], [0.1], E_m=-1.0, E_s=2.0, E_x=2.0)
    assert r.creation[0] == pytest.approx(-100 * 0.1 / 1.5)
    assert r.world_price[0] == pytest.approx(0.1 / 1.5 - 0.1)


@pytest.fixture(scope="module")
def world():
    return load_trade_world()


@pytest.mark.parametrize(
    ("day", "exporter", "good", "rate"),
    [
        ("2024-12-31", "JPN", "passenger_vehicles", 2.5),
        ("2025-06-01", "JPN", "passenger_vehicles", 27.5),
        ("2025-10-01", "JPN", "passenger_vehicles", 15.0),
        ("2025-06-01", "JPN", "auto_parts", 27.5),
        ("2025-04-20", "JPN", "auto_parts", 2.5),  # parts from 2025-05-03
        ("2025-04-09", "JPN", "other", 11.5),  # the 24% was announced, never collected
        ("2025-08-10", "JPN", "other", 15.0),  # all-in: replaces MFN and the baseline
        ("2025-03-01", "JPN", "steel", 0.0),
        ("2025-04-01", "JPN", "steel", 25.0),
        ("2025-06-04", "JPN", "steel", 50.0),
        ("2025-10-01", "JPN", "steel", 50.0),
        ("2025-10-01", "JPN", "aluminium", 53.0),
        ("2025-10-01", "JPN", "semiconductors", 0.0),
    ],
)
def test_the_dated_schedule(world, day, exporter, good, rate):
    assert world.rate_on(dt.date.fromisoformat(day), "USA", exporter, good)[0] == pytest.approx(rate)


def test_japan_did_not_retaliate(world):
    table = world.tariffs_on("2025-10-01")
    assert table[table.importer == "JPN"]["rate_pct"].eq(0).all()


def test_every_row_is_sourced_and_assumptions_say_how(world):
    for name in ("flows", "tariffs", "elasticities"):
        frame = world.table(name)
        assert frame["source"].ne("").all() and frame["confidence"].isin(["confirmed", "secondary", "assumption"]).all()
        assert frame.loc[frame.confidence == "assumption", "note"].str.len().gt(0).all()


def test_run_on_the_bundled_world(world):
    run = run_trade(world, "2025-04-01", "2025-10-01")
    row = run.flow("USA", "JPN", "passenger_vehicles")
    assert (row.rate_before_pct, row.rate_after_pct) == (pytest.approx(2.5), pytest.approx(15.0))
    assert row.flow_after_musd < row.flow_before_musd
    w = run.welfare
    assert np.allclose(w.total_musd, w.consumer_surplus_musd + w.producer_surplus_musd + w.revenue_musd)
    same = run_trade(world, "2025-10-01", "2025-10-01")
    assert np.allclose(same.welfare[["total_musd"]].to_numpy(), 0, atol=1e-6)
