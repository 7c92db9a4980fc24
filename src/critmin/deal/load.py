"""Read a deal file (YAML), validated like scenarios: problems as ``file:line: field: reason``."""

from __future__ import annotations

from pathlib import Path

from critmin import errors
from critmin.deal.schema import Deal

__all__ = ["Deal", "DealError", "load_deal", "parse_deal"]
from critmin.scenario.yaml_model import validate_yaml
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
    deal, _ = validate_yaml(text, file, Deal, DealError, what="a deal is a YAML mapping (name, before, after, plan, "
                            "measures, sides)")  # fmt: skip
    return deal
