"""Retention: erase the personal fields of persons whose ``retention_until`` has passed.

Data protection law, and the promise made to a victim when consent was
recorded, say how long identifying data may be kept. After that date the
person's sealed values (names, identity numbers, contacts, birth date) and
their keyed pseudonyms are blanked, in the live row and in every version of
the case's history, so nothing can be decrypted or matched on again. The
rest of the record stays: role, sex, age, exploitation, routes and
proceedings are what the national statistics count, and those counts must
not change because a name was erased. Nothing else is deleted.

One audit event per person says what was erased and why, in the same
transaction as the erasure: all persons due are erased, or none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, or_, select, update

from tipsom.store import audit, history
from tipsom.store.tables import PERSON_KEY, REGISTRY, pseudonym_column

if TYPE_CHECKING:
    from tipsom.store.db import Store


@dataclass(frozen=True)
class RetentionRun:
    """What a retention run found and did (``erased`` is 0 on a dry run)."""

    persons_due: int
    erased: int

    def to_dict(self) -> dict[str, int]:
        return {"persons_due": self.persons_due, "erased": self.erased}


def _columns(store: Store) -> list[str]:
    model = store.model
    personal = [f"{f.name}_enc" for f in model["person"].personal_fields]
    return personal + [pseudonym_column(k) for k in model.pseudonym_kinds]


def due(conn: Connection, store: Store, today: dt.date) -> list[tuple[str, str, dt.date]]:
    """(person key, case id, retention date) of persons past retention that still hold a personal value."""
    persons = REGISTRY["person"]
    q = (select(persons.c[PERSON_KEY], persons.c.case_id, persons.c.retention_until)
         .where(persons.c.retention_until < today, or_(*(persons.c[c].is_not(None) for c in _columns(store))))
         .order_by(persons.c[PERSON_KEY]))
    return [(r[0], r[1], r[2]) for r in conn.execute(q)]


def run_retention(store: Store, *, actor: str, today: dt.date | None = None, dry_run: bool = False,
                  purpose: str = "retention period ended") -> RetentionRun:
    """Erase the personal fields of every person past ``retention_until`` (before ``today``).

    A dry run only counts them. A person erased earlier holds no personal
    value and is not due again, so running twice erases nothing the second time.
    """
    today = today or dt.date.today()
    persons, columns = REGISTRY["person"], _columns(store)
    with store.begin() as conn:
        found = due(conn, store, today)
        if dry_run:
            return RetentionRun(len(found), 0)
        blank = dict.fromkeys(columns)
        for key, case_id, until in found:
            conn.execute(update(persons).where(persons.c[PERSON_KEY] == key)
                         .values(**blank, updated_at=audit.now()))
            versions = history.erase_personal(conn, store.model, case_id, [key])
            audit.record(conn, actor=actor, action=audit.AuditAction.ERASE, entity="person", entity_id=key,
                         purpose=purpose, detail={"case": case_id, "retention_until": until.isoformat(),
                                                  "fields": [f.name for f in store.model["person"].personal_fields],
                                                  "history_versions": versions})
    return RetentionRun(len(found), len(found))
