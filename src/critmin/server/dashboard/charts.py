"""Plotly figures for the dashboard, as pure functions of tidy tables. Each returns a ``go.Figure``; units are
in the axis titles."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from critmin.api import STAGES
from critmin.server.dashboard.colours import SERIES, colours_for

Palette = dict[str, str] | None
LAYOUT = {"margin": {"l": 60, "r": 20, "t": 50, "b": 50}, "font": {"size": 13}, "template": "plotly_white"}
STAGE_ORDER = ("secondary", *STAGES)
BYPASS = "not via this stage"  # the part of final use that never passed the stage (e.g. Dy metal used directly)
BYPASS_MARKER = {"color": "#eeeeee", "line": {"color": "#999999", "width": 1}}


def stage_path(stages) -> str:
    """``mine → separation → …`` for the stages given, in supply-chain order."""
    present = set(stages)
    return " → ".join(s for s in STAGE_ORDER if s in present)


def stacked_grid(frame: pd.DataFrame, row: str, column: str, value: str, columns: list[str]) -> pd.DataFrame:
    """``value`` by ``row`` x ``column`` with every cell filled (0 where a row has nothing at a column): a
    stacked bar trace with a gap stops stacking in plotly, hiding later regions. Rows ordered by their total,
    largest first, aggregates (ROW, Other) last."""
    grid = frame.pivot_table(index=row, columns=column, values=value, aggfunc="sum").reindex(columns=columns)
    grid = grid.fillna(0.0)
    last = grid.index.isin(["ROW", "Other"])
    order = sorted(range(len(grid)), key=lambda i: (bool(last[i]), -grid.iloc[i].sum(), grid.index[i]))
    return grid.iloc[order]


def log_axis(values, title: str) -> dict:
    """A log axis labelled with plain numbers at 1-2-5 steps (or decades alone over a wide range, or even
    steps over a narrow one) instead of plotly's minor-digit labels ("5, 2, 10k, 5, 2, 1000"). The range is
    set from ``values`` (padded), so that the ticks chosen are the ones shown."""
    v = np.asarray(pd.to_numeric(pd.Series(values, dtype=object), errors="coerce"), dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    axis = {"title": title, "type": "log"}
    if not len(v):
        return axis
    low, high = v.min() / 1.15, v.max() * 1.15
    ticks: list[float] = []
    decades = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    for steps in ((1,), (1, 2, 5)):
        every = [m * 10.0**k for k in decades for m in steps]
        ticks = [t for t in every if low <= t <= high]
        if len(ticks) >= 4:
            break
    else:
        ticks = _even_ticks(low, high)
    return {**axis, "range": [math.log10(low), math.log10(high)], "tickvals": ticks,
            "ticktext": [_plain(t) for t in ticks]}  # fmt: skip


def _even_ticks(low: float, high: float, about: int = 5) -> list[float]:
    """About ``about`` evenly spaced round numbers (steps of 1, 2, 2.5 or 5 x 10^k) within [low, high]."""
    raw = (high - low) / about
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step) + 1)]


def _plain(number: float) -> str:
    return f"{number:,.0f}" if number >= 10 or number == round(number) else f"{number:,.3g}"


def sankey(links: pd.DataFrame, element: str, unit: str, palette: Palette = None) -> go.Figure:
    """Nodes are (stage, region); link widths are element content per year."""
    ends = pd.concat(
        [
            links[["source_stage", "source_region"]].set_axis(["stage", "region"], axis=1),
            links[["target_stage", "target_region"]].set_axis(["stage", "region"], axis=1),
        ]
    ).drop_duplicates()
    order = {s: i for i, s in enumerate(STAGE_ORDER)}
    ends = ends.sort_values(["stage", "region"], key=lambda c: c.map(order) if c.name == "stage" else c)
    index = {(s, r): i for i, (s, r) in enumerate(zip(ends["stage"], ends["region"], strict=True))}
    colours = colours_for(ends["region"], palette)
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
        title=f"{element}: {stage_path(ends['stage'])}, by region ({unit} of {element} content)",
        height=560,
    )
    return fig


def _fade(hex_colour: str, alpha: float = 0.45) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def concentration(indicators: pd.DataFrame, element: str, palette: Palette = None) -> go.Figure:
    """Production share by region at each stage (stacked bars summing to 100%), with the HHI per stage."""
    shares = indicators[(indicators["indicator"] == "production_share") & (indicators["element"] == element)]
    hhi = indicators[(indicators["indicator"] == "hhi") & (indicators["element"] == element)].set_index("stage")
    stages = [s for s in STAGES if s in set(shares["stage"])]
    label = [f"{s}<br>HHI {hhi['value'].get(s, float('nan')):,.0f}" for s in stages]
    grid = stacked_grid(shares, "region", "stage", "value", stages)
    colours = colours_for(grid.index, palette)
    fig = go.Figure()
    for region, row in grid.iterrows():
        fig.add_bar(
            name=region, y=label, x=row.tolist(), orientation="h", marker_color=colours[region],
            hovertemplate=f"{region}: %{{x:.1f}}%<extra>%{{y}}</extra>",
        )  # fmt: skip
    fig.update_layout(
        **LAYOUT, barmode="stack", height=200 + 70 * len(stages),
        title=f"{element}: concentration by stage (share of world production, %; HHI 0–10,000)",
        xaxis={"title": "share of world production (%)", "range": [0, 100]},
        yaxis={"autorange": "reversed"}, legend={"traceorder": "normal", "title": "region"},
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
        **{**LAYOUT, "margin": {**LAYOUT["margin"], "t": 80}}, height=170 + 28 * len(grid.index),
        title=f"Share of final use that passed through {origin_region} at the {origin_stage} stage (%)",
        xaxis={"side": "top"}, yaxis={"title": "consuming region", "autorange": "reversed"},
    )  # fmt: skip
    return fig


def exposure_detail(origins: pd.DataFrame, region: str, element: str, palette: Palette = None) -> go.Figure:
    """Origin regions stacked at each upstream stage, for one region and element; each bar sums to 100% of
    final use, the part that never passed the stage (e.g. Dy metal used without becoming a magnet) shown as
    such."""
    stages = [s for s in ("magnet", "metal", "separation", "mine", "secondary") if s in set(origins["origin_stage"])]
    grid = stacked_grid(origins.assign(pct=origins["share"] * 100), "origin_region", "origin_stage", "pct", stages)
    bypass = (100 - grid.sum()).clip(lower=0).where(lambda x: x > 0.05, 0.0)
    colours = colours_for(grid.index, palette)
    fig = go.Figure()
    for origin, row in grid.iterrows():
        fig.add_bar(
            name=origin, x=stages, y=row.tolist(), marker_color=colours[origin],
            hovertemplate=f"{origin}: %{{y:.1f}}%<extra>%{{x}}</extra>",
        )  # fmt: skip
    if bypass.any():
        fig.add_bar(
            name=BYPASS, x=stages, y=bypass.tolist(), marker=BYPASS_MARKER,
            hovertemplate=f"{BYPASS}: %{{y:.1f}}%<extra>%{{x}}</extra>",
        )  # fmt: skip
    fig.update_layout(
        **LAYOUT, barmode="stack", height=440,
        title=f"Where {region}'s {element} comes from, stage by stage (% of {region}'s final use)",
        yaxis={"title": "% of final use", "range": [0, 100]}, xaxis={"title": "origin stage"},
        legend={"title": "origin region"},
    )  # fmt: skip
    return fig


def price_lines(prices: pd.DataFrame, product: str, title_prefix: str = "", palette: Palette = None) -> go.Figure:
    """Scenario prices by region (solid) with the baseline (dotted, hidden until clicked in the legend)."""
    colours = colours_for(prices["region"], palette)
    fig = go.Figure()
    for (path, region), rows in prices.groupby(["path", "region"], sort=True):
        fig.add_scatter(
            x=rows["date"], y=rows["price_usd_per_kg"], mode="lines", name=f"{region} ({path})",
            legendgroup=region, line={"color": colours[region], "dash": "dot" if path == "baseline" else "solid"},
            visible=True if path == "scenario" else "legendonly",
            hovertemplate=f"{region} {path}: %{{y:,.0f}} USD/kg<extra>%{{x}}</extra>",
        )  # fmt: skip
    fig.update_layout(
        **LAYOUT, height=420, title=f"{title_prefix}{product} price by region (USD/kg, log scale)",
        yaxis=log_axis(prices["price_usd_per_kg"], "USD/kg (log scale)"), xaxis={"title": "month"},
    )  # fmt: skip
    return fig


SHORTFALL_TITLE = "shortfall beyond the baseline's (% of baseline demand)"


def shortfall_beyond_baseline(shortfall: pd.DataFrame) -> pd.DataFrame:
    """Per region and month: the scenario's shortfall beyond the baseline's, in % of the baseline's demand,
    as the run summary (its max_shortfall_pct) defines it. ``shortfall``: both paths of a run's shortfall
    table for one element."""
    key = ["date", "region"]
    paths = {p: rows.set_index(key)[["shortfall", "demand"]] for p, rows in shortfall.groupby("path")}
    if not {"scenario", "baseline"} <= set(paths):
        return pd.DataFrame(columns=[*key, "pct"])
    scenario, baseline = paths["scenario"].align(paths["baseline"], join="inner")
    excess = (scenario["shortfall"].fillna(0) - baseline["shortfall"].fillna(0)).clip(lower=0)
    demand = baseline["demand"].where(baseline["demand"] > 0)
    pct = (100 * excess / demand).fillna(0.0)
    return pct.rename("pct").reset_index().sort_values(["region", "date"], ignore_index=True)


def shortfall_lines(shortfall: pd.DataFrame, element: str, palette: Palette = None) -> go.Figure:
    """Shortfall beyond the baseline's by region (the summary table's measure), for regions ever above 0.05%."""
    beyond = shortfall_beyond_baseline(shortfall)
    colours = colours_for(beyond["region"], palette)
    fig = go.Figure()
    for region, rows in beyond.groupby("region", sort=True):
        if rows["pct"].max() < 0.05:
            continue
        fig.add_scatter(
            x=rows["date"], y=rows["pct"], mode="lines", name=region, line={"color": colours[region]},
            hovertemplate=f"{region}: %{{y:.1f}}%<extra>%{{x}}</extra>",
        )  # fmt: skip
    fig.update_layout(
        **LAYOUT, height=380, title=f"{element} {SHORTFALL_TITLE}",
        yaxis={"title": "% of baseline demand", "rangemode": "tozero"}, xaxis={"title": "month"},
    )  # fmt: skip
    return fig if fig.data else _empty(fig, f"No region is short of {element} beyond the baseline in this run.")


def _empty(fig: go.Figure, message: str) -> go.Figure:
    """Say so instead of drawing bare axes (plotly's default -1…6 grid reads as data)."""
    fig.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font={"size": 15})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def sector_shortfall(frame: pd.DataFrame, region: str, element: str, unit: str) -> go.Figure:
    """Shortfall by sector (element content of the unmet product demand), stacked."""
    fig = go.Figure()
    for i, (sector, rows) in enumerate(frame.groupby("sector", sort=True)):
        fig.add_scatter(
            x=rows["date"], y=rows["content"], name=sector, stackgroup="one", mode="lines",
            line={"color": SERIES[i % len(SERIES)]},
            hovertemplate=f"{sector}: %{{y:,.2f}} {unit}<extra>%{{x}}</extra>",
        )  # fmt: skip
    fig.update_layout(
        **LAYOUT, height=380,
        title=f"{region}: {element} shortfall by sector, shocked path, total incl. any baseline shortfall "
        f"({unit} of {element} content per month)",
        yaxis={"title": f"{unit}/month", "rangemode": "tozero"}, xaxis={"title": "month"},
    )  # fmt: skip
    return fig if fig.data else _empty(fig, f"No sector in {region} is short of {element} in this run.")


def stock_lines(stocks: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for i, ((path, region, product, holder), rows) in enumerate(
        stocks.groupby(["path", "region", "product", "holder"], sort=True)
    ):
        fig.add_scatter(
            x=rows["date"], y=rows["level"], mode="lines", name=f"{region} {product} ({holder}, {path})",
            line={"color": SERIES[i % len(SERIES)], "dash": "dot" if path == "baseline" else "solid"},
            hovertemplate="%{y:,.1f} t<extra>%{x}</extra>",
        )  # fmt: skip
    fig.update_layout(
        **LAYOUT, height=380, title="Stock levels at the start of each month (t of product)",
        yaxis={"title": "t", "rangemode": "tozero"}, xaxis={"title": "month"},
    )  # fmt: skip
    return fig


def compare_prices(a: pd.DataFrame, b: pd.DataFrame, labels: tuple[str, str], product: str, region: str) -> go.Figure:
    fig = go.Figure()
    shown = []
    for frame, label, dash in ((a, labels[0], "solid"), (b, labels[1], "dash")):
        rows = frame[frame["path"] == "scenario"]
        if not len(rows):
            continue
        shown.append(rows["price_usd_per_kg"])
        fig.add_scatter(
            x=rows["date"], y=rows["price_usd_per_kg"], mode="lines", name=label, line={"dash": dash},
            hovertemplate=f"{label}: %{{y:,.0f}} USD/kg<extra>%{{x}}</extra>",
        )  # fmt: skip
    fig.update_layout(
        **LAYOUT, height=400, title=f"{region}: {product} price, run A vs run B (USD/kg, log scale)",
        yaxis=log_axis(pd.concat(shown) if shown else [], "USD/kg (log scale)"), xaxis={"title": "month"},
    )  # fmt: skip
    return fig


# --- risk studies -----------------------------------------------------------------------------------------------

PRICE_RATIO_TITLE = "price ÷ baseline price (ratio, ×)"
SHORTFALL_PCT_TITLE = "shortfall beyond the baseline's, worst month (% of baseline demand)"


def risk_fan(fan: pd.DataFrame, region: str, element: str, draws: int | None, colour: str = "#1f77b4") -> go.Figure:
    """A price fan chart: each month's price over the baseline's, the 5-95% and 25-75% bands of the draws, the
    median (solid) and the mean (dashed), with the baseline (1×) dotted. ``fan``: the study's fan rows of one
    region and element."""
    rows = fan.sort_values("date")
    fig = go.Figure()
    if len(rows):
        dates = rows["date"].tolist()
        bands = (("q05", "q95", "5–95% of draws", 0.18), ("q25", "q75", "25–75% of draws", 0.38))
        for low, high, name, alpha in bands:
            fig.add_scatter(
                x=dates, y=rows[high], mode="lines", line={"width": 0}, showlegend=False, legendgroup=name,
                hovertemplate=f"{high}: %{{y:.3f}}×<extra>%{{x|%b %Y}}</extra>",
            )  # fmt: skip
            fig.add_scatter(
                x=dates, y=rows[low], mode="lines", line={"width": 0}, fill="tonexty", name=name, legendgroup=name,
                fillcolor=_fade(colour, alpha), hovertemplate=f"{low}: %{{y:.3f}}×<extra>%{{x|%b %Y}}</extra>",
            )  # fmt: skip
        fig.add_scatter(
            x=dates, y=rows["q50"], mode="lines", name="median", line={"color": colour, "width": 2.5},
            hovertemplate="median: %{y:.3f}×<extra>%{x|%b %Y}</extra>",
        )  # fmt: skip
        fig.add_scatter(
            x=dates, y=rows["mean"], mode="lines", name="mean", line={"color": "#333333", "dash": "dash"},
            hovertemplate="mean: %{y:.3f}×<extra>%{x|%b %Y}</extra>",
        )  # fmt: skip
        fig.add_hline(y=1, line={"color": "#888888", "dash": "dot", "width": 1})
    product = rows["product"].iloc[0] if len(rows) and "product" in rows else element
    base = rows["baseline_price_usd_per_kg"].dropna() if "baseline_price_usd_per_kg" in rows else pd.Series()
    base_text = f"; baseline {base.mean():,.0f} USD/kg" if len(base) else ""
    of_draws = f" over {draws:,} draws" if draws else ""
    fig.update_layout(
        **LAYOUT, height=420, legend={"traceorder": "normal"},
        title=f"{region}: {product} price relative to the baseline{of_draws} (ratio{base_text})",
        yaxis={"title": PRICE_RATIO_TITLE, "rangemode": "tozero"}, xaxis={"title": "month"},
    )  # fmt: skip
    return fig if len(rows) else _empty(fig, f"The study has no price for {element} in {region}.")


def exceedance_lines(exceedance: pd.DataFrame, region: str) -> go.Figure:
    """P(shortfall > x) by element for one region (log-y), for the elements short in any draw. ``exceedance``:
    the study's exceedance rows of the region for the shortfall in % of baseline demand."""
    fig = go.Figure()
    shown = []
    short = exceedance.groupby("element")["exceedance_prob"].max()
    order = sorted(short[short > 0].index, key=lambda e: (-short[e], e))
    for i, element in enumerate(order):
        rows = exceedance[exceedance["element"] == element].sort_values("level")
        levels, probs = rows["level"].to_numpy(dtype=float), rows["exceedance_prob"].to_numpy(dtype=float)
        # P(L > x) is a step down at each observed level; the last step (to 0) cannot be drawn on a log axis,
        # so the curve ends at the largest loss on the last positive probability
        positive = probs > 0
        x, y = list(levels[positive]), list(probs[positive])
        if positive.sum() < len(levels):
            x.append(levels[~positive][0])
            y.append(y[-1])
        shown.extend(y)
        fig.add_scatter(
            x=x, y=y, mode="lines", line_shape="hv", name=element, line={"color": SERIES[i % len(SERIES)]},
            hovertemplate=f"{element}: P(shortfall > %{{x:.1f}}%) = %{{y:.3f}}<extra></extra>",
        )  # fmt: skip
    fig.update_layout(
        **LAYOUT, height=420, legend={"title": "element"},
        title=f"{region}: probability that the shortfall exceeds x, by element (log scale)",
        xaxis={"title": f"x: {SHORTFALL_PCT_TITLE}", "rangemode": "tozero"},
        yaxis=log_axis(shown, "P(shortfall > x) (probability, log scale)"),
    )  # fmt: skip
    return fig if fig.data else _empty(fig, f"{region} is not short of any element in any draw of this study.")


def cvar_bars(measures: pd.DataFrame, region: str, colour: str = "#1f77b4") -> go.Figure:
    """CVaR95 of the shortfall (% of baseline demand) by element for one region, largest first, with the
    expected shortfall as a marker; elements short in no draw are left out."""
    rows = measures[measures["prob_any_shortfall"] > 0].sort_values(["cvar_95", "element"], ascending=[False, True])
    fig = go.Figure()
    if len(rows):
        fig.add_bar(
            x=rows["element"], y=rows["cvar_95"], name="CVaR95", marker_color=colour,
            hovertemplate="%{x}: CVaR95 %{y:.2f}%<extra></extra>",
        )  # fmt: skip
        fig.add_scatter(
            x=rows["element"], y=rows["expected_loss"], mode="markers", name="expected",
            marker={"color": "#222222", "symbol": "diamond", "size": 9},
            hovertemplate="%{x}: expected %{y:.2f}%<extra></extra>",
        )  # fmt: skip
    fig.update_layout(
        **LAYOUT, height=400,
        title=f"{region}: CVaR95 of the shortfall by element (mean of the worst 5% of draws, % of baseline demand)",
        yaxis={"title": "CVaR95 of shortfall (% of baseline demand)", "rangemode": "tozero"},
        xaxis={"title": "element"},
    )  # fmt: skip
    return fig if len(rows) else _empty(fig, f"{region} is not short of any element in any draw of this study.")


def sensitivity_bars(table: pd.DataFrame, title: str) -> go.Figure:
    """Morris screening: mean absolute elementary effect (mu*) by input, most important on top, with its
    confidence half-width as an error bar. ``table``: :func:`critmin.api.morris_probabilities` output."""
    rows = table.sort_values("mu_star", ascending=True)
    fig = go.Figure(
        go.Bar(
            x=rows["mu_star"], y=rows["input"], orientation="h", marker_color=SERIES[0],
            error_x={"type": "data", "array": rows.get("mu_star_conf", pd.Series(0, index=rows.index)).tolist()},
            hovertemplate="%{y}: mu* %{x:.3g}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_layout(
        **LAYOUT, height=max(370, 160 + 34 * len(rows)), title=title,
        xaxis={"title": "mu*: mean absolute change of the expected shortfall over the input's range "
                        "(% of baseline demand)", "rangemode": "tozero"},
        yaxis={"title": "uncertain input"},
    )  # fmt: skip
    return fig


# --- plans ------------------------------------------------------------------------------------------------------

CVAR_TITLE = "CVaR of the second-stage cost (MUSD)"
EXPECTED_COST_TITLE = "expected cost: public + second stage (MUSD)"


def plan_frontier(frontier: pd.DataFrame, risk_weight: float, alpha: float | None = None) -> go.Figure:
    """The cost-risk frontier: the joint plan for each λ, the CVaR of its second-stage cost (x) against its
    expected cost (y), each point labelled with its λ; the plan's own λ highlighted. ``frontier``: the plan's
    frontier table (risk_weight, expected_musd, cvar_musd, public_musd, modules)."""
    rows = frontier.sort_values("risk_weight")
    fig = go.Figure()
    if len(rows):
        fig.add_scatter(
            x=rows["cvar_musd"], y=rows["expected_musd"], mode="lines", line={"color": SERIES[0], "width": 1.5},
            showlegend=False, hoverinfo="skip",
        )  # fmt: skip
        # weights whose plans coincide share one point and one label
        key = [(round(c, 9), round(e, 9)) for c, e in zip(rows["cvar_musd"], rows["expected_musd"], strict=True)]
        points = rows.assign(key=key).groupby("key", sort=False).agg(
            cvar_musd=("cvar_musd", "first"), expected_musd=("expected_musd", "first"),
            public_musd=("public_musd", "first"), modules=("modules", "first"),
            label=("risk_weight", lambda w: "λ = " + ", ".join(f"{v:g}" for v in w)),
        )  # fmt: skip
        fig.add_scatter(
            x=points["cvar_musd"], y=points["expected_musd"], mode="markers+text", name="joint plan at λ",
            text=points["label"], textposition="top right", marker={"color": SERIES[0], "size": 9},
            customdata=points[["public_musd", "modules"]].to_numpy(),
            hovertemplate="%{text}<br>CVaR %{x:,.2f} MUSD<br>expected %{y:,.2f} MUSD<br>public %{customdata[0]:,.2f} "
                          "MUSD, %{customdata[1]} modules<extra></extra>",
        )  # fmt: skip
        mine = rows[(rows["risk_weight"] - risk_weight).abs() < 1e-12]
        if len(mine):
            fig.add_scatter(
                x=mine["cvar_musd"], y=mine["expected_musd"], mode="markers", name=f"this plan (λ = {risk_weight:g})",
                marker={"color": "#d62728", "size": 16, "symbol": "star", "line": {"color": "#222222", "width": 1}},
                hovertemplate=f"this plan, λ = {risk_weight:g}<br>CVaR %{{x:,.2f}} MUSD<br>expected %{{y:,.2f}} "
                              "MUSD<extra></extra>",
            )  # fmt: skip
    level = f" (α = {alpha:g})" if alpha is not None else ""
    fig.update_layout(
        **LAYOUT, height=420,
        title=f"Cost-risk frontier: the joint plan for each weight λ on CVaR{level}, MUSD",
        xaxis={"title": CVAR_TITLE}, yaxis={"title": EXPECTED_COST_TITLE},
    )  # fmt: skip
    return fig if len(rows) else _empty(fig, "This plan run has no frontier (stored before frontiers were kept).")


def plan_waterfall(no_plan_musd: float | None, shapley: pd.DataFrame, joint_musd: float | None) -> go.Figure:
    """The value of cooperation as a waterfall: the objective without a plan, each player's Shapley share of the
    grand coalition's saving as a decrease, ending at the joint plan's objective (MUSD). ``shapley``: player,
    shapley_musd."""
    fig = go.Figure()
    if no_plan_musd is not None and joint_musd is not None:
        players = shapley["player"].tolist()
        shares = shapley["shapley_musd"].astype(float).tolist()
        fig.add_trace(
            go.Waterfall(
                x=["no plan", *[f"{p}'s Shapley share" for p in players], "joint plan"],
                y=[no_plan_musd, *[-s for s in shares], joint_musd],
                measure=["absolute", *["relative"] * len(players), "total"],
                text=[f"{no_plan_musd:,.2f}", *[f"{-s:+,.2f}" for s in shares], f"{joint_musd:,.2f}"],
                textposition="outside", connector={"line": {"color": "#888888", "dash": "dot"}},
                decreasing={"marker": {"color": "#2ca02c"}}, increasing={"marker": {"color": "#d62728"}},
                totals={"marker": {"color": SERIES[0]}}, name="objective",
                hovertemplate="%{x}: %{y:,.2f} MUSD<extra></extra>",
            )
        )  # fmt: skip
    fig.update_layout(
        **LAYOUT, height=420, showlegend=False,
        title="Value of cooperation: the objective without a plan, less each player's Shapley share of the saving, "
              "MUSD",
        yaxis={"title": "objective: E[cost] + λ·CVaR[cost] (MUSD)"}, xaxis={"title": "step"},
    )  # fmt: skip
    return fig if fig.data else _empty(fig, "This plan run has no objective without a plan to start from.")


# --- trade and deals --------------------------------------------------------------------------------------------

GAIN, LOSS = "#2ca02c", "#d62728"
DEAL_BARS = (  # sides column, legend label, sign on the chart, colour
    ("tariff_relief_musd_per_yr", "tariff relief", 1, SERIES[0]),
    ("security_expected_musd_per_yr", "security value (expected)", 1, "#2ca02c"),
    ("measures_cost_musd_per_yr", "cost of measures (drawn negative)", -1, "#d62728"),
    ("net_musd_per_yr", "net", 1, "#444444"),
)


def trade_welfare(welfare: pd.DataFrame, date: str, against: str, scope: str) -> go.Figure:
    """GSIM's welfare change per country (consumer and producer surplus plus tariff revenue, MUSD), a bar per
    country, gains green and losses red; the components in the hover. ``welfare``: TradeRun.welfare."""
    rows = welfare.sort_values("total_musd", ascending=False)
    parts = rows[["consumer_surplus_musd", "producer_surplus_musd", "revenue_musd"]].to_numpy()
    fig = go.Figure(
        go.Bar(
            x=rows["country"], y=rows["total_musd"], name="welfare change",
            marker_color=[GAIN if v >= 0 else LOSS for v in rows["total_musd"]],
            text=[f"{v:+,.0f}" for v in rows["total_musd"]], textposition="outside", customdata=parts,
            hovertemplate="%{x}: %{y:+,.1f} MUSD<br>consumer surplus %{customdata[0]:+,.1f}<br>producer surplus "
                          "%{customdata[1]:+,.1f}<br>tariff revenue %{customdata[2]:+,.1f}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_layout(
        **LAYOUT, height=420, showlegend=False,
        title=f"Welfare change per country, tariffs of {date} against {against} ({scope}), MUSD",
        yaxis={"title": "welfare change: ΔCS + ΔPS + Δrevenue (MUSD)", "zeroline": True},
        xaxis={"title": "country"},
    )  # fmt: skip
    return fig


def deal_sides(sides: pd.DataFrame, deal: str) -> go.Figure:
    """Per side, grouped bars: tariff relief, expected security value, cost of the measures (drawn negative, so
    the bars add up to the net) and the net (MUSD/yr). ``sides``: DealValue.sides."""
    fig = go.Figure()
    for column, label, sign, colour in DEAL_BARS:
        values = sign * sides[column].astype(float)
        fig.add_bar(
            x=sides["side"], y=values, name=label, marker_color=colour,
            hovertemplate=f"%{{x}}: {label} %{{y:+,.3f}} MUSD/yr<extra></extra>",
        )  # fmt: skip
    fig.update_layout(
        **LAYOUT, height=420, barmode="group",
        title=f"{deal}: what the deal is worth to each side per year (MUSD/yr)",
        yaxis={"title": "value to the side (MUSD/yr)", "zeroline": True}, xaxis={"title": "side"},
    )  # fmt: skip
    return fig


def deal_distribution(distribution: pd.DataFrame, sides: pd.DataFrame) -> go.Figure:
    """The security value's distribution over the plan's scenarios per side (a box from its quantiles: whiskers
    at 5 and 95 %, box 25-75 %, line at the median; the expectation a diamond) beside the side's tariff relief
    (a marker, its own axis: the two differ by orders of magnitude). MUSD/yr."""
    fig = make_subplots(
        rows=1, cols=2, column_widths=[0.6, 0.4], horizontal_spacing=0.12,
        subplot_titles=("security value over the scenarios (quantiles 5-95 %)", "tariff relief (GSIM)"),
    )  # fmt: skip
    by_side = sides.set_index("side")
    names = list(sides["side"])
    q = {s: distribution[distribution["side"] == s].set_index("quantile")["security_value_musd_per_yr"] for s in names}

    def at(side: str, level: float) -> float:
        return float(q[side].loc[min(q[side].index, key=lambda x: abs(x - level))])

    fig.add_trace(
        go.Box(
            x=names, q1=[at(s, 0.25) for s in names], median=[at(s, 0.5) for s in names],
            q3=[at(s, 0.75) for s in names], lowerfence=[at(s, 0.05) for s in names],
            upperfence=[at(s, 0.95) for s in names], name="security value (5/25/50/75/95 %)",
            marker_color=SERIES[0], boxpoints=False,
        ),
        row=1, col=1,
    )  # fmt: skip
    fig.add_scatter(
        x=names, y=[float(by_side.loc[s, "security_expected_musd_per_yr"]) for s in names], mode="markers",
        name="expected security value", marker={"color": "#222222", "symbol": "diamond", "size": 10},
        hovertemplate="%{x}: expected %{y:,.4f} MUSD/yr<extra></extra>", row=1, col=1,
    )  # fmt: skip
    relief = [float(by_side.loc[s, "tariff_relief_musd_per_yr"]) for s in names]
    fig.add_scatter(
        x=names, y=relief, mode="markers+text", name="tariff relief", text=[f"{v:+,.1f}" for v in relief],
        textposition="top center",
        marker={"color": [GAIN if v >= 0 else LOSS for v in relief], "symbol": "line-ew-open", "size": 40,
                "line": {"width": 4, "color": [GAIN if v >= 0 else LOSS for v in relief]}},
        hovertemplate="%{x}: tariff relief %{y:+,.1f} MUSD/yr<extra></extra>", row=1, col=2,
    )  # fmt: skip
    fig.update_layout(
        **{**LAYOUT, "margin": {**LAYOUT["margin"], "t": 90}}, height=460,
        title="Security value of the measures per side, beside the tariff relief (MUSD/yr)",
    )  # fmt: skip
    fig.update_xaxes(title_text="side")
    fig.update_yaxes(title_text="security value: shortfall cost saved (MUSD/yr)", row=1, col=1)
    fig.update_yaxes(title_text="tariff relief: GSIM welfare change (MUSD/yr)", zeroline=True, row=1, col=2)
    return fig
