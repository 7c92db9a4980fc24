"""Uniform 4xx bodies: {"detail": [{"loc": [...field path...], "msg": ..., "type": ...}]}, the shape FastAPI
uses for request validation, so clients parse one format."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from pydantic import BaseModel, ConfigDict

from critmin.api import Problem


class ErrorEntry(BaseModel):
    """One problem: where (``loc``, the field path), what (``msg``) and its kind (``type``); scenario problems
    add ``line`` and ``field``."""

    model_config = ConfigDict(extra="allow")
    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    detail: list[ErrorEntry]


_MEANINGS = {
    400: "The body could not be read: not JSON, or not UTF-8 text.",
    401: "No token, or a wrong one, where the server was started with a token.",
    404: "No such item (run, scenario, job) or route.",
    413: "The request body is over the server's limit.",
    422: "Invalid input: each entry names the field (and, for scenario YAML, the line).",
    429: "The job queue is full: try again later.",
    503: "The store stayed in use by another process: try again later (see Retry-After).",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error statuses an operation can answer with, every one in the shape of
    :class:`ErrorBody`: clients (and schemathesis) know every status code the API returns."""
    return {code: {"model": ErrorBody, "description": _MEANINGS[code]} for code in codes}


# what every API route can answer: a missing or wrong token, invalid input or unknown query parameters, a busy
# store
COMMON_ERRORS = error_responses(401, 422, 503)
CSV_OR_JSON = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "JSON, or CSV with fmt=csv"}
}


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


def allowed_methods(request: Request) -> str:
    """The ``Allow`` header of a 405: every method the request's path takes. Starlette's names only those of the
    first route the path matched (OPTIONS /api/jobs answered ``Allow: POST``, though GET /api/jobs exists too;
    /api/scenarios/validate answered ``GET``, from /api/scenarios/{name}). A route of that very path counts
    before a route whose template the path happens to fit."""
    from starlette.routing import Match

    matching = [
        route
        for route in request.app.router.routes
        if getattr(route, "methods", None) and route.matches(request.scope)[0] is not Match.NONE
    ]
    exact = [route for route in matching if "{" not in route.path]
    methods = {method for route in exact or matching for method in route.methods}
    return ", ".join(sorted(methods))
