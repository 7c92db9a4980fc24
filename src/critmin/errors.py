"""critmin's errors. Everything a user can act on is a ``CritminError``; anything else reaching the CLI or the
API is a bug and is shown as one.

    CritminError
    ├── DataError        world data or an override layer with problems (file, line, field)
    ├── ScenarioError    a scenario with problems (file, line, field)
    ├── SolveError       a market solve failed, or was stopped (cancelled, over its time limit)
    ├── NotFoundError    no such run, world, scenario or file
    ├── StoreError       the DuckDB store is busy, empty where it must not be, or of another schema
    ├── ConfigError      settings that cannot work (an insecure bind, a busy port)
    └── UsageError       a request that cannot be done as asked (a name not allowed, a file in the way)
        └── OutputExistsError   the output exists and --force was not given

Errors that carry problems (:class:`critmin.world.problems.ProblemList`: world data and scenarios) keep them as
``problems``: records with file, line, column and message.
"""

from __future__ import annotations


class CritminError(Exception):
    """Root of critmin's errors: a problem with the input or the environment, stated so a user can fix it."""


class DataError(CritminError, ValueError):
    """World data that fails validation or cannot be used; ``problems`` say where."""


class ScenarioError(CritminError):
    """A scenario that fails validation; ``problems`` say where."""


class SolveError(CritminError):
    """A market solve that failed or was stopped."""


class NotFoundError(CritminError):
    """Something asked for by name or path that does not exist."""


class StoreError(CritminError):
    """The store cannot be used as asked."""


class ConfigError(CritminError):
    """Settings that cannot work."""


class UsageError(CritminError, ValueError):
    """A request that cannot be done as asked."""


class OutputExistsError(UsageError, FileExistsError):
    """The output exists, and overwriting it was not asked for."""


__all__ = [
    "ConfigError",
    "CritminError",
    "DataError",
    "NotFoundError",
    "OutputExistsError",
    "ScenarioError",
    "SolveError",
    "StoreError",
    "UsageError",
]
