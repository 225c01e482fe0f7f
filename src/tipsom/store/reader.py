"""Reading case documents back out of the store, streamed in chunks.

Exports, screening and the web all read cases as documents (the same nested
form the importers accept). Personal fields are decrypted only when a cipher
is passed; callers that do so must have written an audit event for the read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, select

from tipsom.schema.document import PERSONS
from tipsom.schema.model import Entity, FieldType, Model
from tipsom.store.crypto import FieldCipher
from tipsom.store.tables import PERSON_KEY, REGISTRY


def _record(entity: Entity, m: Any, cipher: FieldCipher | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in entity.fields.values():
        if f.name == entity.key:
            continue
        if f.personal:
            if cipher is None:
                continue
            blob = m[f"{f.name}_enc"]
            value: Any = cipher.open(f.name, blob) if blob is not None else None
            if value is not None and f.type is FieldType.DATE:
                value = dt.date.fromisoformat(value)
            out[f.name] = value
        elif f.multi:
            raw = m[f.name]
            out[f.name] = raw.split("|") if raw else None
        else:
            out[f.name] = m[f.name]
    return out


def iter_documents(conn: Connection, model: Model, *, cipher: FieldCipher | None = None,
                   case_ids: Sequence[str] | None = None, chunk: int = 2000) -> Iterator[dict[str, Any]]:
    """Yield documents ordered by case id; all cases unless ``case_ids`` is given."""
    cases_t, persons_t = REGISTRY["case"], REGISTRY["person"]
    case_e, person_e = model["case"], model["person"]
    children = model.children("person")
    if case_ids is None:
        ids = [r[0] for r in conn.execute(select(cases_t.c.id).order_by(cases_t.c.id))]
    else:
        ids = list(case_ids)
    for i in range(0, len(ids), chunk):
        part = ids[i : i + chunk]
        case_rows = {r.id: r._mapping for r in conn.execute(select(cases_t).where(cases_t.c.id.in_(part)))}
        persons: dict[str, list[Any]] = {}
        for r in conn.execute(select(persons_t).where(persons_t.c.case_id.in_(part))
                              .order_by(persons_t.c.case_id, persons_t.c.person_id)):
            persons.setdefault(r.case_id, []).append(r._mapping)
        keys = [p[PERSON_KEY] for plist in persons.values() for p in plist]
        child_items: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for child in children:
            t = REGISTRY[child.name]
            by_person: dict[str, list[dict[str, Any]]] = {}
            for j in range(0, len(keys), 5000):
                q = select(t).where(t.c.person_key.in_(keys[j : j + 5000])).order_by(t.c.person_key, t.c.id)
                for r in conn.execute(q):
                    by_person.setdefault(r.person_key, []).append(_record(child, r._mapping, cipher))
            child_items[child.table] = by_person
        for cid in part:
            m = case_rows.get(cid)
            if m is None:
                continue
            doc = {"case_id": cid, **_record(case_e, m, cipher)}
            plist = []
            for p in persons.get(cid, []):
                person = {"person_id": p["person_id"], **_record(person_e, p, cipher)}
                for child in children:
                    person[child.table] = child_items[child.table].get(p[PERSON_KEY], [])
                plist.append(person)
            doc[PERSONS] = plist
            yield doc
