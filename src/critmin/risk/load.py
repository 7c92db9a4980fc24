"""Read a disruption model from YAML, validate it against the schema (and a world's ids), and report problems as
``file:line: field: reason``, as scenarios are (the scenario loader's line-tracking reader is reused)."""

from __future__ import annotations

from pathlib import Path

from critmin import errors
from critmin.risk.model import DIST_TAGS, EVENT_TAGS, RiskModel
from critmin.scenario.schema import Places
from critmin.scenario.yaml_model import field_of, line_of, validate_yaml
from critmin.world.model import World
from critmin.world.problems import Problem, ProblemList

MAX_RISK_CHARS = 1_000_000  # the bundled models are under 20 kB
_TAGS = EVENT_TAGS | DIST_TAGS


class RiskModelError(ProblemList, errors.ScenarioError, ValueError):
    """A disruption model with problems; ``problems`` carry file, line and field."""

    subject = "the risk model"


def load_risk_model(path: str | Path, world: World | None = None) -> RiskModel:
    """Read and validate a disruption-model YAML file (against ``world``'s regions, groups, elements and sectors
    if given). Raises RiskModelError listing every problem with file, line and field.

    >>> from critmin.risk.load import _REPO
    >>> load_risk_model(_REPO / "risks" / "china-controls.yaml").name
    'china-controls'
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RiskModelError([Problem(str(path), None, None, f"cannot read: {exc}")]) from exc
    return parse_risk_model(text, str(path), world)


def parse_risk_model(text: str, file: str = "<risk model>", world: World | None = None) -> RiskModel:
    """Validate disruption-model YAML text, as :func:`load_risk_model` does a file (``file`` names it).

    >>> parse_risk_model("name: x\\nstart: 2026-01-01\\nyears: 0\\nevents: []\\n")
    Traceback (most recent call last):
    ...
    critmin.risk.load.RiskModelError: 2 problem(s) in the risk model:
      <risk model>:3: years: Input should be greater than or equal to 1
      <risk model>:4: events: List should have at least 1 item after validation, not 0
    """
    model, root = validate_yaml(text, file, RiskModel, RiskModelError, max_chars=MAX_RISK_CHARS, tags=_TAGS,
                                what="a risk model is a YAML mapping (name, start, years, events)")  # fmt: skip
    if world is not None:
        problems = [Problem(file, _line(root, loc), _field(loc), why) for loc, why in check_against_world(model, world)]
        if problems:
            raise RiskModelError(problems)
    return model


def _field(loc: tuple) -> str:
    return field_of(loc, _TAGS)


def _line(root, loc: tuple) -> int | None:
    return line_of(root, loc, _TAGS)


def check_against_world(model: RiskModel, world: World) -> list[tuple[tuple, str]]:
    """Ids a disruption model names that the world does not know: (location, reason) pairs."""
    known = {
        "region": set(world.table("region")["id"]),
        "region group": set(world.table("region_group")["group"]),
        "element": set(world.table("element")["id"]),
        "sector": set(world.table("sector")["id"]),
    }
    found: list[tuple[tuple, str]] = []

    def check(loc: tuple, values, what: str) -> None:
        for i, value in enumerate(values):
            if value not in known[what]:
                hint = ", ".join(sorted(known[what])[:25])
                found.append(((*loc, i), f"unknown {what} {value!r}; known: {hint}"))

    for i, event in enumerate(model.events):
        base = ("events", i)
        for name, value in event:
            if isinstance(value, Places):
                check((*base, name, "regions"), value.regions, "region")
                check((*base, name, "groups"), value.groups, "region group")
        check((*base, "elements"), event.elements, "element")
        check((*base, "sectors"), getattr(event, "sectors", []), "sector")
    return found


_REPO = Path(__file__).resolve().parents[3]  # the repository root (risks/ lives there), for the doctests
