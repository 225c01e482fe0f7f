"""Smuggling of migrants: migrants by route, fees, estimated revenue, deaths and injuries.

A *route* is the corridor from the first leg's origin to the last leg's
destination (without legs: country of origin to jurisdiction). Fees are
amounts, not counts, so they are published only where at least ``threshold``
migrants reported a fee and the matching migrant count is itself shown.
Fees are never converted between currencies (no exchange rates offline):
every fee row names its currency.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tipsom.report.cube import TOTAL, Cube, Dim
from tipsom.report.disclosure import Protected
from tipsom.report.statistics import UNKNOWN, YEAR_SQL, ReportFilter, _query, _year_dim, country_name, journeys
from tipsom.schema.enums import PersonRole

if TYPE_CHECKING:
    import duckdb

#: z for a two-sided 95% normal interval.
Z95 = 1.959963984540054
ROUTE_SQL = f"""coalesce(l.first_origin, p.origin_country, '{UNKNOWN}') || '-'
  || coalesce(l.last_destination, c.jurisdiction, '{UNKNOWN}')"""
MIGRANTS_FROM = """FROM persons p JOIN cases c ON c.id = p.case_id LEFT JOIN {legs} l ON l.person_key = p.key
  WHERE p.role = '""" + str(PersonRole.SMUGGLED_MIGRANT) + "'"


def route_label(route: str) -> str:
    if route == TOTAL:
        return "All routes"
    origin, _, destination = route.partition("-")
    return f"{country_name(origin)} → {country_name(destination)}"


def _route_dim(routes: list[str]) -> Dim:
    codes = sorted(set(routes))
    return Dim.flat("route", "Route", codes, {c: route_label(c) for c in [TOTAL, *codes]})


def migrants_cube(con: duckdb.DuckDBPyConnection, flt: ReportFilter) -> Cube:
    """Smuggled migrants by route and year."""
    where, params = flt.where()
    frame = _query(con, f"""
        SELECT {ROUTE_SQL} AS route, {YEAR_SQL} AS year, count(*) AS n
        {MIGRANTS_FROM.format(legs=journeys(con))}{where} GROUP BY ALL""", params)
    return Cube.from_leaves("migrants", "Smuggled migrants by route", "persons",
                            [_route_dim(list(frame["route"])), _year_dim(frame)], frame)


def harm_cube(con: duckdb.DuckDBPyConnection, flt: ReportFilter) -> Cube:
    """Deaths (reported per case) and injured migrants, by route.

    A case's deaths are attributed to the route of its first migrant; deaths are
    a case-level count because the dead are often not recorded as persons.
    """
    where, params = flt.where()
    frame = _query(con, f"""WITH
        migrant AS (SELECT p.case_id, {ROUTE_SQL} AS route,
                           list_contains(string_split(coalesce(p.harm_on_route, ''), '|'), 'Injury') AS injured,
                           row_number() OVER (PARTITION BY p.case_id ORDER BY p.person_id) AS k
                    {MIGRANTS_FROM.format(legs=journeys(con))}{where})
        SELECT route, 'Injured' AS harm, count(*) AS n FROM migrant WHERE injured GROUP BY ALL
        UNION ALL
        SELECT m.route, 'Deaths' AS harm, sum(c.deaths_on_route) AS n
        FROM migrant m JOIN cases c ON c.id = m.case_id
        WHERE m.k = 1 AND c.deaths_on_route > 0 GROUP BY ALL""", params)
    harm = Dim.flat("harm", "Harm", ["Deaths", "Injured"], {"Injured": "Migrants injured",
                                                             "Deaths": "Deaths reported"}, total=False)
    return Cube.from_leaves("harm", "Deaths and injuries on smuggling routes", "persons",
                            [_route_dim(list(frame["route"])), harm], frame)


@dataclass(frozen=True)
class FeeRow:
    """Fee statistics of one route and year (``Total`` for all), in one currency."""

    route: str
    year: str
    currency: str
    reported: int
    median: float | None
    q1: float | None
    q3: float | None
    mean: float | None
    sd: float | None


def fee_rows(con: duckdb.DuckDBPyConnection, flt: ReportFilter) -> list[FeeRow]:
    """Median and interquartile range of fees by route x year, route, year and overall.

    Mean and standard deviation are rounded to cents: a floating-point sum depends on the order
    the rows arrive in, and the same registry must publish the same figures from either store.
    """
    where, params = flt.where()
    frame = _query(con, f"""WITH
        fees AS (SELECT {ROUTE_SQL} AS route, {YEAR_SQL} AS year, p.fee_currency AS currency,
                        p.smuggling_fee AS fee
                 {MIGRANTS_FROM.format(legs=journeys(con))} AND p.smuggling_fee IS NOT NULL{where})
        SELECT coalesce(route, '{TOTAL}') AS route, coalesce(year, '{TOTAL}') AS year,
               coalesce(currency, '{UNKNOWN}') AS currency, count(*) AS reported,
               quantile_cont(fee, 0.5) AS median, quantile_cont(fee, 0.25) AS q1,
               quantile_cont(fee, 0.75) AS q3, round(avg(fee), 2) AS mean,
               round(stddev_samp(fee), 2) AS sd
        FROM fees GROUP BY GROUPING SETS ((route, year, currency), (route, currency), (year, currency),
                                          (currency))
        ORDER BY route, year, currency""", params)
    return [
        FeeRow(str(r.route), str(r.year), str(r.currency), int(r.reported), *(
            None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
            for v in (r.median, r.q1, r.q3, r.mean, r.sd)))
        for r in frame.itertuples(index=False)
    ]


def publishable_fees(rows: list[FeeRow], migrants: Protected) -> list[FeeRow]:
    """Fee rows whose migrant count is shown and that rest on at least ``threshold`` fees."""
    out = []
    for row in rows:
        key = (row.route, row.year)
        if not migrants.cube.is_published(key) or migrants.shown_value(key) is None:
            continue
        if row.reported >= migrants.policy.threshold:
            out.append(row)
    return out


@dataclass(frozen=True)
class Revenue:
    """Estimated smuggling revenue of one route: migrants x mean fee, with a 95% interval."""

    route: str
    currency: str
    migrants: float
    reported: int
    estimate: float
    low: float
    high: float


def revenue(fees: list[FeeRow], migrants: Protected) -> list[Revenue]:
    """Revenue by route from the *published* migrant counts and fee means.

    Every migrant on a route is assumed to pay the route's mean reported fee;
    the interval is the normal 95% interval of that mean, scaled by the number
    of migrants (sampling uncertainty only, not reporting bias).
    """
    out = []
    for row in fees:
        if row.year != TOTAL or row.mean is None:
            continue
        n = migrants.shown_value((row.route, TOTAL))
        if n is None:
            continue
        half = Z95 * (row.sd or 0.0) / math.sqrt(row.reported)
        out.append(Revenue(row.route, row.currency, n, row.reported, n * row.mean,
                           n * max(0.0, row.mean - half), n * (row.mean + half)))
    return out
