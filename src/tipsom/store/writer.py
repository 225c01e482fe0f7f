"""Writing case documents into the store: prepare rows, then apply them.

Preparing is pure CPU work (encrypting personal fields, computing pseudonyms
and keyed content hashes) and can run in worker processes. Applying happens
on the caller's connection, inside the caller's transaction, so a failure or
a kill leaves the store as it was. Records already stored unchanged are
skipped (re-importing a file adds nothing); changed ones are updated with an
audit event each; new ones are inserted with ``executemany`` in batches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Boolean, Connection, Date, DateTime, Table, delete, insert, select, update

from tipsom.schema.document import PERSONS
from tipsom.schema.model import Entity, Model
from tipsom.store import audit
from tipsom.store.crypto import FieldCipher
from tipsom.store.tables import PERSON_KEY, REGISTRY, ROW_HASH, pseudonym_column


def person_key(case_id: str, person_id: str) -> str:
    return f"{case_id}/{person_id}"


def _canonical(record: Mapping[str, Any]) -> bytes:
    # repr of the sorted typed values is deterministic and much cheaper than JSON.
    return repr(sorted(record.items())).encode()


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


@dataclass
class WriteCounts:
    cases_created: int = 0
    cases_updated: int = 0
    persons_created: int = 0
    persons_updated: int = 0
    unchanged: int = 0


@dataclass
class PreparedBatch:
    """Table rows ready to write; ``conflicts`` name cases whose records disagree."""

    cases: dict[str, dict[str, Any]] = field(default_factory=dict)
    persons: dict[str, dict[str, Any]] = field(default_factory=dict)
    children: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)


class _Plan:
    """How one entity's fields map to columns, worked out once."""

    def __init__(self, entity: Entity) -> None:
        self.template: dict[str, Any] = {}
        self.kinds: dict[str, tuple[str, str]] = {}
        for f in entity.fields.values():
            if f.name == entity.key:
                continue
            if f.personal:
                self.kinds[f.name] = ("personal", f"{f.name}_enc")
                self.template[f"{f.name}_enc"] = None
            else:
                self.kinds[f.name] = ("multi" if f.multi else "plain", f.name)
                self.template[f.name] = None


class RowPreparer:
    """Turns validated documents into table rows (no database access)."""

    def __init__(self, model: Model, cipher: FieldCipher, *, event_id: int, now: dt.datetime) -> None:
        self.model, self.cipher = model, cipher
        self.children = model.children("person")
        self.plans = {e.name: _Plan(e) for e in model.entities.values()}
        self.pseudonyms = [(f.name, f.pseudonym) for f in model["person"].fields.values() if f.pseudonym]
        self.kinds = model.pseudonym_kinds
        self.stamp = {"created_at": now, "updated_at": now, "created_by_event": event_id}

    def _row(self, entity: str, rec: Mapping[str, Any]) -> dict[str, Any]:
        plan = self.plans[entity]
        row = dict(plan.template)
        for name, value in rec.items():
            spec = plan.kinds.get(name)
            if spec is None or value is None:
                continue
            kind, column = spec
            if kind == "plain":
                row[column] = value
            elif kind == "multi":
                row[column] = "|".join(value)
            else:
                row[column] = self.cipher.seal(name, _text(value))
        return row

    def prepare(self, docs: Iterable[Mapping[str, Any]]) -> PreparedBatch:
        batch = PreparedBatch()
        for doc in docs:
            cid = doc["case_id"]
            case_fields = {k: v for k, v in doc.items() if k != PERSONS}
            row = self._row("case", case_fields)
            row.update(id=cid, **self.stamp)
            row[ROW_HASH] = self.cipher.row_hash(_canonical(case_fields))
            prior = batch.cases.get(cid)
            if prior is not None and prior[ROW_HASH] != row[ROW_HASH]:
                batch.conflicts.append(cid)
            batch.cases[cid] = row
            for person in doc[PERSONS]:
                key = person_key(cid, person["person_id"])
                prow = self._row("person", person)
                prow.update({PERSON_KEY: key, "case_id": cid, "person_id": person["person_id"], **self.stamp})
                parts: dict[str, list[str]] = {}
                for name, kind in self.pseudonyms:
                    if person.get(name) is not None:
                        parts.setdefault(kind, []).append(_text(person[name]))
                for kind in self.kinds:
                    prow[pseudonym_column(kind)] = (
                        self.cipher.pseudonym(kind, " ".join(parts[kind])) if kind in parts else None)
                prow[ROW_HASH] = self.cipher.row_hash(_canonical(person))
                batch.persons[key] = prow
                batch.children[key] = {
                    c.name: [{"person_key": key, **self._row(c.name, item)} for item in person.get(c.table, [])]
                    for c in self.children
                }
        return batch


def _sqlite_value(column: Any) -> Any:
    """How SQLAlchemy's SQLite dialect stores a value of this column, as a plain function."""
    if isinstance(column.type, DateTime):
        return lambda v: None if v is None else v.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(column.type, Date):
        return lambda v: None if v is None else v.isoformat()
    if isinstance(column.type, Boolean):
        return lambda v: None if v is None else int(v)
    return None


def bulk_insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows with the driver's ``executemany``.

    On SQLite, SQLAlchemy's per-value bind processing costs more than the
    insert itself, so values are converted here once per column kind and
    passed as tuples; the stored form is exactly what SQLAlchemy writes.
    Other backends go through SQLAlchemy unchanged.
    """
    if conn.dialect.name != "sqlite":
        conn.execute(insert(table), rows)
        return
    names = list(rows[0])
    columns = [table.c[n] for n in names]
    converters = [(i, fn) for i, c in enumerate(columns) if (fn := _sqlite_value(c)) is not None]
    sql = f'INSERT INTO "{table.name}" ({", ".join(chr(34) + n + chr(34) for n in names)}) ' \
          f'VALUES ({", ".join("?" * len(names))})'
    params = []
    for row in rows:
        values = [row[n] for n in names]
        for i, fn in converters:
            values[i] = fn(values[i])
        params.append(tuple(values))
    conn.exec_driver_sql(sql, params)


class CaseConflict(ValueError):
    """Two records of the same case in one import disagree on case fields."""


class BatchWriter:
    """Applies prepared batches on one connection (the caller owns the transaction)."""

    def __init__(self, conn: Connection, model: Model, *, actor: str, purpose: str, event_id: int) -> None:
        self.conn, self.actor, self.purpose, self.event_id = conn, actor, purpose, event_id
        self.children = model.children("person")
        self.counts = WriteCounts()

    def apply(self, batch: PreparedBatch) -> None:
        if batch.conflicts:
            raise CaseConflict(f"case {batch.conflicts[0]}: case fields differ between records of the same case")
        cases_t, persons_t = REGISTRY["case"], REGISTRY["person"]
        existing = self._existing(cases_t, cases_t.c.id, list(batch.cases))
        new_cases = []
        for cid, row in batch.cases.items():
            old = existing.get(cid)
            if old is None:
                new_cases.append(row)
            elif old[0] != row[ROW_HASH]:
                if old[1] == self.event_id:
                    raise CaseConflict(f"case {cid}: case fields differ from an earlier record in this import")
                self._update(cases_t, cases_t.c.id, cid, row, "case")
                self.counts.cases_updated += 1
        if new_cases:
            bulk_insert(self.conn, cases_t, new_cases)
            self.counts.cases_created += len(new_cases)
        existing = self._existing(persons_t, persons_t.c[PERSON_KEY], list(batch.persons))
        new_persons, changed = [], []
        for key, prow in batch.persons.items():
            old = existing.get(key)
            if old is not None and old[0] == prow[ROW_HASH]:
                self.counts.unchanged += 1
                continue
            if old is None:
                new_persons.append(prow)
                self.counts.persons_created += 1
            else:
                self._update(persons_t, persons_t.c[PERSON_KEY], key, prow, "person")
                for child in self.children:
                    child_t = REGISTRY[child.name]
                    self.conn.execute(delete(child_t).where(child_t.c.person_key == key))
                self.counts.persons_updated += 1
            changed.append(key)
        if new_persons:
            bulk_insert(self.conn, persons_t, new_persons)
        for child in self.children:
            rows = [r for key in changed for r in batch.children[key][child.name]]
            if rows:
                bulk_insert(self.conn, REGISTRY[child.name], rows)

    def _existing(self, table: Any, column: Any, keys: list[str]) -> dict[str, tuple[str, int | None]]:
        found: dict[str, tuple[str, int | None]] = {}
        for i in range(0, len(keys), 5000):
            q = select(column, table.c[ROW_HASH], table.c.created_by_event).where(column.in_(keys[i : i + 5000]))
            for k, h, ev in self.conn.execute(q):
                found[k] = (h, ev)
        return found

    def _update(self, table: Any, column: Any, key: str, row: dict[str, Any], entity: str) -> None:
        values = {k: v for k, v in row.items() if k not in ("created_at", "created_by_event")}
        self.conn.execute(update(table).where(column == key).values(**values))
        audit.record(self.conn, actor=self.actor, action=audit.AuditAction.UPDATE, entity=entity,
                     entity_id=key, purpose=self.purpose, detail={"import_event": self.event_id})
