"""Where imported context data lives: tables on the shared tipsom metadata.

Context data sits in the same database as the case registry (SQLite on a
laptop, PostgreSQL for a team), so the panel model and the case flags can join
the two without exporting anything. Each import is recorded with the file's
SHA-256; importing the same file again replaces its rows instead of doubling
them.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)

from tipsom.context.flags import CaseFlag, FlagKind, FlagRun
from tipsom.context.records import Event, ImportResult
from tipsom.context.sources import EventKind, Source
from tipsom.store.base import metadata

if TYPE_CHECKING:
    from tipsom.store.db import Store


def _import_fk() -> Column[int]:
    return Column("import_id", Integer, ForeignKey("context_imports.id", ondelete="CASCADE"),
                  nullable=False, index=True)


imports_table = Table(
    "context_imports", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("sha256", String(64), nullable=False, index=True),
    Column("encoding", String(16), nullable=False),
    Column("rows_read", Integer, nullable=False),
    Column("issues", Integer, nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
)

observations_table = Table(
    "context_observations", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _import_fk(),
    Column("source", String(32), nullable=False),
    Column("iso3", String(3), nullable=False, index=True),
    Column("admin1", String(120)),
    Column("year", Integer, nullable=False),
    Column("series", String(120), nullable=False, index=True),
    Column("series_name", Text, nullable=False),
    Column("value", Float, nullable=False),
)

events_table = Table(
    "context_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _import_fk(),
    Column("source", String(32), nullable=False),
    Column("event_id", String(120), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("subtype", Text, nullable=False),
    Column("iso3", String(3), nullable=False, index=True),
    Column("admin1", String(120)),
    Column("start_date", Date, nullable=False, index=True),
    Column("end_date", Date),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("fatalities", Float),
    Column("displaced", Float),
    Column("affected", Float),
    Column("name", Text, nullable=False),
)

incidents_table = Table(
    "context_incidents", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _import_fk(),
    Column("incident_id", String(64), nullable=False),
    Column("year", Integer, nullable=False),
    Column("incident_date", Date),
    Column("route", Text),
    Column("region", Text, nullable=False),
    Column("dead", Float, nullable=False),
    Column("missing", Float, nullable=False),
    Column("children", Float),
    Column("females", Float),
    Column("males", Float),
    Column("survivors", Float),
    Column("causes", Text, nullable=False),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("location", Text, nullable=False),
)

case_flags_table = Table(
    "context_case_flags", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_key", String(130), nullable=False, index=True),
    Column("case_id", String(64), nullable=False, index=True),
    Column("person_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("source", String(32), nullable=False),
    Column("event_id", String(120), nullable=False),
    Column("event_name", Text, nullable=False),
    Column("event_date", Date, nullable=False),
    Column("detail", Text, nullable=False),
    Column("flagged_at", DateTime(timezone=True), nullable=False),
)

CONTEXT_TABLES = [imports_table, observations_table, events_table, incidents_table, case_flags_table]
#: Separator of several causes of death in one stored cell (IOM's own causes contain commas).
CAUSE_SEPARATOR = " | "


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def context_fields(flag: CaseFlag) -> dict[str, object]:
    """Registry context fields a flag can fill (only where the person's field is empty)."""
    if flag.kind is FlagKind.CONFLICT_SURGE:
        return {"conflict_area": True}
    if flag.climate_hazard is None:
        return {}
    fields: dict[str, object] = {"climate_hazard": flag.climate_hazard,
                                 "climate_event_year": flag.event_date.year}
    if flag.onset is not None:
        fields["climate_onset"] = flag.onset.value
    return fields


class ContextStore:
    """Read and write the context tables of an open store (its ``context_0001`` branch made them)."""

    def __init__(self, store: Store) -> None:
        # The caller opened (and checked) the store; context data is public, so its key is never needed here.
        self.engine = store.engine

    def save(self, result: ImportResult, path: Path) -> tuple[int, bool]:
        """Store an import; returns its id and whether an earlier copy of the file was replaced."""
        sha = file_digest(path)
        with self.engine.begin() as conn:
            earlier = conn.execute(
                select(imports_table.c.id).where(
                    imports_table.c.sha256 == sha, imports_table.c.source == result.source.value
                )
            ).scalars().all()
            for table in (observations_table, events_table, incidents_table):
                conn.execute(delete(table).where(table.c.import_id.in_(earlier)))
            conn.execute(delete(imports_table).where(imports_table.c.id.in_(earlier)))
            inserted = conn.execute(insert(imports_table).values(
                source=result.source.value, file_name=path.name, sha256=sha, encoding=result.encoding,
                rows_read=result.rows_read, issues=len(result.issues), imported_at=datetime.now(UTC),
            )).inserted_primary_key
            assert inserted is not None  # an INSERT into a table with a primary key always has one
            import_id = int(inserted[0])
            if result.observations:
                conn.execute(insert(observations_table), [
                    {"import_id": import_id, "source": o.source.value, "iso3": o.iso3, "admin1": o.admin1,
                     "year": o.year, "series": o.series, "series_name": o.series_name, "value": o.value}
                    for o in result.observations
                ])
            if result.events:
                conn.execute(insert(events_table), [
                    {"import_id": import_id, "source": e.source.value, "event_id": e.event_id,
                     "kind": e.kind.value, "subtype": e.subtype, "iso3": e.iso3, "admin1": e.admin1,
                     "start_date": e.start, "end_date": e.end, "latitude": e.latitude,
                     "longitude": e.longitude, "fatalities": e.fatalities, "displaced": e.displaced,
                     "affected": e.affected, "name": e.name}
                    for e in result.events
                ])
            if result.incidents:
                conn.execute(insert(incidents_table), [
                    {"import_id": import_id, "incident_id": i.incident_id, "year": i.year,
                     "incident_date": i.incident_date, "route": i.route, "region": i.region, "dead": i.dead,
                     "missing": i.missing, "children": i.children, "females": i.females, "males": i.males,
                     "survivors": i.survivors, "causes": CAUSE_SEPARATOR.join(i.causes),
                     "latitude": i.latitude, "longitude": i.longitude, "location": i.location}
                    for i in result.incidents
                ])
        return import_id, bool(earlier)

    def observations(self, series: list[str] | None = None) -> pd.DataFrame:
        """Stored observations (optionally only some series) as a data frame."""
        query = select(
            observations_table.c.source, observations_table.c.iso3, observations_table.c.admin1,
            observations_table.c.year, observations_table.c.series, observations_table.c.series_name,
            observations_table.c.value,
        )
        if series is not None:
            query = query.where(observations_table.c.series.in_(series))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        columns = ["source", "iso3", "admin1", "year", "series", "series_name", "value"]
        return pd.DataFrame([tuple(r) for r in rows], columns=columns)

    def save_flags(self, run: FlagRun, actor: str) -> dict[str, int]:
        """Replace all stored flags with ``run``'s and fill empty context fields of flagged persons.

        One transaction, one audit event; returns how many fields were filled, by field.
        The persons' ``row_hash`` stays the hash of the record as last imported, on purpose:
        re-importing the same file then leaves these derived fields alone instead of seeing
        every flagged person as changed and overwriting them. ``updated_at`` does change, so
        anything cached per person version sees the new values.
        """
        from tipsom.store import audit
        from tipsom.store.tables import PERSON_KEY, REGISTRY, audit_log

        persons = REGISTRY["person"]
        filled: dict[str, int] = {}
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            event_id = audit.record(conn, actor=actor, action=audit.AuditAction.UPDATE, entity="person",
                                    purpose="context flags from imported conflict and disaster data",
                                    detail={"flags": len(run.flags), "victims": run.victims})
            conn.execute(delete(case_flags_table))
            if run.flags:
                conn.execute(insert(case_flags_table), [
                    {"person_key": f.person_key, "case_id": f.case_id, "person_id": f.person_id,
                     "kind": f.kind.value, "scope": f.scope.value, "source": f.source, "event_id": f.event_id,
                     "event_name": f.event_name, "event_date": f.event_date, "detail": f.detail,
                     "flagged_at": now}
                    for f in run.flags
                ])
            for flag in run.flags:
                for column, value in context_fields(flag).items():
                    done = conn.execute(
                        update(persons)
                        .where(persons.c[PERSON_KEY] == flag.person_key, persons.c[column].is_(None))
                        .values({column: value, "updated_at": audit.now()})
                    ).rowcount
                    filled[column] = filled.get(column, 0) + done
            conn.execute(update(audit_log).where(audit_log.c.id == event_id).values(
                detail=json.dumps({"flags": len(run.flags), "victims": run.victims, "filled": filled},
                                  sort_keys=True)))
        return filled

    def flags(self) -> pd.DataFrame:
        with self.engine.connect() as conn:
            rows = conn.execute(select(case_flags_table).order_by(case_flags_table.c.id)).mappings().all()
        return pd.DataFrame([dict(r) for r in rows])

    def events(self, kind: EventKind | None = None) -> list[Event]:
        """Stored events, optionally of one kind."""
        query = select(events_table)
        if kind is not None:
            query = query.where(events_table.c.kind == kind.value)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            Event(Source(r["source"]), r["event_id"], EventKind(r["kind"]), r["subtype"], r["iso3"],
                  r["start_date"], r["end_date"], r["admin1"], r["latitude"], r["longitude"],
                  r["fatalities"], r["displaced"], r["affected"], r["name"])
            for r in rows
        ]
