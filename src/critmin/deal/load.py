"""Read a deal file (YAML), validated like scenarios: problems as ``file:line: field: reason``."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from critmin import errors
from critmin.deal.schema import Deal

__all__ = ["Deal", "DealError", "load_deal", "parse_deal"]
from critmin.scenario import load as scenario_load
from critmin.world.problems import Problem, ProblemList


class DealError(ProblemList, errors.ScenarioError, ValueError):
    """A deal file with problems; ``problems`` carry file, line and field."""

    subject = "the deal"


def load_deal(path: str | Path) -> Deal:
    """Read and validate a deal file; the plan and trade-world paths are resolved relative to it.

    >>> from critmin.plan.load import _REPO
    >>> load_deal(_REPO / "deals" / "us-japan-2025.yaml").sides[1].id
    'JPN'
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DealError([Problem(str(path), None, None, f"cannot read: {exc}")]) from exc
    deal = parse_deal(text, str(path))
    update = {"plan": str((path.parent / deal.plan).resolve())}
    if deal.trade_world:
        update["trade_world"] = str((path.parent / deal.trade_world).resolve())
    return deal.model_copy(update=update)


def parse_deal(text: str, file: str = "<deal>") -> Deal:
    """Validate deal YAML text (``file`` names it in problems)."""
    try:
        root, data = scenario_load._read_yaml(text)
    except scenario_load._BadScalarError as exc:
        line = exc.node.start_mark.line + 1
        raise DealError([Problem(file, line, scenario_load._field(exc.path), exc.reason)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise DealError([Problem(file, mark.line + 1 if mark else None, None, f"not valid YAML: {exc}")]) from exc
    if not isinstance(data, dict):
        raise DealError([Problem(file, 1, None, "a deal is a YAML mapping (name, before, after, plan, measures)")])
    try:
        return Deal.model_validate(data)
    except ValidationError as exc:
        problems = [Problem(file, scenario_load._line(root, e["loc"]), scenario_load._field(e["loc"]),
                            scenario_load._message(e)) for e in exc.errors()]  # fmt: skip
        raise DealError(problems) from exc
