"""The value of cooperation: coalitions, Shapley values of savings games (by hand, the glove game, efficiency)
and superadditivity violations."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from critmin.plan.cooperation import coalitions, shapley_values, superadditivity_violations


def game(**values: float) -> dict[frozenset[str], float]:
    """A savings game from keyword arguments: ``ab=3.0`` is the saving of the coalition {a, b}."""
    return {frozenset(name): value for name, value in values.items()}


def test_coalitions_run_from_empty_to_grand_in_a_fixed_order():
    got = coalitions(["x", "y", "z"])
    assert len(got) == 8
    assert got[0] == frozenset()
    assert got[-1] == frozenset({"x", "y", "z"})
    assert got == [frozenset(c) for c in ["", "x", "y", "z", "xy", "xz", "yz", "xyz"]]
    assert coalitions({"z", "y", "x"}) == got  # a set is sorted first
    assert coalitions([]) == [frozenset()]


def test_duplicate_players_are_refused():
    with pytest.raises(ValueError, match="distinct"):
        coalitions(["a", "b", "a"])


def test_two_player_shapley_values_by_hand():
    s1, s2, s12 = 4.0, 10.0, 20.0
    phi = shapley_values(["p1", "p2"], {frozenset({"p1"}): s1, frozenset({"p2"}): s2, frozenset({"p1", "p2"}): s12})
    assert phi["p1"] == pytest.approx((s1 + s12 - s2) / 2)  # 7
    assert phi["p2"] == pytest.approx((s2 + s12 - s1) / 2)  # 13
    assert phi["p1"] + phi["p2"] == pytest.approx(s12)


def test_the_glove_game():
    # one right glove (r) and two left gloves (a, b): a coalition saves 1 if it can make a pair
    saving = {c: float("r" in c and bool(c & {"a", "b"})) for c in coalitions(["a", "b", "r"])}
    phi = shapley_values(["a", "b", "r"], saving)
    assert phi["a"] == pytest.approx(1 / 6)
    assert phi["b"] == pytest.approx(1 / 6)
    assert phi["r"] == pytest.approx(2 / 3)


def test_a_dummy_player_gets_its_own_saving_and_symmetric_players_the_same():
    # c adds exactly its stand-alone 5 to every coalition; a and b are interchangeable
    base = game(a=1.0, b=1.0, ab=6.0)
    saving = dict(base)
    for coalition, value in base.items():
        saving[coalition | {"c"}] = value + 5.0
    saving[frozenset("c")] = 5.0
    phi = shapley_values(["a", "b", "c"], saving)
    assert phi == pytest.approx({"a": 3.0, "b": 3.0, "c": 5.0})


def test_the_empty_coalition_defaults_to_zero_but_other_coalitions_are_required():
    assert shapley_values(["a"], game(a=7.0)) == {"a": 7.0}
    with pytest.raises(ValueError, match=r"\{'a', 'b'\}"):
        shapley_values(["a", "b"], game(a=1.0, b=2.0))
    assert shapley_values([], {}) == {}


@given(
    n=st.integers(1, 4),
    values=st.lists(st.floats(-1e6, 1e6), min_size=16, max_size=16),
)
def test_shapley_values_sum_to_the_grand_coalition_saving(n, values):
    players = [f"p{i}" for i in range(n)]
    saving = dict(zip(coalitions(players)[1:], values, strict=False))
    phi = shapley_values(players, saving)
    assert set(phi) == set(players)
    grand = saving[frozenset(players)]
    assert sum(phi.values()) == pytest.approx(grand, abs=1e-6 * max(1.0, *(abs(v) for v in values)))


def test_a_superadditive_game_has_no_violations():
    saving = game(a=1.0, b=2.0, c=3.0, ab=4.0, ac=5.0, bc=6.0, abc=10.0)
    assert superadditivity_violations(["a", "b", "c"], saving) == []


def test_a_subadditive_game_has_its_violations_found():
    # together a and b save less than apart (3 < 2 + 2); c adds exactly its own saving
    saving = game(a=2.0, b=2.0, c=1.0, ab=3.0, ac=3.0, bc=3.0, abc=4.0)
    found = superadditivity_violations(["a", "b", "c"], saving)
    expected = [
        (frozenset("a"), frozenset("b"), 1.0),  # 2 + 2 - 3
        (frozenset("a"), frozenset("bc"), 1.0),  # 2 + 3 - 4
        (frozenset("ab"), frozenset("c"), 0.0),  # 3 + 1 - 4: not a violation
        (frozenset("ac"), frozenset("b"), 1.0),  # 3 + 2 - 4
    ]
    assert found == [v for v in expected if v[2] > 0]
    # every disjoint pair is checked once: brute force over ordered pairs agrees, up to order
    players = ["a", "b", "c"]
    brute = set()
    for s, t in itertools.product(coalitions(players)[1:], repeat=2):
        if not s & t and saving[s] + saving[t] - saving[s | t] > 1e-6:
            brute.add(frozenset((s, t)))
    assert {frozenset((s, t)) for s, t, _ in found} == brute


def test_the_tolerance_forgives_small_shortfalls():
    saving = game(a=2.0, b=2.0, ab=3.999)
    assert superadditivity_violations(["a", "b"], saving, tolerance=0.01) == []
    assert superadditivity_violations(["a", "b"], saving, tolerance=0.0)[0][2] == pytest.approx(0.001)
    with pytest.raises(ValueError, match="tolerance"):
        superadditivity_violations(["a", "b"], saving, tolerance=-1.0)
