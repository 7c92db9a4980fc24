"""Plotly figures for the dashboard, as pure functions of tidy tables. Each returns a ``go.Figure``; units are
in the axis titles."""

from __future__ import annotations

import zlib

import pandas as pd
import plotly.graph_objects as go

from critmin.schema import STAGES

PALETTE = ["#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
           "#7f7f7f", "#aec7e8", "#ff9896", "#98df8a", "#ffbb78", "#c5b0d5", "#c49c94", "#f7b6d2"]  # fmt: skip
LAYOUT = {"margin": {"l": 60, "r": 20, "t": 50, "b": 40}, "font": {"size": 13}, "template": "plotly_white"}


def region_colour(region: str) -> str:
    """The same colour for a region on every chart (China always red, Other grey)."""
    fixed = {"CHN": "#d62728", "Other": "#bbbbbb"}
    return fixed.get(region) or PALETTE[zlib.crc32(region.encode()) % len(PALETTE)]


def region_colours(regions) -> dict[str, str]:
    return {r: region_colour(r) for r in set(regions)}


def sankey(links: pd.DataFrame, element: str, unit: str) -> go.Figure:
    """Nodes are (stage, region); link widths are element content per year."""
    ends = pd.concat(
        [
            links[["source_stage", "source_region"]].set_axis(["stage", "region"], axis=1),
            links[["target_stage", "target_region"]].set_axis(["stage", "region"], axis=1),
        ]
    ).drop_duplicates()
    order = {s: i for i, s in enumerate(("secondary", *STAGES))}
    ends = ends.sort_values(["stage", "region"], key=lambda c: c.map(order) if c.name == "stage" else c)
    index = {(s, r): i for i, (s, r) in enumerate(zip(ends["stage"], ends["region"], strict=True))}
    colours = region_colours(ends["region"])
    node_colour = [colours.get(r, "#888") for r in ends["region"]]
    labels = [f"{r} · {s}" for s, r in zip(ends["stage"], ends["region"], strict=True)]
    source = [index[k] for k in zip(links["source_stage"], links["source_region"], strict=True)]
    target = [index[k] for k in zip(links["target_stage"], links["target_region"], strict=True)]
    link_colour = [_fade(node_colour[i]) for i in source]
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            valueformat=",.1f",
            valuesuffix=f" {unit}",
            node={
                "label": labels,
                "color": node_colour,
                "pad": 12,
                "thickness": 14,
                "hovertemplate": "%{label}<br>%{value}<extra></extra>",
            },
            link={
                "source": source,
                "target": target,
                "value": links["quantity"].round(6).tolist(),
                "color": link_colour,
            },
        )
    )
    fig.update_layout(
        **LAYOUT,
        title=f"{element}: mine → separation → metal → magnet → use, by region ({unit} of {element} content)",
        height=560,
    )
    return fig


def _fade(hex_colour: str, alpha: float = 0.45) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def concentration(indicators: pd.DataFrame, element: str) -> go.Figure:
    """Production share by region at each stage (stacked bars), with HHI and top-3 share per stage."""
    shares = indicators[(indicators["indicator"] == "production_share") & (indicators["element"] == element)]
    hhi = indicators[(indicators["indicator"] == "hhi") & (indicators["element"] == element)].set_index("stage")
    stages = [s for s in STAGES if s in set(shares["stage"])]
    label = {s: f"{s}<br>HHI {hhi['value'].get(s, float('nan')):,.0f}" for s in stages}
    colours = region_colours(shares["region"])
    fig = go.Figure()
    for region, rows in shares.groupby("region", sort=False):
        rows = rows.set_index("stage").reindex(stages)
        fig.add_bar(
            name=region, y=[label[s] for s in stages], x=rows["value"], orientation="h",
            marker_color=colours.get(region), hovertemplate=f"{region}: %{{x:.1f}}%<extra></extra>",
        )  # fmt: skip
    fig.update_layout(
        **LAYOUT, barmode="stack", height=120 + 70 * len(stages),
        title=f"{element}: concentration by stage (share of production, %; HHI 0–10,000)",
        xaxis={"title": "share of world production (%)", "range": [0, 100]},
        yaxis={"autorange": "reversed"}, legend={"traceorder": "normal"},
    )  # fmt: skip
    return fig


def exposure_heatmap(table: pd.DataFrame, origin_region: str, origin_stage: str) -> go.Figure:
    """Rows consuming regions, columns elements; cells the share (%) that passed through ``origin_region`` at
    ``origin_stage``."""
    grid = table.pivot_table(index="region", columns="element", values="share_pct", sort=False)
    fig = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=list(grid.columns),
            y=list(grid.index),
            zmin=0,
            zmax=100,
            colorscale="Reds",
            colorbar={"title": "%"},
            texttemplate="%{z:.0f}",
            hoverongaps=False,
            hovertemplate="%{y} · %{x}: %{z:.1f}%<extra></extra>",
        )
    )
    fig.update_layout(
        **LAYOUT, height=140 + 28 * len(grid.index),
        title=f"Share of final use that passed through {origin_region} at the {origin_stage} stage (%)",
        xaxis={"side": "top"}, yaxis={"title": "consuming region", "autorange": "reversed"},
    )  # fmt: skip
    return fig


def exposure_detail(origins: pd.DataFrame, region: str, element: str) -> go.Figure:
    """Origin regions stacked at each upstream stage, for one region and element."""
    colours = region_colours(origins["origin_region"])
    stages = [s for s in ("magnet", "metal", "separation", "mine", "secondary") if s in set(origins["origin_stage"])]
    fig = go.Figure()
    for origin, rows in origins.groupby("origin_region", sort=False):
        rows = rows.set_index("origin_stage").reindex(stages)
        fig.add_bar(
            name=origin, x=stages, y=rows["share"] * 100, marker_color=colours.get(origin),
            hovertemplate=f"{origin}: %{{y:.1f}}%<extra></extra>",
        )  # fmt: skip
    fig.update_layout(
        **LAYOUT, barmode="stack", height=420,
        title=f"Where {region}'s {element} comes from, stage by stage (% of final use)",
        yaxis={"title": "% of final use", "range": [0, 100]}, xaxis={"title": "origin stage"},
    )  # fmt: skip
    return fig


def price_lines(prices: pd.DataFrame, product: str, title_prefix: str = "") -> go.Figure:
    """Scenario prices by region (solid) with the baseline (dotted, hidden until clicked in the legend)."""
    colours = region_colours(prices["region"])
    fig = go.Figure()
    for (path, region), rows in prices.groupby(["path", "region"], sort=True):
        fig.add_scatter(
            x=rows["date"], y=rows["price_usd_per_kg"], mode="lines", name=f"{region} ({path})",
            legendgroup=region, line={"color": colours.get(region), "dash": "dot" if path == "baseline" else "solid"},
            visible=True if path == "scenario" else "legendonly",
            hovertemplate=f"{region} {path}: %{{y:,.0f}} USD/kg<extra>%{{x}}</extra>",
        )  # fmt: skip
    fig.update_layout(
        **LAYOUT, height=420, title=f"{title_prefix}{product} price by region (USD/kg)",
        yaxis={"title": "USD/kg", "type": "log"}, xaxis={"title": "month"},
    )  # fmt: skip
    return fig


def shortfall_lines(shortfall: pd.DataFrame, element: str) -> go.Figure:
    """Unmet demand for the element by region, % of that month's demand."""
    colours = region_colours(shortfall["region"])
    fig = go.Figure()
    for region, rows in shortfall.groupby("region", sort=True):
        pct = 100 * rows["shortfall"] / rows["demand"].where(rows["demand"] > 0)
        if pct.max() < 0.05:
            continue
        fig.add_scatter(
            x=rows["date"], y=pct, mode="lines", name=region, line={"color": colours.get(region)},
            hovertemplate=f"{region}: %{{y:.1f}}%<extra>%{{x}}</extra>",
        )  # fmt: skip
    fig.update_layout(
        **LAYOUT, height=380, title=f"{element} shortfall by region (% of monthly demand, shocked path)",
        yaxis={"title": "% of demand", "rangemode": "tozero"}, xaxis={"title": "month"},
    )  # fmt: skip
    return fig


def sector_shortfall(frame: pd.DataFrame, region: str, element: str, unit: str) -> go.Figure:
    """Shortfall by sector (element content of the unmet product demand), stacked."""
    fig = go.Figure()
    for i, (sector, rows) in enumerate(frame.groupby("sector", sort=True)):
        fig.add_scatter(
            x=rows["date"], y=rows["content"], name=sector, stackgroup="one", mode="lines",
            line={"color": PALETTE[i % len(PALETTE)]},
            hovertemplate=f"{sector}: %{{y:,.2f}} {unit}<extra>%{{x}}</extra>",
        )  # fmt: skip
    fig.update_layout(
        **LAYOUT, height=380,
        title=f"{region}: {element} shortfall by sector ({unit} of {element} content per month, shocked path)",
        yaxis={"title": f"{unit}/month", "rangemode": "tozero"}, xaxis={"title": "month"},
    )  # fmt: skip
    return fig


def stock_lines(stocks: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for i, ((path, region, product, holder), rows) in enumerate(
        stocks.groupby(["path", "region", "product", "holder"], sort=True)
    ):
        fig.add_scatter(
            x=rows["date"], y=rows["level"], mode="lines", name=f"{region} {product} ({holder}, {path})",
            line={"color": PALETTE[i % len(PALETTE)], "dash": "dot" if path == "baseline" else "solid"},
            hovertemplate="%{y:,.1f} t<extra>%{x}</extra>",
        )  # fmt: skip
    fig.update_layout(
        **LAYOUT, height=380, title="Stock levels at the start of each month (t of product)",
        yaxis={"title": "t", "rangemode": "tozero"}, xaxis={"title": "month"},
    )  # fmt: skip
    return fig


def compare_prices(a: pd.DataFrame, b: pd.DataFrame, labels: tuple[str, str], product: str, region: str) -> go.Figure:
    fig = go.Figure()
    for frame, label, dash in ((a, labels[0], "solid"), (b, labels[1], "dash")):
        for path, rows in frame.groupby("path", sort=True):
            if path != "scenario":
                continue
            fig.add_scatter(
                x=rows["date"], y=rows["price_usd_per_kg"], mode="lines", name=label, line={"dash": dash},
                hovertemplate=f"{label}: %{{y:,.0f}} USD/kg<extra>%{{x}}</extra>",
            )  # fmt: skip
    fig.update_layout(
        **LAYOUT, height=400, title=f"{region}: {product} price, run A vs run B (USD/kg)",
        yaxis={"title": "USD/kg", "type": "log"}, xaxis={"title": "month"},
    )  # fmt: skip
    return fig
