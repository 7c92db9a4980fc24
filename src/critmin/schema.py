"""The component schema, declared as data in ``data/components.csv`` and ``data/schema.csv``.

One attribute table drives validation (:mod:`critmin.validate`), the DuckDB tables (:mod:`critmin.store`)
and the data documentation (``critmin data docs`` writes docs/data.md).
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel

from critmin.errors import NotFoundError
from critmin.vocabulary import CONFIDENCE_LEVELS as CONFIDENCE_LEVELS  # re-exported
from critmin.vocabulary import STAGES as STAGES  # re-exported
from critmin.vocabulary import vocabulary

AttrType = Literal["str", "int", "float", "bool", "date"]

_DUCKDB_TYPES = {"str": "VARCHAR", "int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN", "date": "VARCHAR"}


class UnknownComponentError(NotFoundError, KeyError):
    """A component or attribute the schema does not have."""


class Attribute(BaseModel, frozen=True):
    name: str
    type: AttrType
    unit: str = ""
    default: str = ""
    required: bool = False
    key: bool = False
    min: float | None = None
    max: float | None = None
    references: str = ""
    allowed: tuple[str, ...] = ()
    description: str = ""

    @property
    def duckdb_type(self) -> str:
        return _DUCKDB_TYPES[self.type]


class Component(BaseModel, frozen=True):
    name: str
    file: str
    provenance: bool
    unit_rule: str
    description: str
    attributes: tuple[Attribute, ...]

    @property
    def columns(self) -> list[str]:
        return [a.name for a in self.attributes]

    @property
    def key(self) -> list[str]:
        return [a.name for a in self.attributes if a.key]

    def attribute(self, name: str) -> Attribute:
        for a in self.attributes:
            if a.name == name:
                return a
        raise UnknownComponentError(f"{self.name} has no attribute {name!r}")

    def ddl(self, table: str, extra_columns: str = "") -> str:
        cols = [f'"{a.name}" {a.duckdb_type}' for a in self.attributes]
        if extra_columns:
            cols.append(extra_columns)
        return f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(cols)})"


def _read_csv(name: str) -> list[dict[str, str]]:
    text = resources.files("critmin.data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _allowed(cell: str) -> tuple[str, ...]:
    """``a|b|c``, or ``vocabulary:<name>`` for a vocabulary declared in :mod:`critmin.vocabulary`."""
    if cell.startswith("vocabulary:"):
        return vocabulary(cell.removeprefix("vocabulary:"))
    return tuple(cell.split("|")) if cell else ()


def _attribute(row: dict[str, str]) -> Attribute:
    return Attribute(
        name=row["attribute"],
        type=row["type"],
        unit=row["unit"],
        default=row["default"],
        required=row["required"] == "yes",
        key=row["key"] == "yes",
        min=float(row["min"]) if row["min"] else None,
        max=float(row["max"]) if row["max"] else None,
        references=row["references"],
        allowed=_allowed(row["allowed"]),
        description=row["description"],
    )


@cache
def components() -> dict[str, Component]:
    """All components, in declaration order, keyed by name."""
    attrs: dict[str, list[Attribute]] = {}
    for row in _read_csv("schema.csv"):
        attrs.setdefault(row["component"], []).append(_attribute(row))
    provenance = tuple(attrs.pop("_provenance"))
    out = {}
    for row in _read_csv("components.csv"):
        own = tuple(attrs[row["component"]])
        with_prov = row["provenance"] == "yes"
        out[row["component"]] = Component(
            name=row["component"],
            file=row["file"],
            provenance=with_prov,
            unit_rule=row["unit_rule"],
            description=row["description"],
            attributes=own + provenance if with_prov else own,
        )
    return out


def component(name: str) -> Component:
    """The component ``name`` of the schema (its attribute table); KeyError naming the known ones if absent."""
    try:
        return components()[name]
    except KeyError:
        raise UnknownComponentError(f"unknown component {name!r}; known: {', '.join(components())}") from None


def component_for_file(filename: str) -> Component | None:
    for comp in components().values():
        if comp.file == filename:
            return comp
    return None


def render_markdown() -> str:
    """docs/data.md, generated from the schema (``critmin data docs``)."""
    lines = [
        "# critmin data model",
        "",
        "Generated from `src/critmin/data/schema.csv` by `critmin data docs`; do not edit by hand.",
        "",
        "A *world* is a folder of CSV files, one per component below. Every data row carries provenance:",
        "`source` (an id in source.csv), `year`, `unit` and `confidence`:",
        "",
        "- `confirmed`: read in the original or an official copy;",
        "- `secondary`: quoted by a news or trade report, or derived from such figures;",
        "- `assumption`: critmin's documented assumption. List them with `critmin data sources --assumptions`",
        "  and override them with `critmin world import DIR --override NAME`.",
        "",
        "Quantities of rare-earth products are in tonnes of rare-earth oxide equivalent (`t REO`), so mass",
        "balances add up across stages; magnets are in tonnes of magnet.",
        "",
    ]
    for comp in components().values():
        lines += [f"## {comp.name} (`{comp.file}`)", "", comp.description, ""]
        if comp.unit_rule:
            lines += [f"Unit rule for the `unit` column: `{comp.unit_rule}`.", ""]
        lines += ["| column | type | unit | default | required | key | constraints | description |"]
        lines += ["| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for a in comp.attributes:
            cons = []
            if a.min is not None:
                cons.append(f">= {a.min:g}")
            if a.max is not None:
                cons.append(f"<= {a.max:g}")
            if a.references:
                cons.append(f"in {a.references}")
            if a.allowed:
                cons.append("one of " + ", ".join(f"`{v}`" for v in a.allowed))
            lines.append(
                f"| {a.name} | {a.type} | {a.unit} | {a.default} | {'yes' if a.required else 'no'} "
                f"| {'yes' if a.key else 'no'} | {'; '.join(cons)} | {a.description} |"
            )
        lines.append("")
    guide = resources.files("critmin.data").joinpath("importers.md").read_text(encoding="utf-8")
    return "\n".join(lines) + "\n" + guide
