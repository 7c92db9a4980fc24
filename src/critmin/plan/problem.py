"""A plan as a two-stage problem: the options' columns and public costs, and the second-stage scenarios
sampled from the disruption model and stepped through the engine.

Scenarios: ``plan.scenarios`` draws of the plan's disruption model over the planning horizon (the risk
sampler, weights kept); identical draws merge (every draw without an event is one scenario). Each scenario's
monthly step numbers come from the engine's time loop (:func:`critmin.simulate.loop.step_data`, the solver,
:func:`~critmin.simulate.loop.carry`), so demand growth, substitution and the shocks are the engine's; they
are then summed into planning steps of ``plan.step_months``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import numpy as np

from critmin import errors
from critmin.market.data import values_in
from critmin.market.lp import ACT_DIMS, StepNumbers
from critmin.plan import instruments as fin
from critmin.plan.schema import Plan, ProjectOption, StockpileOption
from critmin.plan.second_stage import KUSD_PER_MUSD, OptionColumns, activity_column, aggregate, node_row
from critmin.risk import load_risk_model, sample
from critmin.risk.sample import to_scenario
from critmin.scenario import schema as S
from critmin.simulate.baseline import PROCESS_CACHE
from critmin.simulate.calendar import month_starts
from critmin.simulate.draws import shared_model
from critmin.simulate.handlers import compile_shocks
from critmin.simulate.handlers.production import ramp_share
from critmin.simulate.loop import carry, step_data
from critmin.simulate.policies import DAYS_PER_MONTH
from critmin.simulate.state import initial_state
from critmin.world.model import World

INSTRUMENTS = (*fin.INSTRUMENTS, "purchase")  # purchase: a stockpile's own cost (stock bought, then held)


class PlanDataError(errors.DataError):
    """An option the world's model cannot carry (no such activity or market); the message says which."""


@dataclasses.dataclass
class PlanProblem:
    plan: Plan
    options: list[OptionColumns]
    cost: np.ndarray  # options x INSTRUMENTS: public cost per module, MUSD (inf where not admitted)
    scenario_names: list[str]
    probability: np.ndarray  # per scenario, sums to 1
    draws_per_scenario: list[int]
    numbers: list[list[StepNumbers]]  # scenario x planning step
    lp: object  # the engine's StepLP
    step_starts: list[dt.date]
    price_rows: np.ndarray  # balance row of each option's market (-1: none)
    floor_rows: np.ndarray  # balance row of each offtake's floor market (-1: none)
    regions: list[str]  # the step LP's region axis
    products: list[str]  # its product axis
    content: object  # product x element content (pandas DataFrame, element units per product unit)
    ref_price: object  # reference price per product (pandas Series, USD/kg)

    @property
    def owners(self) -> list[str]:
        return [o.owner for o in self.plan.options]

    @property
    def modules(self) -> np.ndarray:
        return np.array([o.modules for o in self.plan.options], dtype=float)


def build_problem(world: World, plan: Plan, progress: Callable[[str, int, int], None] | None = None) -> PlanProblem:
    """Sample the scenarios, run each through the engine and lay out the options (``progress(what, done,
    total)`` counts scenarios)."""
    risk = load_risk_model(plan.risk_model, world).model_copy(update={"start": plan.start, "years": plan.years})
    draws = sample(risk, plan.scenarios, plan.seed, importance=plan.importance or None)
    weights = np.asarray(draws.weights, dtype=float)
    ids = np.sort(draws.table["draw"].unique())
    by_draw = dict(tuple(draws.table.groupby("draw")))
    occurs = draws.table.groupby("draw")["occurs"].any()
    null = to_scenario(by_draw[ids[0]].iloc[:0], risk, name=f"{plan.name}-no-event")
    unique: dict[str, tuple[S.Scenario, float, int]] = {}
    for k, d in enumerate(ids):
        scenario = to_scenario(by_draw[d], risk, name=f"{plan.name}-draw-{d}") if occurs.get(d, False) else null
        key = scenario.model_dump_json(include={"shocks"})
        first, weight, count = unique.get(key, (scenario, 0.0, 0))
        unique[key] = (first, weight + weights[k], count + 1)
    scenarios = [s for s, _, _ in unique.values()]
    probability = np.array([w for _, w, _ in unique.values()])
    probability /= probability.sum()
    reserve = null.model_copy(update={"name": f"{plan.name}-options", "shocks": _reservations(plan)})
    model, baseline, _ = shared_model(world, [null, reserve, *scenarios], PROCESS_CACHE)
    lp = model.solver.lp
    dates = month_starts(plan.start, null.end)
    release = np.arange(lp.columns["release"].start, lp.columns["release"].stop)
    numbers = []
    for k, scenario in enumerate(scenarios):
        months = _monthly_numbers(model, scenario, baseline, dates)
        numbers.append([aggregate(months[i : i + plan.step_months], release)
                        for i in range(0, len(months), plan.step_months)])  # fmt: skip
        if progress:
            progress("scenarios", k + 1, len(scenarios))
    step_starts = dates[:: plan.step_months]
    options, rows = zip(*(_option_columns(model, plan, o, dates) for o in plan.options), strict=True)
    cost = _public_costs(plan, model, list(options))
    problem = PlanProblem(
        plan=plan,
        options=list(options),
        cost=cost,
        scenario_names=[s.name for s in scenarios],
        probability=probability,
        draws_per_scenario=[c for _, _, c in unique.values()],
        numbers=numbers,
        lp=lp,
        step_starts=step_starts,
        price_rows=np.array(rows),
        floor_rows=np.array([_floor_row(model, o) for o in plan.options]),
        regions=[str(r) for r in model.base.activity_cap.coords["region"].values],
        products=[str(p) for p in model.base.demand.coords["product"].values],
        content=model.content,
        ref_price=model.inputs.ref_price,
    )
    for o, option in enumerate(plan.options):
        if problem.floor_rows[o] >= 0 and floor_yield(problem, o) <= 0:
            product = option.floor_product or option.product
            raise PlanDataError(f"option {option.id}: its {option.process} activity makes no {product} in "
                                f"{option.region}, so an offtake floor on it pays on nothing")  # fmt: skip
    return problem


def _reservations(plan: Plan) -> list:
    """The projects as scenario policies that never start: the shared model then has room for new activities."""
    far = dt.date(plan.start.year + plan.years + 50, 1, 1)
    return [
        S.Project(type="project", region=o.region, process=o.process, product=o.product, capacity=o.capacity,
                  unit_cost_multiple=o.unit_cost_multiple, start=far, name=o.id)
        for o in plan.options if isinstance(o, ProjectOption)
    ]  # fmt: skip


def _monthly_numbers(model, scenario, baseline, dates) -> list[StepNumbers]:
    """The scenario's path through the engine: each month's step numbers (state carried as the loop does)."""
    compiled = compile_shocks(scenario.shocks, model.resolver, model.base)
    solver, lp = model.solver, model.solver.lp
    solver.restart(model.start_basis)
    state = initial_state(model.base, model.content_da, scenario.dynamics.product_lifetime_yr)
    lag = scenario.dynamics.substitution_lag_months
    out, prices = [], []
    for i, date in enumerate(dates):
        d = step_data(model, scenario, compiled, baseline, state, i, date)
        if i:
            solver.restart(solver.basis())
        numbers = lp.step_numbers(d)
        solver.load(numbers)
        result = solver.result(*solver.run(), d, numbers)
        prices.append(result.price)
        carry(model, scenario, baseline, state, result, d, i, prices[i - lag] if i >= lag else None)
        out.append(numbers)
    return out


def _index(model, dim: str, label: str, what: str) -> int:
    labels = list(model.base.activity_cap.coords[dim].values) if dim in ACT_DIMS else []
    if label not in labels:
        raise PlanDataError(f"{what}: {dim} {label!r} is not in the world's model")
    return labels.index(label)


def _option_columns(model, plan: Plan, option, dates) -> tuple[OptionColumns, int]:
    lp = model.solver.lp
    region = _index(model, "region", option.region, f"option {option.id}")
    products = list(model.base.demand.coords["product"].values)
    if option.product not in products:
        raise PlanDataError(f"option {option.id}: product {option.product!r} is not traded in the world's model")
    product = products.index(option.product)
    if isinstance(option, ProjectOption):
        cell = (_index(model, "process", option.process, f"option {option.id}"), region,
                _index(model, "product", option.product, f"option {option.id}"))  # fmt: skip
        j = activity_column(lp, cell)
        if j is None:
            raise PlanDataError(f"option {option.id}: the world's model has no {option.process} of {option.product} "
                                f"in {option.region}")  # fmt: skip
        column = lp.matrix[:, j]
        ref = float(values_in(model.base.activity_ref, *ACT_DIMS)[cell])
        if not np.isfinite(ref) or ref <= 0:
            raise PlanDataError(f"option {option.id}: no reference cost for {option.process} of {option.product}")
        as_project = S.Project(type="project", region=option.region, process=option.process, product=option.product,
                               capacity=option.capacity, lead_time_months=option.lead_time_months,
                               ramp_months=option.ramp_months, start=plan.start)  # fmt: skip
        k = plan.step_months
        per_step = [sum(option.capacity / 12 * ramp_share(m, as_project) for m in dates[i : i + k])
                    for i in range(0, len(dates), k)]  # fmt: skip
        price_row = node_row(lp, region, product)
        columns = OptionColumns(column.indices.copy(), column.data.copy(), ref * option.unit_cost_multiple,
                                np.array(per_step), "project", option.region)  # fmt: skip
        return columns, -1 if price_row is None else price_row
    row = node_row(lp, region, product)
    if row is None:
        raise PlanDataError(f"option {option.id}: no market for {option.product} in {option.region}")
    use = _node_use(model)[row]
    if use <= 0:
        raise PlanDataError(f"option {option.id}: {option.region} uses no {option.product}: no days of use to hold")
    quantity = option.days * use / DAYS_PER_MONTH  # demand is per month
    rows, values = [row], [1.0]
    if "export_limit" in lp.rows:  # as the engine's release columns: stock released at home is not re-exported
        limit = lp.rows["export_limit"]
        hit = np.flatnonzero(limit.flat == np.ravel_multi_index((region, product), limit.shape))
        if len(hit):
            rows.append(int(limit.start + hit[0]))
            values.append(-1.0)
    columns = OptionColumns(np.array(rows), np.array(values), 0.0, np.array([quantity]), "stockpile", option.region)
    return columns, row


def _floor_row(model, option) -> int:
    if not isinstance(option, ProjectOption) or "offtake" not in option.instruments:
        return -1
    product = option.floor_product or option.product
    regions = list(model.base.activity_cap.coords["region"].values)
    products = list(model.base.demand.coords["product"].values)
    if product not in products:
        raise PlanDataError(f"option {option.id}: floor_product {product!r} is not traded in the world's model")
    row = node_row(model.solver.lp, regions.index(option.region), products.index(product))
    if row is None:
        raise PlanDataError(f"option {option.id}: no market for {product} in {option.region} to floor")
    return row


def _node_use(model) -> np.ndarray:
    """Each row's inflow in the reference month (t/month; on a balance row: what the market uses, final and
    intermediate: production and imports arriving there), from the engine's reference clearing."""
    if getattr(model, "_plan_node_use", None) is None:
        solver, lp = model.solver, model.solver.lp
        solver.restart(model.start_basis)
        solver.load(lp.step_numbers(model.base))
        x = solver.run()[0]
        model._plan_node_use = lp.matrix.maximum(0) @ x
    return model._plan_node_use


def _public_costs(plan: Plan, model, options: list[OptionColumns]) -> np.ndarray:
    """Public cost per module and instrument, MUSD (docs/plan.md); inf where the option does not admit it."""
    f = plan.finance
    ref_price = model.inputs.ref_price
    cost = np.full((len(plan.options), len(INSTRUMENTS)), np.inf)
    for o, option in enumerate(plan.options):
        if isinstance(option, StockpileOption):
            value = options[o].per_module[0] * float(ref_price[option.product]) * 1000 / 1e6  # t x USD/kg -> MUSD
            cost[o, INSTRUMENTS.index("purchase")] = value * (1 + f.stock_holding_pct_per_yr / 100 * plan.years)
            continue
        capex = option.capex_musd * option.financed_share
        for name in option.instruments:
            cost[o, INSTRUMENTS.index(name)] = instrument_cost(name, capex, f)
    return cost


def instrument_cost(name: str, capex_musd: float, f) -> float:
    """Public cost of financing ``capex_musd`` with instrument ``name`` (MUSD; an offtake's payout depends on the
    scenarios' prices and is added by :func:`offtake_payouts`)."""
    expected_loss = fin.guarantee_cost(capex_musd, f.default_probability, f.loss_given_default)
    if name == "grant":
        return fin.grant_cost(capex_musd)
    if name == "loan":
        return fin.loan_cost(capex_musd, f.market_rate, f.loan_rate, f.loan_tenor_years, f.default_probability,
                             f.loss_given_default)  # fmt: skip
    if name == "guarantee":
        return expected_loss
    if name == "equity":
        return fin.equity_cost(capex_musd, f.equity_required_return, f.equity_expected_return, f.equity_years)
    if name == "insurance":
        return fin.insurance_cost((1 + f.insurance_loading) * expected_loss, expected_loss)
    return 0.0  # offtake


def floor_yield(problem: PlanProblem, o: int) -> float:
    """Tonnes of the floored product one unit of option ``o``'s activity makes (its column's coefficient on
    the floor market's balance row)."""
    columns = problem.options[o]
    hit = columns.values[columns.rows == problem.floor_rows[o]]
    return float(hit.sum()) if len(hit) else 0.0


def offtake_payouts(problem: PlanProblem, prices: np.ndarray) -> np.ndarray:
    """Expected payout per module of each offtake option (MUSD) given scenario x step prices at the options'
    markets (USD/kg; ``prices[s, t, o]``): the floor minus the price, when positive, on the offtake share of
    output of the floored product (the offtake share of capacity times the activity's yield of that product)."""
    out = np.zeros(len(problem.options))
    for o, option in enumerate(problem.plan.options):
        if isinstance(option, ProjectOption) and "offtake" in option.instruments:
            quantity = option.offtake_share * floor_yield(problem, o) * problem.options[o].per_module[None, :]
            out[o] = fin.offtake_cost(option.floor_usd_per_kg, prices[:, :, o], quantity, problem.probability) / 1e6
    return out


__all__ = ["INSTRUMENTS", "KUSD_PER_MUSD", "PlanDataError", "PlanProblem", "build_problem", "offtake_payouts"]
