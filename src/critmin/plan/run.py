"""A plan run: every coalition's optimal plan, the value measures (EVPI, VSS, CVaR premium), the value of
cooperation and its Shapley split, the marginal value per dollar of every option, and the shortlist.

All money in MUSD; second-stage costs relative to the no-event scenario without a plan (docs/plan.md).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from critmin.market.lp import StepNumbers
from critmin.plan import cooperation, measures
from critmin.plan.problem import INSTRUMENTS, PlanProblem, build_problem, offtake_payouts
from critmin.plan.schema import Plan, ProjectOption
from critmin.plan.solve import (
    Coalition,
    Recourse,
    Solution,
    coalition,
    evaluate_plan,
    recourse_for,
    solve_lshaped,
    solve_plan,
)
from critmin.world.model import World

Progress = Callable[[str, int, int], None]


@dataclasses.dataclass
class PlanRun:
    """Everything a plan run found: each coalition's solution, the value measures' solutions, and the option
    table (money in MUSD; second-stage costs relative to the no-event scenario without a plan)."""

    plan: Plan
    problem: PlanProblem
    solutions: dict[frozenset, Solution]  # every coalition (the empty one: no plan)
    wait_and_see: Solution
    mean_value_plan: Solution  # the mean-value problem's plan, evaluated on every scenario (EEV)
    risk_neutral: Solution  # the grand coalition's plan at λ = 0
    separate_plans: Solution  # the players' stand-alone plans carried out side by side
    options: pd.DataFrame  # one row per option: chosen modules, instrument, cost, marginal value per MUSD
    frontier: pd.DataFrame  # the grand coalition's optimum per λ: expected cost against CVaR
    wall_s: float

    @property
    def players(self) -> list[str]:
        return [p.id for p in self.plan.players]

    @property
    def joint(self) -> Solution:
        return self.solutions[frozenset(self.players)]

    @property
    def no_plan(self) -> Solution:
        return self.solutions[frozenset()]

    @property
    def evpi(self) -> float:
        return measures.evpi(self.joint.objective, self.wait_and_see.objective, self._tolerance)

    @property
    def vss(self) -> float:
        return measures.vss(self.mean_value_plan.objective, self.joint.objective, self._tolerance)

    @property
    def cvar_premium(self) -> float:
        return measures.cvar_premium(self.joint.expected_musd, self.risk_neutral.expected_musd, self._tolerance)

    @property
    def _tolerance(self) -> float:
        """The solves stop at the plan's relative gap: differences within it are not evidence of anything."""
        return self.plan.gap

    def saving(self) -> dict[frozenset, float]:
        """Each coalition's saving: the objective without a plan less its own optimum (MUSD)."""
        none = self.no_plan.objective
        return {c: none - s.objective for c, s in self.solutions.items()}

    @property
    def shapley(self) -> dict[str, float]:
        return cooperation.shapley_values(self.players, self.saving())

    @property
    def joint_saving(self) -> float:
        """Value of cooperation (MUSD): every player's stand-alone plan carried out side by side, less the
        joint optimum. Never negative: the joint problem can always choose the separate plans together."""
        return self.separate_plans.objective - self.joint.objective

    @property
    def superadditivity(self) -> list:
        scale = max(abs(self.no_plan.objective), abs(self.joint.objective), 1.0)
        return cooperation.superadditivity_violations(self.players, self.saving(), tolerance=self.plan.gap * scale)


def run_plan(world: World, plan: Plan, progress: Progress | None = None) -> PlanRun:
    """Build the problem, price the offtakes, and solve every coalition and the value measures."""
    started = time.perf_counter()
    problem = build_problem(world, plan, progress)
    recourse = price_offtakes(problem)
    players = [p.id for p in plan.players]
    sets = cooperation.coalitions(players)
    solutions: dict[frozenset, Solution] = {}
    for k, members in enumerate(sets):
        who = coalition(problem, sorted(members))
        if members:
            solutions[members] = _best_plan(problem, who, solutions)
        else:
            solutions[members] = evaluate_plan(problem, who, np.zeros(problem.cost.shape), recourse, "no plan")
        if progress:
            progress("coalitions", k + 1, len(sets))
    grand = coalition(problem, players)
    grand_recourse = recourse_for(problem, grand)
    wait_and_see = solve_lshaped(problem, grand, grand_recourse, anticipative=True)
    risk_neutral = solve_plan(problem, grand, grand_recourse, risk_weight=0.0)
    mean = Recourse(problem, grand, [_mean_numbers(problem)])
    mean_plan = solve_lshaped(problem, grand, mean, probability=np.ones(1))
    eev = evaluate_plan(problem, grand, mean_plan.modules, grand_recourse, "mean-value plan")
    if progress:
        progress("measures", 1, 1)
    joint = solutions[frozenset(players)]
    side_by_side = sum(solutions[frozenset([p])].modules for p in players)
    # the stand-alone plans as their players would run them: each its own stock, no pool
    apart = dataclasses.replace(grand, pools=())
    separate = evaluate_plan(problem, apart, side_by_side, recourse_for(problem, apart), "separate plans side by side")
    options = _option_table(problem, grand, joint, grand_recourse, progress)
    frontier = _frontier(problem, grand, grand_recourse, {0.0: risk_neutral, plan.risk_weight: joint})
    if progress:
        progress("frontier", 1, 1)
    return PlanRun(plan, problem, solutions, wait_and_see, eev, risk_neutral, separate, options, frontier,
                   time.perf_counter() - started)  # fmt: skip


FRONTIER_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


def _frontier(problem, who, recourse, known: dict[float, Solution]) -> pd.DataFrame:
    """The cost-risk frontier: the grand coalition's plan for each λ in FRONTIER_WEIGHTS (and the plan's own),
    its expected cost (public + second stage) and the CVaR of its second-stage cost (MUSD)."""
    rows = []
    for lam in sorted({*FRONTIER_WEIGHTS, *known}):
        solution = known.get(lam) or solve_plan(problem, who, recourse, risk_weight=lam)
        rows.append({"risk_weight": lam, "expected_musd": solution.expected_musd, "cvar_musd": solution.cvar_musd,
                     "objective_musd": solution.objective, "public_musd": solution.public_musd,
                     "modules": round(float(solution.x.sum()))})  # fmt: skip
    return pd.DataFrame(rows)


def _best_plan(problem: PlanProblem, who: Coalition, solved: dict[frozenset, Solution]) -> Solution:
    """A coalition's plan: the better of pooling its stocks (when it has a pool) and not, and never worse than
    its members' own plans carried out side by side (a choice it always has: the budget is pooled, and keeping
    stocks apart is allowed). Solves stop at the plan's gap, so without this last candidate a joint plan could
    come out a fraction of that gap worse than the separate ones."""
    apart = dataclasses.replace(who, pools=())
    candidates = [solve_plan(problem, who)]
    if who.pools:
        candidates.append(solve_plan(problem, apart))
    singles = [solved.get(frozenset([p])) for p in who.players]
    if len(who.players) > 1 and all(singles):
        side_by_side = sum(s.modules for s in singles)
        if np.nansum(np.where(side_by_side > 0, problem.cost, 0) * side_by_side) <= who.budget_musd + 1e-9:
            candidates.append(evaluate_plan(problem, apart, side_by_side, recourse_for(problem, apart),
                                            "members' plans side by side"))  # fmt: skip
    best = min(candidates, key=lambda c: c.objective)
    solves = candidates[: 1 + bool(who.pools)]  # their bounds hold for the coalition's problem (pooled or not)
    bound = min(min(c.lower_bound for c in solves), best.objective)
    return dataclasses.replace(best, lower_bound=bound, iterations=sum(c.iterations for c in solves))


def price_offtakes(problem: PlanProblem) -> Recourse:
    """Put each offtake's expected payout (from the scenarios' prices without a plan) into the problem's
    costs; returns the no-plan coalition's second stage (solved once here)."""
    recourse = recourse_for(problem, coalition(problem, []))
    column = INSTRUMENTS.index("offtake")
    payouts = offtake_payouts(problem, _floor_prices(problem, recourse))
    problem.cost[:, column] = np.where(np.isfinite(problem.cost[:, column]), payouts, np.inf)
    return recourse


def _floor_prices(problem: PlanProblem, recourse: Recourse) -> np.ndarray:
    """Scenario x step x option prices (USD/kg) at each offtake's floor market, without a plan."""
    m, steps = problem.lp.num_row, len(problem.step_starts)
    rows = problem.floor_rows
    out = np.zeros((len(problem.numbers), steps, len(rows)))
    x = np.zeros(len(problem.options))
    for s in range(len(problem.numbers)):
        dual = recourse.solve(s, x)[2]
        for t in range(steps):
            out[s, t] = np.where(rows >= 0, dual[t * m + np.maximum(rows, 0)], np.nan)
    return out


def _mean_numbers(problem: PlanProblem) -> list[StepNumbers]:
    """The mean-value scenario: every step's numbers averaged over the scenarios with their probabilities."""
    p = problem.probability
    out = []
    for t in range(len(problem.step_starts)):
        steps = [s[t] for s in problem.numbers]
        fields = {}
        for f in ("col_lower", "col_upper", "cost", "row_lower", "row_upper", "offset"):
            stack = np.stack([getattr(s, f) for s in steps])
            finite = np.isfinite(stack).all(axis=0)
            fields[f] = np.where(finite, np.tensordot(p, np.where(finite, stack, 0.0), axes=1), stack[0])
        out.append(StepNumbers(hessian=None, **fields))
    return out


def _option_table(problem: PlanProblem, who: Coalition, joint: Solution, recourse: Recourse, progress) -> pd.DataFrame:
    """Per option: what the joint plan takes, and the marginal value per MUSD of one module more (or less, for
    a chosen option), from re-evaluating the plan with that module toggled."""
    plan = problem.plan
    rows = []
    for o, option in enumerate(plan.options):
        chosen = joint.modules[o]
        admitted = np.isfinite(problem.cost[o])
        cheapest = int(np.argmin(np.where(admitted, problem.cost[o], np.inf)))
        instrument = int(np.argmax(chosen)) if chosen.sum() > 0 else cheapest
        toggled = joint.modules.copy()
        if chosen.sum() > 0:
            toggled[o, instrument] -= 1
            other = evaluate_plan(problem, who, toggled, recourse)
            value = other.objective - joint.objective  # what the last module saves
        else:
            toggled[o, cheapest] += 1
            other = evaluate_plan(problem, who, toggled, recourse)
            value = joint.objective - other.objective  # what a first module would save
        unit_cost = float(problem.cost[o, instrument])
        lead = getattr(option, "lead_time_months", 0.0)
        rows.append({
            "option": option.id, "kind": option.kind, "owner": option.owner, "region": option.region,
            "product": option.product, "modules": round(float(chosen.sum())), "modules_max": option.modules,
            "instrument": INSTRUMENTS[instrument] if chosen.sum() > 0 else "", "cheapest_instrument":
            INSTRUMENTS[cheapest], "public_cost_musd": float(np.nansum(np.where(chosen > 0, problem.cost[o], 0) *
                                                                          chosen)),
            "cost_per_module_musd": unit_cost, "marginal_value_musd": float(value),
            "value_per_musd": float(value / unit_cost) if unit_cost > 0 else float("nan"),
            "first_output": (_add_months(plan.start, lead) if isinstance(option, ProjectOption) else plan.start),
            "confidence": option.confidence, "source": option.source,
        })  # fmt: skip
        if progress:
            progress("options", o + 1, len(plan.options))
    return pd.DataFrame(rows)


def _add_months(day: dt.date, months: float) -> dt.date:
    return day + dt.timedelta(days=round(months * 30.4375))


def shortlist(run: PlanRun) -> pd.DataFrame:
    """The options of the joint plan ranked by marginal value per MUSD of their last module, for the
    framework's selection window (``plan.deadline_months``), with the date each first delivers."""
    table = run.options[run.options["modules"] > 0].copy()
    table = table.sort_values("value_per_musd", ascending=False, na_position="last").reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table[["rank", "option", "owner", "instrument", "modules", "public_cost_musd", "value_per_musd",
                  "first_output"]]  # fmt: skip
