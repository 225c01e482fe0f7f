"""Referrals: consent first, need-to-know for the receiving side, and the state machine."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import func, select, update

from tests.casework.conftest import World
from tipsom.casework import referrals as rf
from tipsom.casework.access import Forbidden, NotFound, TransitionRefused
from tipsom.casework.enums import ReferralReason, ReferralStatus, Service, Urgency
from tipsom.casework.tables import referrals
from tipsom.core.errors import InputError
from tipsom.store.tables import REGISTRY, audit_log

NOW = dt.datetime(2026, 4, 2, 9, 0)


def _consent(personal: bool = False) -> rf.Consent:
    return rf.Consent("a.worker", NOW - dt.timedelta(minutes=5), covers_personal=personal)


def consent_to_referral(w: World, case_id: str) -> None:
    """Record that the case's persons consented to referral (personal data travels only then)."""
    persons = REGISTRY["person"]
    with w.store.begin() as conn:
        conn.execute(update(persons).where(persons.c.case_id == case_id)
                     .values(consent_given=True, consent_purposes="Assistance|Referral"))


def _draft(w: World, *, personal: dict[str, str] | None = None) -> rf.Referral:
    if personal is not None:
        consent_to_referral(w, w.case)
    return rf.create_referral(w.store, w.a, w.case, to_org="ORGB", service=Service.SHELTER,
                              reason=ReferralReason.ADDITIONAL_SERVICES_REQUIRED, urgency=Urgency.URGENT,
                              consent=_consent(personal is not None), summary="Adult woman, needs a safe bed tonight",
                              personal=personal, now=NOW)


def _count(w: World) -> int:
    with w.store.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(referrals)) or 0)


def test_consent_is_required_and_limits_personal_data(world: World) -> None:
    with pytest.raises(InputError, match="consent"):
        rf.create_referral(world.store, world.a, world.case, to_org="ORGB", service=Service.SHELTER,
                           reason=ReferralReason.OTHER, urgency=Urgency.ROUTINE, consent=None, summary="x", now=NOW)
    with pytest.raises(InputError, match="consent covers"):
        rf.create_referral(world.store, world.a, world.case, to_org="ORGB", service=Service.SHELTER,
                           reason=ReferralReason.OTHER, urgency=Urgency.ROUTINE, consent=_consent(False),
                           summary="x", personal={"name": "Test Person"}, now=NOW)
    assert _count(world) == 0
    made = _draft(world)
    assert made.status is ReferralStatus.DRAFT
    assert made.consent_recorded_by == "a.worker"
    assert _count(world) == 1


def test_receiving_org_sees_summary_only_and_a_third_nothing(world: World) -> None:
    made = _draft(world, personal={"name": "Test Person", "phone": "+44 7700 900123"})
    # a draft is not sent: the receiving organisation cannot see it yet
    with pytest.raises(NotFound):
        rf.read_referral(world.store, world.b, made.id)
    rf.send(world.store, world.a, made.id, now=NOW)
    seen = rf.read_referral(world.store, world.b, made.id)
    assert seen.case_id is None
    assert seen.summary == made.summary
    assert seen.status is ReferralStatus.SENT
    assert [r.id for r in rf.incoming(world.store, world.b)] == [made.id]
    # B may not open the case itself
    from tipsom.casework.notes import read_notes
    with pytest.raises(NotFound):
        read_notes(world.store, world.b, world.case, purpose="curiosity")
    assert rf.read_personal(world.store, world.b, made.id, purpose="shelter intake")["name"] == "Test Person"
    for call in (lambda: rf.read_referral(world.store, world.c, made.id),
                 lambda: rf.read_personal(world.store, world.c, made.id, purpose="x"),
                 lambda: rf.accept(world.store, world.c, made.id)):
        with pytest.raises(NotFound):
            call()
    assert rf.incoming(world.store, world.c) == []
    with world.store.engine.connect() as conn:
        denied = conn.scalar(select(func.count()).select_from(audit_log).where(
            audit_log.c.actor == "c.worker", audit_log.c.action == "denied"))
    assert denied == 3


def test_personal_data_is_not_stored_in_clear(world: World) -> None:
    made = _draft(world, personal={"name": "Zebulon Quartermaine"})
    path = world.store.sqlite_path
    if path is None:
        with world.store.engine.connect() as conn:
            blob = conn.scalar(select(referrals.c.personal_enc).where(referrals.c.id == made.id))
        assert blob is not None
        assert b"Zebulon" not in bytes(blob)
    else:
        world.store.dispose()
        assert b"Zebulon" not in path.read_bytes()


def test_happy_path_stamps_every_step(world: World) -> None:
    made = _draft(world)
    sent = rf.send(world.store, world.a, made.id, summary="Adult, shelter needed", now=NOW)
    assert sent.summary == "Adult, shelter needed"
    assert sent.sent_at == NOW
    accepted = rf.accept(world.store, world.b, made.id, now=NOW + dt.timedelta(hours=2))
    assert accepted.status is ReferralStatus.ACCEPTED
    assert accepted.accepted_at == NOW + dt.timedelta(hours=2)
    assert rf.read_referral(world.store, world.a, made.id).status is ReferralStatus.ACCEPTED
    done = rf.complete(world.store, world.b, made.id, feedback="Placed for 3 months",
                       now=NOW + dt.timedelta(days=1))
    assert done.status is ReferralStatus.COMPLETED
    assert rf.read_referral(world.store, world.a, made.id).feedback == "Placed for 3 months"


def test_decline_needs_a_reason(world: World) -> None:
    made = _draft(world)
    rf.send(world.store, world.a, made.id, now=NOW)
    with pytest.raises(InputError, match="reason"):
        rf.decline(world.store, world.b, made.id, reason=" ")
    out = rf.decline(world.store, world.b, made.id, reason="no bed free", now=NOW)
    assert out.status is ReferralStatus.DECLINED
    assert out.decline_reason == "no bed free"


def _drive_to(w: World, status: ReferralStatus) -> str:
    made = _draft(w)
    path = {ReferralStatus.DRAFT: [], ReferralStatus.SENT: [rf.Step.SEND],
            ReferralStatus.ACCEPTED: [rf.Step.SEND, rf.Step.ACCEPT],
            ReferralStatus.DECLINED: [rf.Step.SEND, rf.Step.DECLINE],
            ReferralStatus.COMPLETED: [rf.Step.SEND, rf.Step.ACCEPT, rf.Step.COMPLETE],
            ReferralStatus.CANCELLED: [rf.Step.CANCEL]}[status]
    for step in path:
        _take(w, made.id, step)
    return made.id


def _take(w: World, rid: str, step: rf.Step) -> rf.Referral:
    side = rf.TRANSITIONS[step][2]
    actor = w.a if side is rf.Side.REFERRING else w.b
    if step is rf.Step.DECLINE:
        return rf.decline(w.store, actor, rid, reason="full", now=NOW)
    call = {rf.Step.SEND: rf.send, rf.Step.ACCEPT: rf.accept, rf.Step.COMPLETE: rf.complete,
            rf.Step.CANCEL: rf.cancel}[step]
    return call(w.store, actor, rid, now=NOW)  # type: ignore[operator]


def test_every_disallowed_transition_is_refused(world: World) -> None:
    refused = 0
    for status, step in itertools.product(ReferralStatus, rf.Step):
        sources, target, _, _ = rf.TRANSITIONS[step]
        if status is ReferralStatus.DRAFT and step is not rf.Step.SEND and step is not rf.Step.CANCEL:
            continue  # the receiving side cannot see a draft at all (tested above)
        rid = _drive_to(world, status)
        if status in sources:
            assert _take(world, rid, step).status is target
            continue
        with pytest.raises(TransitionRefused):
            _take(world, rid, step)
        assert rf.read_referral(world.store, world.a, rid).status is status
        refused += 1
    assert refused == 20


def test_wrong_side_is_refused(world: World) -> None:
    made = _draft(world)
    rf.send(world.store, world.a, made.id, now=NOW)
    with pytest.raises(Forbidden):
        rf.accept(world.store, world.a, made.id)
    with pytest.raises(Forbidden):
        rf.cancel(world.store, world.b, made.id)
