"""Assessments: needs and risk; for children the best-interests assessment and determination;
age assessments with their method and whether the benefit of the doubt was applied.

A BID is taken with the child's guardian, so one without a guardian is
refused; an age assessment must say how it was made and whether the benefit
of the doubt was given (a person whose age is uncertain is presumed a child:
CETS 197 art. 10(3), EU Directive 2011/36 art. 13(2)).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import insert, select

from tipsom.casework.access import Actor, acting, new_id, require_case
from tipsom.casework.enums import AgeMethod, AssessmentKind
from tipsom.casework.tables import assessments
from tipsom.core.errors import InputError
from tipsom.store import audit
from tipsom.store.db import Store

NOTES_FIELD = "casework_assessments.notes"


@dataclass(frozen=True)
class Assessment:
    id: str
    case_id: str
    person_key: str | None
    kind: AssessmentKind
    assessed_on: dt.date
    assessor: str
    guardian: str | None
    result: str
    method: AgeMethod | None
    benefit_of_doubt: bool | None


def record_assessment(store: Store, actor: Actor, case_id: str, *, kind: AssessmentKind, assessed_on: dt.date,
                      result: str, person_key: str | None = None, guardian: str | None = None,
                      method: AgeMethod | None = None, benefit_of_doubt: bool | None = None, notes: str = "",
                      now: dt.datetime | None = None) -> Assessment:
    if not result.strip():
        raise InputError("the result is required", field="result")
    if kind is AssessmentKind.BID and not (guardian or "").strip():
        raise InputError("a best-interests determination is taken with the child's guardian", field="guardian")
    if kind is AssessmentKind.AGE and (method is None or benefit_of_doubt is None):
        raise InputError("an age assessment records its method and whether the benefit of the doubt was applied",
                         field="method" if method is None else "benefit_of_doubt")
    with acting(store) as conn:
        require_case(conn, actor, case_id, write=True, purpose="record assessment")
        made = Assessment(new_id(), case_id, person_key, kind, assessed_on, actor.username,
                          (guardian or "").strip()[:200] or None, result.strip()[:100], method, benefit_of_doubt)
        conn.execute(insert(assessments).values(
            id=made.id, case_id=case_id, person_key=person_key, kind=str(kind), assessed_on=assessed_on,
            assessor=actor.username, guardian=made.guardian, result=made.result,
            method=str(method) if method else None, benefit_of_doubt=benefit_of_doubt,
            notes_enc=store.cipher.seal(NOTES_FIELD, notes.strip()) if notes.strip() else None,
            recorded_at=now or audit.now()))
        audit.record(conn, actor=actor.username, action=audit.AuditAction.CREATE, entity="assessment",
                     entity_id=made.id, purpose="record assessment", detail={"case_id": case_id, "kind": str(kind)})
    return made


def case_assessments(store: Store, actor: Actor, case_id: str) -> list[Assessment]:
    with acting(store) as conn:
        require_case(conn, actor, case_id, purpose="case assessments")
        rows = conn.execute(select(assessments).where(assessments.c.case_id == case_id)
                            .order_by(assessments.c.assessed_on))
        return [Assessment(r.id, r.case_id, r.person_key, AssessmentKind(r.kind), r.assessed_on, r.assessor,
                           r.guardian, r.result, AgeMethod(r.method) if r.method else None, r.benefit_of_doubt)
                for r in rows]
