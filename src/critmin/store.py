"""The embedded DuckDB store: the active world as a base layer plus override layers.

Location: ``--db``, else ``CRITMIN_DB``, else a per-user data path (``critmin.store.default_path()``).
Every import is one transaction and is validated as a whole before anything is written, so a bad file
changes nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import platformdirs

from critmin._version import __version__
from critmin.errors import NotFoundError, StoreError, UsageError
from critmin.schema import components
from critmin.world.model import World, overlay, parse_layer
from critmin.world.problems import WorldValidationError
from critmin.world.tables import HIDDEN, to_csv_text, typed
from critmin.world.validate import check_keys, check_world

BASE = "base"
_LAYERS_DDL = """CREATE TABLE IF NOT EXISTS layers (
    name VARCHAR PRIMARY KEY, position INTEGER, kind VARCHAR, origin VARCHAR, data_version VARCHAR,
    critmin_version VARCHAR, loaded_at TIMESTAMP, row_count BIGINT)"""


def default_path() -> Path:
    env = os.environ.get("CRITMIN_DB")
    if env:
        return Path(env).expanduser()
    return platformdirs.user_data_path("critmin", appauthor=False) / "critmin.duckdb"


def data_version(world: World) -> str:
    """Content hash of a world's tables: equal worlds have equal versions. Hashing every table costs ~0.1 s,
    so it is kept on the world object, keyed by the identity of its table frames: a world given new tables is
    hashed again (worlds are values: change one by building a new one, not by editing a frame in place)."""
    tables = tuple(id(world.tables[name]) for name in components())
    cached = world.__dict__.get("_data_version")
    if cached is not None and cached[0] == tables:
        return cached[1]
    digest = hashlib.sha256()
    for name, comp in components().items():
        digest.update(name.encode())
        digest.update(to_csv_text(comp, world.tables[name]).encode())
    version = digest.hexdigest()[:16]
    world.__dict__["_data_version"] = (tables, version)
    return version


LOCK_WAIT_S = float(os.environ.get("CRITMIN_LOCK_WAIT_S", "60"))


class StoreBusyError(StoreError, RuntimeError):
    """Another process kept the store open for longer than LOCK_WAIT_S."""


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file, waiting while another process has it open. DuckDB lets one process at a time
    hold a file; critmin's processes (the CLI, the server's requests and jobs) each keep it open only for what
    they read or write, so a wait here is short, and the CLI and a running server share one store."""
    deadline = time.monotonic() + LOCK_WAIT_S
    pause = 0.02
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.Error as exc:  # not a DuckDB file, a folder, unreadable, or locked by another process
            if not isinstance(exc, duckdb.IOException) or "lock" not in str(exc).lower():
                raise StoreOpenError(f"cannot open the store at {path}: {exc}") from None
            if time.monotonic() + pause > deadline:
                raise StoreBusyError(
                    f"the store at {path} stayed in use by another process for {LOCK_WAIT_S:g} s; try again, or "
                    "raise CRITMIN_LOCK_WAIT_S"
                ) from None
            time.sleep(pause)
            pause = min(pause * 2, 0.5)


class StoreOpenError(StoreError, OSError):
    """The store's path is not a DuckDB file critmin can open (a folder, another kind of file, unreadable)."""


class StoreEmptyError(StoreError, RuntimeError):
    """The store holds no world where one is needed."""


class LayerNotFoundError(NotFoundError, ValueError):
    """No override layer of that name."""


class StoreSchemaError(StoreError, RuntimeError):
    """The store was written under a different component schema than this critmin's."""


def schema_version() -> str:
    digest = hashlib.sha256(_LAYERS_DDL.encode())
    for name, comp in components().items():
        digest.update(f"{name}:{comp.ddl('t')}".encode())
    return digest.hexdigest()[:16]


_LAYER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class Store:
    """The DuckDB store: the active world (a base layer plus override layers), stored runs and caches.

    Use as a context manager (``with Store(path) as store:``); ``path`` defaults to ``$CRITMIN_DB``, else the
    per-user data path. Opening waits while another process holds the file (up to ``CRITMIN_LOCK_WAIT_S``)."""
    def __init__(self, path: str | Path | None = None, *, rebuild: bool = False):
        """Open (creating if needed) the store. ``rebuild`` drops tables written under another schema."""
        self.path = Path(path) if path else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = _connect(self.path)
        self._check_schema(rebuild)
        self._create_tables()

    def close(self) -> None:
        self.con.close()

    def cursor(self) -> Store:
        """A view of the same open database with its own connection, for use from another thread (a DuckDB
        connection is not safe to share between threads; its cursors are)."""
        view = object.__new__(Store)
        view.path, view.con = self.path, self.con.cursor()
        view.run_tables_ready = getattr(self, "run_tables_ready", False)
        return view

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _check_schema(self, rebuild: bool) -> None:
        self.con.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
        row = self.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row and row[0] == schema_version():
            return
        tables = {r[0] for r in self.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if row and not rebuild:
            raise StoreSchemaError(
                f"the store at {self.path} was written under another data schema (version {row[0]}, this critmin "
                f"uses {schema_version()}): rebuild it with `critmin data load`"
            )
        for table in tables - {"meta"}:
            if table == "layers" or table.startswith("world_"):
                self.con.execute(f"DROP TABLE {table}")
        self.con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [schema_version()])

    def _create_tables(self) -> None:
        self.con.execute(_LAYERS_DDL)
        for name, comp in components().items():
            self.con.execute(
                comp.ddl(f"world_{name}", '"layer" VARCHAR, "_file" VARCHAR, "_line" BIGINT, "_ord" BIGINT')
            )

    # --- layers --------------------------------------------------------------------------------------

    def layers(self) -> pd.DataFrame:
        return self.con.execute("SELECT * FROM layers ORDER BY position").df()

    def is_empty(self) -> bool:
        return self.con.execute("SELECT count(*) FROM layers WHERE name = ?", [BASE]).fetchone()[0] == 0

    def _layer_tables(self, layer: str) -> dict[str, pd.DataFrame]:
        out = {}
        for name, comp in components().items():
            cols = ", ".join(f'"{c}"' for c in [*comp.columns, *HIDDEN])
            frame = self.con.execute(f"SELECT {cols} FROM world_{name} WHERE layer = ? ORDER BY _ord", [layer]).df()
            if len(frame):
                out[name] = typed(comp, frame)
        return out

    def active_world(self, *, without: str | None = None) -> World:
        """The base world with every override layer applied in order (leaving out layer ``without``)."""
        if self.is_empty():
            raise StoreEmptyError(f"the store at {self.path} holds no world yet: run `critmin data load`")
        tables = self._layer_tables(BASE)
        overrides = [name for name in self.layers().query("kind == 'override'")["name"] if name != without]
        for layer in overrides:
            top = self._layer_tables(layer)
            tables = {
                name: overlay(tables[name], top.get(name), name) if name in tables else top[name]
                for name in set(tables) | set(top)
            }
        # the base layer was validated as a whole before it was written (load takes a validated World), so it
        # is read back as is (~0.2 s saved on every command); a world with overrides is validated again
        return World(tables, validate=bool(overrides))

    def world(self) -> World:
        """The active world, loading the bundled one first if the store is empty."""
        if self.is_empty():
            self.load(World.bundled(), origin="bundled")
        return self.active_world()

    def load(self, world: World, *, origin: str) -> str:
        """Replace the active world (base layer; overrides dropped). Returns its data version. The world is
        checked here unless it was when it was built (``validate=False`` worlds are), so the base layer is
        always valid and is read back without checking it again."""
        problems = [] if world.validated else check_world(world.tables)
        if problems:
            raise WorldValidationError(problems)
        version = data_version(world)
        self._write(BASE, "base", world.tables, origin, version, replace_all=True)
        return version

    def import_folder(self, folder: str | Path, *, override: str | None = None) -> tuple[World, str]:
        """Import a world folder as the active world, or as override layer ``override``. Validated first.
        Returns the resulting active world and its data version."""
        folder = Path(folder)
        if override is None:
            world = World.from_folder(folder)
            return world, self.load(world, origin=str(folder.resolve()))
        layer, problems = parse_layer(folder)
        return self.import_tables(layer, override=override, origin=str(folder.resolve()), problems=problems)

    def import_tables(
        self,
        layer: dict[str, pd.DataFrame],
        *,
        override: str,
        origin: str,
        problems: list | None = None,
    ) -> tuple[World, str]:
        """Import typed tables (component name -> frame, as ``critmin.world.tables.typed`` makes them) as
        override layer ``override``, all or nothing: validated with the active world first, written in one
        transaction. ``origin`` is recorded in the layers table. Returns the active world and its version."""
        if override == BASE:
            raise UsageError(f"{BASE!r} is reserved for the active world; choose another override name")
        if not _LAYER_NAME.fullmatch(override):
            raise UsageError(f"override name {override!r}: use 1-64 letters, digits, '_', '.' or '-'")
        # every problem in one pass (issue 11, defect 10): the layer's rows, its duplicate keys, and the combined
        # world's references, root causes first; nothing is written unless there are none
        problems = list(problems or [])
        problems += [p for name, frame in layer.items() for p in check_keys(components()[name], frame)]
        try:
            merged = self.world().with_layer(layer)
        except WorldValidationError as exc:
            problems += exc.problems
        if problems:
            raise WorldValidationError(problems)
        version = data_version(merged)
        self._write(override, "override", layer, origin, version, replace_all=False)
        return merged, version

    def drop_layer(self, name: str) -> None:
        """Remove an override layer, if the world left behind is still valid."""
        if name == BASE or name not in set(self.layers()["name"]):
            raise LayerNotFoundError(f"no override layer named {name!r}")
        self.active_world(without=name)  # raises WorldValidationError if later layers depend on this one
        with self._transaction():
            for comp in components():
                self.con.execute(f"DELETE FROM world_{comp} WHERE layer = ?", [name])
            self.con.execute("DELETE FROM layers WHERE name = ?", [name])

    def _write(
        self, layer: str, kind: str, tables: dict[str, pd.DataFrame], origin: str, version: str, *, replace_all: bool
    ) -> None:
        with self._transaction():
            if replace_all:
                for comp in components():
                    self.con.execute(f"DELETE FROM world_{comp}")
                self.con.execute("DELETE FROM layers")
            else:
                for comp in components():
                    self.con.execute(f"DELETE FROM world_{comp} WHERE layer = ?", [layer])
                self.con.execute("DELETE FROM layers WHERE name = ?", [layer])
            rows = 0
            for name, frame in tables.items():
                if frame.empty:
                    continue
                comp = components()[name]
                staged = frame[[*comp.columns, *HIDDEN]].copy()
                staged["layer"] = layer
                staged["_ord"] = range(len(staged))
                self.con.register("staged", staged)
                cols = ", ".join(f'"{c}"' for c in [*comp.columns, "layer", *HIDDEN, "_ord"])
                self.con.execute(f"INSERT INTO world_{name} ({cols}) SELECT {cols} FROM staged")
                self.con.unregister("staged")
                rows += len(staged)
            position = self.con.execute("SELECT coalesce(max(position), -1) + 1 FROM layers").fetchone()[0]
            self.con.execute(
                "INSERT INTO layers VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    layer,
                    0 if kind == "base" else position,
                    kind,
                    origin,
                    version,
                    __version__,
                    datetime.now(UTC).replace(tzinfo=None),
                    rows,
                ],
            )

    class _Txn:
        def __init__(self, con):
            self.con = con

        def __enter__(self):
            self.con.execute("BEGIN TRANSACTION")

        def __exit__(self, exc_type, exc, tb):
            self.con.execute("ROLLBACK" if exc_type else "COMMIT")

    def _transaction(self) -> Store._Txn:
        return Store._Txn(self.con)


__all__ = [
    "Store",
    "StoreEmptyError",
    "StoreSchemaError",
    "data_version",
    "default_path",
    "schema_version",
]
