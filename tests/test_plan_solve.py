"""The planner's two-stage solvers: an analytic newsvendor through the L-shaped method, the L-shaped and
extensive forms against enumeration on the bundled world, and the properties the issue names (more budget
is never worse, a higher λ never raises CVaR, WS ≤ RP ≤ EEV, joint ≤ separate)."""

from __future__ import annotations

import dataclasses
import itertools
import types
from pathlib import Path

import numpy as np
import pytest

from critmin.plan import load_plan, measures
from critmin.plan.problem import INSTRUMENTS, build_problem
from critmin.plan.schema import Plan
from critmin.plan.solve import (
    Coalition,
    Recourse,
    base_cost,
    coalition,
    evaluate_plan,
    solve_extensive,
    solve_lshaped,
)

REPO = Path(__file__).resolve().parents[1]
PURCHASE = INSTRUMENTS.index("purchase")


# --- an analytic newsvendor through the L-shaped method ------------------------------------------------------


class NewsvendorRecourse:
    """Second stage of a stockpile newsvendor: shortfall D_s - x (t) priced at ``value`` MUSD/t; costs in kUSD as
    the engine's LP reports them, with the subgradient of the cost in x."""

    def __init__(self, demand: np.ndarray, value: float):
        self.demand, self.value, self.numbers = demand, value, list(demand)

    def solve(self, s, x):
        short = max(self.demand[s] - x[0], 0.0)
        gradient = -self.value if x[0] < self.demand[s] else 0.0
        return 1000 * self.value * short, np.array([1000 * gradient]), None

    def solve_each(self, xs):
        costs, grads = zip(*(self.solve(s, x)[:2] for s, x in enumerate(xs)), strict=True)
        return np.array(costs), np.stack(grads)

    def evaluate(self, x):
        return self.solve_each([x] * len(self.demand))


def newsvendor_problem(probability, unit_cost, modules):
    cost = np.full((1, len(INSTRUMENTS)), np.inf)
    cost[0, PURCHASE] = unit_cost
    plan = types.SimpleNamespace(gap=1e-9, risk_weight=0.0, alpha=0.9)
    problem = types.SimpleNamespace(plan=plan, probability=np.asarray(probability), cost=cost, options=[None],
                                    modules=np.array([float(modules)]), _base_kusd=0.0)  # fmt: skip
    return problem, Coalition(frozenset({"A"}), np.array([True]), 1e9, ())


@pytest.mark.parametrize("unit_cost, value", [(1.0, 4.0), (1.0, 1.5), (3.0, 4.0), (0.2, 10.0)])
def test_newsvendor_optimum_is_the_critical_quantile(unit_cost, value):
    """Buying x units at c, each unit short costing v: the optimal stock is the smallest x with
    P(D <= x) >= 1 - c/v (no salvage)."""
    demand = np.array([0.0, 2.0, 5.0, 7.0, 11.0, 16.0])
    probability = np.array([0.3, 0.2, 0.2, 0.1, 0.15, 0.05])
    problem, who = newsvendor_problem(probability, unit_cost, modules=20)
    solution = solve_lshaped(problem, who, NewsvendorRecourse(demand, value))
    order = np.argsort(demand)
    cdf = np.cumsum(probability[order])
    expected = demand[order][np.argmax(cdf >= 1 - unit_cost / value - 1e-12)]
    assert solution.x[0] == expected
    assert solution.gap <= 1e-6
    # the objective is the newsvendor's expected cost at that stock
    hand = unit_cost * expected + value * probability @ np.maximum(demand - expected, 0)
    assert solution.objective == pytest.approx(hand, rel=1e-9)


def test_newsvendor_with_cvar_buys_at_least_the_risk_neutral_stock():
    demand = np.array([0.0, 3.0, 9.0])
    probability = np.array([0.6, 0.3, 0.1])
    problem, who = newsvendor_problem(probability, 0.8, modules=12)
    neutral = solve_lshaped(problem, who, NewsvendorRecourse(demand, 2.5))
    averse = solve_lshaped(problem, who, NewsvendorRecourse(demand, 2.5), risk_weight=2.0)
    assert neutral.x[0] == 3.0  # P(D <= 0) = 0.6 < 1 - 0.8/2.5 = 0.68 <= P(D <= 3) = 0.9
    # CVaR_0.9 is the D = 9 scenario alone: a unit above 3 saves 0.1 x 2.5 + 2 x 2.5 > 0.8
    assert averse.x[0] == 9.0
    assert averse.cvar_musd <= neutral.cvar_musd


# --- the bundled world ---------------------------------------------------------------------------------------

SMALL = """\
name: small
risk_model: {risk}
start: 2027-01-01
years: 1
step_months: 6
scenarios: 4
seed: 3
importance: {{china-ree-licensing: 0.5, china-japan-halt: 0.5}}
risk_weight: 0.5
alpha: 0.75
players:
  - {{id: USA, regions: [USA], budget_musd: 50}}
  - {{id: JPN, regions: [JPN], budget_musd: 50}}
options:
  - {{id: jpn-dy-stock, kind: stockpile, owner: JPN, region: JPN, product: Dy_oxide, days: 30, modules: 3,
     source: test, confidence: assumption}}
  - {{id: usa-tb-stock, kind: stockpile, owner: USA, region: USA, product: Tb_oxide, days: 30, modules: 2,
     source: test, confidence: assumption}}
  - {{id: lynas, kind: project, owner: JPN, region: MYS, process: separate, product: conc_mount_weld,
     capacity: 5000, capex_musd: 12, lead_time_months: 0, ramp_months: 0, unit_cost_multiple: 0.9,
     instruments: [loan, guarantee], source: test, confidence: assumption}}
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory, bundled):
    world = bundled
    path = tmp_path_factory.mktemp("plan") / "small.yaml"
    path.write_text(SMALL.format(risk=REPO / "risks" / "china-controls.yaml"))
    plan = load_plan(path, world)
    problem = build_problem(world, plan)
    grand = coalition(problem, ["USA", "JPN"])
    return problem, grand, Recourse(problem, grand)


def with_plan(problem, **changes):
    """The same scenarios and options under changed plan settings (budgets, λ)."""
    plan: Plan = problem.plan.model_copy(update=changes)
    changed = dataclasses.replace(problem, plan=plan)
    changed._base_kusd = base_cost(problem)
    return changed


def enumerate_best(problem, who, recourse):
    """Every whole-module plan within the budget, each module financed by every admitted instrument."""
    best = None
    admitted = [np.flatnonzero(np.isfinite(problem.cost[o])) for o in range(len(problem.options))]
    for x in itertools.product(*(range(int(m) + 1) for m in problem.modules)):
        for instrument in itertools.product(*admitted):
            modules = np.zeros(problem.cost.shape)
            modules[np.arange(len(x)), instrument] = x
            if np.nansum(np.where(modules > 0, problem.cost, 0) * modules) > who.budget_musd:
                continue
            value = evaluate_plan(problem, who, modules, recourse).objective
            if best is None or value < best[0]:
                best = (value, np.array(x, dtype=float))
    return best


def test_lshaped_reaches_the_enumerated_optimum(small):
    problem, grand, recourse = small
    solution = solve_lshaped(problem, grand, recourse)
    value, x = enumerate_best(problem, grand, recourse)
    assert solution.objective == pytest.approx(value, abs=1e-6)
    assert solution.gap <= problem.plan.gap
    np.testing.assert_array_equal(solution.x, x)
    # the reported objective is the formula's on the per-scenario costs
    hand = solution.public_musd + measures.expected(solution.second_stage_musd, problem.probability)
    hand += problem.plan.risk_weight * measures.cvar(solution.second_stage_musd, problem.probability, 0.75)
    assert solution.objective == pytest.approx(hand, rel=1e-12)


def test_one_project_solved_by_hand(small):
    """Only the project: take it exactly when its second-stage saving beats its cheapest instrument."""
    problem, _, _ = small
    base = base_cost(problem)
    plan = problem.plan.model_copy(update={"options": problem.plan.options[2:]})
    only = dataclasses.replace(problem, options=problem.options[2:], cost=problem.cost[2:], plan=plan)
    only._base_kusd = base
    who = coalition(only, ["USA", "JPN"])
    recourse = Recourse(only, who)
    p, lam = problem.probability, problem.plan.risk_weight
    q0, q1 = ((recourse.evaluate(np.full(1, x))[0] - base) / 1000 for x in (0.0, 1.0))
    cheapest = np.min(only.cost[0][np.isfinite(only.cost[0])])
    without = q0 @ p + lam * measures.cvar(q0, p, 0.75)
    with_it = cheapest + q1 @ p + lam * measures.cvar(q1, p, 0.75)
    solution = solve_lshaped(only, who, recourse)
    assert solution.x[0] == (1.0 if with_it < without else 0.0)
    assert solution.objective == pytest.approx(min(with_it, without), abs=1e-9)


@pytest.mark.slow
def test_extensive_form_agrees_with_lshaped(small):
    problem, grand, recourse = small
    lshaped = solve_lshaped(problem, grand, recourse)
    extensive = solve_extensive(problem, grand, recourse)
    np.testing.assert_array_equal(extensive.x, lshaped.x)
    assert extensive.objective == pytest.approx(lshaped.objective, abs=1e-6)


def test_more_budget_is_never_worse(small):
    problem, _, _ = small
    values = []
    for budget in (0.0, 0.5, 3.0, 50.0):
        players = [p.model_copy(update={"budget_musd": budget}) for p in problem.plan.players]
        changed = with_plan(problem, players=players)
        who = coalition(changed, ["USA", "JPN"])
        values.append(solve_lshaped(changed, who).objective)
    assert all(later <= earlier + 1e-9 for earlier, later in itertools.pairwise(values))
    assert values[-1] < values[0]  # money buys something here: the test can fail


def test_higher_risk_weight_never_raises_cvar(small):
    problem, grand, recourse = small
    cvars = [solve_lshaped(problem, grand, recourse, risk_weight=lam).cvar_musd for lam in (0.0, 0.5, 2.0, 10.0)]
    assert all(later <= earlier + 1e-9 for earlier, later in itertools.pairwise(cvars))


def test_wait_and_see_le_recourse_le_mean_value_plan(small):
    from critmin.plan.run import _mean_numbers

    problem, grand, recourse = small
    rp = solve_lshaped(problem, grand, recourse)
    ws = solve_lshaped(problem, grand, recourse, anticipative=True)
    mean_plan = solve_lshaped(problem, grand, Recourse(problem, grand, [_mean_numbers(problem)]),
                              probability=np.ones(1))  # fmt: skip
    eev = evaluate_plan(problem, grand, mean_plan.modules, recourse)
    assert ws.objective <= rp.objective + 1e-9 <= eev.objective + 2e-9
    assert measures.evpi(rp.objective, ws.objective) >= 0 and measures.vss(eev.objective, rp.objective) >= 0


def test_joint_is_never_worse_than_the_separate_plans_side_by_side(small):
    problem, grand, recourse = small
    separate = [solve_lshaped(problem, coalition(problem, [p])) for p in ("USA", "JPN")]
    side_by_side = evaluate_plan(problem, grand, sum(s.modules for s in separate), recourse)
    joint = solve_lshaped(problem, grand, recourse)
    assert joint.objective <= side_by_side.objective + 1e-9
