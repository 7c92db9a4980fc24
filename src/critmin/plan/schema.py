"""The plan file as data: who plans (players, budgets), what they may choose (options with a public cost
model), the disruption model the second-stage scenarios are drawn from, and the risk attitude (λ, α).

Read from YAML by :func:`critmin.plan.load.load_plan`; docs/plan.md explains every field and formula.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from critmin.vocabulary import Confidence, Process

ID = r"^[a-z0-9][a-z0-9._-]*$"
PLAYER = r"^[A-Z][A-Z0-9_]*$"
InstrumentName = Literal["grant", "loan", "guarantee", "equity", "offtake", "insurance"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Player(Strict):
    """A government that plans: its regions (whose shortfall it counts) and its budget."""

    id: str = Field(pattern=PLAYER, description="Player id, e.g. USA, JPN (upper case).")
    regions: list[str] = Field(min_length=1, description="Regions whose shortfall the player bears.")
    budget_musd: float = Field(ge=0, le=1e7, description="Public money the player may commit alone, MUSD.")


class Finance(Strict):
    """Terms the instrument cost formulas use (docs/plan.md); defaults are assumptions, flagged as such."""

    market_rate: float = Field(0.05, gt=-0.5, lt=1, description="Discount and market lending rate (per year).")
    loan_rate: float = Field(0.02, gt=-0.5, lt=1, description="Concessional loan rate (per year).")
    loan_tenor_years: float = Field(10, gt=0, le=50, description="Loan tenor, years.")
    default_probability: float = Field(0.15, ge=0, le=1, description="Probability a project defaults (-).")
    loss_given_default: float = Field(0.6, ge=0, le=1, description="Share of exposure lost on default (-).")
    equity_required_return: float = Field(0.10, gt=-1, lt=2, description="Return a private investor requires.")
    equity_expected_return: float = Field(0.04, gt=-1, lt=2, description="Return the project is expected to make.")
    equity_years: float = Field(10, gt=0, le=50, description="Holding period of an equity stake, years.")
    insurance_loading: float = Field(0.3, ge=0, le=10, description="Premium over expected claims, share (-).")
    stock_holding_pct_per_yr: float = Field(
        3.0, ge=0, le=100, description="Storage, insurance and capital cost of a stockpile, % of its value a year."
    )
    confidence: Confidence = Field("assumption", description="How far these terms are sourced.")
    source: str = Field("critmin assumption (docs/plan.md)", description="Where the terms come from.")


class _Option(Strict):
    id: str = Field(pattern=ID, description="Option id (lower case letters, digits, . _ -).")
    name: str = ""
    owner: str = Field(pattern=PLAYER, description="Player who can take the option alone.")
    source: str = Field(min_length=1, description="Facts (file and row) or documents the figures come from.")
    confidence: Confidence = Field(description="confirmed, secondary or assumption.")
    modules: int = Field(1, ge=1, le=100, description="Whole modules the option may be taken in (1: yes or no).")


class ProjectOption(_Option):
    """New capacity of one activity (mine, separation, metal/alloy/magnet making, recycling): a column per
    planning step on the engine's activity row pattern, at a flat unit cost."""

    kind: Literal["project", "recycling"]
    project: str = Field("", description="Catalogue id (project.csv), for provenance.")
    region: str
    process: Process
    product: str = Field(description="Product made (for separate: the concentrate processed).")
    capacity: float = Field(gt=0, le=1e7, description="Nameplate per module, in the product's unit per year.")
    capex_musd: float = Field(ge=0, le=1e6, description="Capital cost per module, MUSD.")
    lead_time_months: float = Field(0, ge=0, le=240, description="Months from the decision to first output.")
    ramp_months: float = Field(12, ge=0, le=240, description="Months from first output to nameplate.")
    unit_cost_multiple: float = Field(1.0, gt=0, le=100, description="Operating cost over the activity's reference.")
    instruments: list[InstrumentName] = Field(min_length=1, description="Instruments the project admits.")
    financed_share: float = Field(1.0, gt=0, le=1, description="Share of the capex the instrument covers (-).")
    floor_usd_per_kg: float | None = Field(None, gt=0, le=1e5, description="Offtake price floor, USD/kg.")
    floor_product: str | None = Field(None, description="Product the floor applies to (empty: the product made).")
    offtake_share: float = Field(1.0, ge=0, le=1, description="Share of output the offtake buys at the floor.")

    @model_validator(mode="after")
    def _offtake_has_floor(self):
        if "offtake" in self.instruments and self.floor_usd_per_kg is None:
            raise ValueError("an offtake needs floor_usd_per_kg (the price the government guarantees)")
        return self


class StockpileOption(_Option):
    """A public stockpile of one product in one region, sized in days of the region's reference use, bought
    before the horizon at reference prices and released at will (the second stage's foresight)."""

    kind: Literal["stockpile"]
    region: str
    product: str
    days: float = Field(gt=0, le=3650, description="Days of the region's reference use per module.")
    pool: str | None = Field(None, pattern=ID, description="Pool id: options with one pool share one stock.")


Option = Annotated[ProjectOption | StockpileOption, Field(discriminator="kind")]


class Pool(Strict):
    """A stockpile held jointly (when its members plan together): every member region draws on one stock, each
    at most ``max_share`` of it (the sharing rule; 1: whoever needs it)."""

    id: str = Field(pattern=ID)
    members: list[str] = Field(min_length=2, description="Players sharing the pool.")
    max_share: float = Field(1.0, gt=0, le=1, description="Most of the pool one member may draw (-).")


class Plan(Strict):
    name: str = Field(pattern=ID)
    description: str = ""
    risk_model: str = Field(description="Disruption model YAML the scenarios are sampled from (path).")
    start: dt.date = Field(description="First month of the planning horizon (the scenarios' start).")
    years: int = Field(2, ge=1, le=10, description="Horizon, years.")
    step_months: Literal[1, 2, 3, 4, 6, 12] = Field(3, description="Months per second-stage step.")
    scenarios: int = Field(16, ge=1, le=5000, description="Disruption draws sampled for the second stage.")
    seed: int = Field(1, ge=0, le=2**63 - 1)
    importance: dict[str, float] = Field(default_factory=dict, description="Raised annual probabilities by event.")
    risk_weight: float = Field(0.5, ge=0, le=100, description="λ: weight on CVaR in the objective (-).")
    alpha: float = Field(0.9, ge=0, lt=1, description="CVaR level α (-).")
    gap: float = Field(0.01, gt=0, le=0.5, description="Relative optimality gap the decomposition stops at.")
    method: Literal["auto", "extensive", "lshaped"] = "auto"
    threads: int = Field(1, ge=1, le=64, description="Scenario LPs the L-shaped method solves at once.")
    players: list[Player] = Field(min_length=1)
    joint_budget_musd: float | None = Field(None, ge=0, le=1e7, description="Pooled budget; empty: the sum.")
    finance: Finance = Field(default_factory=Finance)
    options: list[Option] = Field(min_length=1)
    pools: list[Pool] = Field(default_factory=list)
    deadline_months: int = Field(6, ge=1, le=60, description="Months to the selection deadline (shortlist).")

    @model_validator(mode="after")
    def _consistent(self):
        players = [p.id for p in self.players]
        if len(set(players)) != len(players):
            raise ValueError(f"player ids repeat: {players}")
        ids = [o.id for o in self.options]
        if len(set(ids)) != len(ids):
            raise ValueError(f"option ids repeat: {sorted(i for i in ids if ids.count(i) > 1)[0]!r}")
        pools = {p.id: p for p in self.pools}
        for o in self.options:
            if o.owner not in players:
                raise ValueError(f"option {o.id}: owner {o.owner!r} is not a player ({', '.join(players)})")
            if getattr(o, "pool", None) and o.pool not in pools:
                raise ValueError(f"option {o.id}: pool {o.pool!r} is not declared under pools")
        for p in self.pools:
            unknown = [m for m in p.members if m not in players]
            if unknown:
                raise ValueError(f"pool {p.id}: members {unknown} are not players")
        return self
