"""The value of cooperation: savings games over the players (countries, buyers) who may plan together.

``saving[S]`` is what coalition ``S`` saves, in USD, by planning jointly instead of having no plan:
``saving(S) = cost_no_plan(S) - cost_joint_plan(S)``. The costs without a plan add up over the members, so
savings are superadditive (``saving(S | T) >= saving(S) + saving(T)`` for disjoint ``S``, ``T``) exactly when
planning together never costs more than planning apart: ``cost_joint_plan(S | T) <= cost_joint_plan(S) +
cost_joint_plan(T)``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Iterable, Mapping

__all__ = ["coalitions", "shapley_values", "superadditivity_violations"]


def _ordered(players: Iterable[str]) -> list[str]:
    """The players in their given order (a set's sorted), checked for duplicates."""
    listed = sorted(players) if isinstance(players, set | frozenset) else list(players)
    if len(set(listed)) != len(listed):
        duplicated = sorted({p for p in listed if listed.count(p) > 1})
        raise ValueError(f"players must be distinct, got {duplicated!r} more than once")
    return listed


def _lookup(saving: Mapping[frozenset[str], float], coalition: frozenset[str], order: list[str]) -> float:
    """``saving[coalition]`` as a finite float, the empty coalition's taken as 0 when missing."""
    if coalition not in saving:
        if not coalition:
            return 0.0
        members = ", ".join(repr(p) for p in order if p in coalition)
        raise ValueError(f"saving has no value for the coalition {{{members}}}")
    value = float(saving[coalition])
    if not math.isfinite(value):
        raise ValueError(f"the saving of coalition {sorted(coalition)!r} must be finite, got {value!r}")
    return value


def coalitions(players: Iterable[str]) -> list[frozenset[str]]:
    """Every coalition of ``players`` (``2^n`` of them): by size, the empty one first and the grand one last.

    Coalitions of one size come in the order of :func:`itertools.combinations` over the players as given (a set
    of players is sorted first).

    >>> [sorted(c) for c in coalitions(["a", "b", "c"])]
    [[], ['a'], ['b'], ['c'], ['a', 'b'], ['a', 'c'], ['b', 'c'], ['a', 'b', 'c']]
    """
    order = _ordered(players)
    return [frozenset(c) for size in range(len(order) + 1) for c in itertools.combinations(order, size)]


def shapley_values(players: Iterable[str], saving: Mapping[frozenset[str], float]) -> dict[str, float]:
    """Each player's Shapley value of the savings game, USD.

    ``phi_i = sum_{S not containing i} |S|! (n - |S| - 1)! / n! * (saving(S + i) - saving(S))``: the player's
    marginal saving averaged over every order in which the players could join. The values sum to the grand
    coalition's saving. ``saving`` needs every non-empty coalition (a missing one raises ``ValueError`` naming
    it); the empty coalition's saving is 0 when missing.

    >>> s = {frozenset("a"): 1.0, frozenset("b"): 3.0, frozenset("ab"): 6.0}
    >>> shapley_values(["a", "b"], s)  # a: (1 + 6 - 3) / 2
    {'a': 2.0, 'b': 4.0}
    """
    order = _ordered(players)
    n = len(order)
    value = {c: _lookup(saving, c, order) for c in coalitions(order)}
    weight = [math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n) for k in range(n)]
    shapley = {}
    for player in order:
        others = [p for p in order if p != player]
        total = 0.0
        for size in range(n):
            for combo in itertools.combinations(others, size):
                s = frozenset(combo)
                total += weight[size] * (value[s | {player}] - value[s])
        shapley[player] = total
    return shapley


def superadditivity_violations(
    players: Collection[str], saving: Mapping[frozenset[str], float], tolerance: float = 1e-6
) -> list[tuple[frozenset[str], frozenset[str], float]]:
    """Pairs of disjoint non-empty coalitions that save less together than apart.

    Each ``(S, T, shortfall)`` has ``shortfall = saving(S) + saving(T) - saving(S | T) > tolerance`` (USD). As
    savings are cost reductions against no plan, a violation means planning jointly costs more than the sum of
    the separate plans. Each unordered pair appears once, ``S`` holding the first player (in the players' order)
    of ``S | T``; pairs come by ``S | T`` in the order of :func:`coalitions`.

    >>> s = {frozenset("a"): 2.0, frozenset("b"): 2.0, frozenset("ab"): 3.0}
    >>> [(sorted(x), sorted(y), gap) for x, y, gap in superadditivity_violations(["a", "b"], s)]
    [(['a'], ['b'], 1.0)]
    """
    limit = float(tolerance)
    if not (math.isfinite(limit) and limit >= 0):
        raise ValueError(f"tolerance must be finite and non-negative, got {tolerance!r}")
    order = _ordered(players)
    value = {c: _lookup(saving, c, order) for c in coalitions(order)}
    found = []
    for union in coalitions(order):
        members = [p for p in order if p in union]
        if len(members) < 2:
            continue
        first, rest = members[0], members[1:]
        for size in range(len(rest)):  # S = first + some of the rest; T, the others, is never empty
            for combo in itertools.combinations(rest, size):
                s = frozenset((first, *combo))
                t = union - s
                shortfall = value[s] + value[t] - value[union]
                if shortfall > limit:
                    found.append((s, t, shortfall))
    return found
