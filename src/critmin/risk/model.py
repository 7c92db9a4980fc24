"""The disruption model as data: event types with an annual probability and distributions of start month,
duration and severity, and common causes that trigger several events together (docs/risk.md).

A model is read from YAML by :func:`critmin.risk.load.load_risk_model`; this module is its pydantic schema.

>>> d = Triangular(dist="triangular", low=1, mode=2, high=6)
>>> [round(float(x), 3) for x in d.ppf([0.0, 0.5, 1.0])]
[1.0, 2.838, 6.0]
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from scipy import stats

from critmin.scenario.schema import Places
from critmin.vocabulary import Confidence, Process, Stage

ID = r"^[a-z0-9][a-z0-9._-]*$"
Number = Annotated[float, Field(ge=-1e6, le=1e6)]


class Strict(BaseModel):
    # as in scenarios: unknown fields, infinities and NaN are refused
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


# --- distributions ------------------------------------------------------------------------------------------


class _Dist(Strict):
    def support(self) -> tuple[float, float]:  # pragma: no cover - every distribution overrides it
        raise NotImplementedError

    def ppf(self, u) -> np.ndarray:  # pragma: no cover
        """Inverse CDF at ``u`` (uniforms in [0, 1]), vectorised."""
        raise NotImplementedError


class Fixed(_Dist):
    """Always ``value``."""

    dist: Literal["fixed"]
    value: Number

    def support(self) -> tuple[float, float]:
        """Smallest and largest value the distribution gives."""
        return self.value, self.value

    def ppf(self, u) -> np.ndarray:
        """Inverse CDF: ``value`` everywhere."""
        return np.full(np.shape(u), self.value, dtype=float)


class _Interval(_Dist):
    """A distribution on [``low``, ``high``]."""

    low: Number
    high: Number

    @model_validator(mode="after")
    def _ordered(self):
        if self.high < self.low:
            raise ValueError(f"high {self.high} is below low {self.low}")
        return self

    def support(self) -> tuple[float, float]:
        """Smallest and largest value the distribution gives."""
        return self.low, self.high


class Uniform(_Interval):
    """Uniform between ``low`` and ``high``."""

    dist: Literal["uniform"]

    def ppf(self, u) -> np.ndarray:
        """Inverse CDF."""
        return self.low + np.asarray(u, dtype=float) * (self.high - self.low)


class Triangular(_Dist):
    """Triangular between ``low`` and ``high`` with its peak at ``mode``."""

    dist: Literal["triangular"]
    low: Number
    mode: Number
    high: Number

    @model_validator(mode="after")
    def _ordered(self):
        if not self.low <= self.mode <= self.high:
            raise ValueError(f"needs low <= mode <= high, got {self.low}, {self.mode}, {self.high}")
        return self

    def support(self) -> tuple[float, float]:
        """Smallest and largest value the distribution gives."""
        return self.low, self.high

    def ppf(self, u) -> np.ndarray:
        """Inverse CDF."""
        u = np.asarray(u, dtype=float)
        if self.high == self.low:
            return np.full(u.shape, self.low)
        c = (self.mode - self.low) / (self.high - self.low)
        return stats.triang.ppf(u, c, loc=self.low, scale=self.high - self.low)


class Beta(_Interval):
    """Beta(``a``, ``b``) scaled to [``low``, ``high``] (default [0, 1])."""

    dist: Literal["beta"]
    a: float = Field(gt=0, le=1000)
    b: float = Field(gt=0, le=1000)
    low: Number = 0.0
    high: Number = 1.0

    def ppf(self, u) -> np.ndarray:
        """Inverse CDF."""
        return self.low + (self.high - self.low) * stats.beta.ppf(np.asarray(u, dtype=float), self.a, self.b)


class LogNormal(_Dist):
    """Log-normal with ``median`` and log-scale ``sigma``, capped at ``high`` (values above it become ``high``)."""

    dist: Literal["lognormal"]
    median: float = Field(gt=0, le=1e6)
    sigma: float = Field(gt=0, le=5)
    high: float = Field(gt=0, le=1e6, description="Cap: draws above it are set to it.")

    def support(self) -> tuple[float, float]:
        """Smallest and largest value the distribution gives."""
        return 0.0, self.high

    def ppf(self, u) -> np.ndarray:
        """Inverse CDF (capped)."""
        u = np.clip(np.asarray(u, dtype=float), 1e-12, 1 - 1e-12)
        return np.minimum(self.median * np.exp(self.sigma * stats.norm.ppf(u)), self.high)


Dist = Annotated[Fixed | Uniform | Triangular | Beta | LogNormal, Field(discriminator="dist")]
DIST_TAGS = {"fixed", "uniform", "triangular", "beta", "lognormal"}


def _within(dist, low: float, high: float, what: str):
    lo, hi = dist.support()
    if lo < low or hi > high:
        raise ValueError(f"{what} must lie within [{low:g}, {high:g}]; this distribution spans [{lo:g}, {hi:g}]")
    return dist


# --- events -------------------------------------------------------------------------------------------------


class _Event(Strict):
    id: str = Field(pattern=ID, description="Event id (lower case letters, digits, . _ -).")
    description: str = ""
    probability: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Annual probability that the event starts on its own in a given year (0-1); the causes "
        "listing it add their own chance.",
    )
    start: Dist = Field(
        default_factory=lambda: Uniform(dist="uniform", low=0, high=12),
        description="Start, in months after 1 January of the year it occurs in (0-12; 0 is early January).",
    )
    duration: Dist = Field(description="Duration in months (1-600; rounded to whole months, at least 1).")
    severity: Dist = Field(description="Severity; its unit depends on the event type (docs/risk.md).")
    source: str = Field(min_length=1, description="Facts (file and row) or documents the parameters come from.")
    reasoning: str = Field(min_length=1, description="How the parameters follow from the sources.")
    confidence: Confidence = Field(description="confirmed, secondary or assumption.")

    @field_validator("start")
    @classmethod
    def _start_in_year(cls, start):
        return _within(start, 0, 12, "a start month")

    @field_validator("duration")
    @classmethod
    def _duration(cls, duration):
        return _within(duration, 0, 600, "a duration in months")

    @field_validator("severity")
    @classmethod
    def _share(cls, severity):
        return _within(severity, 0, 1, "a severity share")


class ExportControlEvent(_Event):
    """An exporter restricts exports of some elements to some destinations. Severity: the share of baseline
    exports withheld (0-1; the approved share is 1 - severity). ``ban`` ignores severity."""

    type: Literal["export_control"]
    exporter: Places = Field(description="Regions imposing the control.")
    destinations: Places = Field(default_factory=Places, description="Destinations covered (empty: all).")
    elements: list[str] = Field(min_length=1, description="Element ids controlled.")
    stages: list[Stage] = Field(default_factory=list, description="Stages of the products covered (empty: all).")
    mode: Literal["ban", "quota", "licence"] = Field(
        "licence",
        description="ban: nothing ships; quota: 1 - severity of baseline; licence: approvals of "
        "1 - severity after a processing lag.",
    )
    lag_days: float = Field(0.0, ge=0, le=365, description="licence: days before any approval ships.")
    military_share: float = Field(0.0, ge=0, le=1, description="licence: approval share for defence end use.")


class OutageEvent(_Event):
    """Capacity lost in some regions at some stages. Severity: the share of capacity lost (0-1)."""

    type: Literal["outage"]
    where: Places = Field(description="Regions affected.")
    stages: list[Stage] = Field(min_length=1, description="Stages whose capacity is lost.")
    processes: list[Process] = Field(default_factory=list, description="Activities affected (empty: all).")
    elements: list[str] = Field(default_factory=list, description="Elements (empty: all).")


class DemandSurgeEvent(_Event):
    """Demand rises in some regions and sectors. Severity: the rise, % of reference demand (0-1000)."""

    type: Literal["demand_surge"]
    where: Places = Field(default_factory=Places, description="Regions whose demand rises (empty: all).")
    sectors: list[str] = Field(default_factory=list, description="Sector ids (empty: all).")
    elements: list[str] = Field(default_factory=list, description="Elements (empty: all).")
    stages: list[Stage] = Field(default_factory=list, description="Stages of the products (empty: all).")

    @field_validator("severity")
    @classmethod
    def _share(cls, severity):
        return _within(severity, 0, 1000, "a demand rise in %")


class LogisticsEvent(_Event):
    """Trade arcs from ``origins`` to ``destinations`` close (a conflict, a blockade, a border). Severity: the
    share of the arcs' baseline trade blocked (0-1)."""

    type: Literal["logistics"]
    origins: Places = Field(description="Origins of the closed arcs.")
    destinations: Places = Field(default_factory=Places, description="Destinations (empty: all).")
    elements: list[str] = Field(default_factory=list, description="Elements (empty: all).")
    stages: list[Stage] = Field(default_factory=list, description="Stages of the products (empty: all).")


Event = Annotated[ExportControlEvent | OutageEvent | DemandSurgeEvent | LogisticsEvent, Field(discriminator="type")]
EVENT_TAGS = {"export_control", "outage", "demand_surge", "logistics"}


class Cause(Strict):
    """A common cause: when it occurs (annual probability), every event it lists starts in that year at the
    cause's start month, each with its own duration and severity."""

    id: str = Field(pattern=ID, description="Cause id.")
    description: str = ""
    probability: float = Field(ge=0, le=1, description="Annual probability (0-1).")
    start: Dist = Field(
        default_factory=lambda: Uniform(dist="uniform", low=0, high=12),
        description="Start, months after 1 January (0-12), shared by the events it triggers.",
    )
    events: list[str] = Field(min_length=1, description="Ids of the events it triggers together.")
    source: str = Field(min_length=1)
    reasoning: str = Field(min_length=1)
    confidence: Confidence

    @field_validator("start")
    @classmethod
    def _start_in_year(cls, start):
        return _within(start, 0, 12, "a start month")


class RiskModel(Strict):
    """A disruption model: a horizon of whole years from ``start``, events and common causes."""

    name: str = Field(pattern=ID, description="Id: lower case letters, digits, . _ -.")
    description: str = ""
    start: dt.date = Field(description="First month of the horizon (a 1 January is usual).")
    years: int = Field(ge=1, le=50, description="Horizon length in years (each year is one trial per event).")
    events: list[Event] = Field(min_length=1)
    causes: list[Cause] = Field(default_factory=list)

    @field_validator("start")
    @classmethod
    def _first_of_month(cls, start):
        if start.day != 1:
            raise ValueError(f"the horizon starts on the first of a month, got {start}")
        return start

    @field_validator("events")
    @classmethod
    def _events_unique(cls, events):
        ids = [e.id for e in events]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"event ids must be unique: {', '.join(dup)}")
        return events

    @field_validator("causes")
    @classmethod
    def _causes_known(cls, causes, info):
        ids = [c.id for c in causes]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"cause ids must be unique: {', '.join(dup)}")
        events = {e.id for e in info.data.get("events") or []}
        clash = sorted(set(ids) & events)
        if clash:
            raise ValueError(f"ids used by both an event and a cause: {', '.join(clash)}")
        if events:
            for cause in causes:
                unknown = [e for e in cause.events if e not in events]
                if unknown:
                    raise ValueError(f"cause {cause.id!r} lists unknown events: {', '.join(unknown)}")
        return causes

    @model_validator(mode="after")
    def _every_event_can_occur(self):
        listed = {e for c in self.causes for e in c.events}
        never = [e.id for e in self.events if e.probability == 0 and e.id not in listed]
        if never:
            raise ValueError(f"events that can never occur (probability 0 and no cause): {', '.join(never)}")
        return self

    @property
    def months(self) -> int:
        """Monthly steps in the horizon."""
        return 12 * self.years

    @property
    def end(self) -> dt.date:
        """Last day of the horizon."""
        return add_months(self.start, self.months) - dt.timedelta(days=1)

    def event(self, event_id: str):
        """The event with this id."""
        return next(e for e in self.events if e.id == event_id)


def add_months(day: dt.date, months: int) -> dt.date:
    """The first of the month ``months`` after ``day``'s month.

    >>> add_months(dt.date(2026, 11, 1), 3)
    datetime.date(2027, 2, 1)
    """
    index = day.year * 12 + day.month - 1 + int(months)
    return dt.date(index // 12, index % 12 + 1, 1)
