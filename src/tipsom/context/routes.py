"""How deadly each migration route is: dead and missing, causes, children, hot spots and rates.

Counts come from the Missing Migrants Project, which records only deaths that
someone reported: every figure is a minimum. A rate needs the number of people
who crossed; when the user supplies arrivals per route and year, the rate is
dead and missing per 1,000 attempted crossings, where attempts are arrivals plus
the dead and missing (people who died did not arrive).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from tipsom.context.records import Incident
from tipsom.context.sources import ContextInputError, IssueLog, number_field, read_table

#: Label of incidents recorded with more than one cause of death.
SEVERAL_CAUSES = "Several causes"

RouteYearKey = tuple[str | None, int]


@dataclass(frozen=True)
class RouteYear:
    """Dead and missing on one route in one year (route None: not attributed to a route)."""

    route: str | None
    year: int
    incidents: int
    dead: float
    missing: float
    total: float
    children: float
    arrivals: float | None
    rate_per_1000: float | None

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        for key in ("dead", "missing", "total", "children", "arrivals"):
            value = data[key]
            if isinstance(value, float) and value.is_integer():
                data[key] = int(value)
        if data["rate_per_1000"] is not None:
            data["rate_per_1000"] = round(float(data["rate_per_1000"]), 3)
        return data


@dataclass(frozen=True)
class HotSpot:
    """A grid cell of incidents: its centre, the dead and missing, and the incident count."""

    longitude: float
    latitude: float
    total: float
    incidents: int


def load_arrivals(path: Path, encoding: str | None = None) -> dict[RouteYearKey, float]:
    """Arrivals per route and year from a CSV with columns ``route, year, arrivals``.

    Any bad row makes the whole file invalid: a rate computed from half a
    table would look precise and be wrong.
    """
    table = read_table(path, {"route": ["migration route"], "year": [], "arrivals": ["crossings"]},
                       ["route", "year", "arrivals"], encoding)
    log = IssueLog(str(path))
    out: dict[RouteYearKey, float] = {}
    for row in table.rows:
        year_text, value = row.get("year"), number_field(row, "arrivals", log)
        if not year_text.isdigit():
            log.reject(row.line, "year", f"{year_text!r} is not a year")
        elif value is None:
            log.reject(row.line, "arrivals", "no arrivals figure")
        elif (row.get("route"), int(year_text)) in out:
            log.reject(row.line, "route", f"{row.get('route')} {year_text} appears twice")
        else:
            out[(row.get("route"), int(year_text))] = value
    if log.issues:
        raise ContextInputError("invalid arrivals file:\n" + "\n".join(str(i) for i in log.issues))
    return out


def route_years(
    incidents: Iterable[Incident], arrivals: Mapping[RouteYearKey, float] | None = None
) -> list[RouteYear]:
    """Per route and year: incidents, dead, missing, total, children and, with arrivals, the rate."""
    groups: dict[RouteYearKey, list[Incident]] = defaultdict(list)
    for incident in incidents:
        groups[(incident.route, incident.year)].append(incident)
    out = []
    for (route, year), items in groups.items():
        dead = math.fsum(i.dead for i in items)
        missing = math.fsum(i.missing for i in items)
        total = dead + missing
        arrived = arrivals.get((route, year)) if arrivals and route is not None else None
        attempts = arrived + total if arrived is not None else None
        out.append(RouteYear(
            route, year, len(items), dead, missing, total,
            math.fsum(i.children or 0.0 for i in items), arrived,
            1000.0 * total / attempts if attempts else None,
        ))
    return sorted(out, key=lambda r: (r.route is None, r.route or "", r.year))


def causes_by_route(incidents: Iterable[Incident]) -> dict[str | None, dict[str, float]]:
    """Dead and missing per cause of death on each route, largest first (several causes counted apart)."""
    out: dict[str | None, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for incident in incidents:
        cause = incident.causes[0] if len(incident.causes) == 1 else (
            SEVERAL_CAUSES if incident.causes else "Mixed or unknown"
        )
        out[incident.route][cause] += incident.total
    return {route: dict(sorted(causes.items(), key=lambda kv: -kv[1])) for route, causes in out.items()}


def hot_spots(incidents: Iterable[Incident], cell_degrees: float = 1.0) -> list[HotSpot]:
    """Incidents binned into square cells, largest first (incidents without coordinates skipped)."""
    cells: dict[tuple[int, int], list[Incident]] = defaultdict(list)
    for incident in incidents:
        if incident.longitude is None or incident.latitude is None:
            continue
        key = (math.floor(incident.longitude / cell_degrees), math.floor(incident.latitude / cell_degrees))
        cells[key].append(incident)
    spots = [
        HotSpot((x + 0.5) * cell_degrees, (y + 0.5) * cell_degrees,
                math.fsum(i.total for i in items), len(items))
        for (x, y), items in cells.items()
    ]
    return sorted(spots, key=lambda s: -s.total)


def route_summary(incidents: list[Incident], route: str) -> dict[str, object]:
    """What a risk card says about one route: totals, years, causes and children."""
    on_route = [i for i in incidents if i.route == route]
    if not on_route:
        known = sorted({i.route for i in incidents if i.route})
        raise ContextInputError(f"no incidents on route {route!r}; routes in the file: {', '.join(known)}")
    years = route_years(on_route)
    causes = causes_by_route(on_route).get(route, {})
    return {
        "route": route,
        "first_year": min(r.year for r in years),
        "last_year": max(r.year for r in years),
        "total": math.fsum(r.total for r in years),
        "dead": math.fsum(r.dead for r in years),
        "missing": math.fsum(r.missing for r in years),
        "children": math.fsum(r.children for r in years),
        "incidents": sum(r.incidents for r in years),
        "by_year": {r.year: r.total for r in years},
        "causes": list(causes.items()),
    }


UNKNOWN_ROUTE = "(no route recorded)"
#: Routes drawn in the trend chart (the tables list all).
TREND_ROUTES = 6


def write_routes_report(
    incidents: list[Incident], rows: list[RouteYear], out: Path, cell_degrees: float = 1.0
) -> Path:
    """A self-contained HTML report: hot-spot map, trends, per-route tables and causes.

    Countries are shaded by the dead and missing of incidents inside them
    (Natural Earth boundaries); grid cells of incidents, at sea too, are dots.
    """
    from tipsom.context.boundaries import Boundaries
    from tipsom.core.render import drawn, render
    from tipsom.core.render.charts import ATTRIBUTION, choropleth_svg, line_svg, natural_earth_path

    world = Boundaries.load(natural_earth_path(), "iso_a3")
    by_country: dict[str, float] = defaultdict(float)
    for incident in incidents:
        if incident.longitude is not None and incident.latitude is not None:
            unit = world.locate(incident.longitude, incident.latitude)
            if unit is not None:
                by_country[unit.unit_id] += incident.total
    spots = hot_spots(incidents, cell_degrees)
    scale = 400.0 / max((s.total for s in spots), default=1.0)
    map_svg = choropleth_svg(dict(by_country), "Dead and missing migrants (dots: hot spots)",
                             points=[(s.longitude, s.latitude, s.total * scale) for s in spots])
    totals: dict[str, float] = defaultdict(float)
    for r in rows:
        totals[r.route or UNKNOWN_ROUTE] += r.total
    top = sorted(totals, key=lambda k: -totals[k])[:TREND_ROUTES]
    series: dict[str, dict[int | str, float]] = {
        route: {r.year: r.total for r in rows if (r.route or UNKNOWN_ROUTE) == route} for route in top
    }
    causes = [{"route": route or UNKNOWN_ROUTE, "cause": cause, "total": f"{total:,.0f}"}
              for route, by_cause in sorted(causes_by_route(incidents).items(), key=lambda kv: kv[0] or "~")
              for cause, total in by_cause.items()]
    html = render(
        "tipsom.context", "routes_report.html",
        incidents=len(incidents), located=sum(1 for i in incidents if i.latitude is not None),
        map_svg=drawn(map_svg), trend_svg=drawn(line_svg(series, "Dead and missing per year")),
        rows=[{"route": r.route or UNKNOWN_ROUTE, "year": r.year, "incidents": r.incidents,
               "dead": f"{r.dead:,.0f}", "missing": f"{r.missing:,.0f}", "total": f"{r.total:,.0f}",
               "children": f"{r.children:,.0f}",
               "arrivals": "" if r.arrivals is None else f"{r.arrivals:,.0f}",
               "rate": "" if r.rate_per_1000 is None else f"{r.rate_per_1000:.1f}"} for r in rows],
        causes=causes, attribution=ATTRIBUTION,
    )
    out.write_text(html, encoding="utf-8")
    return out
