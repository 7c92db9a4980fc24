"""The trade and deal pages in Debian's chromium (driven by Playwright): /trade draws the welfare bars for the
bundled deal's two dates (the deal's arcs alone) and the flow-change table with units; a small deal valued as a
job through the live server's API, then /deals/jobs/{id} shows the per-side bars, the security-value
distribution beside the tariff relief (plotly SVG, titles and axis titles with units) and the per-side table,
whose numbers equal the job's JSON; no console errors, no request leaving the local server.

The deal page's screenshot goes to the test's tmp_path; with CRITMIN_REFRESH_SCREENSHOTS=1 it also replaces
docs/screenshots/deal.png."""

from __future__ import annotations

import os
import shutil

import httpx
import pytest
from playwright.sync_api import expect

import test_plan_dashboard_e2e as plan_e2e
from critmin.server import ServerConfig, create_app
from server_support import LiveServer, small_deal, small_plan, wait_for_job

DOCS_SHOTS, drawn = plan_e2e.DOCS_SHOTS, plan_e2e.drawn
browser, page = plan_e2e.browser, plan_e2e.page  # the plan pages' chromium and page fixtures (this module's server)
SIDE_KEYS = ("tariff_relief_musd_per_yr", "security_expected_musd_per_yr", "security_cvar_musd_per_yr",
             "measures_cost_musd_per_yr", "net_musd_per_yr", "allied_purchases_musd_per_yr",
             "break_even_premium_pct")  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = tmp_path_factory.mktemp("deal-e2e") / "critmin.duckdb"
    with LiveServer(create_app(ServerConfig(db=db))) as live:
        yield live


@pytest.fixture(scope="module")
def valued(server) -> dict:
    """The small deal valued through the live server's API: its finished job."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        job = client.post("/api/deals", json={"deal_yaml": small_deal(), "plan_yaml": small_plan()})
        assert job.status_code == 202, job.text
        done = wait_for_job(client, job.json()["job_id"], prefix="/api/deals/jobs")
    assert done["status"] == "done", done
    return done


def test_the_trade_page_draws_welfare_for_the_two_dates(page):
    page.goto("/trade?against=2025-08-06&date=2025-10-01&deal_only=on")
    expect(page.locator("nav a[aria-current=page]")).to_have_text("Trade")
    drawn(page, "welfare")
    expect(page.locator("#fig-welfare .gtitle")).to_contain_text("2025-10-01 against 2025-08-06")
    expect(page.locator("#fig-welfare .gtitle")).to_contain_text("MUSD")
    expect(page.locator("#fig-welfare .g-ytitle")).to_contain_text("MUSD")
    assert page.locator("#fig-welfare .barlayer .point").count() == page.locator("#welfare-table tbody tr").count()
    expect(page.locator("#trade-headline")).to_contain_text("27.5% → 15%")
    expect(page.locator("#flows-table thead")).to_contain_text("change (MUSD)")
    expect(page.locator("#flows-table thead")).to_contain_text("tariff after (%)")
    first = page.locator("#flows-table tbody tr").first
    expect(first).to_contain_text("USA")
    expect(first).to_contain_text("JPN")
    # every arc: the checkbox off, more arcs change
    deal_arcs = page.locator("#flows-table tbody tr").count()
    page.uncheck("input[name=deal_only]")
    page.click("#trade-form button[type=submit]")
    page.wait_for_url("**/trade?*")
    drawn(page, "welfare")
    assert page.locator("#flows-table tbody tr").count() > deal_arcs


def test_the_deal_page_shows_the_jobs_numbers_and_charts(page, valued, tmp_path):
    result = valued["result"]
    page.goto("/deals")
    expect(page.locator("nav a[aria-current=page]")).to_have_text("Deals")
    expect(page.locator("#deal-run")).to_be_visible()
    page.click(f"#deal-jobs a[href='/deals/jobs/{valued['job_id']}']")
    page.wait_for_url(f"**/deals/jobs/{valued['job_id']}")
    expect(page.locator("h1")).to_contain_text(valued["job_id"])
    # the per-side bars: four series (relief, security, cost, net) of one bar per side, in MUSD/yr
    drawn(page, "sides")
    expect(page.locator("#fig-sides .gtitle")).to_contain_text("MUSD/yr")
    expect(page.locator("#fig-sides .g-ytitle")).to_contain_text("MUSD/yr")
    expect(page.locator("#fig-sides .legend")).to_contain_text("tariff relief")
    expect(page.locator("#fig-sides .legend")).to_contain_text("cost of measures")
    assert page.locator("#fig-sides .barlayer .point").count() == 4 * len(result["sides"])
    # the distribution: a box per side beside the tariff relief markers, axes in MUSD/yr
    drawn(page, "distribution")
    expect(page.locator("#fig-distribution .gtitle")).to_contain_text("beside the tariff relief")
    assert page.locator("#fig-distribution .boxlayer .trace").count() == 1
    titles = page.locator("#fig-distribution .g-ytitle, #fig-distribution .g-y2title")
    expect(titles).to_have_count(2)
    for i in range(2):
        expect(titles.nth(i)).to_contain_text("MUSD/yr")
    relief = page.evaluate("document.getElementById('fig-distribution').data[2].y")
    assert relief == pytest.approx([s["tariff_relief_musd_per_yr"] for s in result["sides"]])
    # the table: the job's numbers, side by side
    for side in result["sides"]:
        row = page.locator(f"#sides-table tr[data-side='{side['side']}']")
        for key in SIDE_KEYS:
            shown = row.locator(f"td[data-key='{key}']").get_attribute("data-value")
            assert float(shown) == pytest.approx(side[key], rel=1e-12), (side["side"], key)
        expect(row.locator("td[data-key='break_even_premium_pct']")).to_have_text(
            f"{side['break_even_premium_pct']:,.2f}")  # fmt: skip
    expect(page.locator("#sides-table thead")).to_contain_text("break-even ally premium (%)")
    shot = tmp_path / "deal.png"
    page.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 0
    if os.environ.get("CRITMIN_REFRESH_SCREENSHOTS") == "1":
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, DOCS_SHOTS / "deal.png")


def test_an_unknown_deal_job_is_a_404_page(page):
    response = page.goto("/deals/jobs/0123456789ab")
    assert response.status == 404
    expect(page.locator("main")).to_contain_text("no deal job '0123456789ab'")
    page.problems[:] = [p for p in page.problems if "status of 404" not in p]
