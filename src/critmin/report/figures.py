"""Static SVG figures for reports, drawn with matplotlib (no pyplot, no display, no JavaScript).

Reproducible: the same data give the same bytes. The SVG's ids come from ``svg.hashsalt`` (fixed), its
metadata carry no date, and its text stays text (``svg.fonttype = 'none'``) in one named font family
(DejaVu Sans, which matplotlib ships: the PDF renders it from that same file)."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd

FONT = "DejaVu Sans"
RC = {
    "svg.hashsalt": "critmin-report",
    "svg.fonttype": "none",
    "svg.image_inline": True,
    "font.family": "sans-serif",
    "font.sans-serif": [FONT],
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 8.0,
    "path.simplify": False,
}
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
SIZE = (7.0, 3.4)  # inches: the width of an A4 page's text


def _svg(draw, size: tuple[float, float] = SIZE) -> str:
    """An SVG document from ``draw(ax)`` on a fresh figure (its own rc settings; global state is untouched)."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(RC):
        fig = Figure(figsize=size, dpi=100)
        ax = fig.add_subplot()
        draw(ax)
        fig.tight_layout()
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "critmin (matplotlib)"})
    text = buffer.getvalue()
    # the XML prolog and DOCTYPE belong to a file, not to an SVG inlined in HTML
    return text[text.index("<svg") :]


def _dates(values) -> np.ndarray:
    return pd.to_datetime(pd.Series(list(values))).to_numpy()


def _date_axis(ax) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def line_chart(series: Sequence[tuple[str, Sequence, Sequence]], *, ylabel: str, reference: float | None = None) -> str:
    """Lines over time: ``series`` is (label, dates, values) per line."""

    def draw(ax) -> None:
        for i, (label, dates, values) in enumerate(series):
            ax.plot(_dates(dates), np.asarray(values, dtype=float), label=label, color=COLORS[i % len(COLORS)],
                    linewidth=1.6, marker="o", markersize=2.5)  # fmt: skip
        if reference is not None:
            ax.axhline(reference, color="#555555", linewidth=0.8, linestyle="--")
        ax.set_ylabel(ylabel)
        _date_axis(ax)
        if series:
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
        else:
            ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center")

    return _svg(draw)


def bar_chart(
    labels: Sequence[str], values: Sequence[float], *, xlabel: str, colors: Sequence[str] | None = None
) -> str:
    """Horizontal bars, first label on top."""
    labels, values = list(labels), np.asarray(values, dtype=float)

    def draw(ax) -> None:
        positions = np.arange(len(labels))[::-1]
        ax.barh(positions, values, color=list(colors) if colors else COLORS[0], height=0.6)
        ax.set_yticks(positions, labels)
        ax.set_xlabel(xlabel)
        ax.grid(axis="y", visible=False)
        ax.axvline(0, color="#555555", linewidth=0.8)
        if not labels:
            ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center")

    height = max(2.2, 0.9 + 0.28 * len(labels))
    return _svg(draw, (SIZE[0], height))


def step_chart(
    series: Sequence[tuple[str, Sequence, Sequence]], *, xlabel: str, ylabel: str, logy: bool = False
) -> str:
    """Exceedance curves: (label, levels, probabilities) per line, as steps."""

    def draw(ax) -> None:
        for i, (label, x, y) in enumerate(series):
            ax.step(np.asarray(x, dtype=float), np.asarray(y, dtype=float), where="post", label=label,
                    color=COLORS[i % len(COLORS)], linewidth=1.4)  # fmt: skip
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if logy:
            ax.set_yscale("log")
        if series:
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
        else:
            ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center")

    return _svg(draw)


def fan_chart(dates: Sequence, bands: dict[str, Sequence[float]], *, ylabel: str, label: str) -> str:
    """A fan: q05-q95 and q25-q75 bands around the median (``bands`` keyed q05, q25, q50, q75, q95)."""

    def draw(ax) -> None:
        x = _dates(dates)
        get = {k: np.asarray(v, dtype=float) for k, v in bands.items()}
        ax.fill_between(x, get["q05"], get["q95"], color=COLORS[0], alpha=0.18, linewidth=0, label="5-95%")
        ax.fill_between(x, get["q25"], get["q75"], color=COLORS[0], alpha=0.35, linewidth=0, label="25-75%")
        ax.plot(x, get["q50"], color=COLORS[0], linewidth=1.6, label=f"median, {label}")
        ax.axhline(1.0, color="#555555", linewidth=0.8, linestyle="--")
        ax.set_ylabel(ylabel)
        _date_axis(ax)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))

    return _svg(draw)


def scatter_line(x: Sequence[float], y: Sequence[float], labels: Sequence[str], *, xlabel: str, ylabel: str) -> str:
    """Points joined in order, each labelled (a frontier: expected cost against CVaR per risk weight)."""

    def draw(ax) -> None:
        xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        ax.plot(xs, ys, color=COLORS[0], linewidth=1.4, marker="o", markersize=4)
        for xi, yi, text in zip(xs, ys, labels, strict=True):
            ax.annotate(text, (xi, yi), textcoords="offset points", xytext=(4, 4), fontsize=7.5)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if not len(xs):
            ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center")

    return _svg(draw)


def _svg_panels(draws: Sequence, size: tuple[float, float]) -> str:
    """An SVG document of panels side by side, each drawn by its ``draw(ax)`` on its own scale."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(RC):
        fig = Figure(figsize=size, dpi=100)
        axes = fig.subplots(1, len(draws), squeeze=False)[0]
        for draw, ax in zip(draws, axes, strict=True):
            draw(ax)
        fig.tight_layout()
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "critmin (matplotlib)"})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _bars(ax, labels: list[str], values: np.ndarray, *, title: str, xlabel: str, color: str) -> None:
    positions = np.arange(len(labels))[::-1]
    ax.barh(positions, values, color=color, height=0.6)
    ax.set_yticks(positions, labels)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    ax.axvline(0, color="#555555", linewidth=0.8)
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 4))
    if not labels:
        ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center")


def bar_panels(panels: Sequence[tuple[str, Sequence[str], Sequence[float]]], *, xlabel: str) -> str:
    """Horizontal bars in panels side by side, each on its own scale: ``panels`` is (title, labels, values) per
    panel (a deal's tariff relief, security value, cost and net per side, which differ by orders of magnitude)."""
    draws = []
    for i, (title, labels, values) in enumerate(panels):
        labels, values = list(labels), np.asarray(values, dtype=float)

        def draw(ax, title=title, labels=labels, values=values, color=COLORS[i % len(COLORS)]) -> None:
            _bars(ax, labels, values, title=title, xlabel=xlabel, color=color)

        draws.append(draw)
    rows = max((len(p[1]) for p in panels), default=0)
    return _svg_panels(draws, (SIZE[0], max(2.2, 1.2 + 0.3 * rows)))


def quantiles_beside(quantiles: dict[str, tuple[Sequence[float], Sequence[float]]], relief: dict[str, float], *,
                     ylabel: str, xlabel: str) -> str:  # fmt: skip
    """Two panels: left, each side's quantiles (``quantiles[side] = (levels, values)``) as a line over the
    level; right, each side's ``relief`` as bars, on its own scale."""

    def left(ax) -> None:
        for i, (side, (levels, values)) in enumerate(quantiles.items()):
            ax.plot(np.asarray(levels, dtype=float), np.asarray(values, dtype=float), label=side,
                    color=COLORS[i % len(COLORS)], linewidth=1.6, marker="o", markersize=3.5)  # fmt: skip
        ax.set_title("security value by quantile")
        ax.set_xlabel("quantile over the scenarios")
        ax.set_ylabel(ylabel)
        ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 4))
        if quantiles:
            ax.legend(loc="best")
        else:
            ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center")

    def right(ax) -> None:
        labels = list(relief)
        colors = [COLORS[i % len(COLORS)] for i in range(len(labels))]
        positions = np.arange(len(labels))[::-1]
        ax.barh(positions, np.asarray([relief[k] for k in labels], dtype=float), color=colors, height=0.6)
        ax.set_yticks(positions, labels)
        ax.set_title("tariff relief")
        ax.set_xlabel(xlabel)
        ax.grid(axis="y", visible=False)
        ax.axvline(0, color="#555555", linewidth=0.8)

    return _svg_panels([left, right], SIZE)
