"""Read a plan file from YAML, validate it against the schema and a world's ids, and report problems as
``file:line: field: reason`` (the scenario loader's line-tracking reader is reused)."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from critmin import errors
from critmin.plan.schema import Plan
from critmin.scenario import load as scenario_load
from critmin.world.model import World
from critmin.world.problems import Problem, ProblemList

MAX_PLAN_CHARS = 1_000_000
_TAGS = {"project", "recycling", "stockpile"}


class PlanError(ProblemList, errors.ScenarioError, ValueError):
    """A plan file with problems; ``problems`` carry file, line and field."""

    subject = "the plan"


def load_plan(path: str | Path, world: World | None = None) -> Plan:
    """Read and validate a plan YAML file (against ``world``'s regions and products if given). The risk
    model path is resolved relative to the plan file.

    >>> from critmin.plan.load import _REPO
    >>> load_plan(_REPO / "plans" / "us-japan-2025.yaml").name
    'us-japan-2025'
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError([Problem(str(path), None, None, f"cannot read: {exc}")]) from exc
    plan = parse_plan(text, str(path), world)
    risk = Path(plan.risk_model)
    if not risk.is_absolute():
        risk = (path.parent / risk).resolve()
    return plan.model_copy(update={"risk_model": str(risk)})


def parse_plan(text: str, file: str = "<plan>", world: World | None = None) -> Plan:
    """Validate plan YAML text, as :func:`load_plan` does a file (``file`` names it).

    >>> parse_plan("name: x\\nrisk_model: r.yaml\\nstart: 2027-01-01\\nplayers: []\\noptions: []\\n")
    Traceback (most recent call last):
    ...
    critmin.plan.load.PlanError: 2 problem(s) in the plan:
      <plan>:4: players: List should have at least 1 item after validation, not 0
      <plan>:5: options: List should have at least 1 item after validation, not 0
    """
    if len(text) > MAX_PLAN_CHARS:
        raise PlanError([Problem(file, None, None, f"{len(text):,} characters, over the {MAX_PLAN_CHARS:,} allowed")])
    try:
        root, data = scenario_load._read_yaml(text)
    except RecursionError:
        raise PlanError([Problem(file, None, None, "nested too deep")]) from None
    except scenario_load._BadScalarError as exc:
        line = exc.node.start_mark.line + 1
        raise PlanError([Problem(file, line, scenario_load._field(exc.path), exc.reason)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise PlanError([Problem(file, mark.line + 1 if mark else None, None, f"not valid YAML: {exc}")]) from exc
    if not isinstance(data, dict):
        raise PlanError([Problem(file, 1, None, "a plan is a YAML mapping (name, risk_model, players, options)")])
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem(file, _line(root, e["loc"]), _field(e["loc"]), scenario_load._message(e)) for e in exc.errors()
        ]
        raise PlanError(problems) from exc
    if world is not None:
        problems = [Problem(file, _line(root, loc), _field(loc), why) for loc, why in check_against_world(plan, world)]
        if problems:
            raise PlanError(problems)
    return plan


def check_against_world(plan: Plan, world: World) -> list[tuple[tuple, str]]:
    """Ids the plan names that the world does not know: (location, reason) pairs."""
    regions, products = set(world.table("region")["id"]), set(world.table("product")["id"])
    found: list[tuple[tuple, str]] = []
    for i, player in enumerate(plan.players):
        for j, region in enumerate(player.regions):
            if region not in regions:
                found.append((("players", i, "regions", j), f"unknown region {region!r}"))
    for i, option in enumerate(plan.options):
        if option.region not in regions:
            found.append((("options", i, "region"), f"unknown region {option.region!r}"))
        if option.product not in products:
            found.append((("options", i, "product"), f"unknown product {option.product!r}"))
    return found


def _untagged(loc: tuple) -> tuple:
    return tuple(item for item in loc if not (isinstance(item, str) and item in _TAGS))


def _field(loc: tuple) -> str:
    return scenario_load._field(_untagged(loc))


def _line(root, loc: tuple) -> int | None:
    return scenario_load._line(root, _untagged(loc))


_REPO = Path(__file__).resolve().parents[3]  # the repository root (plans/ lives there), for the doctests
