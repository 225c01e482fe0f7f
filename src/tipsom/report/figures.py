"""Charts that know about suppression, and an origin-to-destination flow chart.

:func:`tipsom.core.render.charts.bar_svg` draws plain numbers; a published table
also has hidden cells, which a chart must show as hidden (a hatched stub
labelled ``<5`` or ``x``), never as zero and never as their true value.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path as MplPath

from tipsom.core.render.charts import figure_svg

#: (label, shown value or None when hidden, text as published)
Bar = tuple[str, float | None, str]
#: (origin label, destination label, shown value)
Flow = tuple[str, str, float]
COLOUR = "#1f5f8b"
HIDDEN = "#b0b0b0"


def published_bars_svg(bars: Sequence[Bar], title: str, xlabel: str = "") -> str:
    """Horizontal bars of published cells; hidden cells drawn as labelled hatched stubs."""
    fig, ax = plt.subplots(figsize=(7, max(2.0, 0.32 * len(bars) + 1.2)))
    shown = [v for _, v, _ in bars if v is not None]
    stub = max(shown, default=1.0) * 0.02 or 1.0
    for i, (_, value, text) in enumerate(bars):
        if value is None:
            ax.barh(i, stub, color="white", edgecolor=HIDDEN, hatch="///")
            ax.text(stub, i, f" {text} (suppressed)", va="center", fontsize=7, color="#555555")
        else:
            ax.barh(i, value, color=COLOUR)
            ax.text(value, i, f" {text}", va="center", fontsize=7)
    ax.set_yticks(range(len(bars)), [label for label, _, _ in bars], fontsize=8)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.spines[["top", "right"]].set_visible(False)
    return figure_svg(fig)


def flow_svg(flows: Sequence[Flow], title: str, top: int = 15) -> str:
    """A two-column Sankey diagram of the ``top`` largest shown flows.

    Origins stack on the left, destinations on the right, each band as thick
    as its count; domestic flows (same country both sides) are drawn darker.
    """
    chosen = sorted((f for f in flows if f[2] > 0), key=lambda f: -f[2])[:top]
    fig, ax = plt.subplots(figsize=(8, 5.5))
    ax.axis("off")
    ax.set_title(title, fontsize=10)
    if not chosen:
        ax.text(0.5, 0.5, "No flow can be shown (none recorded, or all suppressed)", ha="center")
        return figure_svg(fig)
    total = sum(f[2] for f in chosen)
    gap = total * 0.02

    def stack(side: int) -> dict[str, list[float]]:
        sizes: dict[str, float] = {}
        for f in chosen:
            name = f[0] if side == 0 else f[1]
            sizes[name] = sizes.get(name, 0.0) + f[2]
        y, pos = 0.0, {}
        for name in sorted(sizes, key=lambda n: -sizes[n]):
            pos[name] = [y, y + sizes[name], y]  # top, bottom, next free offset
            y += sizes[name] + gap
        return pos

    left, right = stack(0), stack(1)
    cmap = plt.get_cmap("tab20")
    for i, (origin, destination, value) in enumerate(chosen):
        y0, y1 = left[origin][2], right[destination][2]
        left[origin][2] += value
        right[destination][2] += value
        verts = [(0.1, y0), (0.5, y0), (0.5, y1), (0.9, y1), (0.9, y1 + value), (0.5, y1 + value),
                 (0.5, y0 + value), (0.1, y0 + value), (0.1, y0)]
        codes = [MplPath.MOVETO, MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4, MplPath.LINETO,
                 MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4, MplPath.CLOSEPOLY]
        alpha = 0.85 if origin == destination else 0.45
        ax.add_patch(PathPatch(MplPath(verts, codes), facecolor=cmap(i % 20), alpha=alpha, lw=0))
    for names, x, align in ((left, 0.09, "right"), (right, 0.91, "left")):
        for name, (top_y, bottom_y, _) in names.items():
            ax.add_patch(Rectangle((x - 0.005, top_y), 0.01, bottom_y - top_y, color="#333333"))
            ax.text(x - 0.01 if align == "right" else x + 0.01, (top_y + bottom_y) / 2,
                    f"{name} ({bottom_y - top_y:g})", ha=align, va="center", fontsize=7)
    height = max(*(v[1] for v in left.values()), *(v[1] for v in right.values()))
    ax.set_xlim(-0.35, 1.35)
    ax.set_ylim(height + gap, -gap)
    ax.text(0.1, -gap * 0.5, "Origin", ha="center", fontsize=8, weight="bold")
    ax.text(0.9, -gap * 0.5, "Destination", ha="center", fontsize=8, weight="bold")
    return figure_svg(fig)
