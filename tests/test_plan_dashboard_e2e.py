"""The plan pages in Debian's chromium (driven by Playwright): a small plan (3 scenarios, one yearly step, three
options) run into the store before the server starts, then /plans lists it and /plans/{plan_id} shows its
headline cards (the stored row's numbers, in MUSD), the joint portfolio, the cost-risk frontier and the
cooperation waterfall (plotly SVG, titles and axis titles with units) and the shortlist, with no console errors
and no request leaving the local server.

The plan page's screenshot goes to the test's tmp_path; with CRITMIN_REFRESH_SCREENSHOTS=1 it also replaces
docs/screenshots/plan.png."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from critmin import api
from critmin.server import ServerConfig, create_app
from server_support import REPO, LiveServer, small_plan

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DOCS_SHOTS = REPO / "docs" / "screenshots"
PAGE_MS = 120_000  # only turns a hang into a failure (see test_dashboard_e2e)
CARDS = ("objective_musd", "evpi_musd", "vss_musd", "cvar_premium_musd", "joint_saving_musd")


@pytest.fixture(scope="module")
def stored(tmp_path_factory, bundled) -> tuple[Path, dict, dict]:
    """A store holding the small plan's run, written before any server opens it: (db, its plans row, its
    tables)."""
    folder = tmp_path_factory.mktemp("plan-e2e")
    db, path = folder / "critmin.duckdb", folder / "small.yaml"
    path.write_text(small_plan(risk_model=str(REPO / "risks" / "china-controls.yaml")), encoding="utf-8")
    plan = api.load_plan(path, bundled)
    run = api.run_plan(bundled, plan)
    with api.Store(db) as store:
        plan_id = api.save_plan_run(store, run, path, data_version=api.data_version(bundled))
        info = api.plan_info(store, plan_id)
        tables = {t: api.read_plan_table(store, plan_id, t) for t in api.PLAN_TABLES}
    return db, info, tables


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


def test_the_plans_page_lists_the_plan(page, stored):
    pid = stored[1]["plan_id"]
    page.goto("/plans")
    expect(page.locator("nav a[aria-current=page]")).to_have_text("Plans")
    expect(page.locator("#plans-table tbody tr")).to_have_count(1)
    expect(page.locator("#plans-table")).to_contain_text("us-japan-2025")
    page.click(f"#plans-table a[href='/plans/{pid}']")
    page.wait_for_url(f"**/plans/{pid}")
    drawn(page, "frontier")


def test_the_plan_page_shows_the_stored_numbers_and_charts(page, stored, tmp_path):
    _, info, tables = stored
    pid = info["plan_id"]
    page.goto(f"/plans/{pid}")
    expect(page.locator("h1")).to_contain_text(pid)
    # the cards: the stored row's numbers, in MUSD
    for key in CARDS:
        card = page.locator(f"#card-{key}")
        assert float(card.get_attribute("data-value")) == info[key], key
        expect(card.locator(".value")).to_have_text(f"{info[key]:,.2f} MUSD")
    superadditive = page.locator("#card-superadditive")
    assert superadditive.get_attribute("data-value") == ("true" if info["superadditive"] else "false")
    expect(superadditive.locator(".value")).to_have_text("yes" if info["superadditive"] else "no")
    # the frontier: one point per distinct plan over the weights, the plan's λ highlighted, axes in MUSD
    drawn(page, "frontier")
    expect(page.locator("#fig-frontier .gtitle")).to_contain_text("Cost-risk frontier")
    expect(page.locator("#fig-frontier .g-xtitle")).to_contain_text("CVaR of the second-stage cost (MUSD)")
    expect(page.locator("#fig-frontier .g-ytitle")).to_contain_text("expected cost")
    expect(page.locator("#fig-frontier .g-ytitle")).to_contain_text("MUSD")
    expect(page.locator("#fig-frontier .legend")).to_contain_text(f"this plan (λ = {info['risk_weight']:g})")
    frontier = tables["frontier"]
    distinct = frontier[["cvar_musd", "expected_musd"]].round(9).drop_duplicates()
    assert page.locator("#fig-frontier .scatterlayer .trace").nth(1).locator("path.point").count() == len(distinct)
    expect(page.locator("#fig-frontier .scatterlayer")).to_contain_text(f"{info['risk_weight']:g}")
    data = page.evaluate("document.getElementById('fig-frontier').data.length")
    assert data == 3
    # the waterfall: no plan, a bar per player's Shapley share, the joint plan; the y axis in MUSD
    drawn(page, "waterfall")
    bars = page.locator("#fig-waterfall .waterfalllayer .point")
    assert bars.count() == len(tables["shapley"]) + 2
    expect(page.locator("#fig-waterfall .g-ytitle")).to_contain_text("MUSD")
    expect(page.locator("#fig-waterfall .gtitle")).to_contain_text("Value of cooperation")
    ends = page.evaluate("(() => { const d = document.getElementById('fig-waterfall').data[0];"
                         " return [d.y[0], d.measure[d.measure.length - 1], d.x.length]; })()")  # fmt: skip
    coalitions = tables["coalitions"].set_index("coalition")
    assert ends[0] == pytest.approx(coalitions.loc["none", "objective_musd"])
    assert ends[1] == "total" and ends[2] == len(tables["shapley"]) + 2
    # the tables: the joint coalition's portfolio and the shortlist
    joint = "+".join(sorted(info["players"].split("+")))
    portfolio = tables["portfolio"][tables["portfolio"]["coalition"] == joint]
    expect(page.locator("#portfolio-title")).to_contain_text(joint)
    if len(portfolio):
        expect(page.locator("#portfolio-table tbody tr")).to_have_count(len(portfolio))
        for option in portfolio["option"]:
            expect(page.locator("#portfolio-table")).to_contain_text(option)
    else:
        expect(page.locator("#portfolio-table")).to_contain_text("takes no option")
    shortlist = tables["shortlist"]
    if len(shortlist):
        rows = page.locator("#shortlist-table tbody tr")
        expect(rows).to_have_count(len(shortlist))
        expect(rows.first).to_contain_text(shortlist["option"].iloc[0])
    else:
        expect(page.locator("#shortlist-table")).to_contain_text("Empty")
    shot = tmp_path / "plan.png"
    page.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 0
    if os.environ.get("CRITMIN_REFRESH_SCREENSHOTS") == "1":
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, DOCS_SHOTS / "plan.png")


def test_an_unknown_plan_is_a_404_page(page):
    response = page.goto("/plans/no-such-plan")
    assert response.status == 404
    expect(page.locator("main")).to_contain_text("no plan run 'no-such-plan'")
    page.problems[:] = [p for p in page.problems if "status of 404" not in p]  # the refusal itself, expected
