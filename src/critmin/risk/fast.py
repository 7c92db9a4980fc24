"""The fast evaluator: all draws of a chunk stepped through the months together, cleared in numpy where a
simplex basis can be re-used, and by HiGHS where it cannot.

Same world, same equations, same monthly dynamics as the exact engine, by construction: each month's step
data comes from the engine's own builders (:func:`critmin.simulate.loop.step_data`, the shock handlers, the
sparse LP's :meth:`~critmin.market.lp.StepLP.step_numbers`) and the state is carried by the engine's own
:func:`~critmin.simulate.loop.carry`. What is different is how a month is cleared and how much is cleared:

- **Shared prefix.** A draw is the null path (no shock) until its first shock starts; it joins the batch then,
  from the null path's state and basis. A draw with no event in the horizon is the null path throughout, and
  costs nothing beyond it.
- **Bunching** (:mod:`critmin.market.basis`). Month by month, every active draw is checked, in one batch per
  basis, against the basis it ended the last month with: one sparse LU per basis gives, for all of them at
  once, the vertex and the duals, and whether the basis is still primal and dual feasible. If it is, that is
  the optimum HiGHS would report from the same basis (it would need no pivots); prices are the duals.
- **Exact fallback per step.** A draw whose basis is no longer optimal is solved by HiGHS from that basis.

Linear (QP) curves have no basis to re-use: the chunk then falls back to the exact engine, with a note in the
result. The fast-versus-exact test (tests/test_risk_fast.py) checks prices, shortfalls and TTS/TTR on sampled
draws.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict

import numpy as np
import pandas as pd

from critmin.api.world import element_units
from critmin.market.basis import FactoredBasis, solved_status
from critmin.market.data import values_in
from critmin.risk.chunk import ChunkResult, ratio_histogram
from critmin.risk.evaluate import FROM_SUMMARY, OUTCOME_COLUMNS, evaluate_chunk_exact
from critmin.risk.sample import Draws, to_scenario
from critmin.simulate.baseline import PROCESS_CACHE, MemoryCache, StoreCache
from critmin.simulate.calendar import month_starts
from critmin.simulate.draws import shared_model
from critmin.simulate.handlers import compile_shocks
from critmin.simulate.loop import carry, step_data
from critmin.simulate.state import initial_state
from critmin.simulate.summary import SummaryGrid, disruption_start, price_products, summary_table
from critmin.world.model import World

MARKET_SHOCKS = ("export_control", "outage", "tariff", "demand_shift")  # act only from their start
_MODELS: dict = {}  # this process's path models: a worker's chunks share one
FACTORED_KEPT = 64  # factorised bases kept (least recently used dropped): about 2 MB each on the bundled world


@dataclasses.dataclass
class _Path:
    """One path in the batch: its scenario, compiled shocks, state, current basis and recorded months."""

    scenario: object
    compiled: list
    state: object
    basis: bytes  # the key of the basis the path ended last month with (for the batch check)
    highs_basis: object  # that basis as HiGHS gave it (to restart from, as the time loop does)
    prices: list  # the path's price array per month, for the lagged substitution (None once past the lag)
    short: list  # region x element shortfall per month
    ratio: list  # region x price-product ratio to the baseline per month


class _Bases:
    """Bases met so far, by key: the basis as arrays, how often it was re-used, and its factorisation (the
    least recently used dropped)."""

    def __init__(self, lp):
        self.lp, self.status, self.hits, self.factored = lp, {}, {}, OrderedDict()

    def after_solve(self, solver, x: np.ndarray, numbers) -> bytes:
        """The key of the basis the solver has just ended with."""
        status = solved_status(
            solver.h.getBasicVariables()[1], x, self.lp.matrix @ x, numbers.col_lower, numbers.col_upper,
            numbers.row_lower, numbers.row_upper,
        )  # fmt: skip
        key = status.key
        if key not in self.status:
            self.status[key], self.hits[key] = status, 0
        return key

    def factor(self, key: bytes) -> FactoredBasis:
        if key in self.factored:
            self.factored.move_to_end(key)
            return self.factored[key]
        factored = FactoredBasis(self.lp.matrix, self.status[key])
        self.factored[key] = factored
        if len(self.factored) > FACTORED_KEPT:
            self.factored.popitem(last=False)
        return factored


def first_shock_month(scenario, dates) -> int | None:
    """The month a draw leaves the null path: its first market shock's start (any other shock type counts
    from month 0); None when it has no shock."""
    if not scenario.shocks:
        return None
    months = []
    for shock in scenario.shocks:
        if shock.type not in MARKET_SHOCKS:
            return 0
        months.append(sum(d <= shock.start for d in dates) - 1)  # the month the shock starts in
    return max(0, min(months))


def evaluate_chunk_fast(
    world: World, draws: Draws, *, cache: MemoryCache | StoreCache | None = PROCESS_CACHE, keep_prices: bool = False
) -> ChunkResult:
    """A chunk of draws through the fast evaluator: the outcomes and histogram of
    :func:`critmin.risk.evaluate.evaluate_chunk_exact`, with engine counters in ``stats``."""
    ids = np.sort(draws.table["draw"].unique())
    by_draw = dict(tuple(draws.table.groupby("draw")))
    null = to_scenario(by_draw[ids[0]].iloc[:0], draws.model, name=f"{draws.model.name}-null")
    # a draw where no event occurs is the null path: no scenario of its own
    occurs = draws.table.groupby("draw")["occurs"].any()
    scenarios = [to_scenario(by_draw[d], draws.model) if occurs.get(d, False) else null for d in ids]
    if null.market.curves != "stepwise":
        result = evaluate_chunk_exact(world, draws, cache=cache, keep_prices=keep_prices)
        result.notes.append(
            "linear (QP) supply curves: no simplex basis to re-use, so the fast engine ran the exact engine"
        )
        return result
    model, baseline, _ = shared_model(world, [null, *[s for s in scenarios if s is not null]], cache, _MODELS)
    dates = month_starts(null.start, null.end)
    lp, solver = model.solver.lp, model.solver
    content = model.content.reindex(model.inputs.products).fillna(0.0)
    price_of = price_products(model.content)
    elements = list(price_of)
    products = model.inputs.products
    price_at = [products.index(price_of[e]) for e in elements]
    content_pe = content[elements].to_numpy()
    bases = _Bases(lp)
    start = lp.step_numbers(model.base)  # the reference step, re-solved from its own basis: no pivots
    solver.restart(model.start_basis)
    solver.load(start)
    start_key = bases.after_solve(solver, solver.run()[0], start)
    start_highs = solver.basis()
    lifetime = null.dynamics.product_lifetime_yr
    lag = null.dynamics.substitution_lag_months
    base_price = [values_in(s.price, "region", "product") for s in baseline.steps]

    def new_path(scenario):
        state = initial_state(model.base, model.content_da, lifetime)
        compiled = compile_shocks(scenario.shocks, model.resolver, model.base)
        return _Path(scenario, compiled, state, start_key, start_highs, [], [], [])

    joins = [first_shock_month(s, dates) for s in scenarios]
    memo: dict = {}
    paths: dict[int, _Path] = {-1: new_path(null)}
    stats = {"engine": "fast", "draws": len(scenarios), "event_draws": sum(j is not None for j in joins),
             "steps": 0, "steps_shared": 0, "bases_reused": 0, "highs_solves": 0}  # fmt: skip
    for i, date in enumerate(dates):
        for k, join in enumerate(joins):
            if join == i:  # the draw leaves the null path: it starts from the null path's state and basis
                ref = paths[-1]
                state = dataclasses.replace(ref.state)
                compiled = [_compiled(shock, model, memo) for shock in scenarios[k].shocks]
                paths[k] = _Path(scenarios[k], compiled, state, ref.basis, ref.highs_basis, list(ref.prices), [], [])
        active = list(paths)
        data = {p: step_data(model, paths[p].scenario, paths[p].compiled, baseline, paths[p].state, i, date)
                for p in active}  # fmt: skip
        numbers = {p: lp.step_numbers(data[p]) for p in active}
        # paths with the same basis and the same numbers this month (a ban or a licence wait that started in
        # the same month, whatever its later severity) are cleared once
        twins = {p: (id(paths[p].highs_basis), _digest(numbers[p])) for p in active}
        leader: dict = {}
        for p in active:
            leader.setdefault(twins[p], p)
        follows = {p: leader[twins[p]] for p in active}
        unique = [p for p in active if follows[p] == p]
        solved = {}
        for key in {paths[p].basis for p in unique}:
            group = [p for p in unique if paths[p].basis == key]
            if len(group) == 1 and not bases.hits[key]:
                continue  # a basis new last month, on one path: likely to move again, and HiGHS checks it as fast
            stacked = [np.stack([getattr(numbers[p], f) for p in group]) for f in _FIELDS]
            try:
                sol = bases.factor(key).solve(*stacked)
            except RuntimeError:  # a numerically singular factorisation: leave these paths to HiGHS
                continue
            for j, p in enumerate(group):
                if sol.optimal[j]:
                    solved[p] = (sol.x[j], sol.row_dual[j], float(sol.objective[j]))
                    bases.hits[key] += 1
        stats["steps"] += len(active)
        stats["steps_shared"] += len(active) - len(unique)
        stats["bases_reused"] += len(solved)
        for p in unique:
            if p not in solved:  # the basis left its optimum (or was not checked): HiGHS pivots on from it
                solver.restart(paths[p].highs_basis)
                solver.load(numbers[p])
                solved[p] = solver.run()
                paths[p].highs_basis = solver.basis()
                before, paths[p].basis = paths[p].basis, bases.after_solve(solver, solved[p][0], numbers[p])
                if paths[p].basis == before:
                    bases.hits[before] += 1  # HiGHS kept it: likely to hold next month too, so worth checking
                stats["highs_solves"] += 1
        results = {p: solver.result(*solved[p], data[p], numbers[p]) for p in unique}
        for p in active:
            path = paths[p]
            path.basis, path.highs_basis = paths[follows[p]].basis, paths[follows[p]].highs_basis
            result = results[follows[p]]
            price = values_in(result.price, "region", "product")
            short = np.nan_to_num(values_in(result.shortfall, "region", "sector", "product")).sum(axis=1)
            path.prices.append(result.price)
            path.short.append(short @ content_pe)
            with np.errstate(divide="ignore", invalid="ignore"):
                path.ratio.append(price[:, price_at] / base_price[i][:, price_at])
            carry(
                model,
                path.scenario,
                baseline,
                path.state,
                result,
                data[p],
                i,
                path.prices[i - lag] if i >= lag else None,
            )
            if i >= lag:
                path.prices[i - lag] = None  # read for the last time: a path keeps only the lag's window
    result = _reduce(world, draws, ids, scenarios, joins, paths, baseline, content_pe, elements, dates, stats)
    if not keep_prices:
        result.price_ratio = None
    return result


# what an export control's compiled masks do not depend on: its dates, magnitudes and labels
_NOT_IN_MASKS = {"start", "end", "name", "source", "magnitude", "approval", "military_share", "lag_days"}


def _compiled(shock, model, memo: dict):
    """An export control compiled once per selector (many draws share one: only dates and severity differ);
    other shocks compiled as the loop compiles them."""
    if shock.type != "export_control":
        return compile_shocks([shock], model.resolver, model.base)[0]
    approvals = tuple(a.destinations.model_dump_json() for a in shock.approval)
    key = (shock.model_dump_json(exclude=_NOT_IN_MASKS), approvals)
    if key not in memo:
        memo[key] = compile_shocks([shock], model.resolver, model.base)[0]
    return dataclasses.replace(memo[key], shock=shock)


def _digest(numbers) -> int:
    return hash(b"".join(getattr(numbers, f).tobytes() for f in _FIELDS))


_FIELDS = ("col_lower", "col_upper", "cost", "row_lower", "row_upper")


def _reduce(world, draws, ids, scenarios, joins, paths, baseline, content_pe, elements, dates, stats):
    """Outcome rows and the price-ratio histogram of every draw (null-path months filled in)."""
    null = paths[-1]
    regions = list(baseline.steps[0].price.region.values)
    base_short, base_demand = [], []
    for step in baseline.steps:
        short = np.nan_to_num(values_in(step.shortfall, "region", "sector", "product")).sum(axis=1)
        used = np.nan_to_num(values_in(step.consumption, "region", "sector", "product")).sum(axis=1)
        base_short.append(short @ content_pe)
        base_demand.append((short + used) @ content_pe)
    base_short = np.stack(base_short, axis=-1)
    base_demand = np.stack(base_demand, axis=-1)
    grid = SummaryGrid(regions, elements, elements, dict(zip(elements, elements, strict=True)), dates)
    threshold = null.scenario.dynamics.shortfall_threshold_pct
    months = len(dates)
    ratio_all = np.empty((len(scenarios), len(regions), len(elements), months))
    null_short, null_ratio = np.stack(null.short, axis=-1), np.stack(null.ratio, axis=-1)
    null_summary = None
    frames = []
    for k, scenario in enumerate(scenarios):
        join = joins[k]
        if join is None:  # the null path throughout: one summary and one ratio array for all such draws
            if null_summary is None:
                null_summary = _summary(null_short, null_ratio, base_short, base_demand, grid, null.scenario, dates,
                                        threshold)  # fmt: skip
            summary, ratio_all[k] = null_summary, null_ratio
        else:
            short = np.concatenate([null_short[..., :join], np.stack(paths[k].short, axis=-1)], axis=-1)
            ratio_all[k] = np.concatenate([null_ratio[..., :join], np.stack(paths[k].ratio, axis=-1)], axis=-1)
            summary = _summary(short, ratio_all[k], base_short, base_demand, grid, scenario, dates, threshold)
        frames.append(summary.assign(draw=ids[k]))
    summary = pd.concat(frames, ignore_index=True)
    outcomes = summary.rename(columns={v: k for k, v in FROM_SUMMARY.items()})
    position = np.searchsorted(ids, outcomes["draw"].to_numpy())
    outcomes = outcomes.assign(
        weight=np.asarray(draws.weights, dtype=float)[position],
        shortfall_unit=outcomes["element"].map(element_units(world)).fillna("t"),
    )
    histogram = ratio_histogram(ratio_all, np.asarray(draws.weights, dtype=float), regions, elements)
    return ChunkResult(outcomes[OUTCOME_COLUMNS].reset_index(drop=True), histogram, stats, price_ratio=ratio_all)


def _summary(short, ratio, base_short, base_demand, grid, scenario, dates, threshold) -> pd.DataFrame:
    """The summary rows of one path (short: region x element x month; ratio: region x element x month)."""
    return summary_table(short, base_short, base_demand, ratio, grid, disruption_start(scenario, dates), threshold)
