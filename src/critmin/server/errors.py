"""Uniform 4xx bodies: {"detail": [{"loc": [...field path...], "msg": ..., "type": ...}]}, the shape FastAPI
uses for request validation, so clients parse one format."""

from __future__ import annotations

from fastapi import HTTPException

from critmin.world.problems import Problem


def api_error(status: int, loc: list, msg: str, kind: str = "value_error", **extra) -> HTTPException:
    return HTTPException(status_code=status, detail=[{"loc": loc, "msg": msg, "type": kind, **extra}])


def problem_details(problems: list[Problem], loc: list) -> list[dict]:
    """Scenario problems as error entries: the field path inside the YAML, its line and the reason."""
    return [
        {
            "loc": [*loc, *_split(p.column)],
            "msg": p.reason,
            "type": "scenario_error",
            "line": p.line,
            "field": p.column,
        }
        for p in problems
    ]


def _split(field: str | None) -> list:
    """'shocks[0].where.regions' -> ['shocks', 0, 'where', 'regions']."""
    if not field:
        return []
    out: list = []
    for part in field.replace("[", ".").replace("]", "").split("."):
        if part:
            out.append(int(part) if part.isdigit() else part)
    return out
