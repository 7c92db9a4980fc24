"""Rich tables that fit the console without cutting anything.

rich squeezes every column of a table wider than the console, numbers included, and ends them with '…'.
Here the widths are chosen before rich sees the table: a number column is never narrower than its widest
cell; headers wrap after '_', spaces and '/'; text with spaces wraps; identifiers and dates stay on one line
unless they alone would fill most of the console. A table that does not fit even so is split into several
tables that repeat its leading label columns (region, element, ...), and, where that would take more than
three tables, is printed as one block of field/value lines per row."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text

RULES = 3  # per column: one space of padding either side and one rule
EDGE = 1  # the table's left edge
FREE_TEXT_MIN = 20  # text with spaces may wrap down to this width (a timestamp stays whole)
MAX_SPLIT = 3  # more tables than this: one block per row instead


@dataclass
class Column:
    header: str  # name, with " [unit]" where the column has one
    cells: list[str]
    numeric: bool
    natural: int = 0  # one line per header and cell
    minimum: int = 0  # narrowest allowed: numbers whole, headers broken only between tokens
    free_text: bool = False

    def measure(self, width: int) -> None:
        widest = max((cell_len(c) for c in self.cells), default=0)
        longest_token = max((cell_len(t.strip()) for t in header_tokens(self.header)), default=1)
        self.natural = max(widest, cell_len(self.header))
        self.free_text = not self.numeric and any(" " in c for c in self.cells)
        if self.numeric:
            self.minimum = max(widest, longest_token)
        elif self.free_text:  # wraps at spaces, but no word is cut unless it alone would take a third
            longest_word = max((cell_len(word) for c in self.cells for word in c.split()), default=0)
            self.minimum = max(longest_token, min(widest, FREE_TEXT_MIN), min(longest_word, width // 3))
        else:  # an identifier or a date: whole, unless it alone would fill most of the console
            self.minimum = max(longest_token, widest if widest <= width * 2 // 3 else width // 3)
        self.minimum = min(self.minimum, width - RULES - EDGE)
        self.natural = max(self.natural, self.minimum)


def header_tokens(header: str) -> list[str]:
    """'max_shortfall_pct [%]' -> ['max_', 'shortfall_', 'pct ', '[%]']: the places a header may wrap."""
    return [t for t in re.findall(r"[^_\s/]*[_\s/]*", header) if t]


def wrap_header(header: str, width: int) -> str:
    lines, line = [], ""
    for token in header_tokens(header):
        if line and cell_len(line + token.rstrip()) > width:
            lines.append(line.rstrip())
            line = ""
        line += token
    lines.append(line.rstrip())
    return "\n".join(lines)


def cost(columns: list[Column], widths: list[int]) -> int:
    return sum(widths) + RULES * len(columns) + EDGE


def fit(columns: list[Column], width: int) -> list[int] | None:
    """Column widths that fit ``width``, narrowing wrapping text first, then headers; None if impossible."""
    widths = [c.natural for c in columns]
    if cost(columns, [c.minimum for c in columns]) > width:
        return None
    for phase in ("free text", "headers"):
        while cost(columns, widths) > width:
            slack = [
                (w - c.minimum, i)
                for i, (c, w) in enumerate(zip(columns, widths, strict=True))
                if w > c.minimum and (phase == "headers" or c.free_text)
            ]
            if not slack:
                break
            widths[max(slack)[1]] -= 1
    return widths


def _table(columns: list[Column], widths: list[int], title: str | None) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    for column, w in zip(columns, widths, strict=True):
        table.add_column(
            Text(wrap_header(column.header, w)),
            justify="right" if column.numeric else "left",
            width=w,
            no_wrap=not column.free_text and w >= max((cell_len(c) for c in column.cells), default=0),
            overflow="fold",
        )
    for row in zip(*(c.cells for c in columns), strict=True):
        table.add_row(*(Text(cell) for cell in row))
    return table


def _records(columns: list[Column], title: str | None, width: int) -> Table:
    """One block of field / value lines per row: the form for rows too wide for any split."""
    fields = Column("field", [c.header for c in columns], numeric=False)
    values = Column("value", [cell for c in columns for cell in c.cells], numeric=False)
    fields.measure(width)
    values.measure(width)
    values.free_text = True  # a value column mixes numbers and text: let long text wrap
    values.minimum = max([cell_len(cell) for c in columns if c.numeric for cell in c.cells] + [values.minimum])
    pair = [fields, values]
    widths = fit(pair, width) or [fields.minimum, values.minimum]
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("field", width=widths[0], no_wrap=False, overflow="fold")
    table.add_column("value", width=widths[1], overflow="fold")
    rows = len(columns[0].cells) if columns else 0
    for r in range(rows):
        for c in columns:
            table.add_row(Text(c.header), Text(c.cells[r], justify="left"))
        if r < rows - 1:
            table.add_section()
    return table


def layout(columns: list[Column], width: int, title: str | None) -> list[Table]:
    """The tables to print for ``columns`` at console ``width``."""
    for column in columns:
        column.measure(width)
    widths = fit(columns, width)
    if widths is not None:
        return [_table(columns, widths, title)]
    keys: list[Column] = []
    for column in columns:  # leading label columns, repeated in every part, in at most 60% of the width
        if column.numeric or cost([*keys, column], [c.minimum for c in (*keys, column)]) > width * 3 // 5:
            break
        keys.append(column)
    rest = columns[len(keys) :]
    keys += [c for c in rest if c.header == "unit"]  # every part's numbers keep their unit column
    parts: list[list[Column]] = []
    for column in (c for c in rest if c not in keys):
        part = parts[-1] if parts else None
        if part is None or fit([*keys, *part, column], width) is None:
            parts.append([column])
        else:
            part.append(column)
    if not keys or len(parts) > MAX_SPLIT:
        return [_records(columns, title, width)]
    return [
        _table([*keys, *part], fit([*keys, *part], width) or [c.minimum for c in (*keys, *part)],
               f"{title or 'Table'} ({n} of {len(parts)})")
        for n, part in enumerate(parts, 1)
    ]  # fmt: skip
