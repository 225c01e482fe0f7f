"""Writing case documents into the store, in batches, inside one transaction.

The writer is what makes imports safe: it encrypts personal fields, computes
pseudonyms and keyed content hashes, skips records already stored unchanged
(so re-importing a file adds nothing), updates changed ones with an audit
event each, and inserts new ones with ``executemany`` in batches. The caller
owns the transaction, so a failure or a kill leaves the store as it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from tipsom.schema.document import PERSONS
from tipsom.schema.model import Entity, Model
from tipsom.store import audit
from tipsom.store.crypto import FieldCipher
from tipsom.store.tables import PERSON_KEY, REGISTRY, ROW_HASH, pseudonym_column


def person_key(case_id: str, person_id: str) -> str:
    return f"{case_id}/{person_id}"


def _canonical(record: Mapping[str, Any]) -> bytes:
    return json.dumps(record, sort_keys=True, default=str, separators=(",", ":")).encode()


@dataclass
class WriteCounts:
    cases_created: int = 0
    cases_updated: int = 0
    persons_created: int = 0
    persons_updated: int = 0
    unchanged: int = 0


class CaseConflict(ValueError):
    """Two records of the same case in one import disagree on case fields."""


class DocumentWriter:
    """Upserts validated documents; one instance per transaction."""

    def __init__(self, conn: Connection, model: Model, cipher: FieldCipher, *, actor: str, purpose: str,
                 event_id: int) -> None:
        self.conn, self.model, self.cipher = conn, model, cipher
        self.actor, self.purpose, self.event_id = actor, purpose, event_id
        self.counts = WriteCounts()
        self._case_e, self._person_e = model["case"], model["person"]
        self._children = model.children("person")
        self._now = audit.now()

    # -- row building -------------------------------------------------------------------

    def _plain(self, entity: Entity, rec: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in entity.fields.values():
            if f.name == entity.key:
                continue
            value = rec.get(f.name)
            if f.personal:
                out[f"{f.name}_enc"] = None if value is None else self.cipher.seal(f.name, _text(value))
            elif f.multi:
                out[f.name] = "|".join(value) if value else None
            else:
                out[f.name] = value
        return out

    def _pseudonyms(self, rec: Mapping[str, Any]) -> dict[str, Any]:
        parts: dict[str, list[str]] = {}
        for f in self._person_e.fields.values():
            if f.pseudonym and rec.get(f.name) is not None:
                parts.setdefault(f.pseudonym, []).append(_text(rec[f.name]))
        return {
            pseudonym_column(kind): (self.cipher.pseudonym(kind, " ".join(parts[kind])) if kind in parts else None)
            for kind in self.model.pseudonym_kinds
        }

    def _stamp(self, rec: Mapping[str, Any]) -> dict[str, Any]:
        return {ROW_HASH: self.cipher.row_hash(_canonical(rec)), "created_at": self._now,
                "updated_at": self._now, "created_by_event": self.event_id}

    # -- batch upsert -------------------------------------------------------------------

    def write(self, docs: Iterable[Mapping[str, Any]]) -> None:
        """Upsert a batch of validated documents."""
        cases_t, persons_t = REGISTRY["case"], REGISTRY["person"]
        case_rows: dict[str, dict[str, Any]] = {}
        person_rows: dict[str, tuple[dict[str, Any], Mapping[str, Any]]] = {}
        for doc in docs:
            case_fields = {k: v for k, v in doc.items() if k != PERSONS}
            row = {"id": doc["case_id"], **self._plain(self._case_e, doc), **self._stamp(case_fields)}
            prior = case_rows.get(row["id"])
            if prior is not None and prior[ROW_HASH] != row[ROW_HASH]:
                raise CaseConflict(f"case {row['id']}: case fields differ between records of the same case")
            case_rows[row["id"]] = row
            for person in doc[PERSONS]:
                key = person_key(doc["case_id"], person["person_id"])
                prow = {PERSON_KEY: key, "case_id": doc["case_id"], "person_id": person["person_id"],
                        **self._plain(self._person_e, person), **self._pseudonyms(person),
                        **self._stamp(person)}
                person_rows[key] = (prow, person)
        existing_cases = self._existing(cases_t, cases_t.c.id, list(case_rows))
        new_cases = []
        for cid, row in case_rows.items():
            old = existing_cases.get(cid)
            if old is None:
                new_cases.append(row)
            elif old[0] != row[ROW_HASH]:
                if old[1] == self.event_id:
                    raise CaseConflict(f"case {cid}: case fields differ from an earlier record in this import")
                self._update(cases_t, cases_t.c.id, cid, row, "case")
                self.counts.cases_updated += 1
        if new_cases:
            self.conn.execute(insert(cases_t), new_cases)
            self.counts.cases_created += len(new_cases)
        existing_persons = self._existing(persons_t, persons_t.c[PERSON_KEY], list(person_rows))
        new_persons, children = [], []
        for key, (prow, person) in person_rows.items():
            old = existing_persons.get(key)
            if old is not None and old[0] == prow[ROW_HASH]:
                self.counts.unchanged += 1
                continue
            if old is None:
                new_persons.append(prow)
                self.counts.persons_created += 1
            else:
                self._update(persons_t, persons_t.c[PERSON_KEY], key, prow, "person")
                for child in self._children:
                    child_t = REGISTRY[child.name]
                    self.conn.execute(delete(child_t).where(child_t.c.person_key == key))
                self.counts.persons_updated += 1
            children.append((key, person))
        if new_persons:
            self.conn.execute(insert(persons_t), new_persons)
        for child in self._children:
            rows = [{"person_key": key, **self._plain(child, item)}
                    for key, person in children for item in person.get(child.table, [])]
            if rows:
                self.conn.execute(insert(REGISTRY[child.name]), rows)

    def _existing(self, table: Any, column: Any, keys: list[str]) -> dict[str, tuple[str, int | None]]:
        found: dict[str, tuple[str, int | None]] = {}
        for i in range(0, len(keys), 5000):
            chunk = keys[i : i + 5000]
            q = select(column, table.c[ROW_HASH], table.c.created_by_event).where(column.in_(chunk))
            for k, h, ev in self.conn.execute(q):
                found[k] = (h, ev)
        return found

    def _update(self, table: Any, column: Any, key: str, row: dict[str, Any], entity: str) -> None:
        values = {k: v for k, v in row.items() if k not in ("created_at", "created_by_event")}
        self.conn.execute(update(table).where(column == key).values(**values))
        audit.record(self.conn, actor=self.actor, action=audit.AuditAction.UPDATE, entity=entity,
                     entity_id=key, purpose=self.purpose, detail={"import_event": self.event_id})


def _text(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
