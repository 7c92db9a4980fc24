"""The second stage: one scenario's market dispatch over the planning horizon, as one LP built from the
engine's clearing step (:class:`critmin.market.lp.StepLP`), not a copy of it.

Each planning step is the engine's step LP (same rows, same columns, same matrix) with the step's numbers:
the engine's monthly numbers of the scenario's path (shocks, policies and the path's demand-side state
applied by the engine's own builders), summed over the months of the step (flows) or averaged (costs).
Steps are linked by the stocks: a stock's cumulative releases net of restocking never exceed its level at
the start. The options add columns on the engine's row patterns:

- a project or recycling plant: one column per step with the coefficients of its activity's column (what
  the activity uses and makes), at a flat unit cost, bounded by ``capacity x ramp x modules chosen``;
- a stockpile: one release column per step at its region's market, and one row keeping the cumulative
  releases within ``days of use x modules chosen``; a pooled stock (its members plan together) has one row for
  the pool and one per member (the sharing rule).

Those bounds are rows whose right-hand sides are linear in the first-stage choices ``x`` (``coupling @ x``):
their duals give the L-shaped cuts, and the extensive form moves ``x`` to the left-hand side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from critmin.market.lp import ACT_DIMS, StepLP, StepNumbers

KUSD_PER_MUSD = 1000.0  # the step LP's objective is in USD/kg x t = kUSD


@dataclass(frozen=True)
class OptionColumns:
    """Where an option acts in one step LP: the pattern of its column (rows, coefficients), its unit cost
    (the LP's cost unit) and, per step, its capacity per module (projects) or its quantity per module
    (stockpiles, t)."""

    rows: np.ndarray
    values: np.ndarray
    unit_cost: float
    per_module: np.ndarray  # projects: capacity per step (t); stockpiles: [quantity] (t)
    kind: str  # "project" or "stockpile"
    region: str


@dataclass
class Layout:
    """The horizon LP's structure for one set of available options (a coalition): the constraint matrix,
    which rows carry the first-stage right-hand sides, and how many columns are option columns."""

    matrix: sp.csc_matrix
    coupling: sp.csr_matrix  # coupling rows x options: a coupling row's upper bound is coupling @ x
    coupling_start: int  # index of the first coupling row
    steps: int
    base_cols: int  # columns of one step LP
    base_rows: int
    stock_rows: int  # cumulative stock rows (after the step blocks)
    option_cols: list[tuple[int, int]]  # (option, step) of each option column, in order
    release_cols: np.ndarray  # index of the release columns within a step
    restock_cols: np.ndarray


def layout(lp: StepLP, steps: int, options: list[OptionColumns], available: np.ndarray, pools: list[dict]) -> Layout:
    """The horizon LP for ``steps`` steps with the options where ``available`` is True; ``pools``: dicts with
    ``options`` (indices pooled together) and ``max_share``. Unavailable options keep their columns, bounded at
    zero by their coupling rows, so every coalition's LP has the same columns."""
    n, m = lp.num_col, lp.num_row
    blocks = sp.block_diag([lp.matrix] * steps, format="csc")
    rel, res = lp.columns["release"], lp.columns["restock"]
    release = np.arange(rel.start, rel.stop)
    restock = np.arange(res.start, res.stop)
    k = len(release)
    # cumulative stock rows: sum over tau <= t of (release - restock) <= level at the start
    rows, cols, vals = [], [], []
    for t in range(steps):
        for tau in range(t + 1):
            rows += [np.arange(k) + t * k] * 2
            cols += [release + tau * n, restock + tau * n]
            vals += [np.ones(k), -np.ones(k)]
    stock = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(steps * k, steps * n)
    )
    option_cols = [(o, t) for o in range(len(options)) for t in range(steps)]
    extra = len(option_cols)
    # option columns on the step rows
    er, ec, ev = [], [], []
    for j, (o, t) in enumerate(option_cols):
        er.append(options[o].rows + t * m)
        ec.append(np.full(len(options[o].rows), j))
        ev.append(options[o].values)
    option_block = sp.csc_matrix(
        (np.concatenate(ev), (np.concatenate(er), np.concatenate(ec))), shape=(steps * m, extra)
    )
    # coupling rows: option columns on the left, coupling @ x on the right
    left: list[tuple[int, int]] = []  # (row, option column)
    right: list[tuple[int, int, float]] = []  # (row, option, per-module coefficient)
    pooled = {o for pool in pools for o in pool["options"]}
    columns_of = {o: [j for j, (oo, _) in enumerate(option_cols) if oo == o] for o in range(len(options))}
    r = 0
    for o, option in enumerate(options):
        scale = option.per_module if available[o] else np.zeros_like(option.per_module)
        if option.kind == "project":  # each step's output within that step's capacity
            for t, j in enumerate(columns_of[o]):
                left.append((r, j))
                right.append((r, o, scale[t]))
                r += 1
        elif o not in pooled:  # a stockpile's releases over the horizon within its quantity
            left += [(r, j) for j in columns_of[o]]
            right.append((r, o, scale[0]))
            r += 1
    for pool in pools:
        members = [o for o in pool["options"] if available[o]]
        for o in pool["options"]:  # each member's releases within its share of the pool
            left += [(r, j) for j in columns_of[o]]
            if available[o]:
                right += [(r, oo, pool["max_share"] * options[oo].per_module[0]) for oo in members]
            r += 1
        left += [(r, j) for o in pool["options"] for j in columns_of[o]]  # all releases within the pool
        right += [(r, oo, options[oo].per_module[0]) for oo in members]
        r += 1
    lr, lc = (np.array(a, dtype=np.int64).reshape(-1) for a in zip(*left, strict=True)) if left else ([], [])
    couple_left = sp.csr_matrix((np.ones(len(left)), (lr, lc)), shape=(r, extra))
    rr, ro, rv = zip(*right, strict=True) if right else ([], [], [])
    coupling = sp.csr_matrix((np.asarray(rv, dtype=float), (rr, ro)), shape=(r, len(options)))
    matrix = sp.bmat(
        [
            [blocks, option_block],
            [stock, None],
            [None, couple_left],
        ],
        format="csc",
    )
    return Layout(matrix.tocsc(), coupling, steps * (m + k), steps, n, m, k, option_cols, release, restock)


@dataclass
class RecourseNumbers:
    """One scenario's bounds and costs on a layout (the right-hand sides of coupling rows excluded)."""

    col_lower: np.ndarray
    col_upper: np.ndarray
    cost: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray


def recourse_numbers(lay: Layout, steps: list[StepNumbers], options: list[OptionColumns]) -> RecourseNumbers:
    """The horizon LP's numbers for one scenario (its step numbers, one per planning step)."""
    level = steps[0].col_upper[lay.release_cols].copy()  # stock at the start of the horizon
    col_lower = np.concatenate([s.col_lower for s in steps])
    col_upper = np.concatenate(
        [np.where(np.isin(np.arange(lay.base_cols), lay.release_cols), _release_cap(s, lay, level), s.col_upper)
         for s in steps]
    )  # fmt: skip
    cost = np.concatenate([s.cost for s in steps])
    extra = len(lay.option_cols)
    unit = np.array([options[o].unit_cost for o, _ in lay.option_cols])
    n_coupling = lay.coupling.shape[0]
    return RecourseNumbers(
        col_lower=np.concatenate([col_lower, np.zeros(extra)]),
        col_upper=np.concatenate([col_upper, np.full(extra, np.inf)]),
        cost=np.concatenate([cost, unit]),
        row_lower=np.concatenate(
            [*(s.row_lower for s in steps), np.full(lay.steps * lay.stock_rows + n_coupling, -np.inf)]
        ),
        row_upper=np.concatenate([*(s.row_upper for s in steps), np.tile(level, lay.steps), np.zeros(n_coupling)]),
    )


def _release_cap(step: StepNumbers, lay: Layout, level: np.ndarray) -> np.ndarray:
    out = step.col_upper.copy()
    out[lay.release_cols] = level  # the cumulative stock rows bind, not the engine's month-by-month level
    return out


def aggregate(months: list[StepNumbers], release_cols: np.ndarray) -> StepNumbers:
    """A planning step from the engine's months: flows (bounds) summed, costs averaged, a stock's level (the
    release bound) taken from the first month."""
    first = months[0]
    stack = lambda f: np.stack([getattr(m, f) for m in months])  # noqa: E731
    col_upper = stack("col_upper").sum(axis=0)
    col_upper[release_cols] = first.col_upper[release_cols]
    return StepNumbers(
        col_lower=stack("col_lower").sum(axis=0),
        col_upper=col_upper,
        cost=stack("cost").mean(axis=0),
        hessian=None,
        row_lower=stack("row_lower").sum(axis=0),
        row_upper=stack("row_upper").sum(axis=0),
        offset=stack("offset").sum(axis=0),
    )


def activity_column(lp: StepLP, cell: tuple[int, int, int]) -> int | None:
    """The LP column of the first segment of activity ``cell`` (process, region, product index), if any."""
    block = lp.columns["activity"]
    target = np.ravel_multi_index((*cell, 0), block.shape)
    hit = np.flatnonzero(block.flat == target)
    return int(block.start + hit[0]) if len(hit) else None


def node_row(lp: StepLP, region: int, product: int) -> int | None:
    """The balance row of a market (region, product index), if any."""
    block = lp.rows["balance"]
    hit = np.flatnonzero(block.flat == np.ravel_multi_index((region, product), block.shape))
    return int(block.start + hit[0]) if len(hit) else None


__all__ = ["ACT_DIMS", "KUSD_PER_MUSD", "Layout", "OptionColumns", "RecourseNumbers", "aggregate", "layout"]
