"""The trade world: countries, goods, 2024 bilateral flows, dated tariff schedules and elasticities, each row with
its source and confidence. Rows are pydantic models; :class:`TradeWorld` turns them into GSIM's arrays.

Tariff schedules are dated. A row is in force on a date ``d`` when its status is ``applied`` and
``start <= d <= end`` (an empty end: still in force). Rows name one importer and an exporter and good, or ``*``
for all. On a date, the rate on an arc (importer, exporter, good) is built from the rows in force for it:

* ``basis = replaces``: an all-in rate that supersedes every row that started before it (the 15% all-in rule
  for Japan replaces the MFN rate and the 10% baseline; the 15% autos rate replaces MFN + Section 232). If
  several are in force, the one that started last counts (ties: the highest rate).
* ``basis = adds``: a rate that stacks on the others (MFN, Section 232, a baseline). Rows that started before
  the replacing row are superseded; rows starting on or after its start day still add.

So ``rate = rate of the latest replacing row (0 if none) + Σ rates of the adding rows not superseded``.
Rows with ``status = announced`` were announced but never collected (Japan's 24% reciprocal rate, paused on
the day it took effect); they are kept for the record and never count.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ALL = "*"
UNIT = "MUSD"


class Confidence(enum.StrEnum):
    confirmed = "confirmed"  # an official statistic or legal text, as published
    secondary = "secondary"  # a figure reported by a secondary source (press, a trade body), or derived from one
    assumption = "assumption"  # sized by critmin; the row's note says how


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Country(_Row):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    note: str = ""


class Good(_Row):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    hs: str = ""
    note: str = ""


class Source(_Row):
    id: str = Field(min_length=1)
    citation: str = Field(min_length=1)
    url: str = ""
    note: str = ""


class _Sourced(_Row):
    source: str = Field(min_length=1)
    confidence: Confidence
    note: str = ""

    @model_validator(mode="after")
    def _assumptions_say_how(self):
        if self.confidence is Confidence.assumption and not self.note:
            raise ValueError("an assumption needs a note saying how it was sized")
        return self


class Flow(_Sourced):
    importer: str = Field(min_length=1)
    exporter: str = Field(min_length=1)
    good: str = Field(min_length=1)
    value_musd: float = Field(ge=0, allow_inf_nan=False)
    year: int = Field(ge=1990, le=2100)
    unit: Literal["MUSD"]

    @model_validator(mode="after")
    def _not_domestic(self):
        if self.importer == self.exporter:
            raise ValueError("importer and exporter are the same country")
        return self


class Tariff(_Sourced):
    importer: str = Field(min_length=1)
    exporter: str = Field(min_length=1)
    good: str = Field(min_length=1)
    rate_pct: float = Field(ge=0, le=1000, allow_inf_nan=False)
    start: dt.date
    end: dt.date | None = None
    measure: str = Field(min_length=1)
    basis: Literal["adds", "replaces"]
    status: Literal["applied", "announced"] = "applied"
    announced: dt.date | None = None

    @field_validator("end", "announced", mode="before")
    @classmethod
    def _blank_is_none(cls, value):
        return None if value == "" else value

    @model_validator(mode="after")
    def _ordered(self):
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self

    def in_force(self, day: dt.date) -> bool:
        """Whether this row is collected on ``day``."""
        return self.status == "applied" and self.start <= day and (self.end is None or day <= self.end)


class Elasticity(_Sourced):
    kind: Literal["import_demand", "substitution", "export_supply"]
    country: str = Field(min_length=1)
    good: str = Field(min_length=1)
    value: float

    @model_validator(mode="after")
    def _signed(self):
        if math.isnan(self.value):
            raise ValueError("value is not a number")
        if self.kind == "import_demand" and not (self.value < 0 and math.isfinite(self.value)):
            raise ValueError("an import demand elasticity is negative (E_m < 0) and finite")
        if self.kind == "substitution" and not (self.value > 0 and math.isfinite(self.value)):
            raise ValueError("a substitution elasticity is positive and finite")
        if self.kind == "export_supply" and not self.value > 0:
            raise ValueError("an export supply elasticity is positive (inf: a fixed world price)")
        return self


TABLES = {"countries": Country, "goods": Good, "sources": Source, "flows": Flow, "tariffs": Tariff,
          "elasticities": Elasticity}  # fmt: skip


@dataclass
class TradeWorld:
    """A validated trade world (see :mod:`critmin.trade.load` for the file format)."""

    name: str
    year: int
    description: str
    countries: list[Country]
    goods: list[Good]
    sources: list[Source]
    flows: list[Flow]
    tariffs: list[Tariff]
    elasticities: list[Elasticity]
    path: str = ""

    @property
    def country_ids(self) -> list[str]:
        """Country ids in file order (the importer and exporter axes)."""
        return [c.id for c in self.countries]

    @property
    def good_ids(self) -> list[str]:
        """Good ids in file order (the good axis)."""
        return [g.id for g in self.goods]

    def flow_array(self) -> np.ndarray:
        """V[i, r, g]: the flows at world prices, MUSD (several rows on one arc add up)."""
        c = {k: n for n, k in enumerate(self.country_ids)}
        g = {k: n for n, k in enumerate(self.good_ids)}
        V = np.zeros((len(c), len(c), len(g)))
        for f in self.flows:
            V[c[f.importer], c[f.exporter], g[f.good]] += f.value_musd
        return V

    def _rows_for(self, importer: str, exporter: str, good: str) -> list[Tariff]:
        return [t for t in self.tariffs if t.importer == importer and t.exporter in (exporter, ALL)
                and t.good in (good, ALL)]  # fmt: skip

    def rate_on(self, day: dt.date, importer: str, exporter: str, good: str) -> tuple[float, list[str]]:
        """The tariff rate (%) in force on ``day`` for one arc and the measures that make it up."""
        rows = [t for t in self._rows_for(importer, exporter, good) if t.in_force(day)]
        replacing = [t for t in rows if t.basis == "replaces"]
        base = max(replacing, key=lambda t: (t.start, t.rate_pct)) if replacing else None
        adding = [t for t in rows if t.basis == "adds" and (base is None or t.start >= base.start)]
        rate = (base.rate_pct if base else 0.0) + sum(t.rate_pct for t in adding)
        parts = ([f"{base.measure} {base.rate_pct:g}% (replaces)"] if base else []) + [
            f"{t.measure} {t.rate_pct:g}%" for t in adding
        ]
        return rate, parts

    def tariffs_on(self, day: dt.date | str) -> pd.DataFrame:
        """The schedule in force on ``day``: one row per arc with a non-zero rate or a flow (importer, exporter,
        good, rate_pct, measures)."""
        day = _date(day)
        V = self.flow_array()
        rows = []
        for i, imp in enumerate(self.country_ids):
            for r, exp in enumerate(self.country_ids):
                if imp == exp:
                    continue
                for g, good in enumerate(self.good_ids):
                    rate, parts = self.rate_on(day, imp, exp, good)
                    if rate or V[i, r, g] > 0:
                        rows.append({"importer": imp, "exporter": exp, "good": good, "rate_pct": rate,
                                     "measures": "; ".join(parts) or "none"})  # fmt: skip
        return pd.DataFrame(rows, columns=["importer", "exporter", "good", "rate_pct", "measures"])

    def wedges_on(self, day: dt.date | str) -> np.ndarray:
        """T[i, r, g] = 1 + t on ``day``."""
        day = _date(day)
        ids, goods = self.country_ids, self.good_ids
        T = np.ones((len(ids), len(ids), len(goods)))
        for i, imp in enumerate(ids):
            for r, exp in enumerate(ids):
                if imp != exp:
                    for g, good in enumerate(goods):
                        T[i, r, g] += self.rate_on(day, imp, exp, good)[0] / 100.0
        return T

    def elasticity(self, kind: str, country: str, good: str) -> Elasticity:
        """The most specific row of ``kind`` for a country and good (exact beats ``*``; country before good)."""
        for c, g in ((country, good), (country, ALL), (ALL, good), (ALL, ALL)):
            for e in self.elasticities:
                if e.kind == kind and e.country == c and e.good == g:
                    return e
        raise KeyError(f"no {kind} elasticity for {country}/{good}")

    def elasticity_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """E_m[i, g] (< 0), E_s[i, g] (> 0), E_x[r, g] (> 0)."""
        shape = (len(self.countries), len(self.goods))
        arrays = {k: np.empty(shape) for k in ("import_demand", "substitution", "export_supply")}
        for kind, a in arrays.items():
            for c, country in enumerate(self.country_ids):
                for g, good in enumerate(self.good_ids):
                    a[c, g] = self.elasticity(kind, country, good).value
        return arrays["import_demand"], arrays["substitution"], arrays["export_supply"]

    def table(self, name: str) -> pd.DataFrame:
        """One table as a DataFrame (countries, goods, sources, flows, tariffs, elasticities)."""
        rows = getattr(self, name)
        return pd.DataFrame([r.model_dump(mode="json") for r in rows], columns=list(TABLES[name].model_fields))


def _date(day) -> dt.date:
    if isinstance(day, dt.datetime):
        return day.date()
    if isinstance(day, dt.date):
        return day
    return dt.date.fromisoformat(str(day))
