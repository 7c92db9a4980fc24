"""Market settings: the behavioural parameters of the clearing model, with units and the reasons for their
defaults. One pydantic model, shared by the Python API, the CLI and scenario files (``market:`` block)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from critmin.market.curves import CurveForm
from critmin.market.solver_settings import SolverSettings
from critmin.vocabulary import Process


class MarketSettings(BaseModel):
    """Parameters used where the world has no row of its own. All are assumptions; see docs/market.md."""

    # every number finite and within its declared range: what validates also runs (issue 11)
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    curves: CurveForm = Field(
        "linear",
        description="linear: exact linear supply and demand curves (a QP). stepwise: staircase curves on a "
        "fixed grid of multiples of the reference cost (an LP; faster, prices resolve to the grid).",
    )
    supply_elasticity: dict[Process, Annotated[float, Field(ge=0.01, le=100)]] = Field(
        default_factory=lambda: {"extract": 0.3, "separate": 0.5, "convert": 0.5, "recycle": 0.3},
        description="Elasticity of an activity's level with respect to its marginal cost at the reference point "
        "(dimensionless), per process, for activities without a supply_curve row. Short-run values: mines "
        "respond least.",
    )
    capacity_headroom: float = Field(
        1 / 0.85,
        gt=0,
        le=10,
        description="Capacity over reference output where the world gives no capacity (-): the 85% "
        "utilisation the bundled world assumes.",
    )
    voll_multiple: float = Field(
        10.0,
        gt=1,
        le=1000,
        description="Value of lost load, as a multiple of the reference price (-): the price at which demand "
        "is rationed rather than curtailed further.",
    )
    voll_multiple_by_sector: dict[str, Annotated[float, Field(gt=1, le=1000)]] = Field(
        default_factory=dict,
        description="Sector overrides of voll_multiple (-); the world's sector.csv gives the defaults.",
    )
    default_freight_pct: float = Field(
        1.0,
        ge=0,
        le=1000,
        description="Freight on arcs without a trade_cost row, as % of the product's reference price.",
    )
    contract_margin_pct: float = Field(
        2.0,
        ge=0,
        le=100,
        description="Calibration margin of recorded trade, % of the product's reference price: the recorded "
        "volume of an arc costs this much less than the calibrated arc cost, trade beyond it this much more "
        "(plus freight). It pins the baseline to the recorded bilateral flows (PMP-style calibration).",
    )
    reservation_multiple: float = Field(
        0.7,
        ge=0,
        le=1,
        description="Producers' reservation price as a multiple of reference (-), where the world's "
        "reservation_price.csv has no row: below it they stock output instead of selling.",
    )
    producer_release_multiple: float = Field(
        1.01,
        gt=0,
        le=100,
        description="Producer inventories sell again at this multiple of the reference price (-). Just above 1, so "
        "that an unshocked step at reference prices does not draw on them (output and consumption stay at "
        "reference) while they still cover the kilogram-sized imbalances that rounding leaves in the data.",
    )
    public_release_multiple: float = Field(
        1.5,
        gt=0,
        le=100,
        description="Public stockpiles release when the local price exceeds this multiple of reference.",
    )
    private_release_multiple: float = Field(
        1.1, gt=0, le=100, description="Private inventories release above this multiple of the reference price."
    )
    restock_multiple: float = Field(
        0.95, gt=0, le=100, description="Holders with a days-of-cover target restock below this multiple of reference."
    )
    solver: SolverSettings = Field(
        default_factory=SolverSettings, description="Solver settings for every solve (time limit, tolerances)."
    )
    allow_reexport: bool = Field(
        False,
        description="Whether a region may export more than it makes and releases from stock. Off by default: "
        "transshipment would otherwise dodge bilateral export controls at the cost of a second freight.",
    )
