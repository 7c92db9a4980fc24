"""Validate a YAML document against a pydantic model, reporting every problem as ``file:line: field: reason``
(the scenario loader's line-tracking reader): one routine for the files critmin reads as models (disruption
models, plans, deals)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import yaml
from pydantic import BaseModel, ValidationError

from critmin.scenario import load as scenario_load
from critmin.world.problems import Problem, ProblemList


def validate_yaml(
    text: str,
    file: str,
    model: type[BaseModel],
    error: Callable[[list[Problem]], ProblemList],
    *,
    what: str,
    max_chars: int = 1_000_000,
    tags: Iterable[str] = (),
):
    """``text`` validated as ``model``; raises ``error(problems)`` listing every problem. ``what`` says what a
    valid document is (for a document that is not a mapping); ``tags``: discriminator values dropped from
    error locations (``events.0.export_control.start`` reads ``events.0.start``).

    Returns ``(value, root)``: the model, and the YAML node tree (for the lines of later checks)."""
    tags = set(tags)
    if len(text) > max_chars:
        raise error([Problem(file, None, None, f"{len(text):,} characters, over the {max_chars:,} allowed")])
    depth = scenario_load.MAX_DEPTH
    try:
        root, data = scenario_load._read_yaml(text)
    except RecursionError:
        raise error([Problem(file, None, None, f"nested more than {depth} levels deep")]) from None
    except scenario_load._BadScalarError as exc:
        line = exc.node.start_mark.line + 1
        raise error([Problem(file, line, scenario_load._field(exc.path), exc.reason)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = f"not valid YAML: {getattr(exc, 'problem', exc)}"
        raise error([Problem(file, mark.line + 1 if mark else None, None, reason)]) from exc
    deep = scenario_load._too_deep(root)
    if deep is not None:
        raise error([Problem(file, deep.start_mark.line + 1, None, f"nested more than {depth} levels deep")])
    if not isinstance(data, dict):
        raise error([Problem(file, 1, None, what)])
    try:
        return model.model_validate(data), root
    except ValidationError as exc:
        problems = [Problem(file, line_of(root, e["loc"], tags), field_of(e["loc"], tags), scenario_load._message(e))
                    for e in exc.errors()]  # fmt: skip
        raise error(problems) from exc


def _untagged(loc: tuple, tags: set[str]) -> tuple:
    return tuple(item for item in loc if not (isinstance(item, str) and item in tags))


def field_of(loc: tuple, tags: Iterable[str] = ()) -> str:
    """An error location as a dotted field (tags dropped)."""
    return scenario_load._field(_untagged(loc, set(tags)))


def line_of(root, loc: tuple, tags: Iterable[str] = ()) -> int | None:
    """The line of an error location in the YAML node tree (tags dropped)."""
    return scenario_load._line(root, _untagged(loc, set(tags)))
