"""The one-step clearing model as sparse arrays: the same equations as :mod:`critmin.market.build`, assembled
directly in numpy/scipy and handed to HiGHS without linopy or a file.

Layout. Every variable family is a :class:`Block` of columns: the labelled grid it lives on (dims and shape)
and the flat positions of its present cells in that grid. Rows are blocks too (``balance`` on region x
product, ``consumption_nonnegative`` on region x sector x product, ``export_limit`` on region x product).
The structure (which columns and rows exist, and the constraint matrix) depends only on which cells of the
base step data are present; a step changes bounds, costs and row bounds, which :func:`step_numbers`
computes with plain numpy on the present cells.

The linopy build stays the reference formulation and the route for users who add constraints;
tests/test_sparse_lp.py checks that both give the same optimum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import xarray as xr

from critmin.market.curves import GRID, staircase
from critmin.market.data import StepData, values_in
from critmin.market.settings import MarketSettings
from critmin.vocabulary import PROCESSES


@dataclass(frozen=True)
class Block:
    """Columns (or rows) of one family: ``flat`` are their positions in the grid of ``dims`` x ``shape``; the
    block occupies indices ``start`` .. ``start + size`` of the model."""

    name: str
    dims: tuple[str, ...]
    shape: tuple[int, ...]
    flat: np.ndarray
    start: int

    @property
    def size(self) -> int:
        return len(self.flat)

    @property
    def stop(self) -> int:
        return self.start + self.size

    def grid(self, values: np.ndarray, fill: float = np.nan) -> np.ndarray:
        """The block's values placed on its grid (``fill`` where no column)."""
        out = np.full(int(np.prod(self.shape)), fill)
        out[self.flat] = values
        return out.reshape(self.shape)

    def coordinates(self) -> tuple[np.ndarray, ...]:
        return np.unravel_index(self.flat, self.shape)


def _values(a: xr.DataArray, dims: tuple[str, ...]) -> np.ndarray:
    return values_in(a, *dims)


ACT_DIMS = ("process", "region", "product")
ARC_DIMS = ("origin", "destination", "product")
DEM_DIMS = ("region", "sector", "product")
RELIEF_DIMS = ("region", "sector", "product", "option")
SWITCH_DIMS = ("region", "source", "product")
STOCK_DIMS = ("region", "product", "holder")
NODE_DIMS = ("region", "product")
TIERS = 2
MADE = [PROCESSES.index(p) for p in ("extract", "convert", "recycle")]
SEPARATE, CONVERT = PROCESSES.index("separate"), PROCESSES.index("convert")


@dataclass
class StepNumbers:
    """Everything a step changes: column bounds and costs, the diagonal Hessian (linear curves; None for the
    stepwise LP), row bounds, and the curtailment offset (region, sector, product) the results add back."""

    col_lower: np.ndarray
    col_upper: np.ndarray
    cost: np.ndarray
    hessian: np.ndarray | None
    row_lower: np.ndarray
    row_upper: np.ndarray
    offset: np.ndarray


class StepLP:
    """Columns, rows and the constraint matrix of one clearing step (see the module docstring)."""

    def __init__(self, d: StepData, settings: MarketSettings):
        self.settings = settings
        self.segments = len(GRID) if settings.curves == "stepwise" else 1
        self._activity_memo = None  # (the step's supply-curve arrays, staircase widths, step costs)
        self.act_cells = np.flatnonzero(~np.isnan(_values(d.activity_cap, ACT_DIMS)))
        self.arc_cells = np.flatnonzero(~np.isnan(_values(d.arc_cap, ARC_DIMS)))
        self.dem_cells = np.flatnonzero(~np.isnan(_values(d.demand, DEM_DIMS)))
        self.relief_cells = np.flatnonzero(~np.isnan(_values(d.relief_share, RELIEF_DIMS)))
        self.switch_cells = np.flatnonzero(~np.isnan(_values(d.switch_share, SWITCH_DIMS)))
        self.stock_cells = np.flatnonzero(~np.isnan(_values(d.stock_level, STOCK_DIMS)))
        sizes = {k: v for a in (d.activity_cap, d.arc_cap, d.demand, d.relief_share, d.stock_level)
                 for k, v in a.sizes.items()}  # fmt: skip
        shape = lambda dims: tuple(sizes[k] for k in dims)  # noqa: E731
        self.shapes = {
            "act": shape(ACT_DIMS), "arc": shape(ARC_DIMS), "dem": shape(DEM_DIMS), "relief": shape(RELIEF_DIMS),
            "switch": (sizes["region"], sizes["product"], sizes["product"]), "stock": shape(STOCK_DIMS),
            "node": shape(NODE_DIMS),
        }  # fmt: skip
        self.columns = self._columns()
        self.num_col = sum(b.size for b in self.columns.values())
        node_mask = _node_mask(d)
        self.rows, triplets = self._rows_and_matrix(d, node_mask)
        self.num_row = sum(b.size for b in self.rows.values())
        rows, cols, vals = (np.concatenate(t) for t in zip(*triplets, strict=True))
        self.matrix = sp.csc_matrix((vals, (rows, cols)), shape=(self.num_row, self.num_col))
        self.matrix.sum_duplicates()

    # structure -------------------------------------------------------------------------------------------
    def _columns(self) -> dict[str, Block]:
        s, n = self.shapes, self.segments
        seg = np.arange(n)
        families = [
            ("activity", (*ACT_DIMS, "segment"), (*s["act"], n), (self.act_cells[:, None] * n + seg).ravel()),
            ("trade", (*ARC_DIMS, "tier"), (*s["arc"], TIERS),
             (self.arc_cells[:, None] * TIERS + np.arange(TIERS)).ravel()),
            ("switch", SWITCH_DIMS, s["switch"], self.switch_cells),
            ("relief", RELIEF_DIMS, s["relief"], self.relief_cells),
            ("curtail", (*DEM_DIMS, "segment"), (*s["dem"], n), (self.dem_cells[:, None] * n + seg).ravel()),
            ("unserved", DEM_DIMS, s["dem"], self.dem_cells),
            ("release", STOCK_DIMS, s["stock"], self.stock_cells),
            ("restock", STOCK_DIMS, s["stock"], self.stock_cells),
        ]  # fmt: skip
        out, start = {}, 0
        for name, dims, shape, flat in families:
            out[name] = Block(name, dims, shape, np.asarray(flat, dtype=np.int64), start)
            start += len(flat)
        return out

    def _rows_and_matrix(self, d: StepData, node_mask: np.ndarray):
        s, c = self.shapes, self.columns
        R, P = s["node"]
        # row order as linopy adds them: consumption_nonnegative, balance, export_limit
        n_dem = len(self.dem_cells)
        rows = {"consumption_nonnegative": Block("consumption_nonnegative", DEM_DIMS, s["dem"], self.dem_cells, 0)}
        node_flat = np.flatnonzero(node_mask.ravel())
        node_row = np.full(R * P, -1, dtype=np.int64)
        node_row[node_flat] = n_dem + np.arange(len(node_flat))
        rows["balance"] = Block("balance", NODE_DIMS, (R, P), node_flat, n_dem)
        yields = _values(d.yields, ("concentrate", "product"))
        recipe = _values(d.recipe, ("output", "product"))

        # balance: supply + imports - exports - intake - restock + final consumption terms + switched >= demand
        balance = []
        act = c["activity"]
        process, region, product, _ = act.coordinates()
        col = act.start + np.arange(act.size)
        made = np.isin(process, MADE)
        balance.append((region[made] * P + product[made], col[made], np.ones(made.sum())))
        sep = process == SEPARATE
        balance.append((region[sep] * P + product[sep], col[sep], -np.ones(sep.sum())))
        balance.append(_spread(region[sep], product[sep], col[sep], yields, P, +1.0))  # co-products
        conv = process == CONVERT
        balance.append(_spread(region[conv], product[conv], col[conv], recipe, P, -1.0))  # recipe inputs
        supply = [balance[0], balance[2]]  # made and co-products: what the export limit allows
        trade = c["trade"]
        origin, destination, product, _ = trade.coordinates()
        col = trade.start + np.arange(trade.size)
        balance.append((destination * P + product, col, np.ones(trade.size)))
        exports = (origin * P + product, col, np.ones(trade.size))
        balance.append((exports[0], col, -np.ones(trade.size)))
        for name, sign in (("release", 1.0), ("restock", -1.0)):
            b = c[name]
            region, product, _ = b.coordinates()
            term = (region * P + product, b.start + np.arange(b.size), np.full(b.size, sign))
            balance.append(term)
            if name == "release":
                supply.append(term)
        for name in ("curtail", "unserved", "relief"):
            b = c[name]
            region, _, product, *_ = b.coordinates()
            balance.append((region * P + product, b.start + np.arange(b.size), np.ones(b.size)))
        sw = c["switch"]
        region, source, product = sw.coordinates()
        col = sw.start + np.arange(sw.size)
        balance.append((region * P + product, col, np.ones(sw.size)))
        balance.append((region * P + source, col, -np.ones(sw.size)))
        triplets = [_to_rows(t, node_row) for t in balance]

        # consumption_nonnegative: curtail + unserved + relief <= demand - offset, per demand cell
        dem_row = np.full(int(np.prod(s["dem"])), -1, dtype=np.int64)
        dem_row[self.dem_cells] = np.arange(n_dem)
        per_cell = {"curtail": self.segments, "unserved": 1, "relief": s["relief"][-1]}  # grid cells per demand cell
        for name, width in per_cell.items():
            b = c[name]
            per_dem = b.flat // width
            triplets.append((dem_row[per_dem], b.start + np.arange(b.size), np.ones(b.size)))

        # export_limit: exports <= made + co-products + release, where a node can both import and export
        if not self.settings.allow_reexport:
            arc = np.zeros(s["arc"], dtype=bool).ravel()
            arc[self.arc_cells] = True
            arc = arc.reshape(s["arc"])
            exporting, importing = arc.any(axis=1), arc.any(axis=0)  # region x product
            limited = np.flatnonzero((node_mask & exporting & importing).ravel())
            start = rows["balance"].stop
            limit_row = np.full(R * P, -1, dtype=np.int64)
            limit_row[limited] = start + np.arange(len(limited))
            rows["export_limit"] = Block("export_limit", NODE_DIMS, (R, P), limited, start)
            triplets.append(_to_rows(exports, limit_row))
            triplets += [_to_rows((n, col, -v), limit_row) for n, col, v in supply]
        return rows, triplets

    # numbers of a step -----------------------------------------------------------------------------------
    def step_numbers(self, d: StepData) -> StepNumbers:
        c, n = self.columns, self.segments
        lower, upper = np.zeros(self.num_col), np.zeros(self.num_col)
        cost = np.zeros(self.num_col)
        hessian = None if n > 1 else np.zeros(self.num_col)

        def put(block: Block, lo, hi, price):
            sl = slice(block.start, block.stop)
            lower[sl] = lo
            upper[sl] = hi
            cost[sl] = price

        cells = self.act_cells
        cap = _values(d.activity_cap, ACT_DIMS).ravel()[cells]
        lin = _values(d.activity_lin, ACT_DIMS).ravel()[cells]
        quad = _values(d.activity_quad, ACT_DIMS).ravel()[cells]
        subsidy = np.nan_to_num(_values(d.activity_subsidy, ACT_DIMS).ravel()[cells])
        if n > 1:
            # supply curves rarely change between steps (shocks on trade leave them alone): reuse the staircase
            # while the step data holds the very same arrays
            curve = (d.activity_cap, d.activity_lin, d.activity_quad, d.activity_ref, d.activity_subsidy)
            memo = self._activity_memo
            if memo is None or any(a is not b for a, b in zip(curve, memo[0], strict=True)):
                ref = _values(d.activity_ref, ACT_DIMS).ravel()[cells]
                width, step_cost = staircase(np.zeros_like(cap), cap, lin, quad, ref)
                memo = self._activity_memo = (curve, width.ravel(), (step_cost - subsidy[:, None]).ravel())
            put(c["activity"], 0.0, memo[1], memo[2])
        else:
            put(c["activity"], 0.0, cap, lin - subsidy)
            hessian[c["activity"].start : c["activity"].stop] = np.nan_to_num(quad)

        arc_cap = _values(d.arc_cap, ARC_DIMS).ravel()[self.arc_cells]
        contract = np.minimum(np.nan_to_num(_values(d.arc_contract, ARC_DIMS).ravel()[self.arc_cells]), arc_cap)
        spot = np.clip(arc_cap - contract, 0, None)
        contract_cost = _values(d.arc_contract_cost, ARC_DIMS).ravel()[self.arc_cells]
        spot_cost = _values(d.arc_cost, ARC_DIMS).ravel()[self.arc_cells]
        put(c["trade"], 0.0, np.column_stack([contract, spot]).ravel(),
            np.column_stack([contract_cost, spot_cost]).ravel())  # fmt: skip

        demand_grid = _values(d.demand, DEM_DIMS)
        regional = np.nan_to_num(demand_grid).sum(axis=1)  # region x product
        share = _values(d.switch_share, SWITCH_DIMS).ravel()[self.switch_cells]
        r, _, p = np.unravel_index(self.switch_cells, self.shapes["switch"])
        put(c["switch"], 0.0, share * regional[r, p], _values(d.switch_cost, SWITCH_DIMS).ravel()[self.switch_cells])

        relief_share = _values(d.relief_share, RELIEF_DIMS).ravel()[self.relief_cells]
        relief_dem = demand_grid.ravel()[self.relief_cells // self.shapes["relief"][-1]]
        put(c["relief"], 0.0, relief_share * relief_dem, _values(d.relief_cost, RELIEF_DIMS).ravel()[self.relief_cells])

        dem = demand_grid.ravel()[self.dem_cells]
        floor = _values(d.curtail_floor, DEM_DIMS).ravel()[self.dem_cells]
        curtail_cap = _values(d.curtail_cap, DEM_DIMS).ravel()[self.dem_cells]
        curtail_lin = _values(d.curtail_lin, DEM_DIMS).ravel()[self.dem_cells]
        curtail_quad = _values(d.curtail_quad, DEM_DIMS).ravel()[self.dem_cells]
        if n > 1:
            width, step_cost = staircase(floor, curtail_cap, curtail_lin, curtail_quad, curtail_lin)
            put(c["curtail"], 0.0, width.ravel(), step_cost.ravel())
            offset_cells = np.nan_to_num(floor)
        else:
            put(c["curtail"], floor, curtail_cap, curtail_lin)
            hessian[c["curtail"].start : c["curtail"].stop] = np.nan_to_num(curtail_quad)
            offset_cells = np.zeros(len(dem))
        put(c["unserved"], 0.0, dem, _values(d.voll, DEM_DIMS).ravel()[self.dem_cells])
        stock = self.stock_cells
        put(c["release"], 0.0, _values(d.stock_level, STOCK_DIMS).ravel()[stock],
            _values(d.release_price, STOCK_DIMS).ravel()[stock])  # fmt: skip
        put(c["restock"], 0.0, _values(d.restock_cap, STOCK_DIMS).ravel()[stock],
            -_values(d.restock_price, STOCK_DIMS).ravel()[stock])  # fmt: skip

        lower = np.nan_to_num(lower, nan=0.0)
        upper = np.where(np.isposinf(upper), np.inf, np.nan_to_num(upper, nan=0.0))
        cost = np.nan_to_num(cost, nan=0.0, posinf=0.0, neginf=0.0)

        offset = np.zeros(int(np.prod(self.shapes["dem"])))
        offset[self.dem_cells] = offset_cells
        net = np.nan_to_num(demand_grid.ravel() - offset).reshape(self.shapes["dem"])
        row_lower = np.full(self.num_row, -np.inf)
        row_upper = np.full(self.num_row, np.inf)
        balance = self.rows["balance"]
        row_lower[balance.start : balance.stop] = net.sum(axis=1).ravel()[balance.flat]
        consumption = self.rows["consumption_nonnegative"]
        row_upper[consumption.start : consumption.stop] = net.ravel()[consumption.flat]
        if "export_limit" in self.rows:
            limit = self.rows["export_limit"]
            row_upper[limit.start : limit.stop] = 0.0
        return StepNumbers(lower, upper, cost, hessian, row_lower, row_upper, offset.reshape(self.shapes["dem"]))


def _spread(region, product, col, matrix: np.ndarray, P: int, sign: float):
    """Terms ``sign * matrix[product, q]`` at node (region, q) for every q the row of ``matrix`` reaches."""
    pairs = sp.csr_matrix(np.nan_to_num(matrix))
    counts = np.diff(pairs.indptr)[product]
    take = np.repeat(pairs.indptr[product], counts) + _ragged_arange(counts)
    return (np.repeat(region, counts) * P + pairs.indices[take], np.repeat(col, counts), sign * pairs.data[take])


def _ragged_arange(counts: np.ndarray) -> np.ndarray:
    """0..c-1 for each c in ``counts``, concatenated."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total) - starts


def _to_rows(term, row_of: np.ndarray):
    """Map node positions to row indices, dropping terms at nodes without a row."""
    node, col, val = term
    row = row_of[node]
    keep = row >= 0
    return row[keep], col[keep], val[keep]


def _node_mask(d: StepData) -> np.ndarray:
    """Nodes (region x product) where anything can happen (as :func:`critmin.market.build.node_mask`)."""
    act = ~np.isnan(_values(d.activity_cap, ACT_DIMS))
    yields = np.nan_to_num(_values(d.yields, ("concentrate", "product"))) > 0
    recipe = np.nan_to_num(_values(d.recipe, ("output", "product"))) > 0
    arc = ~np.isnan(_values(d.arc_cap, ARC_DIMS))
    switch = ~np.isnan(_values(d.switch_share, SWITCH_DIMS))
    mask = act.any(axis=0)
    mask |= (act[SEPARATE].astype(float) @ yields.astype(float)) > 0
    mask |= (act[CONVERT].astype(float) @ recipe.astype(float)) > 0
    mask |= ~np.isnan(_values(d.demand, DEM_DIMS)).all(axis=1)
    mask |= arc.any(axis=1) | arc.any(axis=0)
    mask |= ~np.isnan(_values(d.stock_level, STOCK_DIMS)).all(axis=2)
    mask |= switch.any(axis=1) | switch.any(axis=2)
    return mask
