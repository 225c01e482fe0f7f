"""The case plan (goals and actions) with its approval, and conflict-related documentation sealed at rest."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.casework.conftest import World
from tipsom.casework import closure, plan
from tipsom.casework.access import Forbidden, NotFound, TransitionRefused
from tipsom.casework.conflict import AccountabilityConsent, record_conflict
from tipsom.casework.enums import ApprovalDecision, ApprovalSubject, PlanItemKind, PlanStatus, Service, ViolenceType
from tipsom.casework.tables import conflict_records
from tipsom.core.errors import InputError

NOW = dt.datetime(2026, 4, 2, 9, 0)


def test_plan_goals_actions_and_approval(world: World) -> None:
    goal = plan.add_item(world.store, world.a, world.case, kind=PlanItemKind.GOAL, description="Safe housing")
    with pytest.raises(InputError, match="goal"):
        plan.add_item(world.store, world.a, world.case, kind=PlanItemKind.ACTION, description="Find a bed")
    action = plan.add_item(world.store, world.a, world.case, kind=PlanItemKind.ACTION, goal_id=goal.id,
                           description="Shelter place", service=Service.SHELTER, responsible_org="ORGB",
                           starts_on=dt.date(2026, 4, 3), ends_on=dt.date(2026, 7, 3))
    assert [i.id for i in plan.case_plan(world.store, world.a, world.case)] == [goal.id, action.id]
    with pytest.raises(InputError, match="outcome"):
        plan.set_status(world.store, world.a, action.id, PlanStatus.DONE)
    assert plan.set_status(world.store, world.a, action.id, PlanStatus.DONE, outcome="placed").outcome == "placed"
    with pytest.raises(NotFound):
        plan.case_plan(world.store, world.c, world.case)
    asked = closure.request_approval(world.store, world.a, world.case, ApprovalSubject.CASE_PLAN,
                                     reason="plan agreed with the victim")
    with pytest.raises(TransitionRefused):
        closure.request_approval(world.store, world.a, world.case, ApprovalSubject.CASE_PLAN, reason="again")
    with pytest.raises(Forbidden, match="own request"):
        closure.decide(world.store, type(world.a_super)("a.worker", "ORGA", supervisor=True), asked.id,
                       ApprovalDecision.APPROVED)
    done = closure.decide(world.store, world.a_super, asked.id, ApprovalDecision.APPROVED, now=NOW)
    assert (done.decision, done.decided_by) == (ApprovalDecision.APPROVED, "a.super")


def test_conflict_record_is_sealed_and_consent_is_recorded(world: World) -> None:
    with pytest.raises(InputError, match="armed group"):
        record_conflict(world.store, world.a, world.case, armed_group=" ", violence_type=ViolenceType.ABDUCTION)
    rid = record_conflict(world.store, world.a, world.case, armed_group="unknown militia",
                          violence_type=ViolenceType.SEXUAL_SLAVERY, incident_on=dt.date(2025, 11, 2),
                          incident_place="border district", interview="Held by Thaddeus Wrenfield for months",
                          consent=AccountabilityConsent("a.worker", NOW))
    with world.store.engine.connect() as conn:
        row = conn.execute(select(conflict_records).where(conflict_records.c.id == rid)).one()
    assert row.consent_accountability is True
    assert row.consent_recorded_by == "a.worker"
    assert b"Wrenfield" not in bytes(row.interview_enc)
    with pytest.raises(NotFound):
        record_conflict(world.store, world.b, world.case, armed_group="x", violence_type=ViolenceType.OTHER)
