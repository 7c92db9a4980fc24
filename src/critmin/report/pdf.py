"""A report as PDF, through typst (the ``typst`` wheel from PyPI: the typst compiler as a Python extension, no
system packages, no network). critmin writes a typst source from the same :class:`Report` the HTML is made from,
with the same SVG figures as images, and compiles it.

Reproducible: the document's date and the PDF's timestamps are the record's (``#set document(date: ...)`` and
the compiler's ``timestamp``), and the fonts are fixed: system fonts are ignored, and the text and the figures
use DejaVu Sans from matplotlib's own font folder (typst's embedded fonts are the fallback)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from critmin.report.content import Report, Table


def _s(text: str) -> str:
    """A typst string literal (code mode): no markup is interpreted inside it."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "")
    return f'"{escaped}"'


def _numeric(text: str) -> bool:
    return text.replace(",", "").replace(".", "", 1).lstrip("-").replace("e", "", 1).replace("+", "").isdigit()


def _table(t: Table) -> str:
    n = len(t.columns)
    align = ", ".join("right" if t.rows and all(_numeric(r[i]) or r[i] == "-" for r in t.rows) else "left"
                      for i in range(n))  # fmt: skip
    # a break after each underscore: long column names wrap in narrow columns instead of running over
    header = ", ".join(f"[*#{_s(c.replace('_', '_' + chr(0x200B)))}*]" for c in t.columns)
    body = ",\n  ".join(", ".join(_s(v) for v in row) for row in t.rows)
    lines = [
        f"#heading(level: 2, {_s(t.title)})",
        f"#text(size: 6.5pt, table(columns: {n}, align: ({align},),",
        f"  table.header({header}),",
        f"  {body}" + ("," if body else ""),
        "))",
    ]
    if t.note:
        lines.append(f"#text(size: 7.5pt, fill: luma(90), {_s(t.note)})")
    return "\n".join(lines)


def _pairs(pairs: list[tuple[str, str]]) -> str:
    cells = ", ".join(f"[*#{_s(k)}*], {_s(v)}" for k, v in pairs)
    return f"#grid(columns: (auto, 1fr), column-gutter: 12pt, row-gutter: 5pt, {cells})"


def typst_source(report: Report, figure_files: list[str]) -> str:
    d = report.date
    meta = f"{report.kind} {report.id} · {d.isoformat(sep=' ')}"
    date = f"datetime(year: {d.year}, month: {d.month}, day: {d.day}, hour: {d.hour}, minute: {d.minute}, " \
           f"second: {d.second})"  # fmt: skip
    parts = [
        f'#set document(title: {_s(report.title)}, author: "critmin", date: {date})',
        '#set page(paper: "a4", margin: (x: 1.6cm, y: 1.8cm), numbering: "1 / 1")',
        '#set text(font: ("DejaVu Sans",), size: 9pt, lang: "en")',
        "#set table(stroke: 0.4pt + luma(200), inset: 3pt)",
        "#show heading.where(level: 1): it => block(above: 1.4em, below: 0.8em, text(size: 13pt, it.body))",
        "#show heading.where(level: 2): it => block(above: 1.1em, below: 0.6em, text(size: 10.5pt, it.body))",
        f'#text(size: 17pt, weight: "bold", {_s(report.title)})',
        "",
        f"#text(fill: luma(80), {_s(report.subtitle)})" if report.subtitle else "",
        "",
        f"#text(size: 8pt, fill: luma(100), {_s(meta)})",
        '#heading(level: 1, "Headline")',
        _pairs(report.headline),
        '#heading(level: 1, "Figures")',
    ]
    for figure, name in zip(report.figures, figure_files, strict=True):
        parts.append(
            f"#block(breakable: false)[#heading(level: 2, {_s(figure.title)})\n"
            f"#image({_s(name)}, width: 100%)\n#text(size: 7.5pt, fill: luma(90), {_s(figure.caption)})]"
        )
    parts.append('#heading(level: 1, "Tables")')
    parts.extend(_table(t) for t in report.tables)
    parts.append('#heading(level: 1, "Assumptions")')
    parts.extend(_table(t) for t in report.assumptions)
    parts.extend(f"#text(size: 7.5pt, fill: luma(90), {_s(n)})" for n in report.notes)
    parts.append('#heading(level: 1, "Sources")')
    parts.extend(_table(t) for t in report.sources)
    parts.append('#heading(level: 1, "Provenance")')
    parts.append(_pairs(report.provenance))
    return "\n\n".join(p for p in parts if p) + "\n"


def font_folders() -> list[str]:
    """matplotlib's own fonts (DejaVu Sans): the same file draws the figures' text and the PDF's."""
    import matplotlib

    return [str(Path(matplotlib.get_data_path()) / "fonts" / "ttf")]


def render_pdf(report: Report) -> bytes:
    import typst

    names = [f"figure-{i}.svg" for i in range(1, len(report.figures) + 1)]
    source = typst_source(report, names)
    stamp = int(report.date.replace(tzinfo=dt.UTC).timestamp())
    with tempfile.TemporaryDirectory(prefix="critmin-report-") as folder:
        root = Path(folder)
        for figure, name in zip(report.figures, names, strict=True):
            (root / name).write_text(figure.svg, encoding="utf-8")
        (root / "report.typ").write_text(source, encoding="utf-8")
        try:
            return typst.compile(str(root / "report.typ"), root=str(root), format="pdf", font_paths=font_folders(),
                                 ignore_system_fonts=True, timestamp=stamp)  # fmt: skip
        except typst.TypstError as exc:  # a bug in the source above, not the user's input
            raise RuntimeError(f"typst could not compile the report: {exc}") from exc
