"""Every indicator record of a store's active world, kept in the store (table ``indicator_cache``) under the
world's data version and the critmin version, so `critmin indicators` answers without loading the world or
computing anything the second time. Only for a store whose active world is its base layer alone (its data
version is then recorded with the layer); any other world is computed as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from critmin._version import __version__

if TYPE_CHECKING:
    import pandas as pd

    from critmin.store import Store

COLUMNS = ("indicator", "stage", "element", "region", "value", "unit")
DDL = """CREATE TABLE IF NOT EXISTS indicator_cache (data_version VARCHAR, critmin_version VARCHAR,
    indicator VARCHAR, stage VARCHAR, element VARCHAR, region VARCHAR, value DOUBLE, unit VARCHAR)"""


def base_version(store: Store) -> str | None:
    """The active world's data version when it is the base layer alone, else None."""
    rows = store.con.execute("SELECT kind, data_version FROM layers ORDER BY position").fetchall()
    return rows[0][1] if len(rows) == 1 and rows[0][0] == "base" else None


def cached_indicators(store: Store) -> pd.DataFrame | None:
    """The cached records of the active world, or None."""
    version = base_version(store)
    if version is None:
        return None
    store.con.execute(DDL)
    query = f"SELECT {', '.join(COLUMNS)} FROM indicator_cache WHERE data_version = ? AND critmin_version = ?"
    frame = store.con.execute(query, [version, __version__]).df()
    if frame.empty:
        return None
    return frame.astype({"region": object}).where(frame.notna(), None)


def keep_indicators(store: Store, frame: pd.DataFrame) -> None:
    """Cache ``frame`` (every record, no filter) for the active world, if it is the base layer alone."""
    version = base_version(store)
    if version is None:
        return
    store.con.execute(DDL)
    key = "data_version = ? AND critmin_version = ?"
    store.con.execute(f"DELETE FROM indicator_cache WHERE {key}", [version, __version__])
    rows = frame[list(COLUMNS)].assign(data_version=version, critmin_version=__version__)
    store.con.register("indicator_rows", rows)
    try:
        store.con.execute(
            f"INSERT INTO indicator_cache SELECT data_version, critmin_version, {', '.join(COLUMNS)} "
            "FROM indicator_rows"
        )
    finally:
        store.con.unregister("indicator_rows")
