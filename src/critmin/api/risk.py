"""Risk models for the front ends: the bundled disruption models (risks/*.yaml) and a short description of one,
as :func:`critmin.scenario.describe` gives of a scenario."""

from __future__ import annotations

from pathlib import Path

from critmin.risk.model import RiskModel


def bundled_risk_models() -> dict[str, Path]:
    """Disruption models shipped in the repository's risks/ folder (or the package copy), by file stem."""
    from importlib import resources

    roots = [Path(__file__).resolve().parents[3] / "risks", Path(str(resources.files("critmin"))) / "risks"]
    for root in roots:
        if root.is_dir():
            return {p.stem: p for p in sorted(root.glob("*.yaml"))}
    return {}


def describe_risk_model(model: RiskModel) -> dict:
    """Name, description, horizon (start, end, years, months), how many events and common causes, and what the
    events touch (elements, event types); per event its id, type, annual probability and elements."""
    elements = sorted({e for event in model.events for e in event.elements})
    return {
        "name": model.name,
        "description": model.description,
        "start": model.start.isoformat(),
        "end": model.end.isoformat(),
        "years": model.years,
        "months": model.months,
        "events": len(model.events),
        "causes": len(model.causes),
        "elements": elements,
        "event_types": sorted({event.type for event in model.events}),
        "event_list": [
            {
                "id": event.id,
                "type": event.type,
                "probability": event.probability,
                "elements": list(event.elements),
                "description": event.description,
            }
            for event in model.events
        ],
        "cause_list": [
            {"id": cause.id, "probability": cause.probability, "events": list(cause.events)} for cause in model.causes
        ],
    }


# --- Morris screening of a model's probabilities ----------------------------------------------------------------

SCREEN_RANGE = (0.5, 2.0)  # each probability from half to twice its value
SCREEN_MAX_PROBABILITY = 0.95


def screened_probabilities(model: RiskModel) -> list[dict]:
    """The annual probabilities a Morris screening varies: every event and common cause with a probability above
    0, from half to twice its value (at most 0.95), with the importance-sampling probability its draws use."""
    items = [("event", e) for e in model.events] + [("cause", c) for c in model.causes]
    rows = []
    for kind, item in items:
        p = float(item.probability)
        if p <= 0:
            continue
        low, high = p * SCREEN_RANGE[0], min(SCREEN_MAX_PROBABILITY, p * SCREEN_RANGE[1])
        rows.append({"input": item.id, "kind": kind, "probability": p, "low": low, "high": high})
    # about one occurrence per draw over all trials, and never below an input's upper bound: every Morris point
    # is then a reweighting of the same draws with bounded weights
    base = 1.0 / max(1, len(rows) * model.years)
    for row in rows:
        row["importance"] = min(SCREEN_MAX_PROBABILITY, max(base, row["high"]))
    return rows


def screening_draws(world, model: RiskModel, *, draws: int = 64, seed: int = 0, engine: str = "fast", chunk: int = 16,
                    progress=None):  # fmt: skip
    """The draws a Morris screening of ``model``'s probabilities reweights, evaluated once: sampled with every
    screened probability raised to its importance probability (so that most draws hold an event), then run
    through ``engine`` in chunks (``progress(done, total)`` after each). Returns (draws, outcomes)."""
    import pandas as pd

    from critmin.risk.engines import evaluate_chunk
    from critmin.risk.sample import sample
    from critmin.risk.scale import chunks

    importance = {row["input"]: row["importance"] for row in screened_probabilities(model)}
    sampled = sample(model, draws, seed, importance=importance)
    outcomes, done = [], 0
    for part in chunks(sampled, chunk):
        outcomes.append(evaluate_chunk(world, part, engine).outcomes)
        done += len(part)
        if progress is not None:
            progress(done, draws)
    return sampled, pd.concat(outcomes, ignore_index=True)


def morris_probabilities(model: RiskModel, sampled, outcomes, *, region: str, element: str, trajectories: int = 10,
                         seed: int = 0):  # fmt: skip
    """Morris elementary effects of ``model``'s annual probabilities (:func:`screened_probabilities`) on the
    expected shortfall of ``element`` in ``region`` (% of baseline demand, worst month), from the draws of
    :func:`screening_draws`. Each Morris point reweights those draws by likelihood ratio (their occurrences do
    not depend on the probabilities, only their weights do), so the screening costs one evaluation of the draws.
    Columns: input, kind (event or cause), probability, low, high, unit, mu, mu_star, mu_star_conf, sigma, rank,
    draws_with (draws where the input occurred), region, element, output_unit; mu and mu_star are changes of the
    expected shortfall (% of baseline demand) over the input's range."""
    import numpy as np

    from critmin.errors import UsageError
    from critmin.risk.sample import sample
    from critmin.risk.sensitivity import UncertainInput, morris

    rows = screened_probabilities(model)
    if len(rows) < 2:
        raise UsageError(f"{model.name} has {len(rows)} event or cause with a probability: a screening needs two")
    importance = {row["input"]: row["importance"] for row in rows}
    mine = outcomes[(outcomes["region"] == region) & (outcomes["element"] == element)]
    loss = mine.set_index("draw")["shortfall_pct"].reindex(np.sort(sampled.table["draw"].unique())).fillna(0.0)
    loss = loss.to_numpy(dtype=float)
    occurs = sampled.table["occurs"].to_numpy()

    def expected(x: np.ndarray) -> np.ndarray:
        out = np.empty(len(x))
        for i, point in enumerate(x):
            values = dict(zip((r["input"] for r in rows), point, strict=True))
            changed = model.model_copy(
                update={
                    "events": [_with_probability(e, values) for e in model.events],
                    "causes": [_with_probability(c, values) for c in model.causes],
                }
            )
            again = sample(changed, len(sampled), sampled.seed, sampled.sampler, importance=importance)
            if not np.array_equal(again.table["occurs"].to_numpy(), occurs):  # pragma: no cover - a broken premise
                raise RuntimeError("reweighted draws changed their occurrences")
            w = np.asarray(again.weights, dtype=float)
            out[i] = float(np.dot(w, loss) / w.sum())
        return out

    inputs = [
        UncertainInput(r["input"], r["low"], r["high"], "probability (0-1)", f"{r['kind']} annual probability")
        for r in rows
    ]
    table = morris(inputs, expected, trajectories=trajectories, seed=seed, num_resamples=200)
    meta = {r["input"]: r for r in rows}
    for column in ("kind", "probability", "low", "high"):
        table.insert(1, column, table["input"].map(lambda name, c=column: meta[name][c]))
    table = table[["input", "kind", "probability", "low", "high", "unit", "mu", "mu_star", "mu_star_conf", "sigma",
                   "rank"]]  # fmt: skip
    table["draws_with"] = table["input"].map(_draws_with(sampled.table)).fillna(0).astype(int)
    return table.assign(region=region, element=element, output_unit="% of baseline demand")


def _with_probability(item, values: dict[str, float]):
    """An event or cause with its probability from ``values`` (unchanged when it is not there)."""
    return item.model_copy(update={"probability": values.get(item.id, item.probability)})


def _draws_with(table) -> dict[str, int]:
    """Per event or cause: the draws where it occurred on its own (an event) or triggered events (a cause). An
    input occurring in no draw shows no effect in a screening, whatever its real weight: more draws see it."""
    hits = table[table["occurs"]]
    own = hits[hits["cause"] == ""].groupby("event")["draw"].nunique()
    caused = hits[hits["cause"] != ""].groupby("cause")["draw"].nunique()
    return {**own.to_dict(), **caused.to_dict()}
