"""The dashboard end to end in Debian's chromium (driven by Playwright): every page loads with its charts and no
console errors (a CSP violation would be one), the flagship scenario runs from the browser, and screenshots
land in artifacts/screenshots/."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from critmin.server import ServerConfig, create_app
from server_support import PATIENCE_S, REPO, LiveServer, short_flagship, wait_for_job

SHOTS = REPO / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Playwright waits (browser start, navigation, clicks, expect) end as soon as the page is ready; the limit
# only turns a hang into a failure, so it is far above what a busy 2-core machine needs (Playwright's own
# default for expect is 5 s, which such a machine can miss). A run from the browser gets the server tests'
# patience.
PAGE_MS = 120_000
RUN_MS = int(PATIENCE_S * 1000)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = create_app(ServerConfig(db=tmp_path_factory.mktemp("e2e") / "critmin.duckdb"))
    with LiveServer(app) as live:
        yield live


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run `make chromium` (apt-get install chromium)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        # --no-sandbox: CI runs as root, where chromium's sandbox refuses to start
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], timeout=PAGE_MS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=server.url)
    context.set_default_timeout(PAGE_MS)
    context.set_default_navigation_timeout(PAGE_MS)
    expect.set_options(timeout=PAGE_MS)
    page = context.new_page()
    page.problems = []
    # a 422 is the editor's inline validation answering; any other console error fails the test
    page.on("console", lambda m: m.type == "error" and "status of 422" not in m.text and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    yield page
    context.close()
    assert page.problems == [], page.problems


def chart_ready(page, name: str, timeout: float = PAGE_MS) -> None:
    figure = page.locator(f"#fig-{name}")
    expect(figure).to_have_attribute("data-state", "ready", timeout=timeout)
    assert figure.locator(".main-svg").count() > 0


def test_overview_shows_the_dysprosium_sankey(page):
    page.goto("/?element=Dy")
    chart_ready(page, "sankey")
    chart_ready(page, "concentration")
    assert page.locator("#fig-sankey .sankey-node").count() >= 10  # stages x regions
    expect(page.locator("#fig-sankey")).to_contain_text("Dy: mine → separation → metal → magnet → use")
    page.screenshot(path=SHOTS / "overview-dy-sankey.png", full_page=True)


def test_overview_form_works_from_the_keyboard(page):
    page.goto("/")
    chart_ready(page, "sankey")
    page.focus("select[name=element]")
    page.select_option("select[name=element]", "Tb")
    page.keyboard.press("Tab")  # to the Show button
    page.keyboard.press("Enter")
    page.wait_for_url("**/?element=Tb")
    chart_ready(page, "sankey")
    expect(page.locator("h1")).to_have_text("Overview: Tb")


def test_exposure_explorer(page):
    page.goto("/exposure?origin_region=CHN&origin_stage=separation&region=JPN&element=Dy")
    chart_ready(page, "heatmap")
    chart_ready(page, "detail")
    expect(page.locator("table")).to_contain_text("separation")
    page.screenshot(path=SHOTS / "exposure.png", full_page=True)


def test_api_docs_render_offline(page):
    page.goto("/docs")
    expect(page.locator(".swagger-ui .info")).to_contain_text("critmin")
    expect(page.locator(".opblock").first).to_be_visible()
    page.screenshot(path=SHOTS / "api-docs.png")


def test_scenario_editor_validates_inline(page):
    page.goto("/scenarios")
    expect(page.locator("#scenario-yaml")).to_have_value(re.compile("china-2025-04-licensing"))
    page.click("#validate-button")
    expect(page.locator("#validation")).to_contain_text("Valid: china-2025-04-licensing")
    text = page.locator("#scenario-yaml").input_value().replace("regions: [CHN]", "regions: [XYZ]", 1)
    page.fill("#scenario-yaml", text)
    expect(page.locator("#validation")).to_contain_text("XYZ")
    expect(page.locator("#validation")).to_contain_text("line")
    page.select_option("#scenario-name", "myanmar-clay-outage")
    expect(page.locator("#scenario-yaml")).to_have_value(re.compile("name: myanmar-clay-outage"))


def test_run_the_flagship_from_the_browser_and_see_its_results(page):
    page.goto("/scenarios?name=china-2025-04-licensing")
    page.click("#run-button")
    expect(page.locator("#progress-box")).to_be_visible()
    page.wait_for_url("**/runs/china-2025-04-licensing-*", timeout=RUN_MS)
    for name in ("prices", "shortfall", "sectors", "stocks"):
        chart_ready(page, name)
    assert page.locator("#fig-prices .scatterlayer .trace").count() > 0
    expect(page.locator("#fig-prices")).to_contain_text("Dy_oxide price by region")
    rows = page.locator("#summary-table tbody tr")
    expect(rows.filter(has_text="JPN")).to_have_count(1)
    page.screenshot(path=SHOTS / "licensing-2025-04-results.png", full_page=True)


def test_runs_list_and_compare(page, server):
    with httpx.Client(base_url=server.url, timeout=PAGE_MS / 1000) as client:
        job = client.post("/api/jobs", json={"yaml": short_flagship()}).json()
        state = wait_for_job(client, job["job_id"])
        assert state["status"] == "done", state
    page.goto("/runs")
    expect(page.locator("table a")).to_have_count(2)
    page.goto(f"/compare?a=china-2025-04-licensing&b={state['run_id']}&element=Dy&region=JPN")
    chart_ready(page, "prices")
    expect(page.locator("#compare-table")).to_contain_text("JPN")
    page.screenshot(path=SHOTS / "compare.png", full_page=True)
