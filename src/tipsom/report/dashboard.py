"""The report's charts, drawn only from published (suppressed) cells.

:func:`report_charts` draws every chart of the HTML/PDF report from a
:class:`~tipsom.report.compute.ReportData`; :func:`dashboard_charts` is the
entry point the web dashboard calls with a year/country filter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tipsom.core.render.charts import choropleth_svg, period_axis, trend_svg
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


def _leaf_bars(p: Protected, along: str, fixed: Mapping[str, str] | None = None, top: int = 20) -> list[Bar]:
    """Bars for the finest nodes of one dimension (groups would double-count), largest first."""
    dim = next(d for d in p.cube.dims if d.name == along)
    bars = [(label, value, text) for code, label, value, text in series(p, fixed or {}, along)
            if not dim.children(code)]
    return sorted(bars, key=lambda b: -(b[1] if b[1] is not None else -1.0))[:top]


#: A level of detail a chart may be drawn at: the note saying so on the chart (empty at full detail) and its bars.
Level = tuple[str, list[Bar]]
ONLY_TOTAL = "Every finer figure is suppressed: only the total can be published"


def _coarsened(levels: Sequence[Level]) -> Level:
    """The finest level with a published non-zero figure (else the coarsest), so no chart is an
    empty axis, or a row of zeros beside hidden bars, while a coarser published cell exists.
    Coarser levels are published cells, never sums of hidden ones."""
    for level in levels:
        if _figures(level[1]):
            return level
    return levels[-1]


def _dim_levels(p: Protected, along: str, **fixed: str) -> list[Level]:
    """Leaves, then the groups under the total (when the dimension has groups), then the total."""
    dim = next(d for d in p.cube.dims if d.name == along)
    groups = [(label, value, text) for code, label, value, text in series(p, fixed, along)
              if dim.parents.get(code) == TOTAL]
    levels: list[Level] = [("", _leaf_bars(p, along, fixed))]
    if any(dim.children(code) for code in dim.children(TOTAL)):
        levels.append(("Finer categories are suppressed: shown by group", groups))
    levels.append((ONLY_TOTAL, [(dim.label_of(TOTAL), *cell(p, **fixed))]))
    return levels


def _titled(title: str, note: str) -> str:
    return f"{title}\n{note}" if note else title


def _figures(bars: Sequence[Bar]) -> tuple[str, ...]:
    """The published non-zero numbers among ``bars`` (a zero says nothing a reader came for)."""
    return tuple(text for _, value, text in bars if value)


@dataclass(frozen=True)
class Plan:
    """One chart before it is drawn: the published figures it shows, and how to draw it."""

    #: Each published number the chart shows, as published (hidden cells are not figures).
    figures: tuple[str, ...]
    draw: Callable[[], str]
    #: The chart's time axis, in the order drawn (trend charts only).
    periods: tuple[str, ...] = ()


def _bar_plan(level: Level, title: str) -> Plan:
    note, bars = level
    return Plan(_figures(bars), lambda: published_bars_svg(bars, _titled(title, note)))


def _trend_plan(p: Protected, lines: Mapping[str, Mapping[str, str]], title: str, ylabel: str,
                value_of: Callable[[str, Mapping[str, str]], float | None]) -> Plan:
    """Lines over the published years: hidden years marked as such, and, when no year can be
    published, the all-years total stated (a longer period) instead of an empty plot."""
    years = [code for code, _, _, _ in series(p, {}, "year") if code != UNKNOWN]
    points: dict[str, dict[int | str, float | None]] = {
        name: {year: value_of(year, fixed) for year in years} for name, fixed in lines.items()}
    periods = tuple(str(x) for x in period_axis(points))
    figures = tuple(f"{v:g}" for line in points.values() for v in line.values() if v)
    note = ""
    if not figures:
        total, text = cell(p)
        note = f"No single year can be published; all years together: {text}"
        figures = (text,) if total else ()
    return Plan(figures, lambda: trend_svg(points, _titled(title, note), ylabel), periods)


def _victim_plans(victims: Protected, title: str, wanted: Collection[str] | None = None) -> dict[str, Plan]:
    """The victim charts named in ``wanted`` (all when None): a chart costs a few hundred ms to draw."""
    total_value, total_text = cell(victims)
    dims = {d.name: d for d in victims.cube.dims}

    def groups() -> Plan:
        both = [(f"{dims['sex'].label_of(s)}, {dims['age'].label_of(a)}", *cell(victims, sex=s, age=a))
                for s in ("Female", "Male") for a in ("Child", "Adult")]
        by_sex = [(dims["sex"].label_of(s), *cell(victims, sex=s)) for s in ("Female", "Male")]
        by_age = [(dims["age"].label_of(a), *cell(victims, age=a)) for a in ("Child", "Adult")]
        level = _coarsened([("", both), ("Sex by age is suppressed: shown by sex", by_sex),
                            ("Sex is suppressed: shown by age", by_age),
                            (ONLY_TOTAL, [("All victims", total_value, total_text)])])
        return _bar_plan(level, f"Detected victims: women, men, girls and boys ({title})")

    def trend() -> Plan:
        lines = {name: {"sex": sex} for sex, name in ((TOTAL, "All"), ("Female", "Female"), ("Male", "Male"))}
        return _trend_plan(victims, lines, "Detected victims by year of registration", "victims",
                           lambda year, fixed: cell(victims, year=year, **fixed)[0])

    def country_map() -> Plan:
        countries = {code: v for code, _, v, _ in series(victims, {}, "area") if v is not None and code != UNKNOWN}
        figures = tuple(f"{v:g}" for v in countries.values())
        note = "grey: none or suppressed"
        if not figures:
            note = f"No jurisdiction's figure can be published; all jurisdictions: {total_text}"
            figures = (total_text,) if total_value else ()
        return Plan(figures, lambda: choropleth_svg(
            countries, _titled(f"Detected victims by jurisdiction ({title})", note)))

    plans: dict[str, Callable[[], Plan]] = {
        "forms": lambda: _bar_plan(_coarsened(_dim_levels(victims, "form")),
                                   f"Detected victims by form of exploitation ({title}; total {total_text})"),
        "sex_age": groups,
        "age": lambda: _bar_plan(_coarsened(_dim_levels(victims, "age")), "Detected victims by age bracket"),
        "trend": trend,
        "map": country_map,
        "children_forms": lambda: _bar_plan(("", [
            (f"{label} ({sex_label})", v, t) for sex, sex_label in (("Female", "girls"), ("Male", "boys"))
            for label, v, t in _leaf_bars(victims, "form", {"sex": sex, "age": "Child"})]),
            "Children: forms of exploitation by sex"),
    }
    return {name: plan() for name, plan in plans.items() if wanted is None or name in wanted}


def _victim_charts(victims: Protected, title: str, wanted: Collection[str] | None = None) -> dict[str, str]:
    return {name: plan.draw() for name, plan in _victim_plans(victims, title, wanted).items()}


def _flow_plan(flows: Protected) -> Plan:
    dims = flows.cube.dims
    shown: list[Flow] = []
    for key in flows.cube.cells():
        o, d, scope = key
        if TOTAL in (o, d) or scope != TOTAL:
            continue
        value = flows.shown_value(key)
        if value:
            shown.append((dims[0].label_of(o), dims[1].label_of(d), value))
    title = "Flows from country of origin to country of exploitation (largest 15)"
    figures = tuple(f"{f[2]:g}" for f in shown)
    if not figures:
        total, text = cell(flows)
        title = _titled(title, f"No single flow can be published; all flows: {text}")
        figures = (text,) if total else ()
    return Plan(figures, lambda: flow_svg(shown, title))


def _share_plan(context: Protected) -> Plan:
    def share(year: str, fixed: Mapping[str, str]) -> float | None:
        total, _ = cell(context, year=year)
        yes, _ = cell(context, year=year, **fixed)
        return round(100.0 * yes / total, 1) if yes is not None and total else None

    lines = {dim.label: {dim.name: "Yes"} for dim in context.cube.dims[1:]}
    return _trend_plan(context, lines, "Share of cases with context indicators (%)", "% of cases", share)


def report_charts(data: ReportData) -> dict[str, str]:
    """Every chart of the report, keyed by name (SVG text)."""
    c = data.cubes
    charts = _victim_charts(c["victims"], data.filter.title)
    charts["flows"] = _flow_plan(c["flows"]).draw()
    charts["context"] = _share_plan(c["context"]).draw()
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


def dashboard_plans(data: DashboardData) -> dict[str, Plan]:
    """The dashboard's charts (names in :data:`DASHBOARD_CHARTS`, in that order), not yet drawn."""
    plans = _victim_plans(data.cubes["victims"], data.filter.title, DASHBOARD_CHARTS)
    plans["flows"] = _flow_plan(data.cubes["flows"])
    plans["context"] = _share_plan(data.cubes["context"])
    return {name: plans[name] for name in DASHBOARD_CHARTS}


def draw_dashboard(data: DashboardData) -> dict[str, str]:
    """The dashboard's charts (names in :data:`DASHBOARD_CHARTS`, in that order) from protected tables."""
    return {name: scoped(name, plan.draw()) for name, plan in dashboard_plans(data).items()}


def dashboard_charts(store: Store, year: int | None = None, country: str | None = None,
                     policy: DisclosurePolicy | None = None) -> dict[str, str]:
    """The dashboard's charts (names in :data:`DASHBOARD_CHARTS`) for a year/country filter."""
    return draw_dashboard(dashboard_data(store, year, country, policy))
