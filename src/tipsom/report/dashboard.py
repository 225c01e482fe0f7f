"""The report's charts, drawn only from published (suppressed) cells.

:func:`report_charts` draws every chart of the HTML/PDF report from a
:class:`~tipsom.report.compute.ReportData`; :func:`dashboard_charts` is the
entry point the web dashboard calls with a year/country filter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tipsom.core.render.charts import choropleth_svg, line_svg
from tipsom.report.compute import REPORT_COLUMNS, ReportData, compute_cubes
from tipsom.report.cube import TOTAL
from tipsom.report.disclosure import DisclosurePolicy, Protected
from tipsom.report.figures import Bar, Flow, flow_svg, published_bars_svg
from tipsom.report.publish import cell, series
from tipsom.report.statistics import UNKNOWN, ReportFilter
from tipsom.report.warehouse import open_warehouse

if TYPE_CHECKING:
    from tipsom.store.db import Store

#: Chart names, in the order the dashboard shows them.
DASHBOARD_CHARTS = ("forms", "sex_age", "trend", "map", "flows", "context")


def scoped(name: str, svg: str) -> str:
    """Prefix the SVG's ids: matplotlib reuses ids such as glyph names, and several
    charts inline in one page must not resolve each other's references."""
    svg = re.sub(r'id="([^"]+)"', rf'id="{name}-\1"', svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{name}-\1"', svg)
    return re.sub(r"url\(#([^)]+)\)", rf"url(#{name}-\1)", svg)


def _leaf_bars(p: Protected, along: str, top: int = 20, **fixed: str) -> list[Bar]:
    """Bars for the finest nodes of one dimension (groups would double-count), largest first."""
    dim = next(d for d in p.cube.dims if d.name == along)
    bars = [(label, value, text) for code, label, value, text in series(p, fixed, along) if not dim.children(code)]
    return sorted(bars, key=lambda b: -(b[1] if b[1] is not None else -1.0))[:top]


def _victim_charts(victims: Protected, title: str, wanted: Collection[str] | None = None) -> dict[str, str]:
    """The victim charts named in ``wanted`` (all when None): a chart costs a few hundred ms to draw."""
    _, total_text = cell(victims)

    def groups() -> str:
        bars = [(f"{victims.cube.dims[2].label_of(s)}, {victims.cube.dims[3].label_of(a)}",
                 *cell(victims, sex=s, age=a)) for s in ("Female", "Male") for a in ("Child", "Adult")]
        return published_bars_svg(bars, f"Detected victims: women, men, girls and boys ({title})")

    def trend() -> str:
        lines: dict[str, dict[int | str, float]] = {}
        for sex, name in ((TOTAL, "All"), ("Female", "Female"), ("Male", "Male")):
            lines[name] = {code: v for code, _, v, _ in series(victims, {"sex": sex}, "year")
                           if v is not None and code != UNKNOWN}
        return line_svg(lines, "Detected victims by year of registration", "victims")

    def country_map() -> str:
        countries = {code: v for code, _, v, _ in series(victims, {}, "area") if v is not None and code != UNKNOWN}
        return choropleth_svg(countries, f"Detected victims by jurisdiction ({title}); grey: none or suppressed")

    drawers: dict[str, Callable[[], str]] = {
        "forms": lambda: published_bars_svg(_leaf_bars(victims, "form"), "Detected victims by form of exploitation "
                                            f"({title}; total {total_text})"),
        "sex_age": groups,
        "age": lambda: published_bars_svg(_leaf_bars(victims, "age"), "Detected victims by age bracket"),
        "trend": trend,
        "map": country_map,
        "children_forms": lambda: published_bars_svg(
            [(f"{label} ({sex_label})", v, t) for sex, sex_label in (("Female", "girls"), ("Male", "boys"))
             for label, v, t in _leaf_bars(victims, "form", sex=sex, age="Child")],
            "Children: forms of exploitation by sex"),
    }
    return {name: draw() for name, draw in drawers.items() if wanted is None or name in wanted}


def _flow_chart(flows: Protected) -> str:
    dims = flows.cube.dims
    shown: list[Flow] = []
    for key in flows.cube.cells():
        o, d, scope = key
        if TOTAL in (o, d) or scope != TOTAL:
            continue
        value = flows.shown_value(key)
        if value:
            shown.append((dims[0].label_of(o), dims[1].label_of(d), value))
    return flow_svg(shown, "Flows from country of origin to country of exploitation (largest 15)")


def _share_chart(context: Protected) -> str:
    lines: dict[str, dict[int | str, float]] = {}
    for dim in context.cube.dims[1:]:
        points: dict[int | str, float] = {}
        for code, _, total, _ in series(context, {}, "year"):
            yes, _ = cell(context, year=code, **{dim.name: "Yes"})
            if code != UNKNOWN and yes is not None and total:
                points[code] = round(100.0 * yes / total, 1)
        lines[dim.label] = points
    return line_svg(lines, "Share of cases with context indicators (%)", "% of cases")


def report_charts(data: ReportData) -> dict[str, str]:
    """Every chart of the report, keyed by name (SVG text)."""
    c = data.cubes
    charts = _victim_charts(c["victims"], data.filter.title)
    charts["flows"] = _flow_chart(c["flows"])
    charts["context"] = _share_chart(c["context"])
    charts["routes"] = published_bars_svg(_leaf_bars(c["migrants"], "route"), "Smuggled migrants by route")
    charts["non_punishment"] = published_bars_svg(_leaf_bars(c["non_punishment"], "offence"),
                                                  "Victims charged, by offence")
    return {name: scoped(name, svg) for name, svg in charts.items()}


@dataclass(frozen=True)
class DashboardData:
    """The protected tables behind the dashboard for one filter (no personal data, cells already suppressed)."""

    filter: ReportFilter
    cubes: dict[str, Protected]


def dashboard_data(store: Store, year: int | None = None, country: str | None = None,
                   policy: DisclosurePolicy | None = None) -> DashboardData:
    """Aggregate and protect the three tables the dashboard charts need.

    Only the columns the three tables read are copied out of the store.
    """
    flt = ReportFilter(year=year, country=country)
    policy = policy or DisclosurePolicy(threshold=store.settings.suppression_threshold)
    con = open_warehouse(store, REPORT_COLUMNS)
    try:
        cubes = compute_cubes(con, flt, policy, ("victims", "flows", "context"))
    finally:
        con.close()
    return DashboardData(flt, cubes)


def draw_dashboard(data: DashboardData) -> dict[str, str]:
    """The dashboard's charts (names in :data:`DASHBOARD_CHARTS`, in that order) from protected tables."""
    charts = _victim_charts(data.cubes["victims"], data.filter.title, DASHBOARD_CHARTS)
    charts["flows"] = _flow_chart(data.cubes["flows"])
    charts["context"] = _share_chart(data.cubes["context"])
    return {name: scoped(name, charts[name]) for name in DASHBOARD_CHARTS}


def dashboard_charts(store: Store, year: int | None = None, country: str | None = None,
                     policy: DisclosurePolicy | None = None) -> dict[str, str]:
    """The dashboard's charts (names in :data:`DASHBOARD_CHARTS`) for a year/country filter."""
    return draw_dashboard(dashboard_data(store, year, country, policy))
