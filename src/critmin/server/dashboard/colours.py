"""One colour per region, the same on every chart. The bundled world's regions have fixed colours, chosen to be
told apart (CIE76 distance of at least 20 between any two, tested); regions of other worlds take the spare
colours in the world's region order."""

from __future__ import annotations

from collections.abc import Iterable

# China red everywhere; aggregates (EU aside) in greys, so that no country is mistaken for them
FIXED = {
    "CHN": "#d62728", "USA": "#1f77b4", "JPN": "#ff7f0e", "AUS": "#2ca02c", "MYS": "#9467bd",
    "MMR": "#8c564b", "LAO": "#e377c2", "VNM": "#17becf", "THA": "#bcbd22", "IND": "#f2c80f",
    "RUS": "#1a237e", "BRA": "#7fd34e", "MDG": "#800000", "NGA": "#006d5b", "KOR": "#c51b8a",
    "EU": "#4f7cff", "ROW": "#7f7f7f", "Other": "#c7c7c7",
}  # fmt: skip
SPARE = ["#393b79", "#e7969c", "#637939", "#ad494a", "#6baed6", "#fd8d3c", "#74c476", "#9e9ac8", "#843c39",
         "#d6616b", "#5254a3", "#8ca252", "#bd9e39", "#7b4173", "#31a354", "#e6550d"]  # fmt: skip
# a fixed sequence for things that are not regions (sectors, stock series)
SERIES = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f",
          "#393b79", "#ad494a", "#637939"]  # fmt: skip


def region_palette(regions: Iterable[str]) -> dict[str, str]:
    """Colours for ``regions`` (a world's region ids, in its order) and ``Other``: the fixed ones first, then
    spare colours in order (reused only when a world has more unknown regions than there are spares)."""
    palette = {}
    spare = iter(SPARE)
    extra = 0
    for region in dict.fromkeys([*regions, "Other"]):
        if region in FIXED:
            palette[region] = FIXED[region]
            continue
        colour = next(spare, None)
        if colour is None:
            colour, extra = SPARE[extra % len(SPARE)], extra + 1
        palette[region] = colour
    return palette


def colours_for(regions: Iterable[str], palette: dict[str, str] | None) -> dict[str, str]:
    """``palette`` (a world's) extended to any region it lacks; without one, a palette of the regions given."""
    regions = list(dict.fromkeys(regions))
    if palette is None:
        return region_palette(sorted(regions))
    missing = [r for r in regions if r not in palette]
    return palette if not missing else {**region_palette([*palette, *missing]), **palette}
