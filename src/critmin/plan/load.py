"""Read a plan file from YAML, validate it against the schema and a world's ids, and report problems as
``file:line: field: reason`` (the scenario loader's line-tracking reader is reused)."""

from __future__ import annotations

from pathlib import Path

from critmin import errors
from critmin.plan.schema import Plan
from critmin.scenario.yaml_model import field_of, line_of, validate_yaml
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
    plan, root = validate_yaml(text, file, Plan, PlanError, max_chars=MAX_PLAN_CHARS, tags=_TAGS,
                               what="a plan is a YAML mapping (name, risk_model, players, options)")  # fmt: skip
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


def _field(loc: tuple) -> str:
    return field_of(loc, _TAGS)


def _line(root, loc: tuple) -> int | None:
    return line_of(root, loc, _TAGS)


_REPO = Path(__file__).resolve().parents[3]  # the repository root (plans/ lives there), for the doctests
