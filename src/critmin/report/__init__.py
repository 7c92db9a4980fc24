"""Reproducible reports of stored results (issue 16): ``critmin report KIND ID --out FILE.html|FILE.pdf``.

KIND is ``run``, ``risk`` (a risk study), ``plan`` or ``deal`` (a deal valuation stored by ``critmin deal
value``). A report holds the headline numbers, static SVG
figures, tables, the assumptions used, the sources cited and the provenance; the HTML is one self-contained
file, the PDF is compiled by typst from the same content. The same stored record gives byte-identical files:
every date comes from the record, never the clock (docs/reports.md)."""

from __future__ import annotations

from pathlib import Path

from critmin.errors import OutputExistsError, UsageError

REPORT_KINDS = ("run", "risk", "plan", "deal")
REPORT_SUFFIXES = (".html", ".pdf")


def build_report(store, kind: str, record_id: str, *, regions: list[str] | None = None,
                 elements: list[str] | None = None):  # fmt: skip
    """The :class:`~critmin.report.content.Report` of a stored run, risk study, plan or deal valuation
    (``record_id``: an id, a unique prefix, or ``latest``; for runs also a scenario name).
    ``regions``/``elements`` narrow a run's summary and charts."""
    from critmin.report import content

    if kind == "run":
        return content.run_report(store, record_id, regions=regions, elements=elements)
    if regions or elements:
        raise UsageError("--region and --element apply to run reports only")
    if kind == "risk":
        return content.risk_report(store, record_id)
    if kind == "plan":
        return content.plan_report(store, record_id)
    if kind == "deal":
        return content.deal_report(store, record_id)
    raise UsageError(f"unknown report kind {kind!r}; choose from: {', '.join(REPORT_KINDS)}")


def render_report(report, suffix: str) -> bytes:
    """A report's file contents: ``.html`` (UTF-8) or ``.pdf``."""
    if suffix == ".html":
        from critmin.report.html import render_html

        return render_html(report).encode("utf-8")
    if suffix == ".pdf":
        from critmin.report.pdf import render_pdf

        return render_pdf(report)
    raise UsageError(f"--out must end in .html or .pdf, not {suffix or 'nothing'!r}")


def write_report(store, kind: str, record_id: str, out: str | Path, *, force: bool = False,
                 regions: list[str] | None = None, elements: list[str] | None = None) -> Path:  # fmt: skip
    """Write the report of a stored record to ``out`` (its suffix picks HTML or PDF); refuses to replace a file
    unless ``force``. The file appears whole or not at all (written under a temporary name, then renamed)."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in REPORT_SUFFIXES:
        raise UsageError(f"--out must end in .html or .pdf, not {suffix or 'nothing'!r}")
    if out.exists() and not out.is_file():
        raise UsageError(f"{out} is in the way (not a file); nothing was written")
    if out.exists() and not force:
        raise OutputExistsError(f"{out} already exists; use --force to overwrite")
    data = render_report(build_report(store, kind, record_id, regions=regions, elements=elements), suffix)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial{suffix}")
    try:
        partial.write_bytes(data)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return out
