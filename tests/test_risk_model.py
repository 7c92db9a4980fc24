"""Issue 13, a disruption model as data: the schema, YAML loading with file:line:field problems, the world check,
and the bundled risks/*.yaml."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from conftest import REPO
from critmin.errors import CritminError, ScenarioError
from critmin.risk import RiskModelError, load_risk_model, parse_risk_model
from critmin.risk.model import Beta, Fixed, LogNormal, Triangular, Uniform, add_months

RISKS = sorted((REPO / "risks").glob("*.yaml"))

GOOD = textwrap.dedent(
    """\
    name: tiny
    start: 2026-01-01
    years: 2
    events:
      - id: ban
        type: export_control
        exporter: {regions: [CHN]}
        elements: [Dy]
        mode: quota
        probability: 0.1
        duration: {dist: uniform, low: 1, high: 6}
        severity: {dist: beta, a: 2, b: 2}
        source: test
        reasoning: test
        confidence: assumption
    """
)


def problems(text: str, world=None) -> list[str]:
    with pytest.raises(RiskModelError) as caught:
        parse_risk_model(text, "m.yaml", world)
    return [str(p) for p in caught.value.problems]


def test_the_bundled_models_validate_against_the_bundled_world(bundled):
    assert {p.name for p in RISKS} >= {"china-controls.yaml", "global-baseline.yaml"}
    for path in RISKS:
        model = load_risk_model(path, bundled)
        assert model.events
        for item in [*model.events, *model.causes]:
            assert item.source.strip() and item.reasoning.strip(), item.id
            assert item.confidence in {"confirmed", "secondary", "assumption"}


def test_the_bundled_models_encode_one_actor_and_one_conflict_as_common_causes():
    china = load_risk_model(REPO / "risks" / "china-controls.yaml")
    broad = next(c for c in china.causes if c.id == "china-broad-round")
    assert len(broad.events) >= 3  # one actor, several elements at once
    elements = {el for e in broad.events for el in china.event(e).elements}
    assert {"Dy", "Ga", "graphite"} <= elements
    baseline = load_risk_model(REPO / "risks" / "global-baseline.yaml")
    conflict = next(c for c in baseline.causes if c.id == "regional-conflict")
    arcs = baseline.event(conflict.events[0])
    assert arcs.type == "logistics" and len(arcs.destinations.regions) >= 3  # several arcs close together


def test_a_good_model_parses_and_its_horizon_is_whole_years():
    model = parse_risk_model(GOOD)
    assert model.months == 24 and str(model.end) == "2027-12-31"
    assert model.event("ban").severity.support() == (0.0, 1.0)


def test_a_field_problem_names_file_line_and_field():
    text = GOOD.replace("probability: 0.1", "probability: 1.5")
    assert problems(text) == ["m.yaml:10: events[0].probability: Input should be less than or equal to 1"]


def test_a_distribution_problem_names_its_parameter_without_the_union_tags():
    text = GOOD.replace("{dist: uniform, low: 1, high: 6}", "{dist: uniform, low: 6, high: 1}")
    (found,) = problems(text)
    assert found.startswith("m.yaml:11: events[0].duration: ") and "below low" in found
    text = GOOD.replace("{dist: beta, a: 2, b: 2}", "{dist: beta, a: -2, b: 2}")
    assert problems(text) == ["m.yaml:12: events[0].severity.a: Input should be greater than 0"]
    text = GOOD.replace("{dist: beta, a: 2, b: 2}", "{dist: gamma, a: 2}")
    (found,) = problems(text)
    assert found.startswith("m.yaml:12: events[0].severity: ") and "gamma" in found


def test_a_severity_outside_its_range_is_refused():
    text = GOOD.replace("{dist: beta, a: 2, b: 2}", "{dist: uniform, low: 0.5, high: 1.5}")
    (found,) = problems(text)
    assert found.startswith("m.yaml:12: events[0].severity: a severity share must lie within [0, 1]")


def test_unknown_fields_infinities_and_bad_types_are_refused():
    assert problems(GOOD.replace("mode: quota", "mode: quota\n    colour: red")) == [
        "m.yaml:10: events[0].colour: Extra inputs are not permitted"
    ]
    (found,) = problems(GOOD.replace("probability: 0.1", "probability: .inf"))
    assert found.startswith("m.yaml:10: events[0].probability:")
    (found,) = problems(GOOD.replace("type: export_control", "type: earthquake"))
    assert found.startswith("m.yaml:5: events[0]:") and "earthquake" in found


def test_causes_must_name_known_events_and_every_event_must_be_able_to_occur():
    cause = "causes:\n  - {id: c, probability: 0.1, events: [nope], source: s, reasoning: r, confidence: assumption}\n"
    (found,) = problems(GOOD + cause)
    assert found.startswith("m.yaml:16: causes:") and "unknown events: nope" in found
    (found,) = problems(GOOD.replace("probability: 0.1", "probability: 0"))
    assert "can never occur" in found and "ban" in found
    cause = cause.replace("[nope]", "[ban]")
    assert parse_risk_model(GOOD.replace("probability: 0.1", "probability: 0") + cause).causes[0].events == ["ban"]


def test_ids_unknown_to_the_world_are_reported_where_they_are(bundled):
    text = GOOD.replace("regions: [CHN]", "regions: [XXX]").replace("elements: [Dy]", "elements: [Dy, Zz]")
    found = problems(text, bundled)
    assert found[0].startswith("m.yaml:7: events[0].exporter.regions[0]: unknown region 'XXX'")
    assert found[1].startswith("m.yaml:8: events[0].elements[1]: unknown element 'Zz'")


def test_hostile_yaml_is_bounded():
    assert "nested more than" in problems("name: " + "[" * 60 + "]" * 60)[0]
    assert "characters, over the" in problems("#" * 1_000_001)[0]
    assert "not valid YAML" in problems("name: [unclosed\n")[0]
    assert "a risk model is a YAML mapping" in problems("- 1\n- 2\n")[0]
    assert "not a valid date" in problems(GOOD.replace("2026-01-01", "2026-13-01"))[0]
    assert "first of a month" in problems(GOOD.replace("2026-01-01", "2026-01-15"))[0]


def test_a_risk_model_error_is_a_users_error(tmp_path):
    with pytest.raises(RiskModelError) as caught:
        load_risk_model(tmp_path / "missing.yaml")
    assert isinstance(caught.value, CritminError) and isinstance(caught.value, ScenarioError)
    assert "cannot read" in str(caught.value)


@pytest.mark.parametrize(
    "dist",
    [
        Fixed(dist="fixed", value=2.0),
        Uniform(dist="uniform", low=1, high=3),
        Triangular(dist="triangular", low=0, mode=1, high=4),
        Beta(dist="beta", a=2, b=5, low=0, high=2),
        LogNormal(dist="lognormal", median=3, sigma=0.5, high=20),
    ],
)
def test_inverse_cdfs_are_monotone_and_stay_within_the_support(dist):
    u = np.linspace(0, 1, 101)
    x = dist.ppf(u)
    lo, hi = dist.support()
    assert np.all(np.diff(x) >= -1e-12) and x.min() >= lo - 1e-12 and x.max() <= hi + 1e-12


def test_add_months_crosses_years():
    import datetime as dt

    assert add_months(dt.date(2026, 12, 1), 1) == dt.date(2027, 1, 1)
    assert add_months(dt.date(2026, 1, 1), 60) == dt.date(2031, 1, 1)
