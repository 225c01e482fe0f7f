"""Supervisor approvals of a case plan and of a case's closure, with the checks closure needs.

Closing a case ends the organisation's duty to act, so a worker asks and a
supervisor of the owning organisation decides (never the one who asked).
Closure is refused while something would be left behind: a referral still
open, a task not done, or a child without a best-interests determination.
The checks run when the closure is asked for and again when it is approved,
since things change in between.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from sqlalchemy import Connection, exists, func, insert, or_, select, update

from tipsom.casework.access import CASES, Actor, Forbidden, NotFound, TransitionRefused, acting, new_id, require_case
from tipsom.casework.enums import ApprovalDecision, ApprovalSubject, AssessmentKind, ReferralStatus
from tipsom.casework.tables import approvals, assessments, referrals, tasks
from tipsom.core.errors import InputError
from tipsom.schema.enums import PersonRole
from tipsom.store import audit
from tipsom.store.db import Store
from tipsom.store.tables import PERSON_KEY, REGISTRY

PERSONS = REGISTRY["person"]
ADULT = 18
#: The case status a closure sets (HTCDS ``cas_Status``).
CLOSED = "Closed"


class Blocker(enum.StrEnum):
    OPEN_REFERRALS = "open_referrals"
    OPEN_TASKS = "open_tasks"
    CHILD_WITHOUT_BID = "child_without_bid"


@dataclass(frozen=True)
class Approval:
    id: str
    case_id: str
    subject: ApprovalSubject
    requested_by: str
    requested_at: dt.datetime
    reason: str
    decision: ApprovalDecision | None
    decided_by: str | None
    decided_at: dt.datetime | None


def _children(conn: Connection, case_id: str) -> list[str]:
    """Keys of the case's victims who are or may be children.

    The benefit of the doubt applies: a victim whose lowest age estimate is
    under 18, or whose age assessment applied the benefit of the doubt, counts
    as a child.
    """
    victim_roles = [str(r) for r in PersonRole if r.is_victim]
    doubt = exists().where(assessments.c.case_id == case_id, assessments.c.person_key == PERSONS.c[PERSON_KEY],
                           assessments.c.kind == str(AssessmentKind.AGE), assessments.c.benefit_of_doubt.is_(True))
    q = select(PERSONS.c[PERSON_KEY]).where(
        PERSONS.c.case_id == case_id, PERSONS.c.role.in_(victim_roles),
        or_(PERSONS.c.age < ADULT, PERSONS.c.age_min < ADULT, doubt))
    return [k for (k,) in conn.execute(q)]


def closure_blockers(conn: Connection, case_id: str) -> dict[Blocker, int]:
    """What stands in the way of closing the case, with how many of each (empty: it may close)."""
    found: dict[Blocker, int] = {}
    open_referrals = conn.scalar(select(func.count()).select_from(referrals).where(
        referrals.c.case_id == case_id, referrals.c.status.in_([str(s) for s in ReferralStatus if s.open]))) or 0
    open_tasks = conn.scalar(select(func.count()).select_from(tasks).where(
        tasks.c.case_id == case_id, tasks.c.done_at.is_(None))) or 0
    with_bid = {k for (k,) in conn.execute(select(assessments.c.person_key).where(
        assessments.c.case_id == case_id, assessments.c.kind == str(AssessmentKind.BID)))}
    # A BID recorded for the case as a whole (no person named) covers a case with one child.
    children = _children(conn, case_id)
    missing = [k for k in children if k not in with_bid]
    if None in with_bid and len(children) == 1:
        missing = []
    for blocker, n in ((Blocker.OPEN_REFERRALS, open_referrals), (Blocker.OPEN_TASKS, open_tasks),
                       (Blocker.CHILD_WITHOUT_BID, len(missing))):
        if n:
            found[blocker] = int(n)
    return found


def _refuse_blocked(blockers: dict[Blocker, int]) -> None:
    if blockers:
        listed = ", ".join(f"{b} ({n})" for b, n in blockers.items())
        raise TransitionRefused(f"the case cannot be closed yet: {listed}", field="closure")


def _approval(m: object) -> Approval:
    r = dict(m)  # type: ignore[call-overload]
    return Approval(r["id"], r["case_id"], ApprovalSubject(r["subject"]), r["requested_by"], r["requested_at"],
                    r["reason"], ApprovalDecision(r["decision"]) if r["decision"] else None, r["decided_by"],
                    r["decided_at"])


def request_approval(store: Store, actor: Actor, case_id: str, subject: ApprovalSubject, *, reason: str,
                     now: dt.datetime | None = None) -> Approval:
    """Ask a supervisor to approve the case plan or the closure; a closure needs a reason and no blockers."""
    if not reason.strip():
        raise InputError("a reason is required", field="reason")
    at = now or audit.now()
    with acting(store) as conn:
        require_case(conn, actor, case_id, write=True, purpose=f"request {subject} approval")
        if subject is ApprovalSubject.CLOSURE:
            _refuse_blocked(closure_blockers(conn, case_id))
        pending = conn.scalar(select(approvals.c.id).where(approvals.c.case_id == case_id,
                                                           approvals.c.subject == str(subject),
                                                           approvals.c.decision.is_(None)))
        if pending is not None:
            raise TransitionRefused(f"a {subject} approval is already waiting", field="subject")
        aid = new_id()
        conn.execute(insert(approvals).values(id=aid, case_id=case_id, subject=str(subject),
                                              requested_by=actor.username, requested_at=at, reason=reason.strip()))
        audit.record(conn, actor=actor.username, action=audit.AuditAction.CREATE, entity="approval", entity_id=aid,
                     purpose=f"request {subject} approval", detail={"case_id": case_id})
        return _approval(conn.execute(select(approvals).where(approvals.c.id == aid)).one()._mapping)


def decide(store: Store, actor: Actor, approval_id: str, decision: ApprovalDecision, *, comment: str = "",
           now: dt.datetime | None = None) -> Approval:
    """A supervisor of the owning organisation approves or refuses; an approved closure closes the case."""
    at = now or audit.now()
    with acting(store) as conn:
        row = conn.execute(select(approvals).where(approvals.c.id == approval_id)).first()
        if row is None:
            raise NotFound(f"no approval {approval_id!r}", field="approval_id", actor=actor, entity="approval",
                           entity_id=approval_id, purpose="decide approval")
        require_case(conn, actor, row.case_id, write=True, purpose="decide approval")
        if not actor.supervisor:
            raise Forbidden("only a supervisor decides approvals", field="decision", actor=actor,
                            entity="approval", entity_id=approval_id, purpose="decide approval")
        if row.requested_by == actor.username:
            raise Forbidden("a supervisor cannot approve their own request", field="decision", actor=actor,
                            entity="approval", entity_id=approval_id, purpose="decide approval")
        if row.decision is not None:
            raise TransitionRefused(f"already {row.decision}", field="decision")
        subject = ApprovalSubject(row.subject)
        if subject is ApprovalSubject.CLOSURE and decision is ApprovalDecision.APPROVED:
            _refuse_blocked(closure_blockers(conn, row.case_id))
            conn.execute(update(CASES).where(CASES.c.id == row.case_id).values(status=CLOSED, closed_on=at.date()))
        conn.execute(update(approvals).where(approvals.c.id == approval_id).values(
            decision=str(decision), decided_by=actor.username, decided_at=at, comment=comment.strip() or None))
        audit.record(conn, actor=actor.username, action=audit.AuditAction.UPDATE, entity="approval",
                     entity_id=approval_id, purpose=f"decide {subject} approval",
                     detail={"case_id": row.case_id, "decision": str(decision)})
        return _approval(conn.execute(select(approvals).where(approvals.c.id == approval_id)).one()._mapping)


def case_approvals(store: Store, actor: Actor, case_id: str) -> list[Approval]:
    """The case's approval requests, newest first: the case page shows what waits for a supervisor."""
    with acting(store) as conn:
        require_case(conn, actor, case_id, purpose="case approvals")
        rows = conn.execute(select(approvals).where(approvals.c.case_id == case_id)
                            .order_by(approvals.c.requested_at.desc()))
        return [_approval(r._mapping) for r in rows]
