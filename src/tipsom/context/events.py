"""Importers for dated events: UCDP GED and ACLED (conflict), IDMC and EM-DAT (disasters).

Each event keeps its source identifier so that a flag raised on a case can
cite it. ACLED and EM-DAT forbid redistribution, so tipsom ships no data from
them; these importers read the files users download under their own licence,
and the tests use fixtures built from the published column layouts.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

from tipsom.context.boundaries import Boundaries
from tipsom.context.countries import resolve_country
from tipsom.context.records import Event, ImportResult, yearly_event_series
from tipsom.context.sources import (
    EventKind,
    IssueLog,
    Row,
    Source,
    Table,
    date_field,
    number_field,
    read_table,
)

UCDP_ALIASES = {
    "id": ["event id"],
    "country": [],
    "type_of_violence": [],
    "conflict_name": [],
    "date_start": [],
    "date_end": [],
    "adm_1": ["admin1"],
    "latitude": [],
    "longitude": [],
    "best": ["best estimate"],
}
UCDP_VIOLENCE = {"1": "state-based conflict", "2": "non-state conflict", "3": "one-sided violence"}

ACLED_ALIASES = {
    "event_id_cnty": ["event id"],
    "event_date": [],
    "event_type": [],
    "sub_event_type": [],
    "iso": [],
    "country": [],
    "admin1": [],
    "location": [],
    "latitude": [],
    "longitude": [],
    "fatalities": [],
}

IDMC_EVENT_ALIASES = {
    "iso3": ["iso"],
    "name": ["country / territory", "country"],
    "year": [],
    "start_date": ["date of event (start)", "start date"],
    "event_name": [],
    "event_id": ["event id"],
    "hazard_category": [],
    "hazard_type": [],
    "displacements": [
        "new displacements", "disaster internal displacements", "disaster new displacements",
    ],
}

EMDAT_ALIASES = {
    "disno": ["dis no", "disno."],
    "group": ["disaster group"],
    "subgroup": ["disaster subgroup"],
    "type": ["disaster type"],
    "subtype": ["disaster subtype"],
    "event_name": [],
    "iso": [],
    "country": [],
    "location": [],
    "latitude": [],
    "longitude": [],
    "start_year": [],
    "start_month": [],
    "start_day": [],
    "end_year": [],
    "end_month": [],
    "end_day": [],
    "deaths": ["total deaths"],
    "homeless": ["no homeless", "no. homeless"],
    "affected": ["total affected"],
}


def _country(row: Row, log: IssueLog, code_key: str | None, name_key: str) -> str | None:
    code = row.get(code_key) if code_key else ""
    name = row.get(name_key)
    iso3 = resolve_country(code) if code else None
    if iso3 is None:
        iso3 = resolve_country(name) if name else None
    if iso3 is None:
        column = code_key if code and code_key else name_key
        log.reject(row.line, column, f"unknown country {code or name!r}; add it to the variant table")
    return iso3


def _place(
    row: Row, log: IssueLog, boundaries: Boundaries | None, admin_key: str | None
) -> tuple[float | None, float | None, str | None]:
    lat = number_field(row, "latitude", log, allow_negative=True)
    lon = number_field(row, "longitude", log, allow_negative=True)
    if boundaries is None:
        return lat, lon, (row.get(admin_key) or None) if admin_key else None
    if lat is None or lon is None:
        log.warn(row.line, "latitude", "no coordinates, so no admin-1 unit could be assigned")
        return lat, lon, None
    unit = boundaries.locate(lon, lat)
    if unit is None:
        log.warn(row.line, "latitude", f"point ({lat}, {lon}) lies outside the supplied boundaries")
        return lat, lon, None
    return lat, lon, unit.unit_id


def _row_id(row: Row) -> str:
    digest = hashlib.sha256("\x1f".join(f"{k}={v}" for k, v in sorted(row.values.items())).encode())
    return digest.hexdigest()[:16]


def _finish(source: Source, table: Table, log: IssueLog, events: list[Event]) -> ImportResult:
    result = ImportResult(source, str(table.path), table.encoding, len(table.rows))
    result.events = events
    result.observations = yearly_event_series(events, source)
    result.issues = log.issues
    return result


def import_ucdp(
    path: Path, boundaries: Boundaries | None = None, encoding: str | None = None
) -> ImportResult:
    """UCDP Georeferenced Event Dataset (CSV): one row per event, deaths as ``best``."""
    required = ["id", "country", "type_of_violence", "date_start", "best"]
    table = read_table(path, UCDP_ALIASES, required, encoding)
    log = IssueLog(str(path))
    events = []
    for row in table.rows:
        iso3 = _country(row, log, None, "country")
        start = date_field(row, "date_start", log)
        if start is None:
            log.reject(row.line, "date_start", "no event date")
        if iso3 is None or start is None:
            continue
        lat, lon, admin1 = _place(row, log, boundaries, "adm_1")
        violence = row.get("type_of_violence")
        events.append(Event(
            Source.UCDP, row.get("id"), EventKind.CONFLICT, UCDP_VIOLENCE.get(violence, violence), iso3,
            start, date_field(row, "date_end", log), admin1, lat, lon,
            fatalities=number_field(row, "best", log), name=row.get("conflict_name"),
        ))
    return _finish(Source.UCDP, table, log, events)


def import_acled(
    path: Path, boundaries: Boundaries | None = None, encoding: str | None = None
) -> ImportResult:
    """ACLED export (CSV): ``iso`` is the ISO 3166 numeric code; dates are ISO or '31 January 2023'."""
    required = ["event_id_cnty", "event_date", "event_type", "country", "fatalities"]
    table = read_table(path, ACLED_ALIASES, required, encoding)
    log = IssueLog(str(path))
    events = []
    for row in table.rows:
        iso3 = _country(row, log, "iso", "country")
        start = date_field(row, "event_date", log)
        if start is None:
            log.reject(row.line, "event_date", "no event date")
        if iso3 is None or start is None:
            continue
        lat, lon, admin1 = _place(row, log, boundaries, "admin1")
        subtype = " / ".join(v for v in (row.get("event_type"), row.get("sub_event_type")) if v)
        events.append(Event(
            Source.ACLED, row.get("event_id_cnty"), EventKind.CONFLICT, subtype, iso3, start, None,
            admin1, lat, lon, fatalities=number_field(row, "fatalities", log), name=row.get("location"),
        ))
    return _finish(Source.ACLED, table, log, events)


def import_idmc_disasters(path: Path, encoding: str | None = None) -> ImportResult:
    """IDMC GIDD disaster events: new displacements per event (no coordinates, country level)."""
    required = ["iso3", "year", "start_date", "hazard_type", "displacements"]
    table = read_table(path, IDMC_EVENT_ALIASES, required, encoding)
    log = IssueLog(str(path))
    events = []
    for row in table.rows:
        iso3 = _country(row, log, "iso3", "name")
        start = date_field(row, "start_date", log)
        if start is None:
            log.reject(row.line, "start_date", "no start date")
        if iso3 is None or start is None:
            continue
        subtype = " / ".join(v for v in (row.get("hazard_category"), row.get("hazard_type")) if v)
        events.append(Event(
            Source.IDMC_DISASTERS, row.get("event_id") or _row_id(row), EventKind.DISASTER, subtype, iso3,
            start, displaced=number_field(row, "displacements", log), name=row.get("event_name"),
        ))
    return _finish(Source.IDMC_DISASTERS, table, log, events)


def _emdat_date(row: Row, log: IssueLog, prefix: str) -> date | None:
    year = number_field(row, f"{prefix}_year", log)
    if year is None:
        return None
    month = number_field(row, f"{prefix}_month", log)
    day = number_field(row, f"{prefix}_day", log)
    if month is None or day is None:
        log.warn(row.line, f"{prefix}_month", "date incomplete; the first day of the known period is used")
    try:
        return date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        log.warn(row.line, f"{prefix}_day", f"impossible date {year:g}-{month}-{day}")
        return None


def import_emdat(
    path: Path, boundaries: Boundaries | None = None, encoding: str | None = None
) -> ImportResult:
    """EM-DAT public table (CSV or xlsx, old and 2023+ headers): deaths, homeless, affected."""
    required = ["disno", "type", "iso", "start_year", "deaths", "affected"]
    table = read_table(path, EMDAT_ALIASES, required, encoding, header_hint="ISO")
    log = IssueLog(str(path))
    events = []
    for row in table.rows:
        iso3 = _country(row, log, "iso", "country")
        start = _emdat_date(row, log, "start")
        if start is None:
            log.reject(row.line, "start_year", "no start year")
        if iso3 is None or start is None:
            continue
        lat, lon, admin1 = _place(row, log, boundaries, None) if table.has("latitude") else (None, None, None)
        subtype = " / ".join(v for v in (row.get("group"), row.get("type"), row.get("subtype")) if v)
        events.append(Event(
            Source.EMDAT, row.get("disno"), EventKind.DISASTER, subtype, iso3, start,
            _emdat_date(row, log, "end") if table.has("end_year") else None, admin1, lat, lon,
            fatalities=number_field(row, "deaths", log), displaced=number_field(row, "homeless", log),
            affected=number_field(row, "affected", log),
            name=row.get("event_name") or row.get("location"),
        ))
    return _finish(Source.EMDAT, table, log, events)

