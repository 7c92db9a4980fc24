"""A report as one self-contained HTML file: inline CSS, figures as inline SVG, no JavaScript, no external
resource (it opens offline, in any browser, and prints)."""

from __future__ import annotations

from html import escape

from critmin.report.content import Report, Table

CSS = """
body { font-family: 'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif; color: #222; max-width: 62rem;
       margin: 2rem auto; padding: 0 1rem; line-height: 1.4; font-size: 15px; }
h1 { font-size: 1.7rem; margin-bottom: 0.2rem; } h2 { border-bottom: 1px solid #ccc; margin-top: 2.2rem; }
h3 { font-size: 1.05rem; margin-bottom: 0.3rem; }
.subtitle { color: #555; margin-top: 0; } .meta { color: #666; font-size: 0.85rem; }
dl.headline { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1.2rem; }
dl.headline dt { font-weight: bold; } dl.headline dd { margin: 0; }
figure { margin: 1.2rem 0; } figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.85rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.8rem; margin: 0.4rem 0; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 0.2rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #666; font-size: 0.8rem; }
"""


def _numeric(text: str) -> bool:
    return text.replace(",", "").replace(".", "", 1).lstrip("-").replace("e", "", 1).replace("+", "").isdigit()


def _table(t: Table) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in t.columns)
    body = "\n".join(
        "<tr>"
        + "".join(f'<td class="num">{escape(v)}</td>' if _numeric(v) else f"<td>{escape(v)}</td>" for v in row)
        + "</tr>"
        for row in t.rows
    )
    note = f'<p class="note">{escape(t.note)}</p>' if t.note else ""
    return f'<h3>{escape(t.title)}</h3>\n<div class="scroll"><table>\n<thead><tr>{head}</tr></thead>\n' \
           f"<tbody>\n{body}\n</tbody></table></div>\n{note}"  # fmt: skip


def render_html(report: Report) -> str:
    headline = "\n".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in report.headline)
    figures = "\n".join(
        f'<figure id="figure-{i}">\n<h3>{escape(f.title)}</h3>\n{f.svg}\n<figcaption>{escape(f.caption)}</figcaption>'
        "\n</figure>"
        for i, f in enumerate(report.figures, 1)
    )
    provenance = "\n".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in report.provenance)
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in report.notes)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="critmin report ({escape(report.kind)})">',
        f'<meta name="date" content="{report.date.isoformat()}">',
        f"<title>{escape(report.title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{escape(report.title)}</h1>",
        f'<p class="subtitle">{escape(report.subtitle)}</p>' if report.subtitle else "",
        f'<p class="meta">{escape(report.kind)} {escape(report.id)} · {report.date.isoformat(sep=" ")}</p>',
        '<section id="headline"><h2>Headline</h2>',
        f'<dl class="headline">\n{headline}\n</dl></section>',
        f'<section id="figures"><h2>Figures</h2>\n{figures}\n</section>',
        '<section id="tables"><h2>Tables</h2>',
        *(_table(t) for t in report.tables),
        "</section>",
        '<section id="assumptions"><h2>Assumptions</h2>',
        *(_table(t) for t in report.assumptions),
        notes,
        "</section>",
        '<section id="sources"><h2>Sources</h2>',
        *(_table(t) for t in report.sources),
        "</section>",
        '<section id="provenance"><h2>Provenance</h2>',
        f'<dl class="headline">\n{provenance}\n</dl></section>',
        "</body>",
        "</html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"
