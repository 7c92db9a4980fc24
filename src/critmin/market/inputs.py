"""Market inputs: the clearing model's data, derived from a World as tidy tables (pure functions).

Activities are what regions do: ``extract`` (mine or primary recovery), ``separate`` (a concentrate into its
oxides, in fixed shares), ``convert`` (a recipe output from its inputs) and ``recycle`` (secondary supply).
Each has a linear marginal-cost curve through a reference point; quantities are per year here and scaled to
the step length by the model builder.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from critmin.errors import DataError
from critmin.market.settings import MarketSettings
from critmin.world.model import World


class MarketDataError(DataError, ValueError):
    """The world cannot be cleared as given (missing prices, inconsistent curves)."""


@dataclass(frozen=True)
class MarketInputs:
    regions: list[str]
    products: list[str]
    sectors: list[str]
    concentrates: list[str]
    ref_price: pd.Series  # product -> USD/kg
    activities: pd.DataFrame  # region, process, product, ref_cost, ref_quantity, elasticity, capacity (per yr)
    yields: pd.DataFrame  # concentrate, product, share (t oxide per t concentrate)
    recipe: pd.DataFrame  # output, input, quantity
    demand: pd.DataFrame  # region, sector, product, quantity (per yr), elasticity, voll (USD/kg)
    arcs: pd.DataFrame  # origin, destination, product, freight, margin (USD/kg), tariff_pct, contract (per yr)
    stocks: pd.DataFrame  # region, product, holder, quantity, target_days, release_price, restock_price
    product_unit: pd.Series  # product -> quantity unit
    relief: pd.DataFrame  # region, sector, product, option, cost (USD/kg), share (-)
    switches: pd.DataFrame  # region, source, product, cost (USD/kg), share (-)


def market_inputs(
    world: World,
    settings: MarketSettings | None = None,
    extra_activities: pd.DataFrame | None = None,
    extra_stocks: pd.DataFrame | None = None,
) -> MarketInputs:
    """``extra_activities`` (region, process, product, cost_multiple) and ``extra_stocks`` (region, product,
    holder) reserve places in the model for capacity and stocks that scenarios add later; they start empty.
    A reserved activity costs ``cost_multiple`` times the mean reference cost of that process and product
    elsewhere (or the product's reference price where nobody runs it)."""
    settings = settings or MarketSettings()
    products = world.table("product")
    ref_price = _reference_prices(world, products)
    yields = _yields(world, products)
    recipe = world.table("recipe")[["output", "input", "quantity"]]
    activities = _activities(world, products, yields, recipe, ref_price, settings)
    if extra_activities is not None and len(extra_activities):
        activities = _with_extra_activities(activities, extra_activities, ref_price, settings)
    demand = _demand(world, ref_price, settings)
    stocks = _stocks(world, demand, ref_price, settings)
    if extra_stocks is not None and len(extra_stocks):
        stocks = _with_extra_stocks(stocks, extra_stocks, ref_price, settings)
    # producer inventories sit where the product is made: they open no trade arcs of their own
    arcs = _arcs(world, activities, yields, recipe, demand, stocks[stocks["holder"] != "producer"], ref_price, settings)
    stocks = _with_producer_stocks(world, stocks, activities, yields, products, ref_price, settings)
    regions = world.table("region")["id"].tolist()
    return MarketInputs(
        regions=regions,
        products=products["id"].tolist(),
        sectors=sorted(demand["sector"].unique()) or ["other"],
        concentrates=sorted(yields["concentrate"].unique()),
        ref_price=ref_price,
        activities=activities,
        yields=yields,
        recipe=recipe,
        demand=demand,
        arcs=arcs,
        stocks=stocks,
        product_unit=products.set_index("id")["unit"],
        relief=_relief(world, demand, ref_price),
        switches=_switches(world, demand, regions),
    )


def _reference_prices(world: World, products: pd.DataFrame) -> pd.Series:
    prices = world.table("reference_price").set_index("product")["price"]
    missing = sorted(set(products["id"]) - set(prices.index))
    if missing:
        raise MarketDataError(
            f"reference_price.csv has no price for: {', '.join(missing)} (every product needs one to calibrate)"
        )
    return prices.reindex(products["id"]).rename_axis("product")


def _yields(world: World, products: pd.DataFrame) -> pd.DataFrame:
    """t of each separated product per t of concentrate, from the composition (element -> its oxide)."""
    comp = world.table("composition")
    if comp.empty:
        return pd.DataFrame(columns=["concentrate", "product", "share"])
    separated = products[(products["stage"] == "separation") & products["element"].notna()]
    oxide_of = separated.drop_duplicates("element").set_index("element")["id"]
    rows = comp.assign(oxide=comp["element"].map(oxide_of))
    unmapped = rows[rows["oxide"].isna()]
    if len(unmapped):
        lost = ", ".join(sorted(set(unmapped["element"])))
        raise MarketDataError(f"composition.csv: no separation-stage product for element(s) {lost}")
    out = rows.rename(columns={"product": "concentrate", "oxide": "product"})
    out["share"] = out["share"] / 100.0
    return out[["concentrate", "product", "share"]].reset_index(drop=True)


def _activities(world, products, yields, recipe, ref_price, settings) -> pd.DataFrame:
    production = world.table("production")
    trade = world.table("trade_flow")
    coproducts = set(yields["product"])
    made_by_recipe = set(recipe["output"])
    input_cost = (
        recipe["quantity"] * recipe["input"].map(ref_price).to_numpy()
    ).groupby(recipe["output"]).sum()  # fmt: skip
    route, product = production["route"].to_numpy(), production["product"]
    price = product.map(ref_price).to_numpy()
    recycled = route == "secondary"
    converted = ~recycled & product.isin(made_by_recipe).to_numpy()
    extracted = ~recycled & ~converted & ~product.isin(coproducts).to_numpy()
    process = np.select([recycled, converted, extracted], ["recycle", "convert", "extract"], "")
    margin = np.where(converted, price - product.map(input_cost).fillna(0.0).to_numpy(), price)
    columns = {"region": production["region"], "process": process, "product": product}
    made = pd.DataFrame({**columns, "ref_cost": margin, "ref_quantity": production["quantity"]})
    made = made[process != ""]
    # separation: the concentrate each region takes in (output + imports - exports)
    concentrates = yields["concentrate"].unique()
    key = ["region", "product"]
    output = production[production["product"].isin(concentrates)].groupby(key)["quantity"].sum()
    flows = trade[trade["product"].isin(concentrates)]
    imports = flows.groupby(["destination", "product"])["quantity"].sum().rename_axis(key)
    exports = flows.groupby(["origin", "product"])["quantity"].sum().rename_axis(key)
    intake = output.add(imports, fill_value=0).sub(exports, fill_value=0).clip(lower=0)
    intake = intake[intake > 0].reset_index()
    value = {
        conc: float((group.set_index("product")["share"] * ref_price.reindex(group["product"]).to_numpy()).sum())
        for conc, group in yields.groupby("concentrate", sort=False)
    }  # the oxides' value per t of concentrate
    margin = intake["product"].map(value) - intake["product"].map(ref_price)
    separated = pd.DataFrame(
        {"region": intake["region"], "process": "separate", "product": intake["product"], "ref_cost": margin,
         "ref_quantity": intake["quantity"]}
    )  # fmt: skip
    frame = pd.concat([made, separated], ignore_index=True)
    frame = frame.groupby(["region", "process", "product"], as_index=False).agg(
        ref_cost=("ref_cost", "first"), ref_quantity=("ref_quantity", "sum")
    )
    frame["elasticity"] = frame["process"].map(settings.supply_elasticity)
    frame = _apply_curve_rows(frame, world.table("supply_curve"))
    frame = _apply_capacity(frame, world.table("capacity"), yields, settings)
    negative = frame[frame["ref_cost"] < 0]
    if len(negative):
        r = negative.iloc[0]
        raise MarketDataError(
            f"{r.process} {r['product']} in {r.region}: reference prices give a negative margin "
            f"({r.ref_cost:.4g} USD/kg); raise the output's reference price or add a supply_curve row"
        )
    return frame.sort_values(["process", "region", "product"]).reset_index(drop=True)


def _apply_curve_rows(frame: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """Explicit supply_curve rows replace (or add) the calibrated defaults."""
    if curves.empty:
        return frame
    bad = curves[curves["elasticity"] <= 0]
    if len(bad):
        r = bad.iloc[0]
        raise MarketDataError(
            f"supply_curve.csv: {r.region}/{r.process}/{r['product']}: elasticity must be positive, got {r.elasticity}"
        )
    key = ["region", "process", "product"]
    explicit = curves[[*key, "ref_cost", "ref_quantity", "elasticity"]]
    kept = frame.merge(explicit[key], on=key, how="left", indicator=True)
    kept = kept[kept["_merge"] == "left_only"].drop(columns="_merge")
    return pd.concat([kept, explicit], ignore_index=True)


def _apply_capacity(frame, capacity, yields, settings) -> pd.DataFrame:
    frame = frame.copy()
    frame["capacity"] = frame["ref_quantity"] * settings.capacity_headroom
    frame.loc[frame["ref_quantity"] <= 0, "capacity"] = np.inf
    if capacity.empty:
        return frame
    published = capacity[["region", "product", "capacity"]]
    # separation capacity is published per separated product: the concentrate it allows is the tightest of
    # capacity / yield share over the products the concentrate yields
    per_concentrate = published.merge(yields[yields["share"] > 0], on="product")
    per_concentrate = (
        per_concentrate.assign(limit=per_concentrate["capacity"] / per_concentrate["share"])
        .groupby(["region", "concentrate"])["limit"].min()
    )  # fmt: skip
    direct = published.set_index(["region", "product"])["capacity"]
    key = pd.MultiIndex.from_frame(frame[["region", "product"]])
    separating = (frame["process"] == "separate").to_numpy()
    from_concentrate = per_concentrate.reindex(key).to_numpy(dtype=float)
    from_product = direct.reindex(key).to_numpy(dtype=float)
    limit = np.where(separating, from_concentrate, np.where(frame["process"] != "recycle", from_product, np.nan))
    frame["capacity"] = np.where(np.isnan(limit), frame["capacity"], limit)
    return frame


def optional_table(world: World, name: str) -> pd.DataFrame:
    """A component's rows, or an empty frame for worlds written before the component existed."""
    return world.table(name) if name in world.tables else pd.DataFrame()


def _demand(world: World, ref_price: pd.Series, settings: MarketSettings) -> pd.DataFrame:
    demand = world.table("demand")[["region", "sector", "product", "quantity", "elasticity"]].copy()
    sectors = optional_table(world, "sector")
    from_world = sectors.set_index("id")["voll_multiple"] if len(sectors) else pd.Series(dtype=float)
    # a scenario's explicit sector override wins, then the world's sector table, then the default
    multiple = (demand["sector"].map(settings.voll_multiple_by_sector).fillna(demand["sector"].map(from_world))).fillna(
        settings.voll_multiple
    )
    demand["voll"] = multiple * demand["product"].map(ref_price)
    demand["elasticity"] = demand["elasticity"].abs()
    return demand.reset_index(drop=True)


def _stocks(world, demand, ref_price, settings) -> pd.DataFrame:
    stock = world.table("stock")
    if stock.empty:
        return pd.DataFrame(
            columns=["region", "product", "holder", "quantity", "target_days", "release_price", "restock_price"]
        )
    out = stock[["region", "product", "holder", "quantity", "days_of_cover_target"]].rename(
        columns={"days_of_cover_target": "target_days"}
    )
    holder = out["holder"]
    multiple = np.select(
        [holder == "public", holder == "producer"],
        [settings.public_release_multiple, settings.producer_release_multiple],
        settings.private_release_multiple,
    )
    price = out["product"].map(ref_price)
    out["release_price"] = multiple * price.to_numpy()
    out["restock_price"] = np.where(
        holder == "producer",
        _reservation(world, settings).reindex(out["product"]).to_numpy() * price,
        settings.restock_multiple * price,
    )
    return out.reset_index(drop=True)


def _reservation(world: World, settings: MarketSettings) -> pd.Series:
    """Reservation price multiple per product (the world's, else the setting's)."""
    table = optional_table(world, "reservation_price")
    products = world.table("product")["id"]
    given = table.set_index("product")["multiple"] if len(table) else pd.Series(dtype=float)
    return given.reindex(products).fillna(settings.reservation_multiple).rename_axis("product")


def _arcs(world, activities, yields, recipe, demand, stocks, ref_price, settings) -> pd.DataFrame:
    """Candidate trade arcs: from every region that makes or holds a product to every other region that uses,
    processes or holds it."""
    made = activities[activities["process"] != "separate"][["region", "product"]]
    sep = activities[activities["process"] == "separate"][["region", "product"]].merge(
        yields.rename(columns={"product": "oxide"}), left_on="product", right_on="concentrate"
    )
    sources = pd.concat(
        [made, sep[["region", "oxide"]].rename(columns={"oxide": "product"}), stocks[["region", "product"]]]
    )
    conv = (
        activities[activities["process"] == "convert"][["region", "product"]]
        .merge(recipe, left_on="product", right_on="output")[["region", "input"]]
        .rename(columns={"input": "product"})
    )
    sinks = pd.concat(
        [
            demand[["region", "product"]],
            conv,
            activities[activities["process"] == "separate"][["region", "product"]],
            stocks[["region", "product"]],
        ]
    )
    arcs = (
        sources.drop_duplicates()
        .rename(columns={"region": "origin"})
        .merge(sinks.drop_duplicates().rename(columns={"region": "destination"}), on="product")
    )
    recorded = world.table("trade_flow").groupby(["origin", "destination", "product"], as_index=False)["quantity"].sum()
    arcs = pd.concat([arcs, recorded[["origin", "destination", "product"]]]).drop_duplicates()
    arcs = arcs[arcs["origin"] != arcs["destination"]]
    arcs = arcs.merge(
        recorded.rename(columns={"quantity": "contract"}), on=["origin", "destination", "product"], how="left"
    )
    arcs["contract"] = arcs["contract"].fillna(0.0)
    costs = world.table("trade_cost")
    arcs = arcs.merge(
        costs[["origin", "destination", "product", "freight", "tariff_pct"]],
        on=["origin", "destination", "product"],
        how="left",
    )
    default = settings.default_freight_pct / 100 * arcs["product"].map(ref_price)
    arcs["freight"] = arcs["freight"].fillna(default)
    arcs["tariff_pct"] = arcs["tariff_pct"].fillna(0.0)
    # the calibration margin only where there is something to calibrate to: products with recorded trade
    calibrated = arcs["product"].isin(set(recorded["product"]))
    arcs["margin"] = np.where(calibrated, settings.contract_margin_pct / 100 * arcs["product"].map(ref_price), 0.0)
    return arcs.sort_values(["product", "origin", "destination"]).reset_index(drop=True)


def _with_extra_activities(activities, extra, ref_price, settings) -> pd.DataFrame:
    key = ["region", "process", "product"]
    new = extra.drop_duplicates(key).merge(activities[key], on=key, how="left", indicator=True)
    new = new[new["_merge"] == "left_only"].drop(columns="_merge")
    known = activities.groupby(["process", "product"])["ref_cost"].mean()
    base = [known.get((p, k), ref_price.get(k, 0.0)) for p, k in zip(new["process"], new["product"], strict=True)]
    new = new.assign(
        ref_cost=np.asarray(base, dtype=float) * new["cost_multiple"].to_numpy(dtype=float),
        ref_quantity=0.0,
        capacity=0.0,
        elasticity=new["process"].map(settings.supply_elasticity),
    )
    return pd.concat([activities, new[activities.columns]], ignore_index=True)


def _with_extra_stocks(stocks, extra, ref_price, settings) -> pd.DataFrame:
    key = ["region", "product", "holder"]
    new = extra.drop_duplicates(key).merge(stocks[key], on=key, how="left", indicator=True)
    new = new[new["_merge"] == "left_only"].drop(columns="_merge")
    multiple = new["holder"].map(
        {"public": settings.public_release_multiple, "private": settings.private_release_multiple}
    )
    new = new.assign(
        quantity=0.0,
        target_days=np.nan,
        release_price=multiple * new["product"].map(ref_price),
        restock_price=settings.restock_multiple * new["product"].map(ref_price),
    )
    return pd.concat([stocks, new[stocks.columns]], ignore_index=True)


def _relief(world: World, demand: pd.DataFrame, ref_price: pd.Series) -> pd.DataFrame:
    """Thrifting and substitution offered to each demand row that has a demand_response row, priced below
    the row's value of lost load (an option dearer than rationing would never be used)."""
    columns = ["region", "sector", "product", "option", "cost", "share"]
    rows = optional_table(world, "demand_response")
    if rows.empty:
        return pd.DataFrame(columns=columns)
    out = demand[["region", "sector", "product", "voll"]].merge(
        rows[["sector", "product", "option", "cost", "max_share_pct"]], on=["sector", "product"]
    )
    out["cost"] = np.minimum(out["cost"], 0.999 * out["voll"])
    out["share"] = out["max_share_pct"] / 100.0
    return out[columns].reset_index(drop=True)


def _switches(world: World, demand: pd.DataFrame, regions: list[str]) -> pd.DataFrame:
    """Grade switching: in each region that demands ``product``, demand may be met with ``source``."""
    columns = ["region", "source", "product", "cost", "share"]
    rows = optional_table(world, "product_switch")
    if rows.empty:
        return pd.DataFrame(columns=columns)
    using = demand[["region", "product"]].drop_duplicates()
    # ``alternative`` in the world table (``source`` there is the provenance column)
    options = rows[["product", "alternative", "cost", "max_share_pct"]].rename(columns={"alternative": "source"})
    out = using.merge(options, on="product")
    out["share"] = out["max_share_pct"] / 100.0
    return out[columns].reset_index(drop=True)


def _with_producer_stocks(world, stocks, activities, yields, products, ref_price, settings) -> pd.DataFrame:
    """Producers hold output rather than sell below their reservation price: every node that makes a
    separated, metal or magnet product has a producer inventory that buys without limit at that price and
    sells again once the price is back at reference. Blocked exports and surplus co-products go there. The
    world's ``producer`` stock rows give their working inventory; other producing nodes start empty."""
    stage = products.set_index("id")["stage"]
    made = activities[activities["process"] != "separate"][["region", "product"]]
    separated = (
        activities[activities["process"] == "separate"][["region", "product"]]
        .merge(yields.rename(columns={"product": "oxide"}), left_on="product", right_on="concentrate")[
            ["region", "oxide"]
        ]
        .rename(columns={"oxide": "product"})
    )
    nodes = pd.concat([made, separated]).drop_duplicates()
    nodes = nodes[nodes["product"].map(stage).isin(["separation", "metal", "magnet"])]
    held = stocks[stocks["holder"] == "producer"][["region", "product"]]
    nodes = nodes.merge(held, on=["region", "product"], how="left", indicator=True)
    nodes = nodes[nodes["_merge"] == "left_only"].drop(columns="_merge")
    reserve = nodes["product"].map(_reservation(world, settings))
    price = nodes["product"].map(ref_price)
    new = nodes.assign(
        holder="producer",
        quantity=0.0,
        target_days=np.nan,
        release_price=settings.producer_release_multiple * price,
        restock_price=reserve * price,
    )
    return pd.concat([stocks, new[stocks.columns]], ignore_index=True)
