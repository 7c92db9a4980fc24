"""Hypothesis strategies for tiny worlds and scenarios that are valid by construction.

    from hypothesis import given
    from critmin.testing import strategies as cst

    @given(cst.worlds_and_scenarios())
    def test_runs(pair):
        world, scenario = pair
        ...

:func:`world_specs` draws a :class:`WorldSpec`: plain rows for :func:`~critmin.testing.tiny_world` (regions, a
chain of products from mine to at most magnet stage, supply curves, capacities, demand, trade costs and
reference prices, every number positive, finite and within the schema's declared range), which a test can
change row by row (:meth:`WorldSpec.changed`) before building the world. :func:`worlds` draws the built world.
:func:`scenarios` draws a :class:`~critmin.scenario.Scenario` over a few months whose shocks (export controls,
tariffs, outages, demand shifts) name only regions, groups, products, elements, stages and sectors the world
has: it validates against the world (``parse_scenario(text, world=world)``).

The worlds are built to clear: every margin along the chain (a product's reference price over the cost of what
goes into it) is positive, and every product has a supplier. This module needs hypothesis (a dev dependency);
``import critmin.testing`` does not import it.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
from typing import Any

from hypothesis import Phase, settings
from hypothesis import strategies as st

from critmin.scenario.schema import Scenario
from critmin.schema import STAGES, components
from critmin.testing.worlds import tiny_world
from critmin.world.model import World

REGION_IDS = tuple("ABCDEFGH")  # short ids keep hypothesis' failure reports readable
SECTORS = components()["demand"].attribute("sector").allowed
CHAIN_STAGES = STAGES[:4]  # mine, separation, metal, magnet ("use" products are not made)
ELEMENT = "Dy"  # the element the chain carries (a heavy rare earth: the interesting case)
GROUP = "allies"  # the one region group a world may declare
# one drawn example, unshrunk: what the doctests need (``hypothesis.find(strategy, lambda x: True,
# settings=ONCE)``); shrinking would build hundreds of worlds
ONCE = settings(max_examples=1, phases=[Phase.generate], database=None, deadline=None)


@dataclasses.dataclass(frozen=True)
class WorldSpec:
    """The rows of a tiny world. ``products``: one per stage, mine first (the chain); ``tables``: rows per
    component, as :func:`~critmin.testing.tiny_world` takes them."""

    regions: tuple[str, ...]
    products: tuple[dict, ...]
    tables: dict[str, tuple[dict, ...]]

    @property
    def chain(self) -> list[str]:
        """Product ids along the chain, mine stage first."""
        return [p["id"] for p in self.products]

    @property
    def stages(self) -> list[str]:
        return [p["stage"] for p in self.products]

    @property
    def sectors(self) -> list[str]:
        return sorted({r["sector"] for r in self.tables.get("demand", ())})

    @property
    def groups(self) -> list[str]:
        return sorted({r["group"] for r in self.tables.get("region_group", ())})

    def world(self, *, validate: bool = True) -> World:
        """The world these rows describe (validated unless ``validate`` is false)."""
        tables = {name: [dict(r) for r in rows] for name, rows in self.tables.items()}
        return tiny_world(list(self.regions), [dict(p) for p in self.products], validate=validate, **tables)

    def changed(self, table: str, where: dict[str, Any], **values: Any) -> WorldSpec:
        """A copy with ``values`` set in every row of ``table`` that matches ``where`` (column: value);
        raises ``KeyError`` when no row matches, so a test cannot change nothing by mistake.

        >>> spec = WorldSpec(("A",), ({"id": "x", "stage": "mine", "form": "mineral", "element": "Ga"},),
        ...     {"capacity": ({"region": "A", "product": "x", "capacity": 10.0},)})
        >>> spec.changed("capacity", {"region": "A"}, capacity=20.0).tables["capacity"][0]["capacity"]
        20.0
        """
        rows = self.tables.get(table, ())
        hit = [all(r.get(k) == v for k, v in where.items()) for r in rows]
        if not any(hit):
            raise KeyError(f"no {table} row matches {where}")
        new = tuple({**r, **values} if h else r for r, h in zip(rows, hit, strict=True))
        return dataclasses.replace(self, tables={**self.tables, table: new})


def _chain(stages: int) -> list[dict]:
    """Products for the first ``stages`` stages. A concentrate needs separating (its composition is all
    ELEMENT), so the one-stage chain is a mineral, sold as mined."""
    if stages == 1:
        return [{"id": "ore", "stage": "mine", "form": "mineral", "element": "Ga"}]
    products = [
        {"id": "conc", "stage": "mine", "form": "concentrate", "element": None},
        {"id": f"{ELEMENT}_oxide", "stage": "separation", "form": "oxide", "element": ELEMENT},
        {"id": f"{ELEMENT}_metal", "stage": "metal", "form": "metal", "element": ELEMENT},
        {"id": f"{ELEMENT}_magnet", "stage": "magnet", "form": "magnet", "element": ELEMENT},
    ]
    return products[:stages]


def _subset(items, *, min_size: int = 0) -> st.SearchStrategy[list]:
    """Ordered subsets of ``items`` (order kept, so equal subsets draw equal lists)."""
    items = list(items)
    return st.lists(st.sampled_from(items), min_size=min_size, max_size=len(items), unique=True).map(
        lambda chosen: [i for i in items if i in chosen]
    )


@st.composite
def world_specs(
    draw,
    *,
    regions: tuple[int, int] = (1, 3),
    stages: tuple[int, int] = (1, 3),
    sectors: tuple[int, int] = (1, 2),
) -> WorldSpec:
    """Rows of a tiny world: ``regions`` (min, max) regions A, B, ...; a chain of ``stages`` (min, max, at most
    4) products from mine stage on (``conc`` -> ``Dy_oxide`` -> ``Dy_metal`` -> ``Dy_magnet``, or the mineral
    ``ore`` alone); in each stage, a non-empty set of producing regions with a supply curve (reference cost
    below the stage's margin, reference quantity 10-200 t/yr, elasticity 0.1-3) and a capacity of 1-3 times the
    reference quantity; the last stage's product demanded in a non-empty set of regions and ``sectors`` (min,
    max) sectors (10-200 t/yr, elasticity -1.5 to -0.05); freight (0-20% of the price) and base tariffs (0-25%) on
    every arc; and possibly a region group ``allies``.

    >>> from hypothesis import find
    >>> find(world_specs(stages=(2, 2)), lambda s: True, settings=ONCE).chain
    ['conc', 'Dy_oxide']
    """
    lo, hi = stages
    if not 1 <= lo <= hi <= len(CHAIN_STAGES):
        raise ValueError(f"stages must lie within 1..{len(CHAIN_STAGES)}, got {stages}")
    ids = list(REGION_IDS[: draw(st.integers(*regions))])
    n = draw(st.integers(lo, hi))
    products = _chain(n)
    chain = [p["id"] for p in products]

    # reference prices rise along the chain so that every stage has a positive margin (USD/kg)
    recipe = []
    prices = [draw(st.floats(1.0, 50.0))]
    for k in range(1, n):
        quantity = draw(st.floats(1.0, 1.5)) if products[k]["stage"] != "separation" else 1.0
        if products[k]["stage"] != "separation":  # separation yields by composition; later stages by recipe
            recipe.append({"output": chain[k], "input": chain[k - 1], "quantity": quantity})
        prices.append(quantity * prices[-1] * draw(st.floats(1.2, 3.0)))
    tables: dict[str, list[dict]] = {
        "reference_price": [{"product": p, "price": v} for p, v in zip(chain, prices, strict=True)],
        "recipe": recipe,
        "supply_curve": [],
        "capacity": [],
        "demand": [],
        "trade_cost": [],
    }
    if products[0]["form"] == "concentrate":
        tables["composition"] = [{"product": "conc", "element": ELEMENT, "share": 100.0}]

    for k, product in enumerate(products):
        if product["stage"] == "separation":
            process, keyed = "separate", chain[k - 1]  # separation curves are keyed by the concentrate
        else:
            process, keyed = ("extract" if k == 0 else "convert"), product["id"]
        # the activity's own cost: what the product sells for less the inputs it buys (at reference prices)
        inputs = 0.0 if k == 0 else prices[k - 1] * next((r["quantity"] for r in recipe if r["output"] == chain[k]), 1)
        margin = prices[k] - inputs
        for region in draw(_subset(ids, min_size=1)):
            ref_quantity = draw(st.floats(10.0, 200.0))
            tables["supply_curve"].append(
                {
                    "region": region,
                    "process": process,
                    "product": keyed,
                    "ref_cost": margin * draw(st.floats(0.5, 1.0)),
                    "ref_quantity": ref_quantity,
                    "elasticity": draw(st.floats(0.1, 3.0)),
                }
            )
            # capacity is published per product made (for separation: the separated product)
            tables["capacity"].append(
                {"region": region, "product": product["id"], "capacity": ref_quantity * draw(st.floats(1.0, 3.0))}
            )

    used_sectors = draw(st.lists(st.sampled_from(SECTORS), min_size=sectors[0], max_size=sectors[1], unique=True))
    for region in draw(_subset(ids, min_size=1)):
        for sector in used_sectors:
            tables["demand"].append(
                {
                    "region": region,
                    "sector": sector,
                    "product": chain[-1],
                    "quantity": draw(st.floats(10.0, 200.0)),
                    "elasticity": draw(st.floats(-1.5, -0.05)),
                }
            )
    for product, price in zip(chain, prices, strict=True):
        for origin in ids:
            for destination in ids:
                if origin != destination:
                    tables["trade_cost"].append(
                        {
                            "origin": origin,
                            "destination": destination,
                            "product": product,
                            "freight": price * draw(st.floats(0.0, 0.2)),
                            "tariff_pct": draw(st.floats(0.0, 25.0)),
                        }
                    )
    members = draw(_subset(ids))
    if members:
        tables["region_group"] = [{"group": GROUP, "region": r} for r in members]
    return WorldSpec(
        regions=tuple(ids),
        products=tuple(products),
        tables={name: tuple(rows) for name, rows in tables.items() if rows},
    )


def worlds(**kwargs) -> st.SearchStrategy[World]:
    """Validated tiny worlds: :func:`world_specs` (same arguments), built.

    >>> from hypothesis import find
    >>> find(worlds(regions=(2, 2)), lambda w: True, settings=ONCE).table("region")["id"].tolist()
    ['A', 'B']
    """
    return world_specs(**kwargs).map(lambda spec: spec.world())


# ---- scenarios ---------------------------------------------------------------------------------------------


def month_end(day: dt.date) -> dt.date:
    """The last day of ``day``'s month.

    >>> month_end(dt.date(2024, 2, 10))
    datetime.date(2024, 2, 29)
    """
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


@st.composite
def _places(draw, spec: WorldSpec, *, required: bool) -> dict:
    """Regions and/or the group; empty (every region) unless ``required``."""
    regions = draw(_subset(spec.regions, min_size=0))
    groups = draw(_subset(spec.groups)) if spec.groups else []
    if required and not regions and not groups:
        regions = [draw(st.sampled_from(spec.regions))]
    return {"regions": regions, "groups": groups}


@st.composite
def _goods(draw, spec: WorldSpec) -> dict:
    """Products by id, by element or by stage (or none of them: every product)."""
    how = draw(st.sampled_from(["all", "products", "elements", "stages"]))
    if how == "products":
        return {"products": draw(_subset(spec.chain, min_size=1))}
    if how == "elements":
        elements = sorted({p["element"] for p in spec.products if p.get("element")})
        return {"elements": draw(_subset(elements, min_size=1))} if elements else {}
    if how == "stages":
        return {"stages": draw(_subset(spec.stages, min_size=1))}
    return {}


@st.composite
def _window(draw, start: dt.date, end: dt.date) -> dict:
    """A start within the horizon (any day) and no end, or an end on or after it."""
    days = (end - start).days
    first = start + dt.timedelta(days=draw(st.integers(0, days)))
    window = {"start": first}
    if draw(st.booleans()):
        window["end"] = first + dt.timedelta(days=draw(st.integers(0, (end - first).days)))
    return window


@st.composite
def export_controls(draw, spec: WorldSpec, start: dt.date, end: dt.date) -> dict:
    """An ``export_control`` shock: ban, quota (0-1 of baseline exports), delay (0-365 days) or licence
    (approval shares in date order, a military share and a processing lag)."""
    shock = {
        "type": "export_control",
        "exporter": draw(_places(spec, required=True)),
        "destinations": draw(_places(spec, required=False)),
        **draw(_goods(spec)),
        **draw(_window(start, end)),
    }
    mode = draw(st.sampled_from(["ban", "quota", "delay", "licence"]))
    shock["mode"] = mode
    if mode == "quota":
        shock["magnitude"] = draw(st.floats(0.0, 1.0))
    elif mode == "delay":
        shock["magnitude"] = draw(st.floats(0.0, 365.0))
    elif mode == "licence":
        days = sorted(draw(st.lists(st.integers(0, (end - start).days), max_size=2)))
        shock["approval"] = [
            {
                "start": start + dt.timedelta(days=d),
                "share": draw(st.floats(0.0, 1.0)),
                "destinations": draw(_places(spec, required=False)),
            }
            for d in days
        ]
        shock["military_share"] = draw(st.floats(0.0, 1.0))
        shock["lag_days"] = draw(st.floats(0.0, 90.0))
    return shock


@st.composite
def tariffs(draw, spec: WorldSpec, start: dt.date, end: dt.date) -> dict:
    """A ``tariff`` shock: 0-1000% of the reference price (the schema's range) on some importers' imports."""
    return {
        "type": "tariff",
        "importer": draw(_places(spec, required=True)),
        "origins": draw(_places(spec, required=False)),
        "rate_pct": draw(st.floats(0.0, 1000.0)),
        **draw(_goods(spec)),
        **draw(_window(start, end)),
    }


@st.composite
def outages(draw, spec: WorldSpec, start: dt.date, end: dt.date) -> dict:
    """An ``outage`` shock: a share (0-1) of some regions' capacity lost, for some or all processes."""
    return {
        "type": "outage",
        "where": draw(_places(spec, required=True)),
        "processes": draw(_subset(["extract", "separate", "convert", "recycle"])),
        "magnitude": draw(st.floats(0.0, 1.0)),
        **draw(_goods(spec)),
        **draw(_window(start, end)),
    }


@st.composite
def demand_shifts(draw, spec: WorldSpec, start: dt.date, end: dt.date) -> dict:
    """A ``demand_shift`` shock: reference demand changed by -100% to +1000% (the schema's range)."""
    return {
        "type": "demand_shift",
        "where": draw(_places(spec, required=False)),
        "sectors": draw(_subset(spec.sectors)),
        "magnitude_pct": draw(st.floats(-100.0, 1000.0)),
        **draw(_goods(spec)),
        **draw(_window(start, end)),
    }


SHOCKS = {"export_control": export_controls, "tariff": tariffs, "outage": outages, "demand_shift": demand_shifts}


@st.composite
def scenarios(
    draw,
    spec: WorldSpec,
    *,
    months: tuple[int, int] = (1, 3),
    shocks: tuple[int, int] = (0, 3),
    kinds: tuple[str, ...] = tuple(SHOCKS),
    start: dt.date = dt.date(2025, 1, 1),
    curves: tuple[str, ...] = ("stepwise",),
) -> Scenario:
    """A validated scenario on ``spec``'s world: a horizon of ``months`` (min, max) months from ``start``, the
    curve form drawn from ``curves``, and ``shocks`` (min, max) shocks of ``kinds`` (names in ``SHOCKS``), each
    within the horizon and naming only what the world has.

    >>> from hypothesis import find
    >>> spec = find(world_specs(), lambda s: True, settings=ONCE)
    >>> find(scenarios(spec, shocks=(1, 1), kinds=("outage",)), lambda s: True, settings=ONCE).shocks[0].type
    'outage'
    """
    unknown = sorted(set(kinds) - set(SHOCKS))
    if unknown:
        raise ValueError(f"unknown shock kind(s) {', '.join(unknown)}; known: {', '.join(SHOCKS)}")
    end = month_end(_add_months(start, draw(st.integers(*months)) - 1))
    drawn = draw(st.lists(st.sampled_from(sorted(kinds)), min_size=shocks[0], max_size=shocks[1]))
    return Scenario.model_validate(
        {
            "name": "drawn",
            "start": start,
            "end": end,
            "market": {"curves": draw(st.sampled_from(curves))},
            "shocks": [draw(SHOCKS[kind](spec, start, end)) for kind in drawn],
        }
    )


@st.composite
def worlds_and_scenarios(draw, world: dict | None = None, **scenario: Any) -> tuple[World, Scenario]:
    """A world (:func:`world_specs` with the arguments in ``world``) and a scenario on it (:func:`scenarios`
    with the other keyword arguments).

    >>> from hypothesis import find
    >>> world, scenario = find(worlds_and_scenarios(months=(2, 2)), lambda pair: True, settings=ONCE)
    >>> scenario.months
    2
    """
    spec = draw(world_specs(**(world or {})))
    return spec.world(), draw(scenarios(spec, **scenario))
