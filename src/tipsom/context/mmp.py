"""IOM Missing Migrants Project incidents, in every layout IOM and its re-publishers use.

Known differences between copies of the data:

* coordinates as WKT ``POINT (lon lat)`` (older exports) or ``lat, lon`` (the
  current download and the Kaggle copy): the order of the two numbers flips;
* Windows-1252 or UTF-8 text;
* the year: taken from ``Incident Date``; the file's own ``Incident year`` column
  disagrees on some rows, and those rows are reported. Files without dates (the
  Kaggle copy) fall back to the year column, and say so once;
* blank dead/missing cells mean zero (``Total = dead + missing`` holds on every
  row of the IOM export); the Kaggle copy also writes route ``0`` for unknown.

Rows without coordinates are kept (they count in the route totals) and reported.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from tipsom.context.records import ImportResult, Incident
from tipsom.context.sources import IssueLog, Row, Source, date_field, number_field, read_table

MMP_ALIASES = {
    "incident_id": ["main id", "incident id", "web id"],
    "region": ["region of incident", "region"],
    "incident_date": ["incident date", "reported date"],
    "incident_year": ["incident year", "year"],
    "dead": ["number of dead", "number dead"],
    "missing": ["minimum estimated number of missing", "number missing"],
    "total": ["total number of dead and missing", "total dead and missing"],
    "survivors": ["number of survivors"],
    "females": ["number of females"],
    "males": ["number of males"],
    "children": ["number of children"],
    "cause": ["cause of death"],
    "route": ["migration route"],
    "location": ["location of death", "location of incident", "location description"],
    "coordinates": ["location coordinates"],
}

#: IOM's cause-of-death categories. Some contain commas, so a multi-cause cell
#: ("Drowning,Harsh environmental conditions / lack of adequate shelter, food, water")
#: cannot be split on commas alone.
CAUSES = (
    "Drowning",
    "Vehicle accident / death linked to hazardous transport",
    "Harsh environmental conditions / lack of adequate shelter, food, water",
    "Violence",
    "Sickness / lack of access to adequate healthcare",
    "Accidental death",
    "Mixed or unknown",
)

_WKT = re.compile(r"^\s*POINT\s*\(\s*(-?[\d.]+)\s+(-?[\d.]+)\s*\)\s*$", re.IGNORECASE)
_LATLON = re.compile(r"^\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*$")
_UNKNOWN_ROUTES = {"", "0", "unknown"}


def parse_coordinates(text: str) -> tuple[float, float] | None:
    """(lon, lat) from ``POINT (lon lat)`` or ``lat, lon``; None when blank.

    Raises ValueError for text in neither format or outside the globe.
    """
    if not text.strip():
        return None
    if match := _WKT.match(text):
        lon, lat = float(match.group(1)), float(match.group(2))
    elif match := _LATLON.match(text):
        lat, lon = float(match.group(1)), float(match.group(2))
    else:
        raise ValueError(f"coordinates {text!r} are neither 'POINT (lon lat)' nor 'lat, lon'")
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise ValueError(f"coordinates {text!r} lie outside the globe")
    return lon, lat


def split_causes(text: str) -> tuple[str, ...]:
    """Split a multi-cause cell, recognising IOM's categories before splitting on commas."""
    causes: list[str] = []
    rest = text.strip()
    while rest:
        known = next((c for c in CAUSES if rest.lower().startswith(c.lower())), None)
        if known:
            causes.append(known)
            rest = rest[len(known):]
        else:
            head, _, rest = rest.partition(",")
            causes.append(head.strip())
        rest = rest.lstrip(", ").strip()
    return tuple(c for c in causes if c)


def _year(row: Row, log: IssueLog, has_date_column: bool) -> tuple[int | None, date | None]:
    when = date_field(row, "incident_date", log) if has_date_column else None
    stated = row.get("incident_year")
    if when is not None:
        if stated.isdigit() and int(stated) != when.year:
            log.warn(row.line, "incident_year",
                     f"Incident year {stated} disagrees with Incident Date {when}; {when.year} used")
        return when.year, when
    if stated.isdigit():
        if has_date_column:
            log.warn(row.line, "incident_date", f"no Incident Date; year {stated} taken from Incident year")
        return int(stated), None
    log.reject(row.line, "incident_date", "neither an incident date nor a year")
    return None, None


def _counts(row: Row, log: IssueLog) -> tuple[float, float] | None:
    dead = number_field(row, "dead", log)
    # IOM writes a negative "missing" when people first reported missing were
    # later found dead: the total stays right, so the correction is kept.
    missing = number_field(row, "missing", log, allow_negative=True)
    if missing is not None and missing < 0:
        log.warn(row.line, "missing", f"negative missing ({missing:g}) read as a correction; kept")
    total = number_field(row, "total", log)
    if dead is None and missing is None:
        if total:
            log.warn(row.line, "dead", f"only the total ({total:g}) is given; counted as dead")
            return total, 0.0
        log.reject(row.line, "dead", "no number of dead, missing or total")
        return None
    dead, missing = dead or 0.0, missing or 0.0
    if total is not None and total != dead + missing:
        log.warn(row.line, "total", f"total {total:g} differs from dead {dead:g} + missing {missing:g}")
    return dead, missing


def import_mmp(path: Path, encoding: str | None = None) -> ImportResult:
    """Read a Missing Migrants Project incident file into :class:`Incident` records."""
    table = read_table(path, MMP_ALIASES, ["route", "coordinates"], encoding)
    log = IssueLog(str(path))
    has_date = table.has("incident_date")
    if not has_date:
        log.warn(0, "incident_date", "the file has no Incident Date column; years come from Incident year")
    result = ImportResult(Source.MMP, str(path), table.encoding, len(table.rows))
    for row in table.rows:
        year, when = _year(row, log, has_date)
        counts = _counts(row, log)
        if year is None or counts is None:
            continue
        try:
            point = parse_coordinates(row.get("coordinates"))
        except ValueError as exc:
            log.warn(row.line, "coordinates", f"{exc}; incident kept without a location")
            point = None
        else:
            if point is None:
                log.warn(row.line, "coordinates", "no coordinates; incident kept without a location")
        route = row.get("route")
        if "," in route:
            log.warn(row.line, "route", f"several routes {route!r} on one incident; kept as a separate label")
        result.incidents.append(Incident(
            incident_id=row.get("incident_id") or f"line-{row.line}",
            year=year,
            incident_date=when,
            route=None if route.lower() in _UNKNOWN_ROUTES else route,
            region=row.get("region"),
            dead=counts[0],
            missing=counts[1],
            children=number_field(row, "children", log),
            females=number_field(row, "females", log),
            males=number_field(row, "males", log),
            survivors=number_field(row, "survivors", log),
            causes=split_causes(row.get("cause")),
            latitude=point[1] if point else None,
            longitude=point[0] if point else None,
            location=row.get("location"),
            line=row.line,
        ))
    result.issues = log.issues
    return result
