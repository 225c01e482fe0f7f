"""Charts rendered to inline SVG with matplotlib, so reports open offline.

Interactive chart libraries fetch map data or fonts from CDNs; a static SVG
embedded in the HTML needs nothing from the network and prints cleanly to PDF.
Every module that draws (statistics, context, OSINT, money) uses these helpers.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import shapefile
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import Polygon

NATURAL_EARTH = "naturalearth_lowres/naturalearth_lowres.shp"
ATTRIBUTION = "Boundaries: Natural Earth (public domain)."


def figure_svg(fig: Figure) -> str:
    """Serialise a figure to an SVG string and close it."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]


def bar_svg(labels: Sequence[str], values: Sequence[float], title: str, xlabel: str = "") -> str:
    """A horizontal bar chart; values are the published (suppressed) figures."""
    fig, ax = plt.subplots(figsize=(7, max(2.0, 0.35 * len(labels) + 1)))
    ax.barh(list(labels), list(values), color="#1f5f8b")
    ax.invert_yaxis()
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    for i, v in enumerate(values):
        ax.text(v, i, f" {v:g}", va="center", fontsize=8)
    return figure_svg(fig)


def period_axis(series: Mapping[str, Mapping[int | str, float | None]]) -> list[int | str]:
    """Every period of every series, in time order, on one axis.

    Plotting each series on its own would let matplotlib order the shared
    categorical axis by first appearance, so a year only one series has (the
    others hidden there) would land at the end.
    """
    # Years are four digits, so their text sorts in time order; "Unknown" goes last.
    return sorted({x for points in series.values() for x in points}, key=lambda x: (not str(x).isdigit(), str(x)))


def line_svg(series: Mapping[str, Mapping[int | str, float]], title: str, ylabel: str = "") -> str:
    """Trend lines, one per named series keyed by period, on one time-ordered axis."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    periods = period_axis(series)
    position = {x: i for i, x in enumerate(periods)}
    for name, points in series.items():
        xs = sorted(points, key=position.__getitem__)
        ax.plot([position[x] for x in xs], [points[x] for x in xs], marker="o", label=name)
    if periods:
        ax.set_xticks(range(len(periods)), [str(x) for x in periods])
    else:
        ax.text(0.5, 0.5, "No figure can be shown (none recorded, or all suppressed)", ha="center",
                transform=ax.transAxes)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    if len(series) > 1:
        ax.legend(fontsize=8)
    return figure_svg(fig)


def trend_svg(series: Mapping[str, Mapping[int | str, float | None]], title: str, ylabel: str = "") -> str:
    """Trend lines of published figures; a period hidden in every line is drawn as a hatched,
    labelled band (suppressed, not zero), and a line breaks where its own figure is hidden."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    periods = period_axis(series)
    for name, points in series.items():
        ys = [points.get(x) for x in periods]
        ax.plot(range(len(periods)), [math.nan if y is None else y for y in ys], marker="o", label=name)
    hidden = [i for i, x in enumerate(periods) if all(points.get(x) is None for points in series.values())]
    for i in hidden:
        ax.axvspan(i - 0.4, i + 0.4, facecolor="white", edgecolor="#b0b0b0", hatch="///", linewidth=0)
        ax.text(i, 0.02, "suppressed", rotation=90, ha="center", va="bottom", fontsize=7, color="#555555",
                transform=ax.get_xaxis_transform())
    ax.set_xticks(range(len(periods)), [str(x) for x in periods], rotation=45 if len(periods) > 8 else 0)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(ylabel)
    if len(series) > 1 and len(hidden) < len(periods):
        ax.legend(fontsize=8)
    return figure_svg(fig)


@lru_cache(maxsize=4)
def _shapes(path: str) -> tuple[tuple[str, tuple[tuple[tuple[float, float], ...], ...]], ...]:
    reader = shapefile.Reader(path)
    fields = [f[0] for f in reader.fields[1:]]
    iso_field = "iso_a3" if "iso_a3" in fields else fields[0]
    out = []
    for rec, shp in zip(reader.records(), reader.shapes(), strict=True):
        iso = str(rec[fields.index(iso_field)])
        parts = [*list(shp.parts), len(shp.points)]
        rings = tuple(
            tuple((float(x), float(y)) for x, y in shp.points[parts[i] : parts[i + 1]])
            for i in range(len(parts) - 1)
        )
        out.append((iso, rings))
    return tuple(out)


def natural_earth_path() -> Path:
    """The country boundaries shipped inside the package."""
    return Path(str(resources.files("tipsom.data").joinpath(NATURAL_EARTH)))


def choropleth_svg(
    values: Mapping[str, float],
    title: str,
    boundaries: Path | None = None,
    cmap: str = "OrRd",
    points: Sequence[tuple[float, float, float]] = (),
) -> str:
    """A world (or user-boundary) map shaded by ``values`` keyed by ISO3.

    ``points`` are optional (lon, lat, size) markers, e.g. incident hot spots.
    Countries without a value are drawn in light grey, never as zero.
    """
    shapes = _shapes(str(boundaries or natural_earth_path()))
    fig, ax = plt.subplots(figsize=(10, 5))
    colormap = matplotlib.colormaps[cmap]
    vmax = max(values.values(), default=0.0) or 1.0
    patches, colours = [], []
    for iso, rings in shapes:
        colour = colormap(values[iso] / vmax) if iso in values else (0.9, 0.9, 0.9, 1.0)
        for ring in rings:
            patches.append(Polygon(ring, closed=True))
            colours.append(colour)
    ax.add_collection(PatchCollection(patches, facecolor=colours, edgecolor="white", linewidth=0.3))
    if points:
        ax.scatter([p[0] for p in points], [p[1] for p in points], s=[max(2.0, p[2]) for p in points],
                   color="#b30000", alpha=0.5, linewidths=0)
    ax.autoscale_view()
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title)
    sm = plt.cm.ScalarMappable(cmap=colormap, norm=matplotlib.colors.Normalize(0, vmax))
    fig.colorbar(sm, ax=ax, shrink=0.6)
    fig.text(0.01, 0.01, ATTRIBUTION, fontsize=7)
    return figure_svg(fig)
