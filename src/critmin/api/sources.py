"""Where the data comes from: the sources a world cites, and the rows that are critmin's own assumptions."""

from __future__ import annotations

import pandas as pd

from critmin.errors import NotFoundError
from critmin.schema import Component, components
from critmin.world.model import World

CITED_COLUMNS = ["component", "key", "value", "unit", "year", "confidence", "source", "note"]


class UnknownComponentError(NotFoundError, ValueError):
    """A component name the schema does not have."""


def cited_rows(world: World, *, component: str | None = None, assumptions: bool = False) -> pd.DataFrame:
    """One record per data row with provenance: component, key (``k=v, ...``), value (its main number, as
    ``name=value``), unit, year, confidence, source, note. ``assumptions``: only rows whose confidence is
    ``assumption`` (critmin's own, which users may override)."""
    if component is not None and component not in components():
        raise UnknownComponentError(f"unknown component {component!r}; choose from: {', '.join(components())}")
    cited = []
    for name, comp in components().items():
        if not comp.provenance or (component and name != component):
            continue
        table = world.table(name)
        if assumptions:
            table = table[table["confidence"] == "assumption"]
        for row in table.to_dict("records"):
            cited.append(
                {
                    "component": name,
                    "key": ", ".join(f"{k}={row[k]}" for k in comp.key),
                    "value": _main_value(comp, row),
                    "unit": row["unit"],
                    "year": row["year"],
                    "confidence": row["confidence"],
                    "source": row["source"],
                    "note": row["note"],
                }
            )
    return pd.DataFrame(cited, columns=CITED_COLUMNS)


def sources_table(world: World, *, component: str | None = None) -> pd.DataFrame:
    """The sources the world cites: id, rows (how many rows cite it), confidence (the levels of those rows),
    confirmed_raw, citation, url. With ``component``, only the sources its rows cite."""
    cited = cited_rows(world, component=component)
    src = world.table("source").copy()
    confidence = cited.groupby("source")["confidence"].agg(lambda s: "/".join(sorted(set(s))))
    src["rows"] = src["id"].map(cited.groupby("source").size()).fillna(0).astype(int)
    src["confidence"] = src["id"].map(confidence)
    src = src[src["rows"] > 0] if component else src
    return src[["id", "rows", "confidence", "confirmed_raw", "citation", "url"]].reset_index(drop=True)


def _main_value(comp: Component, row: dict) -> str | None:
    """The row's first number that is not part of its key, as ``name=value``."""
    for attr in comp.attributes:
        if attr.type == "float" and not attr.key and pd.notna(row.get(attr.name)):
            return f"{attr.name}={row[attr.name]:g}"
    return None
