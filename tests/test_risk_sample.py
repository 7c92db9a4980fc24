"""Issue 13, sampling a disruption model: seeded and reproducible draws (a seed per draw), Monte Carlo frequencies,
common causes, Latin hypercube and Sobol stratification, importance weights, and draws as valid scenarios."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from conftest import REPO
from critmin.errors import UsageError
from critmin.risk import load_risk_model, parse_risk_model, sample, sample_draw, to_scenario, to_shocks
from critmin.risk.sample import COLUMNS, dimensions
from critmin.scenario import parse_scenario

TWO_EVENTS = """\
name: two
start: 2026-01-01
years: {years}
events:
  - id: a
    type: outage
    where: {{regions: [MMR]}}
    stages: [mine]
    probability: {p}
    duration: {{dist: triangular, low: 1, mode: 3, high: 12}}
    severity: {{dist: uniform, low: 0.2, high: 0.8}}
    source: s
    reasoning: r
    confidence: assumption
  - id: b
    type: export_control
    exporter: {{regions: [CHN]}}
    elements: [Dy, Tb]
    mode: quota
    probability: {p}
    duration: {{dist: lognormal, median: 6, sigma: 0.5, high: 24}}
    severity: {{dist: beta, a: 2, b: 3}}
    source: s
    reasoning: r
    confidence: assumption
causes:
  - id: together
    probability: {pc}
    events: [a, b]
    source: s
    reasoning: r
    confidence: assumption
"""


def two_events(p=0.1, pc=0.05, years=1):
    return parse_risk_model(TWO_EVENTS.format(p=p, pc=pc, years=years))


def occurs(draws, event: str) -> np.ndarray:
    """Per draw (year 0): whether ``event`` occurs."""
    rows = draws.table[(draws.table["event"] == event) & (draws.table["year"] == 0)].sort_values("draw")
    return rows["occurs"].to_numpy()


@pytest.fixture(scope="module")
def baseline():
    return load_risk_model(REPO / "risks" / "global-baseline.yaml")


@pytest.mark.parametrize("sampler", ["mc", "lhs", "sobol"])
def test_the_same_seed_gives_the_same_table_and_another_seed_another(sampler):
    model = two_events(years=3)
    first = sample(model, 32, seed=5, sampler=sampler)
    assert list(first.table.columns) == COLUMNS
    assert len(first.table) == 32 * 2 * 3 and first.uniforms.shape == (32, dimensions(model))
    assert first.table.equals(sample(model, 32, seed=5, sampler=sampler).table)
    assert not first.table.equals(sample(model, 32, seed=6, sampler=sampler).table)


def test_a_monte_carlo_draw_is_regenerated_alone_from_its_recorded_seed(baseline):
    importance = {"regional-conflict": 0.4}
    draws = sample(baseline, 12, seed=2026, importance=importance)
    assert len(set(draws.seeds.tolist())) == 12  # a seed per draw
    for i in (0, 7, 11):
        alone = sample_draw(baseline, int(draws.seeds[i]), importance=importance)
        expected = draws.draw(i).assign(draw=0).reset_index(drop=True)
        assert alone.equals(expected)


def test_monte_carlo_chunks_are_slices_of_the_whole_sample():
    model = two_events(years=2)
    whole = sample(model, 20, seed=8, importance={"a": 0.5})
    chunk = sample(model, 8, seed=8, importance={"a": 0.5}, first=12)
    assert chunk.table.equals(whole.table[whole.table["draw"] >= 12].reset_index(drop=True))
    assert (chunk.seeds == whole.seeds[12:]).all()
    assert chunk.draw(15).equals(whole.draw(15).reset_index(drop=True).set_axis(chunk.draw(15).index))
    with pytest.raises(UsageError, match="first"):
        sample(model, 8, seed=8, sampler="lhs", first=8)


def test_occurring_rows_have_start_duration_and_severity_within_their_ranges(baseline):
    table = sample(baseline, 40, seed=3, importance={"regional-conflict": 0.5}).table
    hit, miss = table[table["occurs"]], table[~table["occurs"]]
    assert len(hit) and miss[["start", "months", "severity"]].isna().all().all()
    assert (hit["start"] >= 12 * hit["year"]).all() and (hit["start"] < 12 * (hit["year"] + 1)).all()
    assert (hit["months"] >= 1).all() and (hit["months"] <= 60).all()
    surge = hit["event"].str.endswith("demand-surge")
    assert hit.loc[~surge, "severity"].between(0, 1).all() and hit.loc[surge, "severity"].between(0, 1000).all()


def test_monte_carlo_frequencies_match_the_probabilities():
    p, pc, n = 0.1, 0.05, 4000
    draws = sample(two_events(p, pc), n, seed=11)
    expected = 1 - (1 - p) * (1 - pc)  # on its own or through the cause
    se = np.sqrt(expected * (1 - expected) / n)
    for event in ("a", "b"):
        assert abs(occurs(draws, event).mean() - expected) < 4 * se
    assert (draws.weights == 1).all()


def test_a_common_cause_makes_its_events_co_occur_at_one_start():
    draws = sample(two_events(p=0.05, pc=0.1), 2000, seed=12)
    a, b = occurs(draws, "a"), occurs(draws, "b")
    assert np.corrcoef(a, b)[0, 1] > 0.5
    assert (a & b).mean() > a.mean() * b.mean() * 3
    rows = draws.table[draws.table["cause"] == "together"]
    assert rows["occurs"].all() and len(rows)
    by_draw = rows.groupby("draw")
    assert (by_draw["event"].nunique() == 2).all()  # the cause triggers both events ...
    assert (by_draw["start"].nunique() == 1).all()  # ... in the same month
    independent = sample(two_events(p=0.15, pc=0.0001), 2000, seed=12)
    assert abs(np.corrcoef(occurs(independent, "a"), occurs(independent, "b"))[0, 1]) < 0.1


def test_latin_hypercube_has_one_point_per_stratum_in_every_input():
    n = 50
    draws = sample(two_events(years=2), n, seed=4, sampler="lhs")
    strata = np.floor(draws.uniforms * n).astype(int)
    for column in strata.T:
        assert sorted(column) == list(range(n))
    # so the count of own occurrences is within one of n * p
    own = (draws.uniforms[:, 4 + 0] < 0.1).sum()  # event a, year 0, occurrence input
    assert abs(own - n * 0.1) <= 1


def test_sobol_points_are_balanced_in_every_input():
    n = 64
    draws = sample(two_events(years=2), n, seed=4, sampler="sobol")
    strata = np.floor(draws.uniforms * n).astype(int)
    for column in strata.T:
        assert sorted(column) == list(range(n))


def test_importance_sampling_weights_are_unbiased():
    p, q, n = 0.02, 0.3, 20_000
    model = parse_risk_model(TWO_EVENTS.format(p=p, pc=0.01, years=1))
    draws = sample(model, n, seed=99, sampler="mc", importance={"a": q})
    w = draws.weights
    assert abs(w.mean() - 1) < 3 * w.std() / np.sqrt(n)
    own = draws.uniforms[:, 2 + 0] < q  # a's own trial (after the cause's 2 inputs)
    assert abs(own.mean() - q) < 4 * np.sqrt(q * (1 - q) / n)  # the trial was drawn with q ...
    estimate = own * w
    assert abs(estimate.mean() - p) < 3 * estimate.std() / np.sqrt(n)  # ... and the weights bring it back to p
    expected = 1 - (1 - p) * (1 - 0.01)
    weighted = occurs(draws, "a") * w
    assert abs(weighted.mean() - expected) < 3 * weighted.std() / np.sqrt(n)
    ratio = np.where(own, p / q, (1 - p) / (1 - q))
    np.testing.assert_allclose(w, ratio)  # the likelihood ratio, draw by draw


def test_importance_on_a_cause_reweights_it(baseline):
    draws = sample(baseline, 200, seed=8, importance={"regional-conflict": 0.5})
    table = draws.table
    arcs = table[(table["event"] == "east-asia-arcs-closed") & table["occurs"]]
    assert len(arcs) > 200 * baseline.years * 0.3  # about half of the years of 200 draws
    assert set(arcs["cause"]) == {"regional-conflict"}
    assert draws.weights.min() < 1 < draws.weights.max()


def test_bad_requests_are_usage_errors():
    model = two_events()
    with pytest.raises(UsageError, match="unknown sampler"):
        sample(model, 4, seed=1, sampler="halton")
    with pytest.raises(UsageError, match="draws"):
        sample(model, 0, seed=1)
    with pytest.raises(UsageError, match="seed"):
        sample(model, 4, seed=-1)
    with pytest.raises(UsageError, match="not an event or cause"):
        sample(model, 4, seed=1, importance={"zzz": 0.5})
    with pytest.raises(UsageError, match="strictly between"):
        sample(model, 4, seed=1, importance={"a": 1.0})


def test_a_draw_becomes_a_scenario_that_validates_against_the_bundled_world(baseline, bundled):
    importance = {"regional-conflict": 0.6, "ev-demand-surge": 0.6, "myanmar-conflict": 0.6, "china-broad-round": 0.6}
    draws = sample(baseline, 6, seed=21, importance=importance)
    types = set()
    for i in range(6):
        rows = draws.draw(i)
        scenario = to_scenario(rows, baseline)
        assert len(scenario.shocks) == rows["occurs"].sum()
        text = yaml.safe_dump(scenario.model_dump(mode="json", exclude_defaults=True), sort_keys=False)
        again = parse_scenario(text, f"draw-{i}.yaml", bundled)  # the world knows every id
        assert again.shocks == scenario.shocks
        for shock in scenario.shocks:
            assert scenario.start <= shock.start and shock.end <= scenario.end
            types.add(shock.type)
    assert types == {"export_control", "outage", "demand_shift"}


def test_the_shock_mapping_follows_the_event_types(baseline):
    draws = sample(baseline, 30, seed=5, importance={"regional-conflict": 0.6, "china-broad-round": 0.6})
    hit = draws.occurrences()
    shocks = to_shocks(hit, baseline)
    assert len(shocks) == len(hit)
    for (_, row), shock in zip(hit.iterrows(), shocks, strict=True):
        event = baseline.event(row["event"])
        if event.type == "export_control" and event.mode == "licence":
            assert shock["approval"][0]["share"] == pytest.approx(1 - row["severity"], abs=1e-6)
            assert shock["lag_days"] == event.lag_days
        elif event.type == "logistics":
            assert shock["type"] == "export_control" and shock["mode"] == "quota"
            assert shock["exporter"] == event.origins.model_dump()
            assert shock["magnitude"] == pytest.approx(1 - row["severity"], abs=1e-6)
        elif event.type == "outage":
            assert shock["magnitude"] == pytest.approx(row["severity"], abs=1e-6)
        elif event.type == "demand_surge":
            assert shock["type"] == "demand_shift"
            assert shock["magnitude_pct"] == pytest.approx(row["severity"], abs=1e-6)
