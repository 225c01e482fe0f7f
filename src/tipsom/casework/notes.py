"""Case notes: dated narrative by an author, sealed at rest, read only with a stated purpose.

A note is where a caseworker writes what the victim said and how they were;
it is the most sensitive text tipsom holds. It is sealed with the data key
(never in clear in the database file), and every read names the reader and
the purpose in the audit log, like a person's personal fields.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, insert, select

from tipsom.casework.access import Actor, acting, new_id, require_case
from tipsom.casework.tables import notes
from tipsom.core.errors import InputError
from tipsom.store import audit
from tipsom.store.db import Store

NARRATIVE_FIELD = "casework_notes.narrative"
MAX_NOTE = 20_000


@dataclass(frozen=True)
class Note:
    id: str
    case_id: str
    author: str
    org_code: str
    written_at: dt.datetime
    narrative: str


def add_note(store: Store, actor: Actor, case_id: str, narrative: str, *, now: dt.datetime | None = None) -> str:
    """Write a note on a case the actor may work on; returns its id."""
    text = narrative.strip()
    if not text or len(text) > MAX_NOTE:
        raise InputError(f"1-{MAX_NOTE} characters required", field="narrative")
    with acting(store) as conn:
        require_case(conn, actor, case_id, write=True, purpose="write case note")
        nid = new_id()
        conn.execute(insert(notes).values(id=nid, case_id=case_id, author=actor.username, org_code=actor.org_code,
                                          written_at=now or audit.now(),
                                          narrative_enc=store.cipher.seal(NARRATIVE_FIELD, text)))
        audit.record(conn, actor=actor.username, action=audit.AuditAction.CREATE, entity="case_note",
                     entity_id=nid, purpose="write case note", detail={"case_id": case_id})
    return nid


def read_notes(store: Store, actor: Actor, case_id: str, *, purpose: str) -> list[Note]:
    """Every note of the case, oldest first, decrypted after one audit event naming the purpose.

    Refused without a purpose, and for a share that does not reach personal data.
    """
    if not purpose.strip():
        raise InputError("reading case notes needs a stated purpose", field="purpose")
    with acting(store) as conn:
        require_case(conn, actor, case_id, personal=True, purpose=purpose)
        rows = conn.execute(select(notes).where(notes.c.case_id == case_id)
                            .order_by(notes.c.written_at, notes.c.id)).all()
        audit.record(conn, actor=actor.username, action=audit.AuditAction.READ, entity="case_note",
                     entity_id=case_id, purpose=purpose.strip(), detail={"notes": [r.id for r in rows]})
    return [Note(r.id, r.case_id, r.author, r.org_code, r.written_at,
                 store.cipher.open(NARRATIVE_FIELD, r.narrative_enc)) for r in rows]


def count_notes(store: Store, actor: Actor, case_id: str) -> int:
    """How many notes the case has, without opening any: the case page offers to read them for a purpose."""
    with acting(store) as conn:
        require_case(conn, actor, case_id, purpose="count case notes")
        return int(conn.scalar(select(func.count()).select_from(notes).where(notes.c.case_id == case_id)) or 0)
