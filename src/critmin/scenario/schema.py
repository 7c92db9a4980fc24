"""The scenario language: one pydantic schema shared by the CLI, the REST API and the dashboard.

A scenario names a horizon, market settings, dynamics and a list of shocks. Each shock has a ``type``,
selectors (regions, groups, elements, products, stages), a dated window and a magnitude with a unit.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from critmin.market.settings import MarketSettings
from critmin.vocabulary import Instrument, PolicyHolder, Process, Stage


class Strict(BaseModel):
    # no infinities or NaN anywhere in a scenario: what validates also runs (issue 11)
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Places(Strict):
    """Regions by id and/or by declared group (e.g. ``ally_us_jp``). Both empty means every region."""

    regions: list[str] = Field(default_factory=list, description="Region ids (ISO3, EU, ROW).")
    groups: list[str] = Field(default_factory=list, description="Region group ids from region_group.csv.")


class Goods(Strict):
    """Products by id, or every product containing one of ``elements`` at one of ``stages``. All empty means
    every product."""

    elements: list[str] = Field(
        default_factory=list, description="Element ids; a product is covered if it contains one."
    )
    products: list[str] = Field(default_factory=list, description="Product ids.")
    stages: list[Stage] = Field(default_factory=list, description="Stages the covered products belong to.")


class Window(Strict):
    start: dt.date = Field(description="First day the shock applies (YYYY-MM-DD).")
    end: dt.date | None = Field(None, description="Last day it applies; empty: to the end of the horizon.")
    name: str = Field("", description="Label used in reports.")
    source: str = Field("", description="Event or document the shock encodes.")

    @field_validator("end")
    @classmethod
    def _ordered(cls, end, info):
        start = info.data.get("start")
        if end is not None and start is not None and end < start:
            raise ValueError(f"end {end} is before start {start}")
        return end


class Approval(Strict):
    """One period of a licence regime: from ``start`` on, this share of baseline exports to ``destinations`` is
    approved (until a later entry covering the same destination)."""

    start: dt.date = Field(description="First day this approval share applies (YYYY-MM-DD).")
    share: float = Field(ge=0, le=1, description="Share of baseline exports approved for civil end use (0-1).")
    destinations: Places = Field(
        default_factory=Places, description="Destinations this entry covers (empty: every destination)."
    )


class ExportControl(Window, Goods):
    type: Literal["export_control"]
    exporter: Places = Field(description="Regions imposing the control.")
    destinations: Places = Field(default_factory=Places, description="Destinations covered (empty: all).")
    mode: Literal["ban", "quota", "delay", "licence"] = Field(
        description="ban: no exports; quota: a share of baseline; delay: licence wait; licence: a licence "
        "regime (approval shares over time, per destination and end use, a processing lag, general licences)."
    )
    magnitude: float = Field(
        0.0,
        ge=0,
        le=3650,
        description="quota: share of baseline exports still licensed (0-1); delay: licence wait in days; ban and "
        "licence: unused.",
    )
    approval: list[Approval] = Field(
        default_factory=list,
        description="licence: approval shares of baseline exports over time, per destination (civil end use). "
        "On each day a destination gets the latest entry that has started and covers it; before that, and "
        "with no entries, nothing is approved.",
    )
    military_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="licence: approval share (0-1) for the defence end use at each destination (civil uses follow "
        "the schedule). Applied to the defence sector's share of the destination's demand for each product.",
    )
    lag_days: float = Field(
        0.0, ge=0, le=365, description="licence: processing lag in days from start before any approval ships."
    )
    general_licence: Places = Field(
        default_factory=Places,
        description="licence: destinations under a general licence (exports flow as in the baseline).",
    )

    @field_validator("approval")
    @classmethod
    def _dated(cls, approval):
        dates = [a.start for a in approval]
        if dates != sorted(dates):
            raise ValueError("approval periods must be in date order")
        return approval

    @field_validator("magnitude")
    @classmethod
    def _quota_share(cls, magnitude, info):
        if info.data.get("mode") == "quota" and magnitude > 1:
            raise ValueError(f"a quota magnitude is a share of baseline exports between 0 and 1, got {magnitude}")
        return magnitude


class Tariff(Window, Goods):
    type: Literal["tariff"]
    importer: Places = Field(description="Regions levying the tariff.")
    origins: Places = Field(default_factory=Places, description="Origins it applies to (empty: all).")
    rate_pct: float = Field(ge=0, le=1000, description="Additional ad-valorem tariff, % of the reference price.")


class Outage(Window, Goods):
    type: Literal["outage"]
    where: Places = Field(description="Regions affected.")
    processes: list[Process] = Field(default_factory=list, description="Activities affected (empty: all).")
    magnitude: float = Field(ge=0, le=1, description="Share of capacity lost (0-1).")


class DemandShift(Window, Goods):
    type: Literal["demand_shift"]
    where: Places = Field(default_factory=Places, description="Regions whose demand shifts (empty: all).")
    sectors: list[str] = Field(default_factory=list, description="Sectors (empty: all).")
    magnitude_pct: float = Field(ge=-100, le=1000, description="Change of reference demand, %.")


class Project(Window):
    type: Literal["project"]
    project: str = Field("", description="Catalogue project id (project.csv), for provenance.")
    region: str = Field(description="Host region.")
    process: Process = Field(description="Activity the capacity adds to.")
    product: str = Field(description="Product made (for separate: the concentrate processed).")
    capacity: float = Field(gt=0, le=1e9, description="Nameplate capacity, in the product's unit per year.")
    lead_time_months: float = Field(0, ge=0, le=600, description="Months from start (financing) to first output.")
    ramp_months: float = Field(12, ge=0, le=600, description="Months from first output to nameplate.")
    instrument: Instrument = "loan"
    cost_musd: float = Field(0, ge=0, le=1e7, description="Public money committed, MUSD.")
    unit_cost_multiple: float = Field(
        1.2, gt=0, le=100, description="Marginal cost over the reference cost of the activity (-)."
    )


class StockpilePolicy(Window, Goods):
    type: Literal["stockpile_policy"]
    where: Places = Field(description="Regions holding the stockpile.")
    holder: PolicyHolder = "public"
    target_days: float = Field(gt=0, le=3650, description="Days of reference use to hold.")
    build_months: float = Field(12, gt=0, le=600, description="Months over which the target is bought.")
    release_multiple: float | None = Field(
        None, gt=0, le=100, description="Release above this multiple of the reference price."
    )
    max_buy_multiple: float = Field(
        1.25,
        gt=0,
        le=100,
        description="Buy toward the target while the local price is at most this multiple of reference (-): "
        "agencies pay up to a premium to build, never at any price.",
    )


class RecyclingPolicy(Window, Goods):
    type: Literal["recycling_policy"]
    where: Places = Field(description="Regions.")
    collection_pct: float = Field(ge=0, le=100, description="Share of end-of-life flows collected and recycled, %.")
    ramp_months: float = Field(24, ge=0, le=600, description="Months to reach the collection share.")
    unit_cost_multiple: float = Field(
        1.0,
        gt=0,
        le=100,
        description="Recycling cost as a multiple of the recycled product's reference cost (-); support (grants, "
        "offtake) below 1 makes collected material worth recycling at reference prices.",
    )


class PriceFloor(Window, Goods):
    type: Literal["price_floor", "offtake"]
    where: Places = Field(description="Regions whose producers get the guarantee.")
    price: float = Field(gt=0, le=1e6, description="Guaranteed price, USD/kg.")


class AllyPreference(Window, Goods):
    type: Literal["ally_preference"]
    importer: Places = Field(description="Importers that prefer allied supply.")
    allies: Places = Field(description="Suppliers counted as allied.")
    premium_pct: float = Field(ge=0, le=1000, description="Premium accepted for allied supply, % of reference price.")


Shock = Annotated[
    ExportControl
    | Tariff
    | Outage
    | DemandShift
    | Project
    | StockpilePolicy
    | RecyclingPolicy
    | PriceFloor
    | AllyPreference,
    Field(discriminator="type"),
]


class Dynamics(Strict):
    """Behaviour over time (see docs/market.md for sources)."""

    substitution_max_pct_per_yr: float = Field(
        10.0,
        ge=0,
        le=100,
        description="Most demand lost to substitution and thrifting per year, % (about 10%/yr in 2011).",
    )
    substitution_cap_pct: float = Field(30.0, ge=0, le=100, description="Most demand ever lost to substitution, %.")
    substitution_lag_months: int = Field(6, ge=0, le=60, description="Months before high prices start substitution.")
    shortfall_threshold_pct: float = Field(
        1.0, gt=0, le=100, description="Shortfall above this share of demand counts as short (TTS/TTR), %."
    )
    growth: Literal["none", "trend"] = Field(
        "none",
        description="none: the 2024 equilibrium held still (the baseline reproduces reference prices, output and "
        "trade in every month). trend: demand grows at each demand row's growth_pct, and every activity's "
        "capacity and reference output and every recorded trade volume grow with the demand they serve "
        "(docs/market.md).",
    )
    substitution_persistence_pct: float = Field(
        50.0,
        ge=0,
        le=100,
        description="Share of substitution that stays once prices are back to baseline, % (redesigned motors and "
        "qualified thrifted grades are not undone; about half of 2011's thrifting persisted).",
    )
    product_lifetime_yr: float = Field(
        15.0, gt=0, le=200, description="Mean in-use lifetime of goods containing the elements, years."
    )


class Checks(Strict):
    """Plausibility guard: thresholds above which a run's results are flagged for a second look."""

    min_price_multiple: float = Field(
        0.01,
        ge=0,
        le=1,
        description="Flag a price, on either path, at or below this multiple of the product's reference price "
        "(-; 0.01 is 1% of reference).",
    )
    max_price_multiple: float = Field(
        20.0,
        gt=0,
        le=1e6,
        description="Flag a scenario-path price above this multiple of the product's reference price (-).",
    )
    baseline_shortfall_pct: float = Field(
        0.1,
        ge=0,
        le=100,
        description="Flag baseline-path shortfall above this share of a node's reference demand, %.",
    )
    balance_tolerance: float = Field(
        1e-6,
        gt=0,
        le=1,
        description="Flag a mass-balance residual above this share of the node's throughput (relative, -).",
    )


class Scenario(Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", description="Id: lower case letters, digits, . _ -.")
    description: str = ""
    start: dt.date = Field(description="First month of the horizon.")
    end: dt.date = Field(description="Last month of the horizon.")
    step: Literal["month"] = "month"
    market: MarketSettings = Field(default_factory=lambda: MarketSettings(curves="stepwise"))
    dynamics: Dynamics = Field(default_factory=Dynamics)
    shocks: list[Shock] = Field(default_factory=list)
    checks: Checks = Field(default_factory=Checks, description="Plausibility thresholds for the run's flags.")

    @field_validator("end")
    @classmethod
    def _horizon(cls, end, info):
        start = info.data.get("start")
        if start is None:
            return end
        if end < start:
            raise ValueError(f"end {end} is before start {start}")
        if (end.year - start.year) * 12 + end.month - start.month >= 600:
            raise ValueError("the horizon is limited to 50 years (600 monthly steps)")
        return end

    @property
    def months(self) -> int:
        """Monthly steps in the horizon (the months of start and end included)."""
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
