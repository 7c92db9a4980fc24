"""Issue 11, defect 13 ("misleading charts"), checked on the figures the dashboard pages embed (the JSON the
browser draws), against the data the API serves: stacked bars without gaps, one distinct colour per region,
readable log ticks, the shortfall chart on the table's measure, Sankey titles from the element's own stages,
and world maps of the right values with their boundaries shipped in the package."""

from __future__ import annotations

import base64
import html
import itertools
import json
import math
import re
import tomllib

import numpy as np
import pytest
from fastapi.testclient import TestClient

from critmin.schema import STAGES
from critmin.server import ServerConfig, create_app
from server_support import REPO, short_flagship, wait_for_job

STATIC = REPO / "src" / "critmin" / "server" / "static"
# the figures a page embeds, read back from its HTML (the JSON the browser draws)
FIGURE = re.compile(r'<script type="application/json" class="figure-data" data-target="fig-([\w-]+)">(.*?)</script>',
                    re.S)  # fmt: skip


def figures(page: str) -> dict[str, dict]:
    """``{name: plotly figure dict}`` for every chart of a page's HTML."""
    return {name: json.loads(body) for name, body in FIGURE.findall(page)}


def page_figures(client, url: str) -> dict[str, dict]:
    response = client.get(url)
    assert response.status_code == 200, response.text[:500]
    return figures(response.text)


def title(figure: dict) -> str:
    text = figure["layout"]["title"]
    return text["text"] if isinstance(text, dict) else text


def axis_title(axis: dict) -> str:
    text = axis.get("title", "")
    return text.get("text", "") if isinstance(text, dict) else text


def values(array) -> list:
    """A figure array as a list: plotly writes numeric arrays as typed ``{"dtype", "bdata"}`` objects."""
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"])).tolist()
    return list(array)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with TestClient(create_app(ServerConfig(db=tmp_path_factory.mktemp("charts") / "critmin.duckdb"))) as c:
        yield c


# Japan's Dy demand up 40% in the shocked months: the scenario's demand is not the baseline's, so a chart of
# shortfall over the scenario's own demand differs from the summary's measure (over the baseline's)
DEMAND_SHIFT = """
  - type: demand_shift
    where: {regions: [JPN]}
    elements: [Dy]
    magnitude_pct: 40
    start: 2025-05-01
"""


@pytest.fixture(scope="module")
def run_id(client) -> str:
    """A short flagship run (through September 2025: months with shortfall and price spikes)."""
    text = short_flagship("2025-09-30", "charts-short").rstrip("\n") + DEMAND_SHIFT
    job = client.post("/api/jobs", json={"yaml": text}).json()
    state = wait_for_job(client, job["job_id"])
    assert state["status"] == "done", state
    return state["run_id"]


def records(client, url: str, **params) -> list[dict]:
    response = client.get(url, params=params)
    assert response.status_code == 200, response.text
    return response.json()["records"]


def bar_cells(figure: dict) -> dict[tuple[str, str], float]:
    """``{(trace name, category): value}`` for a stacked bar figure; category is the bar's stage label."""
    cells = {}
    for trace in figure["data"]:
        horizontal = trace.get("orientation") == "h"
        categories, sizes = (trace["y"], trace["x"]) if horizontal else (trace["x"], trace["y"])
        cells.update({(trace["name"], c): v for c, v in zip(values(categories), values(sizes), strict=True)})
    return cells


def test_concentration_bars_have_a_value_for_every_region_at_every_stage(client):
    """A trace with a gap (None) at one stage stops plotly stacking the traces after it: Japan's 20% of Ga
    metal was drawn from 0, under China's bar."""
    figure = page_figures(client, "/?element=Ga")["concentration"]
    stages = {trace_y for trace in figure["data"] for trace_y in trace["y"]}
    shares = records(client, "/api/indicators", indicator="production_share", element="Ga")
    for trace in figure["data"]:
        assert len(trace["y"]) == len(stages) and all(v is not None for v in values(trace["x"])), trace["name"]
    cells = bar_cells(figure)
    for stage in stages:
        assert sum(v for (_, c), v in cells.items() if c == stage) == pytest.approx(100, abs=0.1)
    for share in shares:
        label = next(s for s in stages if s.split("<br>")[0] == share["stage"])
        assert cells[share["region"], label] == pytest.approx(share["value"])


def test_exposure_detail_bars_have_every_origin_at_every_stage_and_sum_to_100(client):
    figure = page_figures(client, "/exposure?region=JPN&element=Dy")["detail"]
    stages = figure["data"][0]["x"]
    for trace in figure["data"]:
        assert trace["x"] == stages and all(v is not None for v in values(trace["y"])), trace["name"]
    cells = bar_cells(figure)
    for stage in stages:
        assert sum(v for (_, c), v in cells.items() if c == stage) == pytest.approx(100, abs=0.1)
    for origin in records(client, "/api/exposure", region="JPN", element="Dy"):
        assert cells[origin["origin_region"], origin["origin_stage"]] == pytest.approx(100 * origin["share"])


def colours_on_pages(client) -> dict[str, set[str]]:
    """Each region's colours over the Sankey, concentration and exposure charts."""
    regions = {r["id"] for r in records(client, "/api/world/regions")} | {"Other"}
    seen: dict[str, set[str]] = {}
    for element in ("Dy", "Ga"):
        overview = page_figures(client, f"/?element={element}")
        node = overview["sankey"]["data"][0]["node"]
        for label, colour in zip(node["label"], node["color"], strict=True):
            seen.setdefault(label.split(" · ")[0], set()).add(colour.lower())
        for trace in overview["concentration"]["data"]:
            seen.setdefault(trace["name"], set()).add(trace["marker"]["color"].lower())
    for trace in page_figures(client, "/exposure?region=JPN&element=Dy")["detail"]["data"]:
        if trace["name"] in regions:  # not the "not via this stage" part
            seen.setdefault(trace["name"], set()).add(trace["marker"]["color"].lower())
    return seen


def test_each_region_has_one_colour_and_no_two_regions_share_one(client):
    seen = colours_on_pages(client)
    assert {"MMR", "ROW", "KOR", "CHN", "JPN"} <= set(seen)
    assert all(len(colours) == 1 for colours in seen.values()), seen
    owners = {}
    for region, (colour,) in seen.items():
        assert owners.setdefault(colour, region) == region, f"{region} and {owners[colour]} are both {colour}"


def lab(hex_colour: str) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of an sRGB colour."""
    rgb = [int(hex_colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    xyz = (
        (0.4124 * lin[0] + 0.3576 * lin[1] + 0.1805 * lin[2]) / 0.95047,
        0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2],
        (0.0193 * lin[0] + 0.1192 * lin[1] + 0.9505 * lin[2]) / 1.08883,
    )
    f = [t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in xyz]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def test_every_region_of_the_bundled_world_gets_a_colour_told_apart_from_all_others(bundled):
    from critmin.server.dashboard.colours import region_palette  # here: the module is new with this fix

    palette = region_palette(bundled.table("region")["id"])
    assert set(palette) == {*bundled.table("region")["id"], "Other"}
    closest = min((math.dist(lab(palette[a]), lab(palette[b])), a, b) for a, b in itertools.combinations(palette, 2))
    assert closest[0] >= 20, f"{closest[1]} and {closest[2]} look alike (CIE76 distance {closest[0]:.1f})"
    # a world with regions of its own: they get colours of their own too, the bundled ones keep theirs
    extended = region_palette([*palette, "ZZA", "ZZB", "ZZC"])
    assert len(set(extended.values())) == len(extended)
    assert all(extended[r] == palette[r] for r in palette)


def plain_number(label: str) -> float:
    assert re.fullmatch(r"\d{1,3}(,\d{3})*(\.\d+)?", label), f"tick label {label!r} is not a plain number"
    return float(label.replace(",", ""))


def check_log_axis(figure: dict) -> None:
    axis = figure["layout"]["yaxis"]
    assert axis["type"] == "log"
    low, high = (10**v for v in axis["range"])
    ticks = [plain_number(t) for t in axis["ticktext"]]
    assert ticks == pytest.approx(axis["tickvals"]) and ticks == sorted(set(ticks))
    assert len(ticks) >= 3 and all(low <= t <= high for t in ticks)
    shown = [y for trace in figure["data"] for y in values(trace["y"]) if y is not None and y > 0]
    assert shown and low <= min(shown) and max(shown) <= high


def test_log_axes_are_labelled_with_plain_numbers_inside_the_range(client, run_id):
    for element in ("Dy", "Tb"):
        check_log_axis(page_figures(client, f"/runs/{run_id}?element={element}")["prices"])
    compare = page_figures(client, f"/compare?a={run_id}&b={run_id}&element=Dy&region=JPN")["prices"]
    check_log_axis(compare)


def test_the_shortfall_chart_plots_the_summary_tables_measure_under_its_label(client, run_id):
    response = client.get(f"/runs/{run_id}?element=Dy")
    chart = page_figures(client, f"/runs/{run_id}?element=Dy")["shortfall"]
    summary = {r["region"]: r for r in records(client, f"/api/runs/{run_id}/summary") if r["element"] == "Dy"}
    peaks = {trace["name"]: max(values(trace["y"])) for trace in chart["data"]}
    assert peaks, "the run has Dy shortfall: the chart should show it"
    for region, row in summary.items():
        if row["max_shortfall_pct"] >= 0.05:
            assert peaks[region] == pytest.approx(row["max_shortfall_pct"], abs=0.001), region
        else:
            assert region not in peaks
    unit = axis_title(chart["layout"]["yaxis"])
    header = re.search(r'<table id="summary-table">.*?</thead>', response.text, re.S).group(0)
    assert "beyond" in title(chart) and "beyond" in header and unit in header, (title(chart), unit, header)


@pytest.mark.parametrize("element", ["Ga", "Dy", "graphite"])
def test_the_sankey_title_names_the_elements_own_stages_in_order(client, element):
    sankey = page_figures(client, f"/?element={element}")["sankey"]
    stages = {label.split(" · ")[1] for label in sankey["data"][0]["node"]["label"]}
    ordered = [s for s in ("secondary", *STAGES) if s in stages]
    assert f"{element}: {' → '.join(ordered)}," in title(sankey)


def countries(client) -> set[str]:
    return {r["id"] for r in records(client, "/api/world/regions") if r["kind"] == "country"}


@pytest.mark.parametrize("element", ["Ga", "Dy"])
def test_the_production_map_shows_each_countrys_share_per_stage_and_names_the_aggregates(client, element):
    response = client.get(f"/?element={element}")
    figure = page_figures(client, f"/?element={element}")["production_map"]
    shares = records(client, "/api/indicators", indicator="production_share", element=element)
    on_map = {s["stage"] for s in shares}
    traces = {t["name"]: t for t in figure["data"]}
    assert set(traces) == on_map
    assert all(t["type"] == "choropleth" and t["locationmode"] == "ISO-3" for t in traces.values())
    for stage, trace in traces.items():
        drawn = dict(zip(trace["locations"], values(trace["z"]), strict=True))
        expected = {s["region"]: s["value"] for s in shares if s["stage"] == stage and s["value"] > 0}
        assert set(drawn) == set(expected) & countries(client)
        assert all(drawn[r] == pytest.approx(expected[r], abs=0.01) for r in drawn)
        for aggregate in set(expected) - countries(client):  # named in the caption instead
            value = expected[aggregate]
            assert f"{aggregate} {'<0.1' if value < 0.05 else f'{value:.1f}'}%" in html.unescape(response.text)


def test_the_exposure_map_shows_each_countrys_share_via_the_chosen_origin(client):
    figure = page_figures(client, "/exposure?origin_region=CHN&origin_stage=mine&element=Dy")["exposure_map"]
    (trace,) = figure["data"]
    drawn = dict(zip(trace["locations"], values(trace["z"]), strict=True))
    assert "JPN" in drawn and set(drawn) <= countries(client)
    for region in ("JPN", "USA", "KOR"):
        origins = records(client, "/api/exposure", region=region, element="Dy")
        via = sum(o["share"] for o in origins if o["origin_region"] == "CHN" and o["origin_stage"] == "mine")
        assert drawn[region] == pytest.approx(100 * via, abs=0.01)


def test_the_world_boundaries_are_served_locally_and_packaged(client):
    """Plotly's choropleth fetches ``<topojsonURL>world_110m.json``; it must come from the app and the
    installed package (the pyproject package-data globs), and outline every country of the world."""
    response = client.get("/static/topojson/world_110m.json")
    assert response.status_code == 200
    outlines = {g.get("id") for g in response.json()["objects"]["countries"]["geometries"]}
    assert countries(client) <= outlines
    app_js = (STATIC / "app.js").read_text(encoding="utf-8")
    assert 'topojsonURL: "/static/topojson/"' in app_js
    package = REPO / "src" / "critmin"
    globs = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["critmin"]
    packaged = {path for g in globs for path in package.glob(g)}
    assert {STATIC / "topojson" / name for name in ("world_110m.json", "LICENSE", "README.md")} <= packaged
    assert (STATIC / "topojson" / "LICENSE").read_text().startswith("The MIT License")
