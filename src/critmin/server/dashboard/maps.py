"""World maps (plotly choropleths on ISO-3 codes). The boundaries are the topojson shipped in
static/topojson/ (app.js points plotly's ``topojsonURL`` there), so a map needs no network. Aggregate regions
(EU, ROW, Other) have no single outline: they are left off the map and named in ``off_map``."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from critmin.api import STAGES
from critmin.server.dashboard.charts import LAYOUT

GEO = {
    "scope": "world", "resolution": 110, "projection": {"type": "natural earth"}, "showframe": False,
    "showcoastlines": False, "showland": True, "landcolor": "#eeeeee", "showcountries": True,
    "countrycolor": "#ffffff", "showocean": False, "lataxis": {"range": [-58, 85]},
}  # fmt: skip
SCALE = "YlOrRd"
BORDER = {"color": "#666666", "width": 0.4}


def _choropleth(frame: pd.DataFrame, countries: set[str], name: str, what: str, visible: bool = True):
    on_map = frame[frame["region"].isin(countries) & (frame["value"] > 0)]
    return go.Choropleth(
        locations=on_map["region"].tolist(), z=on_map["value"].round(2).tolist(), locationmode="ISO-3",
        name=name, visible=visible, zmin=0, zmax=100, colorscale=SCALE, marker={"line": BORDER},
        colorbar={"title": {"text": "%"}, "ticksuffix": "%", "len": 0.8},
        hovertemplate=f"%{{location}}: %{{z:.1f}}% {what}<extra>{name}</extra>",
    )  # fmt: skip


def production_map(indicators: pd.DataFrame, element: str, countries: set[str]) -> go.Figure:
    """Each country's share of world production of ``element`` at one stage; buttons switch the stage."""
    shares = indicators[(indicators["indicator"] == "production_share") & (indicators["element"] == element)]
    stages = [s for s in STAGES if s in set(shares["stage"])]
    fig = go.Figure()
    for i, stage in enumerate(stages):
        rows = shares[shares["stage"] == stage]
        fig.add_trace(_choropleth(rows, countries, stage, f"of world {stage} output", visible=i == 0))
    titles = [f"{element}: share of world production by country at the {stage} stage (%)" for stage in stages]
    buttons = [
        {"label": stage, "method": "update",
         "args": [{"visible": [j == i for j in range(len(stages))]}, {"title.text": titles[i]}]}
        for i, stage in enumerate(stages)
    ]  # fmt: skip
    fig.update_layout(
        **{**LAYOUT, "margin": {"l": 10, "r": 10, "t": 60, "b": 10}}, height=480, geo=GEO,
        title=titles[0] if titles else f"{element}: no production data",
        updatemenus=[{"buttons": buttons, "type": "buttons", "direction": "right", "x": 1, "xanchor": "right",
                      "y": 1.02, "yanchor": "bottom", "showactive": True}] if len(stages) > 1 else [],
    )  # fmt: skip
    return fig


def exposure_map(table: pd.DataFrame, element: str, origin_region: str, origin_stage: str, countries: set[str]):
    """Each consuming country's share (%) of its final use of ``element`` that passed through ``origin_region``
    at ``origin_stage``. ``table``: region, share_pct."""
    frame = table.rename(columns={"share_pct": "value"})
    fig = go.Figure(_choropleth(frame, countries, f"via {origin_region}", f"of final use via {origin_region}"))
    fig.update_layout(
        **{**LAYOUT, "margin": {"l": 10, "r": 10, "t": 60, "b": 10}}, height=460, geo=GEO,
        title=f"{element}: share of each country's final use that passed through {origin_region} "
        f"at the {origin_stage} stage (%)",
    )  # fmt: skip
    return fig


def off_map(frame: pd.DataFrame, countries: set[str]) -> str:
    """The regions of ``frame`` (region, value) a map cannot show (aggregates), as ``"EU 10.0%, ROW <0.1%"``;
    "none" when every region with a value is a country."""
    rest = frame[~frame["region"].isin(countries) & (frame["value"] > 0)].sort_values("value", ascending=False)
    return ", ".join(f"{r.region} {_pct(r.value)}" for r in rest.itertuples()) or "none"


def _pct(value: float) -> str:
    return "<0.1%" if value < 0.05 else f"{value:.1f}%"  # a small share is not shown as 0.0%
