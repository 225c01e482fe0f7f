"""Conflict-related documentation (UN Security Council resolutions 2331 and 2388).

Where a CONFLICT_NEXUS alert asks for it, the caseworker records the armed
group, when and where, the type of violence, the interview record (sealed at
rest) and whether the survivor gave informed consent to share it with an
accountability mechanism; without that consent it never leaves the case.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import insert

from tipsom.casework.access import Actor, acting, new_id, require_case
from tipsom.casework.enums import ViolenceType
from tipsom.casework.tables import conflict_records
from tipsom.core.errors import InputError
from tipsom.store import audit
from tipsom.store.db import Store

INTERVIEW_FIELD = "casework_conflict_records.interview"


@dataclass(frozen=True)
class AccountabilityConsent:
    recorded_by: str
    recorded_at: dt.datetime


def record_conflict(store: Store, actor: Actor, case_id: str, *, armed_group: str, violence_type: ViolenceType,
                    incident_on: dt.date | None = None, incident_place: str = "", interview: str = "",
                    consent: AccountabilityConsent | None = None, now: dt.datetime | None = None) -> str:
    """Record one conflict-related incident; ``consent`` is the consent to share with an accountability
    mechanism (``None``: not given)."""
    if not armed_group.strip():
        raise InputError("name the armed group (or 'unknown')", field="armed_group")
    with acting(store) as conn:
        require_case(conn, actor, case_id, write=True, purpose="conflict-related documentation")
        rid = new_id()
        conn.execute(insert(conflict_records).values(
            id=rid, case_id=case_id, armed_group=armed_group.strip()[:200], incident_on=incident_on,
            incident_place=incident_place.strip()[:200] or None, violence_type=str(ViolenceType(violence_type)),
            interview_enc=store.cipher.seal(INTERVIEW_FIELD, interview.strip()) if interview.strip() else None,
            consent_accountability=consent is not None,
            consent_recorded_by=consent.recorded_by if consent else None,
            consent_recorded_at=consent.recorded_at if consent else None,
            recorded_by=actor.username, recorded_at=now or audit.now()))
        audit.record(conn, actor=actor.username, action=audit.AuditAction.CREATE, entity="conflict_record",
                     entity_id=rid, purpose="conflict-related documentation",
                     detail={"case_id": case_id, "consent_accountability": consent is not None})
    return rid
