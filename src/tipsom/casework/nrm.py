"""National referral mechanism (NRM) decisions: reasonable grounds, conclusive grounds, recovery period.

Recording a referral to the NRM opens a reasonable-grounds decision due by
the jurisdiction's rule (in the UK, 5 working days). A positive
reasonable-grounds decision starts the recovery and reflection period, which
no rule or caller can make shorter than 30 calendar days (Council of Europe
Convention, art. 13), and opens the conclusive-grounds decision. Reasons
may describe the victim's account, so they are sealed at rest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from tipsom.casework.access import CASES, Actor, NotFound, TransitionRefused, acting, new_id, require_case
from tipsom.casework.deadlines import MIN_RECOVERY_DAYS, Deadline, deadline_book
from tipsom.casework.enums import NrmOutcome, NrmStage
from tipsom.casework.tables import nrm_decisions
from tipsom.core.errors import InputError
from tipsom.store import audit
from tipsom.store.db import Store

REASONS_FIELD = "casework_nrm_decisions.reasons"


@dataclass(frozen=True)
class NrmDecision:
    id: str
    case_id: str
    person_key: str | None
    stage: NrmStage
    jurisdiction: str
    referred_on: dt.date
    due_on: dt.date
    decided_on: dt.date | None
    decision_maker: str | None
    outcome: NrmOutcome | None
    recovery_ends_on: dt.date | None


def _decision(m: object) -> NrmDecision:
    r = dict(m)  # type: ignore[call-overload]
    return NrmDecision(r["id"], r["case_id"], r["person_key"], NrmStage(r["stage"]), r["jurisdiction"],
                       r["referred_on"], r["due_on"], r["decided_on"], r["decision_maker"],
                       NrmOutcome(r["outcome"]) if r["outcome"] else None, r["recovery_ends_on"])


def refer_to_nrm(store: Store, actor: Actor, case_id: str, *, referred_on: dt.date, person_key: str | None = None,
                 jurisdiction: str | None = None, now: dt.datetime | None = None) -> NrmDecision:
    """Record a referral to the NRM: opens the reasonable-grounds decision with its deadline.

    The jurisdiction is the case's unless given; the deadline comes from that
    jurisdiction's rule and calendar (weekends and public holidays skipped).
    """
    with acting(store) as conn:
        require_case(conn, actor, case_id, write=True, purpose="refer to NRM")
        where = (jurisdiction or conn.scalar(select(CASES.c.jurisdiction).where(CASES.c.id == case_id)) or "*")
        where = where.upper()
        due_on = deadline_book(store.settings).due(Deadline.NRM_REASONABLE_GROUNDS, where, referred_on)
        did = new_id()
        conn.execute(insert(nrm_decisions).values(
            id=did, case_id=case_id, person_key=person_key, stage=str(NrmStage.REASONABLE_GROUNDS),
            jurisdiction=where[:3], referred_on=referred_on, due_on=due_on, recorded_by=actor.username,
            recorded_at=now or audit.now()))
        audit.record(conn, actor=actor.username, action=audit.AuditAction.CREATE, entity="nrm_decision",
                     entity_id=did, purpose="refer to NRM",
                     detail={"case_id": case_id, "stage": str(NrmStage.REASONABLE_GROUNDS), "due_on": str(due_on)})
        return _decision(conn.execute(select(nrm_decisions).where(nrm_decisions.c.id == did)).one()._mapping)


def record_decision(store: Store, actor: Actor, decision_id: str, *, decided_on: dt.date, decision_maker: str,
                    outcome: NrmOutcome, reasons: str, recovery_days: int | None = None,
                    now: dt.datetime | None = None) -> NrmDecision:
    """Record the decision; a positive reasonable-grounds decision starts the recovery period
    (``recovery_days`` if longer than the rule, never under 30) and opens the conclusive-grounds decision."""
    if not decision_maker.strip():
        raise InputError("the decision-maker is required", field="decision_maker")
    if not reasons.strip():
        raise InputError("the reasons for the decision are required", field="reasons")
    if recovery_days is not None and recovery_days < MIN_RECOVERY_DAYS:
        raise InputError(f"the recovery and reflection period is at least {MIN_RECOVERY_DAYS} days "
                         "(Council of Europe Convention, art. 13)", field="recovery_days")
    at = now or audit.now()
    with acting(store) as conn:
        row = conn.execute(select(nrm_decisions).where(nrm_decisions.c.id == decision_id)).first()
        if row is None:
            raise NotFound(f"no NRM decision {decision_id!r}", field="decision_id", actor=actor,
                           entity="nrm_decision", entity_id=decision_id, purpose="record NRM decision")
        require_case(conn, actor, row.case_id, write=True, purpose="record NRM decision")
        if row.decided_on is not None:
            raise TransitionRefused("this decision is already recorded", field="decided_on")
        if decided_on < row.referred_on:
            raise InputError("the decision cannot come before the referral", field="decided_on")
        book = deadline_book(store.settings)
        recovery_ends = None
        if NrmStage(row.stage) is NrmStage.REASONABLE_GROUNDS and outcome is NrmOutcome.POSITIVE:
            by_rule = book.due(Deadline.RECOVERY_PERIOD, row.jurisdiction, decided_on)
            recovery_ends = max(by_rule, decided_on + dt.timedelta(days=recovery_days or 0))
            cid = new_id()
            conn.execute(insert(nrm_decisions).values(
                id=cid, case_id=row.case_id, person_key=row.person_key, stage=str(NrmStage.CONCLUSIVE_GROUNDS),
                jurisdiction=row.jurisdiction, referred_on=decided_on,
                due_on=max(recovery_ends, book.due(Deadline.NRM_CONCLUSIVE_GROUNDS, row.jurisdiction, decided_on)),
                recorded_by=actor.username, recorded_at=at))
        conn.execute(update(nrm_decisions).where(nrm_decisions.c.id == decision_id).values(
            decided_on=decided_on, decision_maker=decision_maker.strip()[:200], outcome=str(outcome),
            reasons_enc=store.cipher.seal(REASONS_FIELD, reasons.strip()), recovery_ends_on=recovery_ends))
        audit.record(conn, actor=actor.username, action=audit.AuditAction.UPDATE, entity="nrm_decision",
                     entity_id=decision_id, purpose="record NRM decision",
                     detail={"case_id": row.case_id, "outcome": str(outcome),
                             "recovery_ends_on": str(recovery_ends) if recovery_ends else None})
        return _decision(conn.execute(select(nrm_decisions).where(nrm_decisions.c.id == decision_id)).one()._mapping)


def case_decisions(store: Store, actor: Actor, case_id: str) -> list[NrmDecision]:
    """The case's NRM decisions in the order they were opened (reasons stay sealed)."""
    with acting(store) as conn:
        require_case(conn, actor, case_id, purpose="case NRM decisions")
        rows = conn.execute(select(nrm_decisions).where(nrm_decisions.c.case_id == case_id)
                            .order_by(nrm_decisions.c.referred_on, nrm_decisions.c.recorded_at))
        return [_decision(r._mapping) for r in rows]
