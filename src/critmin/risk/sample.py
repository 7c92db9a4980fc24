"""Sample a disruption model: seeded draws of which events occur, when, for how long and how badly, in long
format, with importance weights; and one draw turned into scenario shocks (docs/risk.md).

The inputs of one draw are uniforms in [0, 1): for every cause and year an occurrence and a start uniform, and
for every event and year an occurrence, a start, a duration and a severity uniform. ``mc`` draws them from a
``numpy.random.Generator`` seeded per draw (so any draw can be regenerated alone with :func:`sample_draw`);
``lhs`` and ``sobol`` take them from a scrambled ``scipy.stats.qmc`` design seeded once. Inverse CDFs turn them
into start months, durations and severities.

>>> from critmin.risk.load import _REPO, load_risk_model
>>> model = load_risk_model(_REPO / "risks" / "china-controls.yaml")
>>> d = sample(model, draws=4, seed=7)
>>> list(d.table.columns)
['draw', 'seed', 'event', 'year', 'occurs', 'cause', 'start', 'months', 'severity', 'weight']
>>> sample_draw(model, int(d.seeds[2])).equals(d.draw(2).assign(draw=0).reset_index(drop=True))
True
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import qmc

from critmin.errors import UsageError
from critmin.risk.model import RiskModel, add_months

Sampler = Literal["mc", "lhs", "sobol"]
SAMPLERS: tuple[str, ...] = ("mc", "lhs", "sobol")
COLUMNS = ["draw", "seed", "event", "year", "occurs", "cause", "start", "months", "severity", "weight"]
MAX_DRAWS = 10_000_000
SOBOL_MAX_DIMS = 21_201  # scipy.stats.qmc.Sobol's direction numbers (Joe and Kuo)


@dataclass
class Draws:
    """Sampled draws of a disruption model.

    ``table`` is long format, one row per draw, event and year of the horizon: ``occurs`` (bool), ``cause``
    (the common cause that triggered it, or "" when it occurred on its own, or when it did not occur),
    ``start`` (months after the horizon's first month, 0-based), ``months`` (duration, whole months),
    ``severity`` (in the event type's unit), ``weight`` (the draw's importance weight, 1 without importance
    sampling); start, months and severity are empty where the event does not occur. ``seeds`` holds each
    draw's seed (``mc``: regenerate the draw alone with ``sample_draw(model, seeds[i])``; ``lhs``/``sobol``: the
    design's seed, the same for every draw), ``weights`` each draw's weight, ``uniforms`` the inputs (draws x
    dimensions)."""

    model: RiskModel
    sampler: str
    seed: int
    table: pd.DataFrame
    seeds: np.ndarray
    weights: np.ndarray
    uniforms: np.ndarray = field(repr=False)
    importance: dict[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.seeds)

    def draw(self, i: int) -> pd.DataFrame:
        """The rows of draw ``i`` (its index in the whole sample: ``first`` + position)."""
        return self.table[self.table["draw"] == i]

    def occurrences(self) -> pd.DataFrame:
        """Only the rows of events that occur."""
        return self.table[self.table["occurs"]]


def sample(
    model: RiskModel,
    draws: int,
    seed: int,
    sampler: Sampler = "mc",
    importance: dict[str, float] | None = None,
    first: int = 0,
) -> Draws:
    """Draw ``draws`` samples of ``model`` with ``sampler`` (mc, lhs or sobol) from ``seed``.

    ``importance`` maps event or cause ids to a raised annual probability q (0 < q < 1): each year's occurrence
    is drawn with q instead of the model's p, and the draw's weight multiplies p/q for every such trial that
    occurs and (1-p)/(1-q) for every one that does not, so weighted means are unbiased estimates of the model's
    expectations (the weights average 1).

    ``first`` (``mc`` only) starts at draw ``first``: chunks of one sample are drawn apart (for workers) and
    ``sample(m, 10, s, first=10)`` holds draws 10-19 of ``sample(m, 20, s)``, seeds and rows alike.

    >>> from critmin.risk.load import _REPO, load_risk_model
    >>> model = load_risk_model(_REPO / "risks" / "global-baseline.yaml")
    >>> d = sample(model, draws=8, seed=1, sampler="sobol")
    >>> len(d), sorted(d.table["event"].unique())[:2]
    (8, ['china-gallium-licensing', 'china-graphite-licensing'])
    """
    if sampler not in SAMPLERS:
        raise UsageError(f"unknown sampler {sampler!r}; use one of {', '.join(SAMPLERS)}")
    if not isinstance(draws, int | np.integer) or not 1 <= draws <= MAX_DRAWS:
        raise UsageError(f"draws must be a whole number from 1 to {MAX_DRAWS:,}, got {draws!r}")
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or not 0 <= seed < 2**63:
        raise UsageError(f"seed must be a whole number from 0 to 2**63 - 1, got {seed!r}")
    if not isinstance(first, int | np.integer) or first < 0 or (first and sampler != "mc"):
        raise UsageError(f"first must be a whole number >= 0, and is for the mc sampler only; got {first!r}")
    importance = _checked_importance(model, importance)
    dims = dimensions(model)
    if sampler == "sobol" and dims > SOBOL_MAX_DIMS:
        raise UsageError(f"{model.name} has {dims:,} inputs per draw, over the {SOBOL_MAX_DIMS:,} Sobol sequences have")
    if sampler == "mc":
        seeds = draw_seeds(seed, draws, first)
        uniforms = np.stack([np.random.default_rng(int(s)).random(dims) for s in seeds])
    else:
        seeds = np.full(draws, int(seed), dtype=np.uint64)
        if sampler == "lhs":
            uniforms = qmc.LatinHypercube(d=dims, rng=np.random.default_rng(seed)).random(draws)
        else:
            m = int(np.ceil(np.log2(draws)))
            uniforms = qmc.Sobol(d=dims, scramble=True, rng=np.random.default_rng(seed)).random_base2(m)[:draws]
    table, weights = _evaluate(model, uniforms, seeds, importance, first)
    return Draws(model, sampler, int(seed), table, seeds, weights, uniforms, importance)


def sample_draw(model: RiskModel, seed_of_draw: int, importance: dict[str, float] | None = None) -> pd.DataFrame:
    """One Monte Carlo draw regenerated alone from its recorded seed (``Draws.seeds[i]``): the same rows as
    draw i of the ``mc`` sample it came from (with ``draw`` 0)."""
    importance = _checked_importance(model, importance)
    seeds = np.array([seed_of_draw], dtype=np.uint64)
    uniforms = np.random.default_rng(int(seed_of_draw)).random(dimensions(model))[None, :]
    return _evaluate(model, uniforms, seeds, importance)[0]


def draw_seeds(seed: int, draws: int, first: int = 0) -> np.ndarray:
    """One 64-bit seed per draw, for draws ``first`` to ``first + draws - 1``: the first state word of the
    ``numpy.random.SeedSequence(seed).spawn`` children of those indices.

    >>> draw_seeds(1, 3).dtype
    dtype('uint64')
    >>> bool((draw_seeds(1, 2, first=1) == draw_seeds(1, 3)[1:]).all())
    True
    """
    children = (np.random.SeedSequence(seed, spawn_key=(i,)) for i in range(first, first + draws))
    return np.array([c.generate_state(1, dtype=np.uint64)[0] for c in children], dtype=np.uint64)


def dimensions(model: RiskModel) -> int:
    """Uniform inputs per draw: 2 per cause and year (occurrence, start) and 4 per event and year (occurrence,
    start, duration, severity)."""
    return model.years * (2 * len(model.causes) + 4 * len(model.events))


def _checked_importance(model: RiskModel, importance: dict[str, float] | None) -> dict[str, float]:
    importance = dict(importance or {})
    ids = {e.id for e in model.events} | {c.id for c in model.causes}
    for name, q in importance.items():
        if name not in ids:
            raise UsageError(f"importance names {name!r}, not an event or cause of {model.name}")
        if not 0 < q < 1:
            raise UsageError(f"importance probability for {name!r} must lie strictly between 0 and 1, got {q}")
        p = next(x.probability for x in [*model.events, *model.causes] if x.id == name)
        if p == 0:
            raise UsageError(f"{name!r} has probability 0: importance sampling cannot reweight it")
    return importance


def _evaluate(model: RiskModel, uniforms: np.ndarray, seeds: np.ndarray, importance: dict[str, float], first=0):
    """The long table and the weights of draws whose inputs are ``uniforms`` (draws x dimensions)."""
    n, years = len(uniforms), model.years
    n_causes, n_events = len(model.causes), len(model.events)
    u_cause = uniforms[:, : 2 * n_causes * years].reshape(n, n_causes, years, 2)
    u_event = uniforms[:, 2 * n_causes * years :].reshape(n, n_events, years, 4)

    p_cause = np.array([c.probability for c in model.causes], dtype=float)
    q_cause = np.array([importance.get(c.id, c.probability) for c in model.causes], dtype=float)
    p_event = np.array([e.probability for e in model.events], dtype=float)
    q_event = np.array([importance.get(e.id, e.probability) for e in model.events], dtype=float)

    cause_hit = u_cause[..., 0] < q_cause[None, :, None]  # (n, C, Y)
    own_hit = u_event[..., 0] < q_event[None, :, None]  # (n, E, Y)
    log_w = _log_ratio(cause_hit, p_cause, q_cause).sum(axis=(1, 2)) + _log_ratio(own_hit, p_event, q_event).sum(
        axis=(1, 2)
    )
    weights = np.exp(log_w)

    ids = [e.id for e in model.events]
    member = np.zeros((n_causes, n_events), dtype=bool)
    for c, cause in enumerate(model.causes):
        for event_id in cause.events:
            member[c, ids.index(event_id)] = True
    # the first listed cause that occurs triggers the event (n, C, E, Y)
    triggers = cause_hit[:, :, None, :] & member[None, :, :, None]
    triggered = triggers.any(axis=1)
    # (n, E, Y); a model without causes has nothing to take the argmax over
    which = triggers.argmax(axis=1) if n_causes else np.zeros(triggered.shape, dtype=np.intp)
    occurs = own_hit | triggered

    start_in_year = np.empty((n, n_events, years))
    months = np.empty((n, n_events, years))
    severity = np.empty((n, n_events, years))
    for e, event in enumerate(model.events):
        start_in_year[:, e] = event.start.ppf(u_event[:, e, :, 1])
        months[:, e] = event.duration.ppf(u_event[:, e, :, 2])
        severity[:, e] = event.severity.ppf(u_event[:, e, :, 3])
    if n_causes:
        cause_start = np.stack([c.start.ppf(u_cause[:, c_i, :, 1]) for c_i, c in enumerate(model.causes)], axis=1)
        from_cause = np.take_along_axis(cause_start, which, axis=1)  # (n, E, Y)
        start_in_year = np.where(triggered, from_cause, start_in_year)
    month_of_year = np.clip(np.floor(start_in_year), 0, 11)
    start = month_of_year + 12 * np.arange(years)[None, None, :]
    months = np.maximum(1, np.rint(months))

    cause_ids = np.array(["", *[c.id for c in model.causes]], dtype=object)
    cause_of = np.where(triggered, which + 1, 0)
    shape = (n, n_events, years)
    flat = occurs.reshape(-1)
    table = pd.DataFrame(
        {
            "draw": np.broadcast_to(first + np.arange(n)[:, None, None], shape).reshape(-1),
            "seed": np.broadcast_to(seeds[:, None, None], shape).reshape(-1),
            "event": np.broadcast_to(np.array(ids, dtype=object)[None, :, None], shape).reshape(-1),
            "year": np.broadcast_to(np.arange(years)[None, None, :], shape).reshape(-1),
            "occurs": flat,
            "cause": cause_ids[cause_of.reshape(-1)],
            "start": pd.arrays.IntegerArray(np.where(flat, start.reshape(-1), 0).astype(np.int64), ~flat),
            "months": pd.arrays.IntegerArray(np.where(flat, months.reshape(-1), 0).astype(np.int64), ~flat),
            "severity": np.where(flat, severity.reshape(-1), np.nan),
            "weight": np.broadcast_to(weights[:, None, None], shape).reshape(-1),
        },
        columns=COLUMNS,
    )
    return table, weights


def _log_ratio(hit: np.ndarray, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """log of p/q where a trial hit and (1-p)/(1-q) where it did not (0 where q equals p)."""
    same = p == q
    with np.errstate(divide="ignore", invalid="ignore"):
        on = np.where(same, 0.0, np.log(np.where(same, 1.0, p) / np.where(same, 1.0, q)))
        off = np.where(same, 0.0, np.log(np.where(same, 1.0, 1 - p) / np.where(same, 1.0, 1 - q)))
    return np.where(hit, on[None, :, None], off[None, :, None])


# --- a draw as scenario shocks ------------------------------------------------------------------------------


def to_shocks(draw_rows: pd.DataFrame, model: RiskModel) -> list[dict]:
    """The scenario shocks (dicts for ``critmin.scenario.schema``) of one draw's rows: every occurring event
    becomes one shock from its start month for its duration (cut at the horizon's end).

    - export_control → ``export_control`` with the event's mode: ban; quota with magnitude 1 - severity; licence
      with one approval period of share 1 - severity from the start, the event's lag and military share.
    - outage → ``outage`` with magnitude = severity, over the event's stages, processes and elements.
    - demand_surge → ``demand_shift`` with magnitude_pct = severity.
    - logistics → ``export_control``, mode quota, from the origins to the destinations with magnitude
      1 - severity: closed arcs carry only that share of their baseline trade.
    """
    shocks = []
    for row in draw_rows[draw_rows["occurs"]].itertuples(index=False):
        event = model.event(row.event)
        start = add_months(model.start, int(row.start))
        end = min(add_months(model.start, int(row.start) + int(row.months)) - dt.timedelta(days=1), model.end)
        severity = float(row.severity)
        label = f"{event.id} (year {int(row.year) + 1}" + (f", cause {row.cause})" if row.cause else ")")
        window = {"name": label, "source": event.source[:500], "start": start, "end": end}
        if event.type == "export_control":
            shock = {
                "type": "export_control",
                "exporter": _places(event.exporter),
                "destinations": _places(event.destinations),
                "elements": list(event.elements),
                "stages": list(event.stages),
                "mode": event.mode,
            }
            if event.mode == "quota":
                shock["magnitude"] = round(1 - severity, 6)
            elif event.mode == "licence":
                shock |= {
                    "approval": [{"start": start, "share": round(1 - severity, 6)}],
                    "lag_days": event.lag_days,
                    "military_share": event.military_share,
                }
        elif event.type == "outage":
            shock = {
                "type": "outage",
                "where": _places(event.where),
                "stages": list(event.stages),
                "processes": list(event.processes),
                "elements": list(event.elements),
                "magnitude": round(severity, 6),
            }
        elif event.type == "demand_surge":
            shock = {
                "type": "demand_shift",
                "where": _places(event.where),
                "sectors": list(event.sectors),
                "elements": list(event.elements),
                "stages": list(event.stages),
                "magnitude_pct": round(severity, 6),
            }
        else:  # logistics
            shock = {
                "type": "export_control",
                "exporter": _places(event.origins),
                "destinations": _places(event.destinations),
                "elements": list(event.elements),
                "stages": list(event.stages),
                "mode": "quota",
                "magnitude": round(1 - severity, 6),
            }
        shocks.append(window | shock)
    return shocks


def _places(places) -> dict:
    return places.model_dump()


def to_scenario(draw_rows: pd.DataFrame, model: RiskModel, name: str | None = None):
    """One draw as a validated :class:`critmin.scenario.Scenario` over the model's horizon."""
    from critmin.scenario.schema import Scenario

    draw = int(draw_rows["draw"].iloc[0]) if len(draw_rows) else 0
    return Scenario.model_validate(
        {
            "name": name or f"{model.name}-draw-{draw}",
            "description": f"Draw {draw} of the disruption model {model.name}.",
            "start": model.start,
            "end": model.end,
            "shocks": to_shocks(draw_rows, model),
        }
    )
