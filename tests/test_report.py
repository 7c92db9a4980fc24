"""Issue 16, reports: `critmin report run|risk|plan ID --out FILE.html|FILE.pdf` (deal reports: test_deal_store.py),
driven as a user would, on a short stored run (the April 2025 licensing scenario cut to eight months), a tiny risk
study and a small plan. Both files open, hold the figures, assumptions, sources and provenance, and are
byte-identical when made again; a page of the PDF, rendered by pdftoppm (poppler-utils, installed by `make test`),
shows the price chart."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from critmin.cli.main import app
from test_plan_cli import small_plan
from test_risk_evaluate import ONE_CONTROL

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()
PRICE_CHART = "Price chart"


def invoke(*args, code=0):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def short_scenario() -> str:
    """scenarios/china-2025-04-licensing.yaml over January to August 2025 (seconds to run)."""
    text = (REPO / "scenarios" / "china-2025-04-licensing.yaml").read_text(encoding="utf-8")
    text = text.replace("name: china-2025-04-licensing", "name: licensing-short")
    text = re.sub(r"(?m)^end: .*$", "end: 2025-08-31", text)
    return re.sub(r"(?m)^    end: .*$", "    end: 2025-08-31", text)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A store with one short run, one tiny risk study and one small plan: (db, folder)."""
    folder = tmp_path_factory.mktemp("report")
    db = folder / "critmin.duckdb"
    (folder / "short.yaml").write_text(short_scenario(), encoding="utf-8")
    invoke("run", folder / "short.yaml", "--db", db, "--format", "json")
    (folder / "one-control.yaml").write_text(ONE_CONTROL, encoding="utf-8")
    invoke("risk", "run", folder / "one-control.yaml", "--draws", "12", "--seed", "1", "--workers", "1", "--chunk",
           "6", "--engine", "exact", "--db", db, "--json")  # fmt: skip
    (folder / "small.yaml").write_text(small_plan(), encoding="utf-8")
    invoke("plan", "run", folder / "small.yaml", "--db", db)
    return db, folder


@pytest.fixture(scope="module")
def run_reports(store):
    """The run report made twice in each format: {suffix: (first, second)}."""
    db, folder = store
    made = {}
    for suffix in (".html", ".pdf"):
        first, second = folder / f"r{suffix}", folder / f"again{suffix}"
        assert "wrote" in invoke("report", "run", "latest", "--out", first, "--db", db).stdout
        invoke("report", "run", "latest", "--out", second, "--db", db)
        made[suffix] = (first, second)
    return made


class Parsed(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.ids: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.ids.update(v for k, v in attrs if k == "id" and v)

    def handle_data(self, data):
        self.text.append(data)


def parse(path: Path) -> Parsed:
    parsed = Parsed()
    parsed.feed(path.read_text(encoding="utf-8"))
    parsed.close()
    return parsed


def test_help_names_the_kinds():
    text = " ".join(invoke("report", "--help").output.split())
    for word in ("run", "risk", "plan", "deal", "--out", "--db", "break-even", "byte-identical"):
        assert word in text, word


def test_run_html_is_self_contained_with_figures_assumptions_sources_and_provenance(run_reports):
    path = run_reports[".html"][0]
    html = path.read_text(encoding="utf-8")
    parsed = parse(path)
    assert parsed.tags.count("svg") >= 2  # the price chart and the shortfall chart
    assert {"headline", "figures", "tables", "assumptions", "sources", "provenance"} <= parsed.ids
    assert "<script" not in html and "http-equiv" not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing fetched from elsewhere
    text = " ".join(" ".join(parsed.text).split())
    assert PRICE_CHART in text and "Shortfall over time" in text
    assert "licensing of seven medium and heavy rare earths" in text  # the scenario's shock and its source
    assert "MOFCOM Announcement No. 18 of 2025" in text
    assert "World rows flagged assumption" in text and "Sources cited by the world's rows" in text
    for field in ("scenario hash", "data version", "critmin version", "seed", "created at"):
        assert field in text, field


def test_run_reports_are_byte_identical_when_made_again(run_reports):
    for suffix, (first, second) in run_reports.items():
        assert sha256(first) == sha256(second), suffix


def test_run_pdf_opens_and_a_rendered_page_shows_the_price_chart(run_reports, tmp_path):
    pdf = run_reports[".pdf"][0]
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert shutil.which("pdftoppm") and shutil.which("pdftotext"), "install poppler-utils (`make test` does)"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) >= 1
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "2", str(pdf), str(tmp_path / "page")],
                   check=True, capture_output=True)  # fmt: skip
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 2
    chart_page = next(
        n for n in (1, 2)
        if PRICE_CHART in subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), str(pdf), "-"],
                                         capture_output=True, text=True, check=True).stdout
    )  # fmt: skip
    import numpy as np
    from PIL import Image

    with Image.open(pages[chart_page - 1]) as image:
        rgb = np.asarray(image.convert("RGB"), dtype=int)
    dark = int((rgb.min(axis=2) < 200).sum())  # pixels clearly not white: axes, lines, labels
    assert dark > 0.01 * rgb.shape[0] * rgb.shape[1], dark
    coloured = int((rgb.max(axis=2) - rgb.min(axis=2) > 60).sum())
    assert coloured > 100, coloured  # the chart's coloured lines, not only black text


def test_risk_and_plan_reports(store):
    db, folder = store
    expected = {
        "risk": ("Ranking", "Exceedance", "dy-tb-quota"),
        "plan": ("Frontier", "Cooperation", "Finance terms", "loan_rate"),
    }
    for kind, words in expected.items():
        html, pdf = folder / f"{kind}.html", folder / f"{kind}.pdf"
        invoke("report", kind, "latest", "--out", html, "--db", db)
        invoke("report", kind, "latest", "--out", pdf, "--db", db)
        parsed = parse(html)
        text = " ".join(" ".join(parsed.text).split())
        assert parsed.tags.count("svg") >= 2, kind
        for word in (*words, "Sources", "Provenance", "seed"):
            assert word in text, (kind, word)
        assert pdf.read_bytes().startswith(b"%PDF-") and pdf.stat().st_size > 1000


def test_unknown_id_kind_and_suffix_are_clear_errors(store):
    db, folder = store
    missing = invoke("report", "run", "no-such-run", "--out", folder / "x.html", "--db", db, code=2)
    assert "no run 'no-such-run'" in missing.output
    assert "no study 'nope'" in invoke("report", "risk", "nope", "--out", folder / "x.pdf", "--db", db, code=2).output
    assert "no plan run 'nope'" in invoke("report", "plan", "nope", "--out", folder / "x.pdf", "--db", db,
                                          code=2).output  # fmt: skip
    assert "no deal valuations" in invoke("report", "deal", "latest", "--out", folder / "x.html", "--db", db,
                                          code=2).output  # fmt: skip
    assert invoke("report", "trade", "latest", "--out", folder / "x.html", "--db", db, code=2).exit_code == 2
    assert ".html or .pdf" in invoke("report", "run", "latest", "--out", folder / "x.docx", "--db", db, code=2).output
    assert not any(folder.glob("x.*"))


def test_an_existing_file_is_kept_unless_forced(run_reports, store):
    db, _ = store
    first = run_reports[".html"][0]
    before = sha256(first)
    refused = invoke("report", "run", "latest", "--out", first, "--db", db, code=2)
    assert "--force" in refused.output and sha256(first) == before
    invoke("report", "run", "latest", "--out", first, "--db", db, "--force")
    assert sha256(first) == before


def test_the_report_is_in_the_api():
    from critmin import api

    assert api.REPORT_KINDS == ("run", "risk", "plan", "deal") and callable(api.write_report)
    assert json.dumps(list(api.REPORT_SUFFIXES)) == '[".html", ".pdf"]'
