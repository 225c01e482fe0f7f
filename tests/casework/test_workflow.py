"""Tasks from alerts, NRM decisions, notes, closure checks and approvals, and the due list."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select, update

from tests.casework.conftest import World
from tipsom.casework import closure, notes, nrm, tasks
from tipsom.casework import referrals as rf
from tipsom.casework.access import Forbidden, NotFound, TransitionRefused
from tipsom.casework.assessments import record_assessment
from tipsom.casework.due import due
from tipsom.casework.enums import (
    AgeMethod,
    ApprovalDecision,
    ApprovalSubject,
    AssessmentKind,
    DueKind,
    NrmOutcome,
    ReferralReason,
    Service,
    Urgency,
)
from tipsom.core.errors import InputError
from tipsom.store.tables import REGISTRY, audit_log

NOW = dt.datetime(2026, 4, 2, 9, 0)
PERSONS = REGISTRY["person"]
CASES = REGISTRY["case"]


@dataclass(frozen=True)
class FakeAlert:
    case_id: str
    person_id: str
    code: str


def test_alert_becomes_one_linked_task(world: World) -> None:
    alert = FakeAlert(world.case, "P1", "CHILD_PROTECTION")
    task = tasks.task_from_alert(world.store, world.a, alert, now=NOW)
    assert task.alert_code == "CHILD_PROTECTION"
    assert task.due_on == dt.date(2026, 4, 3)  # the rule: the next calendar day
    assert tasks.task_from_alert(world.store, world.a, alert, now=NOW).id == task.id
    assert [t.id for t in tasks.my_tasks(world.store, world.a)] == [task.id]
    with pytest.raises(NotFound):
        tasks.task_from_alert(world.store, world.b, alert, now=NOW)
    done = tasks.complete_task(world.store, world.a, task.id, now=NOW)
    assert done.done_by == "a.worker"
    with pytest.raises(TransitionRefused):
        tasks.complete_task(world.store, world.a, task.id)
    # once done, a new follow-up may be opened for the same alert
    assert tasks.task_from_alert(world.store, world.a, alert, now=NOW).id != task.id


def test_task_assignee_must_be_a_colleague(world: World) -> None:
    with pytest.raises(InputError, match="assignee"):
        tasks.create_task(world.store, world.a, world.case, title="Call lawyer", assignee="b.worker",
                          due_on=dt.date(2026, 4, 9))
    with pytest.raises(NotFound):
        tasks.create_task(world.store, world.b, world.case, title="Call lawyer", assignee="b.worker",
                          due_on=dt.date(2026, 4, 9))


def test_notes_are_sealed_and_reading_needs_a_purpose(world: World) -> None:
    nid = notes.add_note(world.store, world.a, world.case, "Told us about the debt of Quinbertha", now=NOW)
    with pytest.raises(InputError, match="purpose"):
        notes.read_notes(world.store, world.a, world.case, purpose=" ")
    read = notes.read_notes(world.store, world.a, world.case, purpose="prepare court support")
    assert [(n.id, n.narrative) for n in read] == [(nid, "Told us about the debt of Quinbertha")]
    with world.store.engine.connect() as conn:
        reads = conn.execute(select(audit_log.c.purpose).where(audit_log.c.entity == "case_note",
                                                              audit_log.c.action == "read")).all()
    assert [r.purpose for r in reads] == ["prepare court support"]
    world.store.dispose()
    if world.store.sqlite_path is not None:
        assert b"Quinbertha" not in world.store.sqlite_path.read_bytes()


def test_nrm_decisions_open_the_recovery_period_and_conclusive_grounds(world: World) -> None:
    rg = nrm.refer_to_nrm(world.store, world.a, world.case, referred_on=dt.date(2026, 4, 2), now=NOW)
    assert rg.due_on == dt.date(2026, 4, 13)
    with pytest.raises(InputError, match="at least 30"):
        nrm.record_decision(world.store, world.a, rg.id, decided_on=dt.date(2026, 4, 10), decision_maker="CA",
                            outcome=NrmOutcome.POSITIVE, reasons="credible account", recovery_days=14)
    decided = nrm.record_decision(world.store, world.a, rg.id, decided_on=dt.date(2026, 4, 10),
                                  decision_maker="Competent authority", outcome=NrmOutcome.POSITIVE,
                                  reasons="credible account")
    assert decided.recovery_ends_on == dt.date(2026, 5, 10)
    stages = nrm.case_decisions(world.store, world.a, world.case)
    assert [d.stage.value for d in stages] == ["reasonable_grounds", "conclusive_grounds"]
    assert stages[1].due_on >= dt.date(2026, 5, 10)
    with pytest.raises(TransitionRefused):
        nrm.record_decision(world.store, world.a, rg.id, decided_on=dt.date(2026, 4, 10), decision_maker="CA",
                            outcome=NrmOutcome.NEGATIVE, reasons="x")


def _make_child(world: World) -> str:
    with world.store.begin() as conn:
        key = conn.scalar(select(PERSONS.c.key).where(PERSONS.c.case_id == world.case,
                                                      PERSONS.c.role.in_(["Victim", "PresumedVictim"])))
        conn.execute(update(PERSONS).where(PERSONS.c.case_id == world.case).values(age=30, age_min=None))
        conn.execute(update(PERSONS).where(PERSONS.c.key == key).values(age=15))
    assert key is not None
    return str(key)


def test_closure_waits_for_referrals_tasks_and_the_childs_bid(world: World) -> None:
    child = _make_child(world)
    referral = rf.create_referral(world.store, world.a, world.case, to_org="ORGB", service=Service.SHELTER_FOR_CHILDREN,
                                  reason=ReferralReason.ADDITIONAL_SERVICES_REQUIRED, urgency=Urgency.URGENT,
                                  consent=rf.Consent("a.worker", NOW), summary="Girl, 15", now=NOW)
    task = tasks.create_task(world.store, world.a, world.case, title="Appoint guardian", assignee="a.worker",
                             due_on=dt.date(2026, 4, 3))
    with world.store.engine.connect() as conn:
        assert closure.closure_blockers(conn, world.case) == {
            closure.Blocker.OPEN_REFERRALS: 1, closure.Blocker.OPEN_TASKS: 1, closure.Blocker.CHILD_WITHOUT_BID: 1}
    with pytest.raises(TransitionRefused, match="open_referrals"):
        closure.request_approval(world.store, world.a, world.case, ApprovalSubject.CLOSURE, reason="done")
    rf.cancel(world.store, world.a, referral.id)
    tasks.complete_task(world.store, world.a, task.id)
    with pytest.raises(InputError, match="guardian"):
        record_assessment(world.store, world.a, world.case, kind=AssessmentKind.BID, assessed_on=dt.date(2026, 4, 5),
                          result="stay in foster care", person_key=child)
    with pytest.raises(TransitionRefused, match="child_without_bid"):
        closure.request_approval(world.store, world.a, world.case, ApprovalSubject.CLOSURE, reason="done")
    record_assessment(world.store, world.a, world.case, kind=AssessmentKind.BID, assessed_on=dt.date(2026, 4, 5),
                      result="stay in foster care", person_key=child, guardian="Guardianship service")
    with pytest.raises(InputError, match="reason"):
        closure.request_approval(world.store, world.a, world.case, ApprovalSubject.CLOSURE, reason="")
    asked = closure.request_approval(world.store, world.a, world.case, ApprovalSubject.CLOSURE,
                                     reason="Reunited with family")
    with pytest.raises(Forbidden):
        closure.decide(world.store, world.a, asked.id, ApprovalDecision.APPROVED)  # not a supervisor
    with pytest.raises(NotFound):
        closure.decide(world.store, world.b, asked.id, ApprovalDecision.APPROVED)
    approved = closure.decide(world.store, world.a_super, asked.id, ApprovalDecision.APPROVED, now=NOW)
    assert approved.decision is ApprovalDecision.APPROVED
    with world.store.engine.connect() as conn:
        assert conn.scalar(select(CASES.c.status).where(CASES.c.id == world.case)) == "Closed"


def test_benefit_of_the_doubt_makes_a_child(world: World) -> None:
    with world.store.begin() as conn:
        conn.execute(update(PERSONS).where(PERSONS.c.case_id == world.case).values(age=30, age_min=None))
        key = conn.scalar(select(PERSONS.c.key).where(PERSONS.c.case_id == world.case,
                                                      PERSONS.c.role.in_(["Victim", "PresumedVictim"])))
    with world.store.engine.connect() as conn:
        assert closure.closure_blockers(conn, world.case) == {}
    with pytest.raises(InputError, match="benefit"):
        record_assessment(world.store, world.a, world.case, kind=AssessmentKind.AGE, assessed_on=dt.date(2026, 4, 5),
                          result="16-19", person_key=key, method=AgeMethod.HOLISTIC)
    record_assessment(world.store, world.a, world.case, kind=AssessmentKind.AGE, assessed_on=dt.date(2026, 4, 5),
                      result="16-19", person_key=key, method=AgeMethod.HOLISTIC, benefit_of_doubt=True)
    with world.store.engine.connect() as conn:
        assert closure.closure_blockers(conn, world.case) == {closure.Blocker.CHILD_WITHOUT_BID: 1}


def test_due_lists_overdue_work_with_an_injected_clock(world: World) -> None:
    task = tasks.task_from_alert(world.store, world.a, FakeAlert(world.case, "P1", "CHILD_PROTECTION"), now=NOW)
    referral = rf.create_referral(world.store, world.a, world.case, to_org="ORGB", service=Service.SHELTER,
                                  reason=ReferralReason.OTHER, urgency=Urgency.ROUTINE,
                                  consent=rf.Consent("a.worker", NOW), summary="Adult", now=NOW)
    rf.send(world.store, world.a, referral.id, now=NOW)
    nrm.refer_to_nrm(world.store, world.a, world.case, referred_on=dt.date(2026, 4, 2))
    before = due(world.store, "ORGA", now=dt.datetime(2026, 4, 3, 8))
    assert [(d.kind, d.due.isoformat(), d.overdue) for d in before] == [
        (DueKind.TASK, "2026-04-03", False), (DueKind.NRM_REASONABLE_GROUNDS, "2026-04-13", False),
        (DueKind.REFERRAL_ANSWER, "2026-04-13", False)]
    after = due(world.store, "ORGA", now=dt.datetime(2026, 4, 4, 8))
    assert [d.ref for d in after if d.overdue] == [task.id]
    assert after[0].to_dict() == {"case_id": world.case, "kind": "task", "due": "2026-04-03", "overdue": True}
    # The receiving organisation sees the referral awaiting its answer, never the case id; C sees nothing.
    assert [d.to_dict() for d in due(world.store, "ORGB", now=NOW)] == [
        {"case_id": None, "kind": "referral_answer", "due": "2026-04-13", "overdue": False}]
    assert due(world.store, "ORGC", now=NOW) == []
    assert len(due(world.store, now=NOW)) == 3
    with world.store.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(audit_log).where(audit_log.c.entity == "task")) == 1


def test_share_scope_limits_what_another_organisation_may_do(world: World) -> None:
    from sqlalchemy import insert

    from tipsom.web.tables import case_shares

    notes.add_note(world.store, world.a, world.case, "first meeting", now=NOW)
    with world.store.begin() as conn:
        conn.execute(insert(case_shares).values(case_id=world.case, organisation="Organisation C", shared_by="a.super",
                                                created_at=NOW, scope="summary"))
    assert tasks.case_tasks(world.store, world.c, world.case) == []
    with pytest.raises(Forbidden):
        notes.read_notes(world.store, world.c, world.case, purpose="support")
    with pytest.raises(Forbidden):
        notes.add_note(world.store, world.c, world.case, "x")
    with world.store.begin() as conn:
        conn.execute(update(case_shares).where(case_shares.c.case_id == world.case).values(scope="personal"))
    assert [n.narrative for n in notes.read_notes(world.store, world.c, world.case, purpose="support")] == [
        "first meeting"]
    with world.store.begin() as conn:
        conn.execute(update(case_shares).where(case_shares.c.case_id == world.case).values(revoked_at=NOW))
    with pytest.raises(NotFound):
        tasks.case_tasks(world.store, world.c, world.case)
