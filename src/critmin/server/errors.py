"""Uniform 4xx bodies: {"detail": [{"loc": [...field path...], "msg": ..., "type": ...}]}, the shape FastAPI
uses for request validation, so clients parse one format."""

from __future__ import annotations

from fastapi import HTTPException, Request

from critmin.api import Problem


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


def known_query_parameters(request: Request) -> None:
    """Refuse query parameters the endpoint does not take (422), instead of ignoring them: a misspelt filter
    (``?region=USA`` where there is none) must not silently return every row."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    allowed = _query_names(dependant)
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        takes = ", ".join(sorted(allowed)) or "no query parameters"
        message = f"unknown query parameter {unknown[0]!r}; this endpoint takes: {takes}"
        raise api_error(422, ["query", unknown[0]], message, "unknown_parameter")


def _query_names(dependant) -> set[str]:
    """Query parameter names of an endpoint and of the dependencies it uses."""
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names
