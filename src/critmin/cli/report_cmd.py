"""critmin report KIND ID --out FILE.html|FILE.pdf: a reproducible report of a stored run, risk study, plan or
deal valuation (docs/reports.md)."""

from __future__ import annotations

import enum
from pathlib import Path

import typer

from critmin.cli.output import DB_OPTION, console, user_errors


class Kind(enum.StrEnum):
    run = "run"
    risk = "risk"
    plan = "plan"
    deal = "deal"


def report(
    kind: Kind = typer.Argument(..., help="run, risk (a risk study), plan or deal (a deal valuation)."),
    record_id: str = typer.Argument(
        ..., metavar="ID", help="Its id, a unique prefix of one, or 'latest' (for runs also a scenario name)."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="The file to write: FILE.html or FILE.pdf."),
    region: list[str] = typer.Option(None, "--region", "-r", help="Run reports: only this region (repeatable)."),
    element: list[str] = typer.Option(None, "--element", "-e", help="Run reports: only this element (repeatable)."),
    force: bool = typer.Option(False, "--force", help="Overwrite FILE if it exists."),
    db: Path = DB_OPTION,
) -> None:
    """Write a report of a stored result: headline numbers, figures (static SVG), tables, the assumptions used,
    the sources cited and the provenance (data version, scenario/model/plan/deal hash, critmin version, seed, the
    record's date). A deal report (from `critmin deal value`) shows per side the tariff relief, the security
    value, the cost of the measures, the net value and the break-even ally premium.

    FILE.html is one self-contained page (inline CSS and SVG, no JavaScript); FILE.pdf is the same content
    compiled by typst, offline. Reproducible: the same stored record gives byte-identical files (every date
    comes from the record, never the clock)."""
    from critmin.api import Store, write_report

    with user_errors(), Store(db) as store:
        path = write_report(store, kind.value, record_id, out, force=force, regions=region or None,
                            elements=element or None)  # fmt: skip
    console.print(f"wrote {path} ({path.stat().st_size:,} bytes)", highlight=False)
