"""The risk pages in Debian's chromium (driven by Playwright): a tiny study run into the store before the server
starts, then /risk lists it and /risk/{study_id} draws its fan chart, exceedance curves and CVaR bars (plotly
SVG, axis titles with units), its ranking and CVaR tables, with no console errors and no request leaving the
local server; a study started from the form shows its progress and opens when done, and a Morris screening of
the model's probabilities started from the study page replaces the CVaR stand-in for sensitivity results.

The study page's screenshot goes to the test's tmp_path; with CRITMIN_REFRESH_SCREENSHOTS=1 it also replaces
docs/screenshots/risk.png."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from critmin import api
from critmin.server import ServerConfig, create_app
from server_support import PATIENCE_S, REPO, TINY_RISK_MODEL, LiveServer

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DOCS_SHOTS = REPO / "docs" / "screenshots"
PAGE_MS = 120_000  # only turns a hang into a failure (see test_dashboard_e2e)
RUN_MS = int(PATIENCE_S * 1000)


@pytest.fixture(scope="module")
def stored(tmp_path_factory, bundled) -> tuple[Path, str]:
    """A store holding one tiny study (12 draws, the exact engine), written before any server opens it."""
    db = tmp_path_factory.mktemp("risk-e2e") / "critmin.duckdb"
    model = api.parse_risk_model(TINY_RISK_MODEL, "tiny-ree.yaml", bundled)
    with api.Store(db) as store:
        study_id = api.run_study(
            bundled, model, model_text=TINY_RISK_MODEL, draws=12, seed=7, engine="exact", workers=1, chunk=6,
            store=store,
        )  # fmt: skip
    return db, study_id


@pytest.fixture(scope="module")
def server(stored):
    with LiveServer(create_app(ServerConfig(db=stored[0]))) as live:
        yield live


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run `make chromium` (apt-get install chromium)")
    with sync_playwright() as p:
        # --no-sandbox: CI runs as root, where chromium's sandbox refuses to start
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], timeout=PAGE_MS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    """A page recording its console errors and every request it makes; none may fail or leave the server."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=server.url)
    context.set_default_timeout(PAGE_MS)
    context.set_default_navigation_timeout(PAGE_MS)
    expect.set_options(timeout=PAGE_MS)
    page = context.new_page()
    page.problems, page.requests = [], []
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.on("request", lambda r: page.requests.append(r.url))
    yield page
    context.close()
    assert page.problems == [], page.problems
    assert page.requests and [u for u in page.requests if not u.startswith(server.url)] == []


def drawn(page, name: str) -> None:
    figure = page.locator(f"#fig-{name}")
    expect(figure).to_have_attribute("data-state", "ready")
    assert figure.locator(".main-svg").count() > 0


def test_the_risk_page_lists_the_study_and_the_bundled_models(page, stored):
    page.goto("/risk")
    expect(page.locator("nav a[aria-current=page]")).to_have_text("Risk")
    expect(page.locator("#studies-table tbody tr")).to_have_count(1)
    expect(page.locator("#studies-table")).to_contain_text("tiny-ree")
    expect(page.locator("#models-table")).to_contain_text("china-controls")
    page.click(f"#studies-table a[href='/risk/{stored[1]}']")
    page.wait_for_url(f"**/risk/{stored[1]}")
    drawn(page, "fan")


def test_the_study_page_draws_its_charts_with_units(page, stored, tmp_path):
    page.goto(f"/risk/{stored[1]}?region=JPN&element=Dy")
    expect(page.locator("h1")).to_contain_text(stored[1])
    for name in ("fan", "exceedance", "sensitivity"):
        drawn(page, name)
    # the fan: two bands, the median and the mean, drawn as SVG paths
    assert page.locator("#fig-fan .scatterlayer .trace").count() >= 6
    assert page.locator("#fig-fan .scatterlayer path.js-fill").count() >= 2
    expect(page.locator("#fig-fan .g-ytitle")).to_contain_text("ratio")
    expect(page.locator("#fig-fan .gtitle")).to_contain_text("JPN: Dy_oxide price relative to the baseline")
    expect(page.locator("#fig-fan .gtitle")).to_contain_text("USD/kg")
    # exceedance: a line for Dy at least, x in % of baseline demand, y a probability on a log axis
    assert page.locator("#fig-exceedance .scatterlayer path.js-line").count() >= 1
    expect(page.locator("#fig-exceedance .legend")).to_contain_text("Dy")
    expect(page.locator("#fig-exceedance .g-xtitle")).to_contain_text("% of baseline demand")
    expect(page.locator("#fig-exceedance .g-ytitle")).to_contain_text("P(shortfall > x)")
    # no sensitivity results: the CVaR95 bars instead, and the note says so
    expect(page.locator("#sensitivity-note")).to_contain_text("No sensitivity results")
    assert page.locator("#fig-sensitivity .barlayer path").count() >= 1
    expect(page.locator("#fig-sensitivity .g-ytitle")).to_contain_text("% of baseline demand")
    # the tables
    ranking = page.locator("#ranking-table tbody tr")
    assert ranking.count() > 0
    expect(ranking.first).to_contain_text("1")
    expect(page.locator("#cvar-table tbody tr").filter(has_text="Dy")).to_have_count(1)
    expect(page.locator("#durations-table")).to_contain_text("time to recover")
    shot = tmp_path / "risk.png"
    page.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 0
    if os.environ.get("CRITMIN_REFRESH_SCREENSHOTS") == "1":
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, DOCS_SHOTS / "risk.png")


def test_the_selectors_change_region_and_element(page, stored):
    page.goto(f"/risk/{stored[1]}")
    drawn(page, "fan")
    page.select_option("select[name=region]", "USA")
    page.select_option("select[name=element]", "Tb")
    page.click("form.controls button[type=submit]")
    page.wait_for_url("**region=USA&element=Tb")
    drawn(page, "fan")
    expect(page.locator("#fig-fan .gtitle")).to_contain_text("USA: Tb_oxide price")
    expect(page.locator("#ranking-title")).to_contain_text("USA")


def test_a_study_started_from_the_form_shows_progress_then_opens(page):
    page.goto("/risk")
    page.select_option("#risk-model", "china-controls")
    page.fill("#risk-draws", "12")
    page.fill("#risk-chunk", "6")
    page.fill("#risk-workers", "1")
    page.select_option("#risk-engine", "exact")
    page.click("#risk-run")
    page.wait_for_url("**/risk/jobs/*")
    expect(page.locator("#risk-progress")).to_be_visible()
    page.wait_for_url(re.compile(r"/risk/(?!jobs/)[^/?]+$"), timeout=RUN_MS)  # the study's page
    drawn(page, "fan")
    expect(page.locator("h1")).to_contain_text("Risk study of china-controls")


def test_a_bad_request_from_the_form_shows_its_problem(page):
    page.goto("/risk")
    page.fill("#risk-draws", "0")
    page.evaluate("document.getElementById('risk-draws').removeAttribute('min')")  # past the browser's own check
    page.click("#risk-run")
    expect(page.locator("#risk-problems")).to_contain_text("draws")
    page.problems[:] = [p for p in page.problems if "status of 422" not in p]  # the refusal itself, expected


def test_screening_the_probabilities_from_the_study_page(page, stored):
    """Last in the module: once screened, the study page shows Morris effects instead of the CVaR stand-in."""
    page.goto(f"/risk/{stored[1]}?region=JPN&element=Dy")
    expect(page.locator("#sensitivity-note")).to_contain_text("No sensitivity results")
    page.fill("#screen-draws", "16")
    page.select_option("#screen-engine", "exact")
    page.click("#screen-run")
    page.wait_for_url("**/risk/jobs/*")
    expect(page.locator("h1")).to_contain_text("Sensitivity screening of tiny-ree")
    page.wait_for_url(f"**/risk/{stored[1]}?region=JPN&element=Dy", timeout=RUN_MS)
    drawn(page, "sensitivity")
    expect(page.locator("#fig-sensitivity .gtitle")).to_contain_text("Morris effects")
    expect(page.locator("#fig-sensitivity .g-xtitle")).to_contain_text("% of baseline demand")
    assert page.locator("#fig-sensitivity .barlayer path").count() >= 1
    expect(page.locator("#morris-table tbody tr")).to_have_count(2)
    expect(page.locator("#morris-table")).to_contain_text("ree-licensing")
