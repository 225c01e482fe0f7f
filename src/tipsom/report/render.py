"""The self-contained HTML report (and, through :mod:`tipsom.core.render`, the PDF).

Charts are inline SVG and styles are inline CSS: the file opens offline,
from a USB stick, with no request leaving the machine. Each section starts a
new page in print, so the PDF has one page per section (:data:`SECTIONS`).
Tables in the HTML show the head of each published table; the full tables are
in ``tables.xlsx`` and ``tables/*.csv``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from tipsom.core.render import render, timestamp
from tipsom.report.compute import ReportData
from tipsom.report.cube import TOTAL
from tipsom.report.disclosure import SECONDARY_MARK, Protected
from tipsom.report.publish import cell
from tipsom.report.smuggling import route_label

#: Section titles, one printed page each, in order.
SECTIONS = (
    "Summary",
    "Detected victims",
    "Trends and geography",
    "Flows",
    "Suspects, prosecutions and convictions",
    "Smuggling of migrants",
    "Context and children",
    "Non-punishment monitoring",
    "SDG 16.2.2",
)


@dataclass(frozen=True)
class HtmlTable:
    caption: str
    header: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]
    note: str = ""

    def head(self, columns: int) -> HtmlTable:
        """Only the first ``columns`` columns (e.g. the label and the total)."""
        return HtmlTable(self.caption, self.header[:columns], [r[:columns] for r in self.rows], self.note)


def pivot(p: Protected, rows: str, cols: str, fixed: Mapping[str, str] | None = None, caption: str = "",
          limit: int = 14, row_nodes: Sequence[str] | None = None) -> HtmlTable:
    """A two-way view of a published cube, largest rows first (``Total`` row kept first)."""
    fixed = dict(fixed or {})
    dims = {d.name: d for d in p.cube.dims}
    rdim, cdim = dims[rows], dims[cols]

    def key(r: str, c: str) -> tuple[str, ...]:
        return tuple(r if d.name == rows else c if d.name == cols else fixed.get(d.name, TOTAL) for d in p.cube.dims)

    col_nodes = [c for c in cdim.order if p.cube.is_published(key(TOTAL, c))]
    candidates = [r for r in (row_nodes or rdim.order) if p.cube.is_published(key(r, TOTAL))]
    body = sorted((r for r in candidates if r != TOTAL), key=lambda r: -p.cube.value(key(r, TOTAL)))
    shown_rows = ([TOTAL] if TOTAL in candidates else []) + body[:limit]
    table_rows = [(rdim.label_of(r), *(p.display(key(r, c)) if p.cube.is_published(key(r, c)) else ""
                                        for c in col_nodes)) for r in shown_rows]
    note = f"{len(body) - limit} more rows in tables.xlsx" if len(body) > limit else ""
    return HtmlTable(caption, (rdim.label, *(cdim.label_of(c) for c in col_nodes)), table_rows, note)


def context_table(p: Protected) -> HtmlTable:
    """Cases by year: how many carry each context indicator, and the share (from shown cells only)."""
    indicators = p.cube.dims[1:]
    rows = []
    for year in p.cube.dims[0].order:
        total, total_text = cell(p, year=year)
        row = [p.cube.dims[0].label_of(year), total_text]
        for dim in indicators:
            yes, yes_text = cell(p, year=year, **{dim.name: "Yes"})
            share = f" ({100 * yes / total:.0f}%)" if yes is not None and total else ""
            row.append(yes_text + share)
        rows.append(tuple(row))
    return HtmlTable("Cases with context indicators, by year (share of cases)",
                     ("Year", "Cases", *(d.label for d in indicators)), rows)


def _tables(data: ReportData) -> dict[str, list[HtmlTable]]:
    c = data.cubes
    fee_rows = [(route_label(f.route), f.year, f.currency, str(f.reported), f"{f.median:,.0f}",
                 f"{f.q1:,.0f} – {f.q3:,.0f}") for f in data.fees if f.year == TOTAL and f.median is not None]
    revenue_rows = [(route_label(r.route), r.currency, f"{r.migrants:g}", f"{r.estimate:,.0f}",
                     f"{r.low:,.0f} – {r.high:,.0f}") for r in sorted(data.revenue, key=lambda r: -r.estimate)]
    sdg_rows = [(r.REF_AREA, r.TIME_PERIOD, r.OBS_VALUE, r.OBS_STATUS) for r in data.sdg
                if r.SERIES == "VC_HTF_DETVR" and r.SEX == "_T" and r.AGE == "_T"]
    return {
        "victims": [pivot(c["victims"], "form", "sex", {"age": TOTAL}, "Victims by form of exploitation and sex"),
                    pivot(c["victims"], "age", "sex", {}, "Victims by age and sex", limit=20,
                          row_nodes=c["victims"].cube.dims[3].order)],
        "trends": [pivot(c["victims"], "year", "age", {}, "Victims by year and age group", limit=20,
                         row_nodes=c["victims"].cube.dims[1].order)],
        "flows": [pivot(c["flows"], "scope", "origin", {"destination": TOTAL}, "Domestic and cross-border flows",
                        row_nodes=c["flows"].cube.dims[2].order, limit=3).head(2),
                  pivot(c["flows"], "origin", "destination", {}, "Origin (rows) by destination (columns)",
                        limit=8).head(9)],
        "justice": [pivot(c["justice"], "sex", "stage", {}, "Suspects by sex and proceedings"),
                    pivot(c["justice"], "citizenship", "stage", {}, "Suspects by citizenship and proceedings")],
        "smuggling": [pivot(c["migrants"], "route", "year", {}, "Smuggled migrants by route and year", limit=10),
                      HtmlTable("Fees paid (all years)", ("Route", "Year", "Currency", "Fees reported", "Median",
                                                          "Interquartile range"), fee_rows[:10]),
                      HtmlTable("Estimated revenue (migrants × mean fee, 95% interval)",
                                ("Route", "Currency", "Migrants", "Estimate", "Interval"), revenue_rows[:10]),
                      pivot(c["harm"], "route", "harm", {}, "Deaths and injuries by route", limit=10)],
        "context": [context_table(c["context"]),
                    pivot(c["victims"], "sex", "unaccompanied", {"age": "Child"}, "Children: unaccompanied")],
        "non_punishment": [pivot(c["non_punishment"], "offence", "result", {}, "Victims charged, by offence"),
                           pivot(c["non_punishment"], "jurisdiction", "result", {},
                                 "Victims charged, by jurisdiction")],
        "sdg": [HtmlTable("Detected victims per 100,000 population (VC_HTF_DETVR, both sexes, all ages)",
                          ("Country", "Year", "Rate", "Status"), sdg_rows[:30],
                          f"{len(sdg_rows)} rows; every series is in sdg_16_2_2.csv" if sdg_rows else "")],
    }


def render_html(data: ReportData, charts: Mapping[str, str]) -> str:
    """The whole report as one HTML string with inline SVG charts."""
    return render(
        "tipsom.report", "report.html.j2", data=data, sections=SECTIONS, tables=_tables(data),
        charts={k: Markup(v) for k, v in charts.items()},
        primary=data.policy.primary_mark, secondary=SECONDARY_MARK,
        generated=timestamp(),
    )
