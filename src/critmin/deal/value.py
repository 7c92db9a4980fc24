"""What a deal is worth to each side: the tariff relief (GSIM welfare between the two regimes), the security
value of its cooperation measures (the reduction of the side's shortfall cost over the plan's scenarios, as a
distribution), the measures' public cost, and the break-even ally premium.

Per side, per year (MUSD/yr): GSIM's welfare change is for a year of 2024 flows; the shortfall costs are
summed over the plan's horizon and divided by its years; public cost (present value) is spread evenly over
the horizon. A side's shortfall cost is the cost of the curtailment and unserved-demand columns of its
regions in the second-stage LP (what demand lost to shortage costs its users, by the demand curves and VOLL).

The break-even ally premium is the highest premium (% of price) the side could pay on its rare-earth purchases
from allies before the package costs more than the tariff relief and the security value are worth:
``(tariff relief + expected security value - cost of measures) / allied purchases``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pandas as pd

from critmin.deal.load import DealError
from critmin.deal.schema import Deal
from critmin.plan import load_plan, measures
from critmin.plan.problem import INSTRUMENTS, PlanProblem, build_problem
from critmin.plan.run import price_offtakes
from critmin.plan.second_stage import KUSD_PER_MUSD
from critmin.plan.solve import coalition, recourse_for
from critmin.trade.load import load_trade_world
from critmin.trade.run import TradeRun, run_trade
from critmin.world.model import World
from critmin.world.problems import Problem

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclasses.dataclass
class DealValue:
    """Per side (MUSD/yr unless named): ``sides`` (tariff_relief, security_expected, security_cvar (the
    reduction of the CVaR of the side's shortfall cost), measures_cost, net, allied_purchases,
    break_even_premium_pct); ``distribution`` (side x quantile of the security value); ``scenarios`` (each
    scenario's probability and each side's shortfall cost without and with the measures)."""

    deal: Deal
    trade: TradeRun
    problem: PlanProblem
    sides: pd.DataFrame
    distribution: pd.DataFrame
    scenarios: pd.DataFrame


def value_deal(world: World, deal: Deal, progress: Callable[[str, int, int], None] | None = None) -> DealValue:
    """Value ``deal`` per side: GSIM between its tariff regimes, and its measures against no measures on its
    plan's scenarios (``progress(what, done, total)`` counts scenarios). Raises DealError naming the field when
    a side or measure does not match the plan."""
    plan = load_plan(deal.plan, world)
    players = {p.id: p for p in plan.players}
    problems = [Problem("deal", None, f"sides.{i}.id", f"{s.id!r} is not a player of the plan ({', '.join(players)})")
                for i, s in enumerate(deal.sides) if s.id not in players]  # fmt: skip
    if problems:
        raise DealError(problems)
    problems = check_measures(deal, plan)
    if deal.tariff_scope == "sides" and len({s.country for s in deal.sides}) < 2:
        problems.append(Problem("deal", None, "tariff_scope", "'sides' moves only the arcs between the sides, and "
                                "one side has none: name both sides, or use tariff_scope: all"))  # fmt: skip
    problems += [Problem("deal", None, f"sides.{i}.country", f"{s.country!r} is not a region of the world, so its "
                         "allied purchases cannot be read") for i, s in enumerate(deal.sides)
                 if s.ally_elements and s.country not in set(world.table("region")["id"])]  # fmt: skip
    if problems:
        raise DealError(problems)
    trade_world = load_trade_world(deal.trade_world)
    between = [s.country for s in deal.sides] if deal.tariff_scope == "sides" else None
    trade = run_trade(trade_world, deal.before, deal.after, between)
    problem = build_problem(world, plan, progress)
    price_offtakes(problem)
    modules = _modules(problem, deal)
    who = coalition(problem, [s.id for s in deal.sides])
    missing = sorted({plan.options[o].owner for o in np.flatnonzero(modules.sum(axis=1))} - set(who.players))
    if missing:
        raise DealError([Problem("deal", None, "measures", f"measures owned by {missing}, who are not sides")])
    recourse = recourse_for(problem, who)
    x = modules.sum(axis=1)
    side_columns = {s.id: _shortfall_columns(problem, recourse, players[s.id].regions) for s in deal.sides}
    n_scen = len(problem.numbers)
    without = {s.id: np.zeros(n_scen) for s in deal.sides}
    with_it = {s.id: np.zeros(n_scen) for s in deal.sides}
    purchases = {s.id: 0.0 for s in deal.sides}
    for k in range(n_scen):
        for plan_x, out in ((np.zeros_like(x), without), (x, with_it)):
            y = recourse.columns(k, plan_x)
            cost = recourse.numbers[k].cost
            for side, (cols, _) in side_columns.items():
                out[side][k] = cost[cols] @ y[cols] / KUSD_PER_MUSD
            if plan_x is not x:
                for s in deal.sides:
                    purchases[s.id] += problem.probability[k] * _allied_purchases(problem, recourse, y, s)
        if progress:
            progress("deal", k + 1, n_scen)
    years, p = plan.years, problem.probability
    welfare = trade.welfare.set_index("country")["total_musd"]
    rows, dist, per_scenario = [], [], {"scenario": problem.scenario_names, "probability": p}
    for s in deal.sides:
        saved = (without[s.id] - with_it[s.id]) / years
        cost = float(sum(np.nansum(np.where(modules[o] > 0, problem.cost[o], 0) * modules[o])
                         for o, opt in enumerate(plan.options) if opt.owner == s.id)) / years  # fmt: skip
        relief = float(welfare.get(s.country, np.nan))
        expected = measures.expected(saved, p)
        cvar = (measures.cvar(without[s.id], p, plan.alpha) - measures.cvar(with_it[s.id], p, plan.alpha)) / years
        bought = purchases[s.id] / years
        net = relief + expected - cost
        rows.append({"side": s.id, "country": s.country, "tariff_relief_musd_per_yr": relief,
                     "security_expected_musd_per_yr": expected, "security_cvar_musd_per_yr": cvar,
                     "measures_cost_musd_per_yr": cost, "net_musd_per_yr": net,
                     "allied_purchases_musd_per_yr": bought,
                     "break_even_premium_pct": 100 * net / bought if bought > 0 else np.nan})  # fmt: skip
        for q in QUANTILES:
            dist.append({"side": s.id, "quantile": q, "security_value_musd_per_yr": measures.var(saved, p, q),
                         "tariff_relief_musd_per_yr": relief})  # fmt: skip
        per_scenario[f"{s.id}_shortfall_without_musd"] = without[s.id]
        per_scenario[f"{s.id}_shortfall_with_musd"] = with_it[s.id]
    return DealValue(deal, trade, problem, pd.DataFrame(rows), pd.DataFrame(dist), pd.DataFrame(per_scenario))


def check_measures(deal: Deal, plan) -> list[Problem]:
    """The deal's measures against its plan, before anything is solved: known options, instruments the option
    admits, and at most the option's modules in all (several measures may name one option)."""
    from critmin.plan.schema import ProjectOption

    by_id = {o.id: o for o in plan.options}
    problems, total = [], {}
    for i, m in enumerate(deal.measures):
        option = by_id.get(m.option)
        if option is None:
            problems.append(Problem("deal", None, f"measures.{i}.option", f"unknown option {m.option!r}; the plan "
                                    f"has: {', '.join(by_id)}"))  # fmt: skip
            continue
        admitted = list(option.instruments) if isinstance(option, ProjectOption) else ["purchase"]
        if m.instrument is not None and m.instrument not in admitted:
            problems.append(Problem("deal", None, f"measures.{i}.instrument",
                                    f"{m.option} admits {', '.join(admitted)}, not {m.instrument!r}"))  # fmt: skip
        total[m.option] = total.get(m.option, 0) + m.modules
        if total[m.option] > option.modules:
            problems.append(Problem("deal", None, f"measures.{i}.modules", f"{m.option} has at most "
                                    f"{option.modules} modules; the measures ask for {total[m.option]}"))  # fmt: skip
    return problems


def _modules(problem: PlanProblem, deal: Deal) -> np.ndarray:
    ids = [o.id for o in problem.plan.options]
    modules = np.zeros(problem.cost.shape)
    problems = []
    for i, m in enumerate(deal.measures):
        if m.option not in ids:
            problems.append(Problem("deal", None, f"measures.{i}.option", f"unknown option {m.option!r}; the plan "
                                    f"has: {', '.join(ids)}"))  # fmt: skip
            continue
        o = ids.index(m.option)
        admitted = [INSTRUMENTS[k] for k in np.flatnonzero(np.isfinite(problem.cost[o]))]
        name = m.instrument or min(admitted, key=lambda n: problem.cost[o, INSTRUMENTS.index(n)])
        if name not in admitted:
            problems.append(Problem("deal", None, f"measures.{i}.instrument",
                                    f"{m.option} admits {', '.join(admitted)}, not {name!r}"))  # fmt: skip
            continue
        if m.modules > problem.modules[o]:
            problems.append(Problem("deal", None, f"measures.{i}.modules",
                                    f"{m.option} has at most {int(problem.modules[o])} modules"))  # fmt: skip
            continue
        modules[o, INSTRUMENTS.index(name)] += m.modules
    if problems:
        raise DealError(problems)
    return modules


def _shortfall_columns(problem: PlanProblem, recourse, regions: list[str]) -> tuple[np.ndarray, None]:
    """Columns (all steps) of the curtailment and unserved demand of ``regions``."""
    lp, n = problem.lp, problem.lp.num_col
    wanted = [problem.regions.index(r) for r in regions if r in problem.regions]
    cols = []
    for name in ("curtail", "unserved"):
        block = lp.columns[name]
        region = block.coordinates()[0]
        cols.append(block.start + np.flatnonzero(np.isin(region, wanted)))
    base = np.concatenate(cols)
    return np.concatenate([base + t * n for t in range(recourse.layout.steps)]), None


def _allied_purchases(problem: PlanProblem, recourse, y: np.ndarray, side) -> float:
    """The side's imports (MUSD over the horizon, at reference prices) of products holding its ally elements
    from its allies, in one scenario's solution."""
    if not side.ally_elements or not side.allies:
        return 0.0
    lp, n = problem.lp, problem.lp.num_col
    block = lp.columns["trade"]
    origin, destination, product, _ = block.coordinates()
    content = problem.content.reindex(columns=side.ally_elements).fillna(0.0)
    holds = content.sum(axis=1) > 0
    product_ok = np.array([bool(holds.get(problem.products[q], False)) for q in product])
    allies = np.isin(origin, [problem.regions.index(r) for r in side.allies if r in problem.regions])
    mine = destination == problem.regions.index(side.country) if side.country in problem.regions else (
        np.zeros(len(origin), dtype=bool))  # fmt: skip
    keep = np.flatnonzero(product_ok & allies & mine)
    price = np.array([float(problem.ref_price.get(problem.products[q], 0.0)) for q in product[keep]])
    total = 0.0
    for t in range(recourse.layout.steps):
        total += float(y[t * n + block.start + keep] @ price) * 1000 / 1e6  # t x USD/kg -> MUSD
    return total
