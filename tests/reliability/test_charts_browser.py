"""Issue 11, defect 13, acceptance in the browser (Debian's chromium driven by Playwright): the stacked bars
plotly actually draws tile 0-100% at every stage (Japan's Ga metal and China's share of Japan's Dy mine supply
included), and the world maps draw from the packaged boundaries with no request leaving the local server.

Screenshots go to the test's tmp_path; with CRITMIN_REFRESH_SCREENSHOTS=1 they also replace the committed ones
in docs/screenshots/."""

from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from critmin.server import ServerConfig, create_app
from server_support import REPO, LiveServer

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DOCS_SHOTS = REPO / "docs" / "screenshots"
PAGE_MS = 120_000  # only turns a hang into a failure (see test_dashboard_e2e)

# the segments plotly stacked for each bar: [{name, stage, s0, s1}] from the drawn graph's calcdata
STACKS_JS = """(id) => {
  const gd = document.getElementById(id);
  const out = [];
  gd.calcdata.forEach((cd, k) => {
    const trace = gd._fullData[k];
    const stages = trace.orientation === "h" ? trace.y : trace.x;
    cd.forEach((d, j) => out.push({name: trace.name, stage: String(stages[j]), s0: d.s0, s1: d.s1}));
  });
  return out;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with LiveServer(create_app(ServerConfig(db=tmp_path_factory.mktemp("charts-e2e") / "critmin.duckdb"))) as live:
        yield live


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run `make chromium` (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], timeout=PAGE_MS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def context(browser, server):
    """One context for the module: its cache keeps plotly.js parsed between tests."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=server.url)
    context.set_default_timeout(PAGE_MS)
    expect.set_options(timeout=PAGE_MS)
    yield context
    context.close()


@pytest.fixture(scope="module")
def opened(context):
    """``open(url)``: the page at ``url``, loaded once for the module (tests read different charts of it), with
    its console errors and every request it made recorded from the start."""
    pages = {}

    def open_page(url: str):
        if url not in pages:
            page = context.new_page()
            page.problems, page.requests = [], []
            page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
            page.on("pageerror", lambda e: page.problems.append(str(e)))
            page.on("request", lambda r: page.requests.append(r.url))
            page.goto(url)
            pages[url] = page
        return pages[url]

    yield open_page
    for page in pages.values():
        page.close()


def api(server, path: str, **params) -> list[dict]:
    return httpx.get(f"{server.url}{path}", params=params, timeout=PAGE_MS / 1000).json()["records"]


def drawn(page, name: str) -> None:
    expect(page.locator(f"#fig-{name}")).to_have_attribute("data-state", "ready")


def shoot(page, name: str, file: str, tmp_path: Path) -> Path:
    """The chart's screenshot in tmp_path (and docs/screenshots/ when refreshing them)."""
    path = tmp_path / file
    page.locator(f"#fig-{name}").screenshot(path=path)
    if os.environ.get("CRITMIN_REFRESH_SCREENSHOTS") == "1":
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_SHOTS / file)
    return path


def stacks(page, name: str) -> dict[str, list[dict]]:
    """The drawn segments (s0, s1) of each bar with any width, bottom first, by stage."""
    by_stage: dict[str, list[dict]] = {}
    for segment in page.evaluate(STACKS_JS, f"fig-{name}"):
        if segment["s0"] is not None and segment["s1"] is not None and segment["s1"] - segment["s0"] > 1e-9:
            by_stage.setdefault(segment["stage"].split("<br>")[0], []).append(segment)
    return {stage: sorted(segments, key=lambda s: s["s0"]) for stage, segments in by_stage.items()}


def assert_tiles_0_to_100(segments: list[dict], stage: str) -> None:
    """Each segment starts where the one below ends (none drawn over another) and the bar ends at 100%."""
    assert segments[0]["s0"] == pytest.approx(0, abs=1e-6), (stage, segments)
    for below, above in itertools.pairwise(segments):
        assert above["s0"] == pytest.approx(below["s1"], abs=1e-6), (stage, below, above)
    assert segments[-1]["s1"] == pytest.approx(100, abs=0.1), (stage, segments)


GA = "/?element=Ga"
JPN_DY = "/exposure?origin_region=CHN&origin_stage=mine&region=JPN&element=Dy"


def test_ga_concentration_bars_stack_to_100_with_japans_metal_share(opened, server, tmp_path):
    page = opened(GA)
    drawn(page, "concentration")
    bars = stacks(page, "concentration")
    shares = api(server, "/api/indicators", indicator="production_share", element="Ga")
    assert set(bars) == {s["stage"] for s in shares}
    for stage, segments in bars.items():
        assert_tiles_0_to_100(segments, stage)
    japan = {s["name"]: s["s1"] - s["s0"] for s in bars["metal"]}["JPN"]
    expected = next(s["value"] for s in shares if (s["stage"], s["region"]) == ("metal", "JPN"))
    assert japan == pytest.approx(expected) and japan > 0
    assert shoot(page, "concentration", "ga-concentration.png", tmp_path).stat().st_size > 0
    assert page.problems == []


def test_japan_dy_exposure_includes_chinas_mine_share_and_stacks_to_100(opened, server, tmp_path):
    page = opened(JPN_DY)
    drawn(page, "detail")
    bars = stacks(page, "detail")
    origins = api(server, "/api/exposure", region="JPN", element="Dy")
    assert set(bars) == {o["origin_stage"] for o in origins}
    for stage, segments in bars.items():
        assert_tiles_0_to_100(segments, stage)
    china = {s["name"]: s["s1"] - s["s0"] for s in bars["mine"]}["CHN"]
    expected = 100 * next(o["share"] for o in origins if (o["origin_stage"], o["origin_region"]) == ("mine", "CHN"))
    assert china == pytest.approx(expected) and china > 1
    print(f"JPN Dy, mine stage: China {china:.2f}% of final use")
    shoot(page, "detail", "jpn-dy-exposure.png", tmp_path)
    assert page.problems == []


@pytest.mark.parametrize(
    ("url", "name", "file"),
    [(GA, "production_map", "ga-production-map.png"), (JPN_DY, "exposure_map", "dy-exposure-map.png")],
    ids=["production-map", "exposure-map"],
)
def test_the_maps_render_offline_from_the_packaged_boundaries(opened, server, tmp_path, url, name, file):
    page = opened(url)
    drawn(page, name)
    traces = page.evaluate(
        "(id) => document.getElementById(id)._fullData.map(t => ({type: t.type, visible: t.visible, "
        "locations: t.locations}))",
        f"fig-{name}",
    )
    shown = [t for t in traces if t["visible"] is True]
    assert shown and all(t["type"] == "choropleth" and t["locations"] for t in shown)
    # every location with an outline is drawn (the boundaries loaded), none outside the local server asked for
    outlines = page.locator(f"#fig-{name} path.choroplethlocation")
    assert outlines.count() == sum(len(t["locations"]) for t in shown)
    assert f"{server.url}/static/topojson/world_110m.json" in page.requests
    assert [u for u in page.requests if not u.startswith(server.url)] == []
    shoot(page, name, file, tmp_path)
    assert page.problems == []


def test_the_production_map_buttons_switch_the_stage(opened, server):
    page = opened(GA)
    drawn(page, "production_map")
    shares = api(server, "/api/indicators", indicator="production_share", element="Ga")
    page.locator("#fig-production_map .updatemenu-button", has_text="metal").click()
    expect(page.locator("#fig-production_map .gtitle")).to_contain_text("metal stage")
    shown = page.evaluate(
        "() => document.getElementById('fig-production_map')._fullData.filter(t => t.visible === true)"
        ".map(t => ({name: t.name, locations: t.locations}))"
    )
    assert [t["name"] for t in shown] == ["metal"]
    producers = {s["region"] for s in shares if s["stage"] == "metal" and s["value"] > 0}
    assert "JPN" in shown[0]["locations"] and set(shown[0]["locations"]) <= producers
    assert page.problems == []
