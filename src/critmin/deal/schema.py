"""A deal file as data: the tariff regime change both sides agree (two dates of a trade world's schedules)
and the cooperation measures (modules of a plan's options), valued per side (docs/deals.md)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from critmin.plan.problem import INSTRUMENTS
from critmin.plan.schema import ID, PLAYER


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Measure(Strict):
    """Modules of one of the plan's options, with the instrument financing them (empty: the cheapest the
    option admits)."""

    option: str = Field(pattern=ID)
    modules: int = Field(1, ge=1, le=100)
    instrument: str | None = Field(None, description=f"One of {', '.join(INSTRUMENTS)}.")


class Side(Strict):
    """A party to the deal: its player in the plan and its country in the trade world, and the rare-earth
    purchases from allies a premium would be paid on (for the break-even premium)."""

    id: str = Field(pattern=PLAYER, description="The side's player id in the plan.")
    country: str = Field(description="The side's country in the trade world.")
    ally_elements: list[str] = Field(default_factory=list, description="Elements whose allied supply it would "
                                     "pay a premium for (empty: no break-even premium).")  # fmt: skip
    allies: list[str] = Field(default_factory=list, description="Regions counted as allied suppliers.")


class Deal(Strict):
    name: str = Field(pattern=ID)
    description: str = ""
    trade_world: str | None = Field(None, description="Trade world (trade.yaml); empty: the bundled one.")
    before: dt.date = Field(description="The tariff regime without the deal (a date of the schedules).")
    after: dt.date = Field(description="The tariff regime with the deal.")
    tariff_scope: Literal["sides", "all"] = Field(
        "sides", description="sides: only the arcs between the sides change (the deal alone); all: every arc "
        "moves to the later regime (everything that changed between the dates)."
    )
    plan: str = Field(description="Plan file: the disruption model, options and players the measures use.")
    measures: list[Measure] = Field(min_length=1)
    sides: list[Side] = Field(min_length=1)
    source: str = Field(min_length=1, description="What the deal's terms come from.")
