"""Writing case documents into the store: prepare rows, then apply them.

Preparing is pure CPU work (encrypting personal fields, computing pseudonyms
and keyed content hashes, turning values into the form the database stores)
and runs in worker processes for large files. Rows travel as tuples in table
column order, already in the backend's stored form, so the process that owns
the transaction only binds them. Applying happens on the caller's connection,
inside the caller's transaction, so a failure or a kill leaves the store as it
was. Records already stored unchanged are skipped (re-importing a file adds
nothing); changed ones are updated with an audit event each; new ones are
inserted with ``executemany`` in batches.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import Boolean, Column, Connection, Date, DateTime, Integer, Table, delete, func, insert, select, update

from tipsom.core.errors import InputError
from tipsom.schema.document import PERSONS
from tipsom.schema.model import Entity, Field, Model
from tipsom.store import audit, history
from tipsom.store.crypto import FieldCipher
from tipsom.store.tables import PERSON_KEY, REGISTRY, ROW_HASH, pseudonym_column


def _as_is(value: Any) -> Any:
    return value


# sqlite3 binds exact str, int and float directly but sends None and bytes through its adapter
# lookup (two failed attribute lookups per value): binding a wide, mostly empty person row cost
# more than inserting it. Identity adapters take the direct route; what is stored is unchanged.
sqlite3.register_adapter(type(None), _as_is)
sqlite3.register_adapter(bytes, _as_is)

Row = tuple[Any, ...]
#: Columns an import never sets on update (they record the first import).
_KEEP_ON_UPDATE = frozenset({"created_at", "created_by_event"})
#: The schema group of fields derived by tipsom itself (context flags), never erased by an import.
DERIVED_GROUP = "context"


def person_key(case_id: str, person_id: str) -> str:
    return f"{case_id}/{person_id}"


def canonical_value(value: Any) -> Any:
    """A typed value in the form its hash covers: repeated records with their fields sorted.

    The order in which a reader happened to build a record's fields (a JSON
    object's key order, a CSV header's column order) says nothing about the
    record, so it must not change the hash: the same case read from CSV and
    from JSON Lines is then recognised as unchanged.
    """
    if isinstance(value, list) and value and isinstance(value[0], Mapping):
        return [sorted(item.items()) for item in value]
    return value


def canonical(record: Mapping[str, Any]) -> bytes:
    """The bytes a record's keyed row hash covers, the same for every input format.

    ``repr`` of the sorted typed values is deterministic and much cheaper than
    JSON. The columnar CSV path builds the same text from per-value pieces
    (``repr((name, canonical_value(value)))`` joined as a list), so it must stay a plain list repr.
    """
    return repr(sorted((name, canonical_value(value)) for name, value in record.items())).encode()


def text(value: Any) -> str:
    """A typed personal value as the text that is encrypted and pseudonymised."""
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _sqlite_value(column: Column[Any]) -> Callable[[Any], Any] | None:
    """How SQLAlchemy's SQLite dialect stores a value of this column, as a plain function."""
    if isinstance(column.type, DateTime):
        return lambda v: v.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(column.type, Date):
        return lambda v: v.isoformat()
    if isinstance(column.type, Boolean):
        return int
    return None


def _serial(column: Column[Any]) -> bool:
    return bool(column.primary_key and isinstance(column.type, Integer) and column.autoincrement is True)


class TableLayout:
    """One table's insert columns and how each value is stored on this backend.

    On SQLite, SQLAlchemy's per-value bind processing costs more than the
    insert itself, so values are converted once, where rows are prepared, to
    exactly what SQLAlchemy would write, and bound with the driver's
    ``executemany``. Other backends take typed values through SQLAlchemy.
    """

    def __init__(self, table: Table, sqlite: bool) -> None:
        self.table, self.sqlite = table, sqlite
        cols = [c for c in table.columns if not _serial(c)]
        self.columns = tuple(c.name for c in cols)
        self.index = {name: i for i, name in enumerate(self.columns)}
        self._encode = {c.name: fn for c in cols if sqlite and (fn := _sqlite_value(c)) is not None}
        self.hash_at = self.index.get(ROW_HASH, -1)

    def encoder(self, column: str) -> Callable[[Any], Any]:
        """Typed value (not None) to stored value for ``column``."""
        return self._encode.get(column, _as_is)

    def blank(self) -> list[Any]:
        return [None] * len(self.columns)

    @cached_property
    def insert_sql(self) -> str:
        names = ", ".join(f'"{n}"' for n in self.columns)
        return f'INSERT INTO "{self.table.name}" ({names}) VALUES ({", ".join("?" * len(self.columns))})'

    def insert(self, conn: Connection, rows: Sequence[Row]) -> None:
        if self.sqlite:
            conn.exec_driver_sql(self.insert_sql, list(rows))
        else:
            conn.execute(insert(self.table), [dict(zip(self.columns, r, strict=True)) for r in rows])

    def update(self, conn: Connection, key_column: str, key: str, row: Row,
               keep: frozenset[str] = frozenset()) -> None:
        """Overwrite the stored row, except columns in ``keep`` where the new row has no value."""
        values = {n: v for n, v in zip(self.columns, row, strict=True)
                  if n not in _KEEP_ON_UPDATE and n != key_column and not (n in keep and v is None)}
        if self.sqlite:
            sets = ", ".join(f'"{n}" = ?' for n in values)
            conn.exec_driver_sql(f'UPDATE "{self.table.name}" SET {sets} WHERE "{key_column}" = ?',
                                 (*values.values(), key))
        else:
            conn.execute(update(self.table).where(self.table.c[key_column] == key).values(**values))


def layouts(model: Model, sqlite: bool) -> dict[str, TableLayout]:
    return {e.name: TableLayout(REGISTRY[e.name], sqlite) for e in model.entities.values()}


@dataclass
class WriteCounts:
    cases_created: int = 0
    cases_updated: int = 0
    persons_created: int = 0
    persons_updated: int = 0
    unchanged: int = 0


@dataclass
class PreparedBatch:
    """Table rows ready to write, in file order; ``conflicts`` name cases whose records disagree.

    ``children`` maps a repeated entity to its rows; each names its person by
    the ``person_key`` column.
    """

    cases: dict[str, Row] = field(default_factory=dict)
    persons: dict[str, Row] = field(default_factory=dict)
    children: dict[str, list[Row]] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)
    #: Position of the ``person_key`` column in each repeated entity's rows.
    key_at: Mapping[str, int] = field(default_factory=dict)

    def add_case(self, cid: str, row: Row, hash_at: int) -> None:
        prior = self.cases.get(cid)
        if prior is not None and prior[hash_at] != row[hash_at]:
            self.conflicts.append(cid)
        self.cases[cid] = row

    def add_person(self, key: str, row: Row, children: Mapping[str, list[Row]], key_at: Mapping[str, int]) -> None:
        """Add a person and its repeated records; the importer refuses a second record of the same person."""
        self.persons[key] = row
        self.key_at = key_at
        for name, rows in children.items():
            self.children.setdefault(name, []).extend(rows)

    def drop(self, case_id: str | None, keys: Iterable[str]) -> None:
        """Take out persons (and, given ``case_id``, their case) that turned out to repeat earlier records."""
        gone = set(keys)
        for key in gone:
            self.persons.pop(key, None)
        if case_id is not None:
            self.cases.pop(case_id, None)
        for name, rows in self.children.items():
            at = self.key_at[name]
            self.children[name] = [r for r in rows if r[at] not in gone]


class _FieldSlot:
    """Where one field's typed value goes in a row, and how it is stored there."""

    __slots__ = ("at", "encode", "multi", "name", "personal")

    def __init__(self, f: Field, layout: TableLayout) -> None:
        self.name, self.personal, self.multi = f.name, f.personal, f.multi
        column = f"{f.name}_enc" if f.personal else f.name
        self.at = layout.index[column]
        self.encode = layout.encoder(column)

    def stored(self, value: Any, cipher: FieldCipher) -> Any:
        """The stored form of a typed value (not None)."""
        if self.personal:
            return cipher.seal(self.name, text(value))
        if self.multi:
            return "|".join(value)
        return self.encode(value)


class RowPreparer:
    """Turns validated documents into table rows (no database access)."""

    def __init__(self, model: Model, cipher: FieldCipher, *, event_id: int, now: dt.datetime,
                 sqlite: bool) -> None:
        self.model, self.cipher = model, cipher
        self.children = model.children("person")
        self.layouts = layouts(model, sqlite)
        self.slots: dict[str, dict[str, _FieldSlot]] = {
            e.name: {f.name: _FieldSlot(f, self.layouts[e.name]) for f in e.fields.values() if f.name != e.key}
            for e in model.entities.values()
        }
        self.pseudonyms = [(f.name, f.pseudonym) for f in model["person"].fields.values() if f.pseudonym]
        self.kinds = model.pseudonym_kinds
        created = self.layouts["case"].encoder("created_at")(now)
        #: Values of the audit columns every new row gets (column name to stored value).
        self.stamp = {"created_at": created, "updated_at": created, "created_by_event": event_id}
        #: Position of the ``person_key`` column in each repeated entity's rows.
        self.key_at = {c.name: self.layouts[c.name].index["person_key"] for c in self.children}

    def values(self, entity: str, rec: Mapping[str, Any]) -> list[Any]:
        """A full-width row of ``entity`` with the record's fields filled in."""
        row = self.layouts[entity].blank()
        slots = self.slots[entity]
        for name, value in rec.items():
            slot = slots.get(name)
            if slot is not None and value is not None:
                row[slot.at] = slot.stored(value, self.cipher)
        return row

    def finish(self, entity: str, row: list[Any], ids: Mapping[str, Any], row_hash: str) -> Row:
        """Add identity, hash and audit columns to a row built by :meth:`values`."""
        index = self.layouts[entity].index
        for name, value in (*ids.items(), *self.stamp.items()):
            row[index[name]] = value
        row[index[ROW_HASH]] = row_hash
        return tuple(row)

    def pseudonym_values(self, parts: Mapping[str, list[str]]) -> dict[str, str | None]:
        """Pseudonym columns from the texts of each kind (joined by spaces, in field order)."""
        return {pseudonym_column(kind): (self.cipher.pseudonym(kind, " ".join(parts[kind])) if kind in parts
                                         else None) for kind in self.kinds}

    def child_rows(self, key: str, child: Entity, items: Iterable[Mapping[str, Any]]) -> list[Row]:
        at = self.key_at[child.name]
        rows = []
        for item in items:
            row = self.values(child.name, item)
            row[at] = key
            rows.append(tuple(row))
        return rows

    def case_row(self, case_fields: Mapping[str, Any]) -> Row:
        return self.finish("case", self.values("case", case_fields), {"id": case_fields["case_id"]},
                           self.cipher.row_hash(canonical(case_fields)))

    def prepare(self, docs: Iterable[Mapping[str, Any]], batch: PreparedBatch | None = None) -> PreparedBatch:
        batch = batch if batch is not None else PreparedBatch()
        case_hash = self.layouts["case"].hash_at
        for doc in docs:
            cid = doc["case_id"]
            batch.add_case(cid, self.case_row({k: v for k, v in doc.items() if k != PERSONS}), case_hash)
            for person in doc[PERSONS]:
                pid = person["person_id"]
                key = person_key(cid, pid)
                parts: dict[str, list[str]] = {}
                for name, kind in self.pseudonyms:
                    if person.get(name) is not None:
                        parts.setdefault(kind, []).append(text(person[name]))
                ids = {PERSON_KEY: key, "case_id": cid, "person_id": pid, **self.pseudonym_values(parts)}
                row = self.finish("person", self.values("person", person), ids,
                                  self.cipher.row_hash(canonical(person)))
                children = {c.name: self.child_rows(key, c, person.get(c.table, [])) for c in self.children}
                batch.add_person(key, row, children, self.key_at)
        return batch


class CaseConflict(InputError):
    """Two records of the same case in one import disagree on case fields."""


@dataclass(frozen=True)
class Removal:
    """An update that would delete stored repeated records of a person (refused without ``replace``)."""

    person_key: str
    table: str
    reason: str


class BatchWriter:
    """Applies prepared batches on one connection (the caller owns the transaction).

    An update replaces a person's row and repeated records with the file's,
    with two safeguards. Fewer route legs, identifications or charges than
    stored are written only with ``replace``; otherwise the person is left as
    stored and a :class:`Removal` says why (a file cut short or exported
    without them must not erase them). Fields of the ``context`` group, which
    ``tipsom context flag-cases`` derives and fills in, keep their stored value
    when the file has none. So do the personal columns (ciphertexts and
    pseudonyms) of the persons named in ``sealed``: an editor who never
    revealed them submits them empty, and the stored values stay, in the same
    transaction, without being decrypted.
    """

    def __init__(self, conn: Connection, model: Model, *, actor: str, purpose: str, event_id: int,
                 replace: bool = False, sealed: frozenset[str] = frozenset()) -> None:
        self.conn, self.actor, self.purpose, self.event_id = conn, actor, purpose, event_id
        self.replace = replace
        self.children = model.children("person")
        self.layouts = layouts(model, conn.dialect.name == "sqlite")
        self.counts = WriteCounts()
        self.derived = frozenset(f.name for f in model["person"].fields.values() if f.group == DERIVED_GROUP)
        #: Person keys whose stored personal columns an empty submitted value leaves as they are.
        self.sealed = sealed
        personal = model["person"].personal_fields
        self._personal_columns = frozenset(
            [f"{f.name}_enc" for f in personal] + [pseudonym_column(f.pseudonym) for f in personal if f.pseudonym])
        self._removals: list[Removal] = []
        #: Cases that were stored before this import and that the file holds.
        self.stored_cases: set[str] = set()
        self._model = model
        #: Cases whose state before this write is already kept in the history.
        self._versioned: set[str] = set()

    def _keep_history(self, case_ids: Iterable[str]) -> None:
        """Keep the stored state of cases about to change (once per case per write), in this transaction."""
        todo = set(case_ids) - self._versioned
        if todo:
            history.keep(self.conn, self._model, todo, actor=self.actor, purpose=self.purpose,
                         change=history.Change.UPDATE, event_id=self.event_id)
            self._versioned |= todo

    def take_removals(self) -> list[Removal]:
        """The removals refused since the last call."""
        found, self._removals = self._removals, []
        return found

    def _removals_of(self, batch: PreparedBatch, keys: list[str]) -> set[str]:
        """Persons among ``keys`` whose update would store fewer repeated records than they have."""
        refused: set[str] = set()
        if self.replace or not keys:
            return refused
        for child in self.children:
            table = REGISTRY[child.name]
            at = self.layouts[child.name].index["person_key"]
            new: dict[str, int] = {}
            for r in batch.children.get(child.name, []):
                new[r[at]] = new.get(r[at], 0) + 1
            for i in range(0, len(keys), 5000):
                q = (select(table.c.person_key, func.count()).where(table.c.person_key.in_(keys[i : i + 5000]))
                     .group_by(table.c.person_key))
                for key, stored in self.conn.execute(q):
                    if stored > new.get(key, 0):
                        refused.add(key)
                        self._removals.append(Removal(
                            key, child.table, f"the file holds {new.get(key, 0)} of the {stored} stored "
                            f"{child.table.replace('_', ' ')} of person {key}; import with --replace to remove "
                            "the others"))
        return refused

    def dropped_persons(self, present: Container[str]) -> list[tuple[str, str]]:
        """(case id, person key) of stored persons of the file's stored cases that the file left out.

        With ``replace`` they are deleted (with their repeated records and an audit event each).
        """
        persons = REGISTRY["person"]
        cases = sorted(self.stored_cases)
        dropped: list[tuple[str, str]] = []
        for i in range(0, len(cases), 5000):
            q = select(persons.c.case_id, persons.c[PERSON_KEY]).where(persons.c.case_id.in_(cases[i : i + 5000]))
            dropped.extend((cid, key) for cid, key in self.conn.execute(q) if key not in present)
        if not self.replace:
            return dropped
        self._keep_history(cid for cid, _ in dropped)
        for cid, key in dropped:
            for child in self.children:
                child_t = REGISTRY[child.name]
                self.conn.execute(delete(child_t).where(child_t.c.person_key == key))
            self.conn.execute(delete(persons).where(persons.c[PERSON_KEY] == key))
            audit.record(self.conn, actor=self.actor, action=audit.AuditAction.DELETE, entity="person",
                         entity_id=key, purpose=self.purpose,
                         detail={"import_event": self.event_id, "case": cid, "reason": "not in the imported file"})
        return []

    def apply(self, batch: PreparedBatch) -> None:
        if batch.conflicts:
            raise CaseConflict(f"case {batch.conflicts[0]}: case fields differ between records of the same case")
        cases, persons = self.layouts["case"], self.layouts["person"]
        existing = self._existing(cases.table, cases.table.c.id, list(batch.cases))
        stored_persons = self._existing(persons.table, persons.table.c[PERSON_KEY], list(batch.persons))
        case_at = persons.index["case_id"]
        self._keep_history(
            [cid for cid, row in batch.cases.items()
             if (old := existing.get(cid)) is not None and old[1] != self.event_id and old[0] != row[cases.hash_at]]
            + [row[case_at] for key, row in batch.persons.items()
               if (old := stored_persons.get(key)) is not None and old[0] != row[persons.hash_at]])
        new_cases = []
        for cid, row in batch.cases.items():
            old = existing.get(cid)
            if old is None:
                new_cases.append(row)
                continue
            if old[1] != self.event_id:
                self.stored_cases.add(cid)
            if old[0] != row[cases.hash_at]:
                if old[1] == self.event_id:
                    raise CaseConflict(f"case {cid}: case fields differ from an earlier record in this import")
                self._update(cases, "id", cid, row, "case")
                self.counts.cases_updated += 1
        if new_cases:
            cases.insert(self.conn, new_cases)
            self.counts.cases_created += len(new_cases)
        existing = stored_persons
        refused = self._removals_of(batch, [k for k, row in batch.persons.items()
                                            if k in existing and existing[k][0] != row[persons.hash_at]])
        new_persons, changed = [], set()
        for key, row in batch.persons.items():
            old = existing.get(key)
            if old is not None and old[0] == row[persons.hash_at]:
                self.counts.unchanged += 1
                continue
            if key in refused:
                continue
            if old is None:
                new_persons.append(row)
                self.counts.persons_created += 1
            else:
                keep = self.derived | self._personal_columns if key in self.sealed else self.derived
                self._update(persons, PERSON_KEY, key, row, "person", keep=keep)
                for child in self.children:
                    child_t = REGISTRY[child.name]
                    self.conn.execute(delete(child_t).where(child_t.c.person_key == key))
                self.counts.persons_updated += 1
            changed.add(key)
        if new_persons:
            persons.insert(self.conn, new_persons)
        for child in self.children:
            layout = self.layouts[child.name]
            rows = batch.children.get(child.name, [])
            if len(changed) < len(batch.persons):
                at = layout.index["person_key"]
                rows = [r for r in rows if r[at] in changed]
            if rows:
                layout.insert(self.conn, rows)

    def _existing(self, table: Table, column: Any, keys: list[str]) -> dict[str, tuple[str, int | None]]:
        found: dict[str, tuple[str, int | None]] = {}
        for i in range(0, len(keys), 5000):
            q = select(column, table.c[ROW_HASH], table.c.created_by_event).where(column.in_(keys[i : i + 5000]))
            for k, h, ev in self.conn.execute(q):
                found[k] = (h, ev)
        return found

    def _update(self, layout: TableLayout, key_column: str, key: str, row: Row, entity: str,
                keep: frozenset[str] = frozenset()) -> None:
        layout.update(self.conn, key_column, key, row, keep)
        audit.record(self.conn, actor=self.actor, action=audit.AuditAction.UPDATE, entity=entity,
                     entity_id=key, purpose=self.purpose, detail={"import_event": self.event_id})
