"""Solve a plan's two-stage program for one coalition: the extensive form (one MIP with every scenario's
horizon LP) for small cases, and the L-shaped method (Benders, one cut per scenario) for large ones.

Objective (MUSD): ``public cost + E[Q] + λ·CVaR_α[Q]``, where ``Q_s`` is scenario s's second-stage cost (the
horizon LP's objective) less that of the no-event scenario with no plan, and CVaR in the Rockafellar–Uryasev
form (``η + E[(Q - η)+] / (1 - α)``); public cost is deterministic and counted once. The first stage
chooses, per option, whole modules and the instrument financing each, within the coalition's budget.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import highspy
import numpy as np
import scipy.sparse as sp

from critmin.errors import SolveError
from critmin.market.limits import SolveLimits, SolveStopped, current_limits
from critmin.market.lp import StepNumbers
from critmin.market.step_solver import STOPPED
from critmin.plan import measures
from critmin.plan.problem import INSTRUMENTS, PlanProblem
from critmin.plan.second_stage import KUSD_PER_MUSD, Layout, layout, recourse_numbers

MAX_ITERATIONS = 60
EXTENSIVE_MAX_COLUMNS = 40_000  # method "auto": the extensive form up to this many scenario columns (one MIP)


class PlanSolveError(SolveError, RuntimeError):
    """HiGHS did not reach an optimum of a plan's master or scenario problem."""


@dataclasses.dataclass(frozen=True)
class Coalition:
    players: frozenset[str]
    available: np.ndarray  # per option: may the coalition take it
    budget_musd: float
    pools: tuple[dict, ...]  # active pools: option indices and the sharing rule


def coalition(problem: PlanProblem, players: Sequence[str]) -> Coalition:
    """The options, budget and pools of the players planning together (a pool is active when two or more of
    its members are in)."""
    plan, members = problem.plan, frozenset(players)
    available = np.array([o.owner in members for o in plan.options])
    budgets = {p.id: p.budget_musd for p in plan.players}
    budget = sum(budgets[p] for p in members)
    if plan.joint_budget_musd is not None and len(members) == len(plan.players) > 1:
        budget = plan.joint_budget_musd
    pools = []
    for pool in plan.pools:  # a pool is held jointly only when two or more members put a stock into it
        options = [i for i, o in enumerate(plan.options) if getattr(o, "pool", None) == pool.id and available[i]]
        if len({plan.options[i].owner for i in options} & set(pool.members)) >= 2:
            pools.append({"options": options, "max_share": pool.max_share})
    return Coalition(members, available, budget, tuple(pools))


class Recourse:
    """The second-stage LPs of one coalition, one HiGHS instance per scenario, kept warm between evaluations
    (only the coupling rows' bounds change). A scenario's first solve starts from the basis the first scenario
    solved ended with (the same structure, other numbers: about 3x fewer pivots than from scratch)."""

    def __init__(self, problem: PlanProblem, who: Coalition, numbers: list[list[StepNumbers]] | None = None):
        self.problem = problem
        self.layout: Layout = layout(problem.lp, len(problem.step_starts), problem.options, who.available,
                                     list(who.pools))  # fmt: skip
        self.numbers = [recourse_numbers(self.layout, s, problem.options) for s in (numbers or problem.numbers)]
        self._highs: dict[int, highspy.Highs] = {}
        self._seed: list = []  # the first solved basis, shared by views
        self.threads = problem.plan.threads

    def view(self, who: Coalition) -> Recourse:
        """The same LPs (and their warm HiGHS instances) for another coalition with the same pools: only the
        right-hand sides of the coupling rows differ."""
        other = copy.copy(self)
        other.layout = layout(self.problem.lp, len(self.problem.step_starts), self.problem.options, who.available,
                              list(who.pools))  # fmt: skip
        return other

    def _solver(self, s: int) -> highspy.Highs:
        if s not in self._highs:
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            lp, n, a = highspy.HighsLp(), self.numbers[s], self.layout.matrix
            lp.num_col_, lp.num_row_ = a.shape[1], a.shape[0]
            lp.col_cost_, lp.col_lower_, lp.col_upper_ = n.cost, n.col_lower, n.col_upper
            lp.row_lower_, lp.row_upper_ = n.row_lower, n.row_upper
            lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
            lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
            h.passModel(lp)
            if self._seed:
                h.setBasis(self._seed[0])
            self._highs[s] = h
        return self._highs[s]

    def solve(self, s: int, x: np.ndarray, limits: SolveLimits | None = None) -> tuple[float, np.ndarray, np.ndarray]:
        """Scenario ``s`` at first-stage modules ``x``: its cost (kUSD, the LP's objective), the cost's
        subgradient in ``x`` (kUSD per module) and the row duals. Stops at the run's limits (``limits``, else
        this thread's: a server job's deadline or cancel) with SolveStopped."""
        limits = limits or current_limits()
        h, lay = self._solver(s), self.layout
        h.setOptionValue("time_limit", limits.seconds_left())
        rhs = lay.coupling @ x
        rows = np.arange(lay.coupling_start, lay.coupling_start + len(rhs), dtype=np.int32)
        h.changeRowsBounds(len(rows), rows, np.full(len(rows), -np.inf), rhs)
        h.run()
        status = h.getModelStatus()
        if status in STOPPED:
            raise SolveStopped(limits.why_stopped(float("inf")))
        if not self._seed and status == highspy.HighsModelStatus.kOptimal:
            self._seed.append(h.getBasis())
        if status != highspy.HighsModelStatus.kOptimal:
            raise PlanSolveError(f"scenario {s}: HiGHS returned {h.modelStatusToString(status)}")
        dual = np.asarray(h.getSolution().row_dual)
        gradient = lay.coupling.T @ dual[lay.coupling_start :]
        return h.getInfo().objective_function_value, gradient, dual

    def columns(self, s: int, x: np.ndarray) -> np.ndarray:
        """Scenario ``s``'s horizon LP solution at ``x`` (every column: step blocks, then option columns)."""
        self.solve(s, x)
        return np.asarray(self._solver(s).getSolution().col_value)

    def evaluate(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every scenario at ``x``: costs (kUSD) and subgradients (scenario x option, kUSD per module)."""
        return self.solve_each([x] * len(self.numbers))

    def solve_each(self, xs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Scenario s at ``xs[s]``, every s: costs and subgradients. With ``threads`` > 1 the scenarios are
        solved that many at a time (each has its own HiGHS instance; HiGHS releases the GIL while it solves),
        after the first, whose basis seeds the others."""
        limits = current_limits()  # the pool's threads do not see this thread's context
        first = self.solve(0, xs[0], limits)[:2]
        rest = range(1, len(xs))
        if self.threads > 1 and len(xs) > 2:
            with ThreadPoolExecutor(self.threads) as pool:
                others = list(pool.map(lambda s: self.solve(s, xs[s], limits)[:2], rest))
        else:
            others = [self.solve(s, xs[s], limits)[:2] for s in rest]
        costs, grads = zip(first, *others, strict=True)
        return np.array(costs), np.stack(grads)


@dataclasses.dataclass
class Solution:
    """A coalition's plan: modules per option and instrument, and what it costs per scenario (MUSD)."""

    players: frozenset[str]
    modules: np.ndarray  # options x INSTRUMENTS, whole modules
    public_musd: float
    second_stage_musd: np.ndarray  # per scenario, relative to the no-event scenario without a plan
    probability: np.ndarray
    risk_weight: float
    alpha: float
    lower_bound: float
    method: str
    iterations: int
    wall_s: float
    _objective: float | None = None  # set where public cost differs by scenario (wait-and-see)

    @property
    def x(self) -> np.ndarray:
        return self.modules.sum(axis=1)

    @property
    def total_musd(self) -> np.ndarray:
        """F per scenario: public cost plus second-stage cost."""
        return self.public_musd + self.second_stage_musd

    @property
    def objective(self) -> float:
        """Expected public and second-stage cost plus λ·CVaR_α of the second-stage cost (MUSD)."""
        if self._objective is not None:
            return self._objective
        return objective(self.public_musd, self.second_stage_musd, self.probability, self.risk_weight, self.alpha)

    @property
    def expected_musd(self) -> float:
        return self.public_musd + measures.expected(self.second_stage_musd, self.probability)

    @property
    def cvar_musd(self) -> float:
        return measures.cvar(self.second_stage_musd, self.probability, self.alpha)

    @property
    def gap(self) -> float:
        """Relative optimality gap: (objective - lower bound) / max(|objective|, 1 MUSD)."""
        return max(0.0, self.objective - self.lower_bound) / max(abs(self.objective), 1.0)


def recourse_for(problem: PlanProblem, who: Coalition) -> Recourse:
    """The coalition's second stage, sharing LPs with every coalition of the same pools (kept on the
    problem)."""
    cache = problem.__dict__.setdefault("_recourses", {})
    key = tuple((tuple(p["options"]), p["max_share"]) for p in who.pools)
    if key not in cache:
        cache[key] = Recourse(problem, who)
    return cache[key].view(who)


def base_cost(problem: PlanProblem) -> float:
    """The no-event scenario's cost without a plan (kUSD); scenario costs are reported relative to it (the
    scenario with the least cost when no draw is event-free)."""
    if getattr(problem, "_base_kusd", None) is None:
        nobody = coalition(problem, [])
        costs, _ = recourse_for(problem, nobody).evaluate(np.zeros(len(problem.options)))
        problem._base_kusd = float(costs.min())
    return problem._base_kusd


def _pairs(problem: PlanProblem, who: Coalition) -> list[tuple[int, int]]:
    """(option, instrument) pairs the coalition may choose."""
    finite = np.isfinite(problem.cost)
    return [(o, i) for o in range(len(problem.options)) for i in range(len(INSTRUMENTS)) if finite[o, i]
            and who.available[o]]  # fmt: skip


def _rows_matrix(rows, n_cols):
    r, c, v, lo, hi = [], [], [], [], []
    for k, (idx, val, low, high) in enumerate(rows):
        r.append(np.full(len(idx), k)), c.append(idx), v.append(val)
        lo.append(low), hi.append(high)
    a = sp.csr_matrix((np.concatenate(v), (np.concatenate(r), np.concatenate(c))), shape=(len(rows), n_cols))
    return a, np.array(lo, dtype=float), np.array(hi, dtype=float)


def _highs_mip(cost, lower, upper, integrality, a: sp.csr_matrix, row_lower, row_upper, mip_gap: float,
               offset: float = 0.0):  # fmt: skip
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", mip_gap)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(cost), a.shape[0]
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lower, upper
    lp.row_lower_, lp.row_upper_ = row_lower, row_upper
    lp.offset_ = offset  # the gap is relative to the objective: keep large constants out of it
    csc = a.tocsc()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = csc.indptr, csc.indices, csc.data
    limits = current_limits()
    h.setOptionValue("time_limit", limits.seconds_left())
    if integrality.any():
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                           for i in integrality]  # fmt: skip
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    if status in STOPPED:
        raise SolveStopped(limits.why_stopped(float("inf")))
    if status != highspy.HighsModelStatus.kOptimal:
        raise PlanSolveError(f"the plan's master problem: HiGHS returned {h.modelStatusToString(status)}")
    return h


def objective(public: np.ndarray | float, q: np.ndarray, probability: np.ndarray, risk_weight: float,
              alpha: float) -> float:  # fmt: skip
    """Expected public plus second-stage cost, plus λ·CVaR_α of the second-stage cost (MUSD). Public cost is
    per scenario when decisions may differ by scenario (wait-and-see)."""
    expected = float(np.sum(probability * public)) if np.ndim(public) else float(public)
    return expected + measures.expected(q, probability) + risk_weight * measures.cvar(q, probability, alpha)


def evaluate_plan(problem: PlanProblem, who: Coalition, modules: np.ndarray, recourse: Recourse | None = None,
                  method: str = "fixed") -> Solution:  # fmt: skip
    """A given plan (options x INSTRUMENTS modules) evaluated on every scenario."""
    started = time.perf_counter()
    recourse = recourse or recourse_for(problem, who)
    costs, _ = recourse.evaluate(modules.sum(axis=1))
    q = (costs - base_cost(problem)) / KUSD_PER_MUSD
    public = float(np.nansum(np.where(modules > 0, problem.cost, 0.0) * modules))
    plan = problem.plan
    value = objective(public, q, problem.probability, plan.risk_weight, plan.alpha)
    return Solution(who.players, modules, public, q, problem.probability, plan.risk_weight, plan.alpha, value,
                    method, 0, time.perf_counter() - started)  # fmt: skip


def solve_lshaped(problem: PlanProblem, who: Coalition, recourse: Recourse | None = None,
                  anticipative: bool = False, gap: float | None = None, risk_weight: float | None = None,
                  probability: np.ndarray | None = None,
                  progress: Callable[[int, float], None] | None = None) -> Solution:  # fmt: skip
    """Multi-cut L-shaped method: a MIP master over the modules with one cut per scenario and iteration
    (``θ_s ≥ Q_s(x_k) + g_s·(x − x_k)``, ``g_s`` from the duals of the coupling rows), scenario LPs
    warm-started from their last basis; stops at the plan's gap, or after MAX_ITERATIONS with the gap reported.

    ``risk_weight`` overrides the plan's λ; ``probability`` the scenarios' (with a recourse on other numbers:
    the mean-value problem). ``anticipative``: every scenario gets its own first-stage copy (perfect
    information: the wait-and-see problem behind EVPI); the solution's modules are then the
    probability-weighted mean over scenarios.
    """
    started = time.perf_counter()
    plan = problem.plan
    recourse = recourse or recourse_for(problem, who)
    n_scen = len(recourse.numbers)
    p = problem.probability if probability is None else np.asarray(probability, dtype=float)
    gap = plan.gap if gap is None else gap
    lam, alpha = (plan.risk_weight if risk_weight is None else risk_weight), plan.alpha
    base = base_cost(problem)
    pairs = _pairs(problem, who)
    nz, n_opt = len(pairs), len(problem.options)
    copies = n_scen if anticipative else 1
    option_of = np.array([o for o, _ in pairs], dtype=int)
    c_pairs = np.array([problem.cost[o, i] for o, i in pairs])
    z_cost = np.concatenate([p[k] * c_pairs for k in range(copies)]) if anticipative else c_pairs
    # columns: z (copies x pairs), eta, u (per scenario), theta (per scenario)
    eta, u0, theta0 = copies * nz, copies * nz + 1, copies * nz + 1 + n_scen
    cost = np.concatenate([z_cost, [lam], lam / (1 - alpha) * p, p])
    x_max = np.where(who.available, problem.modules, 0.0)
    floor_costs, _ = recourse.evaluate(x_max)  # more capacity never costs more: a lower bound per scenario
    lower = np.concatenate([np.zeros(copies * nz), [-np.inf], np.zeros(n_scen), (floor_costs - base) / KUSD_PER_MUSD])
    lower[theta0:] -= 1e-6 * np.maximum(1.0, np.abs(lower[theta0:]))
    upper = np.concatenate([np.tile([problem.modules[o] for o, _ in pairs], copies), np.full(1 + 2 * n_scen, np.inf)])
    integrality = np.concatenate([np.ones(copies * nz), np.zeros(1 + 2 * n_scen)]).astype(np.int32)
    rows = []
    for k in range(copies):
        zk = k * nz + np.arange(nz)
        rows.append((zk, c_pairs, -np.inf, who.budget_musd))
        for o in range(n_opt):
            idx = zk[option_of == o]
            if len(idx):
                rows.append((idx, np.ones(len(idx)), -np.inf, problem.modules[o]))
    for s in range(n_scen):  # CVaR: u_s >= theta_s - eta
        rows.append((np.array([u0 + s, theta0 + s, eta]), np.array([1.0, -1.0, 1.0]), 0.0, np.inf))
    copy_of = np.arange(n_scen) if anticipative else np.zeros(n_scen, dtype=int)
    best, best_obj, lower_bound, it = None, np.inf, -np.inf, 0
    z = np.zeros(copies * nz)
    while it < MAX_ITERATIONS:
        it += 1
        zs = z.reshape(copies, nz)
        xs = np.stack([np.bincount(option_of, weights=zs[k], minlength=n_opt) for k in range(copies)]) if nz else (
            np.zeros((copies, n_opt)))  # fmt: skip
        costs, grads = recourse.solve_each([xs[copy_of[s]] for s in range(n_scen)])
        q, g = (costs - base) / KUSD_PER_MUSD, grads / KUSD_PER_MUSD
        public = zs @ c_pairs
        obj = objective(public[copy_of] if anticipative else public[0], q, p, lam, alpha)
        if obj < best_obj:
            best, best_obj = (zs.copy(), q, public), obj
        for s in range(n_scen):  # theta_s >= q_s + g_s . (x - x_k), x the sum of z over instruments
            idx = np.concatenate([[theta0 + s], copy_of[s] * nz + np.arange(nz)])
            x_k = xs[copy_of[s]]
            rows.append((idx, np.concatenate([[1.0], -g[s][option_of]]), q[s] - g[s] @ x_k, np.inf))
        a, lo, hi = _rows_matrix(rows, len(cost))
        h = _highs_mip(cost, lower, upper, integrality, a, lo, hi, mip_gap=gap / 10)
        lower_bound = max(lower_bound, h.getInfo().mip_dual_bound)
        if progress:
            progress(it, (best_obj - lower_bound) / max(abs(best_obj), 1.0))
        if best_obj - lower_bound <= gap * max(abs(best_obj), 1.0):
            break
        z = np.round(np.asarray(h.getSolution().col_value)[: copies * nz])
    zs, q, public = best
    modules = np.zeros((copies, *problem.cost.shape))
    for k in range(copies):
        for (o, i), value in zip(pairs, zs[k], strict=True):
            modules[k, o, i] = value
    chosen = modules[0] if not anticipative else np.tensordot(p, modules, axes=1)
    public_value = float(public[0]) if not anticipative else float(p @ public[copy_of])
    return Solution(who.players, chosen, public_value, q, p, lam, alpha, min(lower_bound, best_obj),
                    "wait-and-see" if anticipative else "lshaped", it, time.perf_counter() - started,
                    _objective=best_obj)  # fmt: skip


def solve_extensive(problem: PlanProblem, who: Coalition, recourse: Recourse | None = None,
                    risk_weight: float | None = None) -> Solution:  # fmt: skip
    """The deterministic equivalent: one MIP holding the first stage and every scenario's horizon LP (for
    small cases: its size grows with scenarios x steps x the step LP)."""
    started = time.perf_counter()
    plan = problem.plan
    recourse = recourse or recourse_for(problem, who)
    lay, n_scen, p = recourse.layout, len(recourse.numbers), problem.probability
    lam, alpha = (plan.risk_weight if risk_weight is None else risk_weight), plan.alpha
    base = base_cost(problem) / KUSD_PER_MUSD
    pairs = _pairs(problem, who)
    nz, n_opt = len(pairs), len(problem.options)
    option_of = np.array([o for o, _ in pairs], dtype=int)
    c_pairs = np.array([problem.cost[o, i] for o, i in pairs])
    ny = lay.matrix.shape[1]
    eta, u0, y0 = nz, nz + 1, nz + 1 + n_scen
    nums = recourse.numbers
    cost = np.concatenate([c_pairs, [lam], lam / (1 - alpha) * p,
                           *(p[s] * nums[s].cost / KUSD_PER_MUSD for s in range(n_scen))])  # fmt: skip
    lower = np.concatenate([np.zeros(nz), [-np.inf], np.zeros(n_scen), *(n.col_lower for n in nums)])
    upper = np.concatenate([[problem.modules[o] for o, _ in pairs], [np.inf], np.full(n_scen, np.inf),
                            *(n.col_upper for n in nums)])  # fmt: skip
    integrality = np.concatenate([np.ones(nz), np.zeros(len(cost) - nz)]).astype(np.int32)
    # first-stage rows: budget, modules per option; CVaR rows: u_s - c_s.y_s + eta >= -base
    first = [(np.arange(nz), c_pairs, -np.inf, who.budget_musd)]
    for o in range(n_opt):
        idx = np.flatnonzero(option_of == o)
        if len(idx):
            first.append((idx, np.ones(len(idx)), -np.inf, problem.modules[o]))
    for s in range(n_scen):
        used = np.flatnonzero(nums[s].cost)
        first.append((np.concatenate([[u0 + s, eta], y0 + s * ny + used]),
                      np.concatenate([[1.0, 1.0], -nums[s].cost[used] / KUSD_PER_MUSD]), -base, np.inf))  # fmt: skip
    a_first, lo_first, hi_first = _rows_matrix(first, len(cost))
    # scenario blocks: the horizon LP, its coupling rows with -coupling @ x moved to the left
    n_rows = lay.matrix.shape[0]
    z_to_x = sp.csr_matrix((np.ones(nz), (option_of, np.arange(nz))), shape=(n_opt, nz)) if nz else (
        sp.csr_matrix((n_opt, 0)))  # fmt: skip
    coupling_z = sp.vstack([sp.csr_matrix((lay.coupling_start, nz)), -(lay.coupling @ z_to_x)])
    blocks, lo_b, hi_b = [], [], []
    for s in range(n_scen):
        left = sp.hstack([coupling_z, sp.csr_matrix((n_rows, 1 + n_scen))])
        y_cols = [sp.csr_matrix((n_rows, ny)) if k != s else lay.matrix for k in range(n_scen)]
        blocks.append(sp.hstack([left, *y_cols]))
        lo_b.append(nums[s].row_lower)
        hi_b.append(nums[s].row_upper)
    a = sp.vstack([a_first, *blocks]).tocsr()
    h = _highs_mip(cost, lower, upper, integrality, a, np.concatenate([lo_first, *lo_b]),
                   np.concatenate([hi_first, *hi_b]), mip_gap=plan.gap / 10, offset=-base)  # fmt: skip
    z = np.round(np.asarray(h.getSolution().col_value)[:nz])
    modules = np.zeros(problem.cost.shape)
    for (o, i), value in zip(pairs, z, strict=True):
        modules[o, i] = value
    x = modules.sum(axis=1)
    costs, _ = recourse.evaluate(x)  # the second stage at the chosen plan, as the L-shaped method reports it
    q = costs / KUSD_PER_MUSD - base
    bound = h.getInfo().mip_dual_bound
    return Solution(who.players, modules, float(c_pairs @ z), q, p, lam, alpha, bound, "extensive", 1,
                    time.perf_counter() - started)  # fmt: skip


def solve_plan(problem: PlanProblem, who: Coalition, recourse: Recourse | None = None, **kwargs) -> Solution:
    """The plan's method: ``extensive``, ``lshaped``, or ``auto`` (the extensive form while the scenarios'
    horizon LPs hold at most EXTENSIVE_MAX_COLUMNS columns together, else L-shaped)."""
    recourse = recourse or recourse_for(problem, who)
    if not _pairs(problem, who):  # nothing to choose: the empty plan, exactly (no master, no gap)
        return evaluate_plan(problem, who, np.zeros(problem.cost.shape), recourse, "no options")
    method = problem.plan.method
    if method == "auto":
        columns = recourse.layout.matrix.shape[1] * len(recourse.numbers)
        method = "extensive" if columns <= EXTENSIVE_MAX_COLUMNS else "lshaped"
    if method == "extensive":
        return solve_extensive(problem, who, recourse, risk_weight=kwargs.get("risk_weight"))
    return solve_lshaped(problem, who, recourse, **kwargs)
