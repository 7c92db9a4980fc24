"""Precise reports of bad input: file, line, column and reason."""

from __future__ import annotations

from dataclasses import dataclass

from critmin.errors import CritminError, DataError


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.column}: {self.reason}" if self.column else f"{where}: {self.reason}"


# tables every other table refers to: a problem there (a file refused, a bad id) causes the others' cascades
REFERRED_TO = ("source.csv", "region.csv", "element.csv", "product.csv")


def _root_causes_first(p: Problem) -> tuple:
    """Whole-file problems first, then problems in the tables others refer to, then the rest, each by file,
    line and column: the first lines printed are the ones to fix first."""
    name = p.file.replace("\\", "/").rsplit("/", 1)[-1]
    return (p.line is not None, name not in REFERRED_TO, p.file, p.line or 0, p.column or "")


class ProblemList(CritminError):
    """Mixin for errors that carry ``problems`` (file, line, column, message), root causes first."""

    subject = "the input"  # what the problems are in, for the message

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=_root_causes_first)
        shown = "\n".join(f"  {p}" for p in self.problems[:50])
        more = f"\n  ... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        super().__init__(f"{len(self.problems)} problem(s) in {self.subject}:\n{shown}{more}")


class WorldValidationError(ProblemList, DataError, ValueError):
    """Raised when a world folder (or an override layer) fails validation. Nothing has been written."""

    subject = "world data"
