"""The baseline path (no shocks) and its cache.

The baseline depends on the world, the start month, the dynamics, the market settings and the places a
scenario reserves in the model for projects, stockpiles and recycling (they are empty on the baseline, but the
model's structure decides which of several equally valid prices the solver reports where the price is not
unique, so they are part of the key). It does not depend on the shocks themselves or on the end month: a
cached path that runs at least as long is cut to the horizon. Caches are keyed by a digest of exactly those
inputs and of the engine's cache format:

- :class:`MemoryCache` keeps the last few paths in the process (the default for the Python API);
- :class:`StoreCache` keeps them in the DuckDB store as compressed arrays (the CLI and the server use it, so
  a later command or request reuses them too).
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
import xarray as xr

from critmin._version import __version__
from critmin.market.build import build_market
from critmin.market.data import base_step_data
from critmin.market.inputs import market_inputs
from critmin.market.results import StepResult
from critmin.market.step_solver import StepSolver
from critmin.scenario import schema as S
from critmin.simulate.balance import balance_residual
from critmin.simulate.calendar import month_starts
from critmin.simulate.growth import demand_growth
from critmin.simulate.state import STEP_YEARS, advance, dynamic_data, initial_state
from critmin.world.model import World

CACHE_FORMAT = 1  # bump when the stored layout or the baseline's equations change
ARRAYS = [f.name for f in fields(StepResult) if f.name not in ("status", "objective")]


@dataclass
class BaselinePath:
    """One baseline run: per month, the cleared step, the stock levels it started from, its balance residual
    and the substitution state (always none on the baseline)."""

    steps: list[StepResult]
    stocks: list[xr.DataArray]
    residuals: list[float]
    substitution: list[xr.DataArray]

    def __len__(self) -> int:
        return len(self.steps)

    def head(self, months: int) -> BaselinePath:
        """The first ``months`` months (a path solved over a longer horizon is the same up to there)."""
        return BaselinePath(
            self.steps[:months], self.stocks[:months], self.residuals[:months], self.substitution[:months]
        )


def baseline_key(world: World, scenario: S.Scenario, reserved: tuple[pd.DataFrame, pd.DataFrame]) -> str:
    """Digest of everything the baseline depends on (``reserved``: the activities and stocks the scenario
    reserves, see :func:`critmin.simulate.loop.reservations`)."""
    from critmin.store import data_version

    version = data_version(world)
    parts = {
        "format": CACHE_FORMAT,
        "critmin": __version__,
        "world": version,
        "start": scenario.start.isoformat(),
        "reserved": [frame.to_csv(index=False) for frame in reserved],
        "dynamics": scenario.dynamics.model_dump(mode="json"),
        "market": scenario.market.model_dump(mode="json"),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


def element_grid(content, products: list[str]) -> xr.DataArray:
    """Element content per product (product x element) on the model's product coordinate."""
    da = xr.DataArray(
        content.to_numpy(), coords={"product": content.index, "element": list(content.columns)},
        dims=["product", "element"],
    )  # fmt: skip
    return da.reindex(product=products, fill_value=0.0)


def solve_baseline(
    world: World,
    scenario: S.Scenario,
    content,
    reserved: tuple[pd.DataFrame, pd.DataFrame],
    progress: Callable[[int], None] | None = None,
) -> BaselinePath:
    """Clear the unshocked months of the scenario's horizon."""
    inputs = market_inputs(world, scenario.market, *reserved)
    base = base_step_data(inputs, STEP_YEARS)
    solver = StepSolver(build_market(inputs, base, scenario.market))
    content_da = element_grid(content, inputs.products)
    ref_price = xr.DataArray(inputs.ref_price.to_numpy(), coords={"product": inputs.products}, dims="product")
    lifetime = scenario.dynamics.product_lifetime_yr
    state = initial_state(base, content_da, lifetime)
    growth = demand_growth(world.table("demand"), base)
    path = BaselinePath([], [], [], [])
    for i, _ in enumerate(month_starts(scenario.start, scenario.end)):
        d = dynamic_data(base, state, growth, i * STEP_YEARS, scenario.dynamics, ref_price)
        result = solver.solve(d)
        path.steps.append(result)
        path.stocks.append(state.stock_level)  # never changed in place: each step makes a new array
        path.residuals.append(balance_residual(result, d))
        path.substitution.append(state.substitution)
        advance(state, result, d, content_da, lifetime)
        if progress:
            progress(i + 1)
    return path


class MemoryCache:
    """The last ``size`` baseline paths of this process (thread-safe: the server's workers share it)."""

    def __init__(self, size: int = 2):
        self.size = size
        self._paths: OrderedDict[str, BaselinePath] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> BaselinePath | None:
        with self._lock:
            path = self._paths.get(key)
            if path is not None:
                self._paths.move_to_end(key)
            return path

    def put(self, key: str, path: BaselinePath) -> None:
        with self._lock:
            self._paths[key] = path
            self._paths.move_to_end(key)
            while len(self._paths) > self.size:
                self._paths.popitem(last=False)


PROCESS_CACHE = MemoryCache()


class StoreCache:
    """Baseline paths kept in the DuckDB store (table ``baseline_cache``), with the process cache in front.
    Give an open ``store``, or a ``path`` to open the store only for each lookup and write (so a long run
    does not hold the file)."""

    DDL = "CREATE TABLE IF NOT EXISTS baseline_cache (key VARCHAR PRIMARY KEY, created TIMESTAMP, payload BLOB)"

    def __init__(self, store=None, *, path=None, memory: MemoryCache = PROCESS_CACHE):
        self._store, self._path, self.memory = store, path, memory

    @contextmanager
    def _open(self):
        if self._store is not None:
            yield self._store
            return
        from critmin.store import Store

        with Store(self._path) as store:
            yield store

    def get(self, key: str) -> BaselinePath | None:
        path = self.memory.get(key)
        if path is not None:
            return path
        with self._open() as store:
            store.con.execute(self.DDL)
            row = store.con.execute("SELECT payload FROM baseline_cache WHERE key = ?", [key]).fetchone()
        if row is None:
            return None
        path = unpack(bytes(row[0]))
        self.memory.put(key, path)
        return path

    def put(self, key: str, path: BaselinePath) -> None:
        self.memory.put(key, path)
        payload = pack(path)
        with self._open() as store:
            store.con.execute(self.DDL)
            store.con.execute("INSERT OR REPLACE INTO baseline_cache VALUES (?, now(), ?)", [key, payload])


def pack(path: BaselinePath) -> bytes:
    """A baseline path as compressed arrays (no pickles: loading runs no code)."""
    first = path.steps[0]
    arrays: dict[str, np.ndarray] = {}
    for name in ARRAYS:
        grid = getattr(first, name)
        arrays[name] = np.stack([getattr(s, name).transpose(*grid.dims).values for s in path.steps])
        arrays[f"dims:{name}"] = np.array(grid.dims)
        for dim in grid.dims:
            arrays[f"coord:{dim}"] = np.asarray(grid.coords[dim].values).astype(str)
    stock = path.stocks[0]
    arrays["stocks"] = np.stack([s.transpose(*stock.dims).values for s in path.stocks])
    arrays["dims:stocks"] = np.array(stock.dims)
    for dim in stock.dims:
        arrays[f"coord:{dim}"] = np.asarray(stock.coords[dim].values).astype(str)
    sub = path.substitution[0]
    arrays["substitution"] = np.stack([s.transpose(*sub.dims).values for s in path.substitution])
    arrays["dims:substitution"] = np.array(sub.dims)
    arrays["objective"] = np.array([s.objective for s in path.steps])
    arrays["residuals"] = np.asarray(path.residuals, dtype=float)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def unpack(payload: bytes) -> BaselinePath:
    with np.load(io.BytesIO(payload), allow_pickle=False) as stored:
        data = {k: stored[k] for k in stored.files}

    def template(name: str) -> xr.DataArray:
        dims = tuple(str(d) for d in data[f"dims:{name}"])
        coords = {d: data[f"coord:{d}"] for d in dims}
        return xr.DataArray(np.empty(tuple(len(c) for c in coords.values())), coords=coords, dims=dims)

    templates = {name: template(name) for name in [*ARRAYS, "stocks", "substitution"]}
    months = len(data["objective"])
    steps = [
        StepResult(
            status="optimal",
            objective=float(data["objective"][i]),
            **{name: templates[name].copy(deep=False, data=data[name][i]) for name in ARRAYS},
        )
        for i in range(months)
    ]
    return BaselinePath(
        steps=steps,
        stocks=[templates["stocks"].copy(deep=False, data=data["stocks"][i]) for i in range(months)],
        residuals=[float(v) for v in data["residuals"]],
        substitution=[templates["substitution"].copy(deep=False, data=data["substitution"][i]) for i in range(months)],
    )
