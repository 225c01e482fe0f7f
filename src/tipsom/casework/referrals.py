"""Referrals from one organisation to another, with consent, a shared summary and a status per step.

A referral is how a shelter bed, a lawyer or a guardian is found for a
victim, and where trust between organisations is decided. So:

- the victim's informed consent, with who recorded it and when, is required
  before a referral exists; personal data travels only if that consent covers it;
- the receiving organisation sees the referral (service, urgency, the summary
  chosen at sending), never the case: not its identifier, not its persons;
- every step (``draft → sent → accepted | declined → completed``, or
  ``cancelled``) is made by the side whose step it is, stamped, and audited;
  any other change is refused with :class:`TransitionRefused`.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from tipsom.casework.access import (
    Actor,
    Forbidden,
    NotFound,
    TransitionRefused,
    acting,
    new_id,
    require_case,
    require_org,
)
from tipsom.casework.enums import ReferralReason, ReferralStatus, Service, Urgency
from tipsom.casework.tables import referrals
from tipsom.core.errors import InputError
from tipsom.schema.consent import ConsentTally
from tipsom.schema.enums import ConsentPurpose, PersonRole
from tipsom.store import audit
from tipsom.store.db import Store
from tipsom.store.tables import REGISTRY

PERSONAL_FIELD = "casework_referrals.personal"
#: Longest summary: a summary is a few lines for a colleague, not a copy of the file.
MAX_SUMMARY = 2000


class Side(enum.Enum):
    """Which organisation takes a step."""

    REFERRING = "referring"
    RECEIVING = "receiving"


class Step(enum.StrEnum):
    SEND = "send"
    ACCEPT = "accept"
    DECLINE = "decline"
    COMPLETE = "complete"
    CANCEL = "cancel"


#: (step) -> (statuses it may leave, status it reaches, side that takes it, column stamped).
TRANSITIONS: dict[Step, tuple[frozenset[ReferralStatus], ReferralStatus, Side, str]] = {
    Step.SEND: (frozenset({ReferralStatus.DRAFT}), ReferralStatus.SENT, Side.REFERRING, "sent_at"),
    Step.ACCEPT: (frozenset({ReferralStatus.SENT}), ReferralStatus.ACCEPTED, Side.RECEIVING, "accepted_at"),
    Step.DECLINE: (frozenset({ReferralStatus.SENT}), ReferralStatus.DECLINED, Side.RECEIVING, "declined_at"),
    Step.COMPLETE: (frozenset({ReferralStatus.ACCEPTED}), ReferralStatus.COMPLETED, Side.RECEIVING,
                    "completed_at"),
    Step.CANCEL: (frozenset({ReferralStatus.DRAFT, ReferralStatus.SENT, ReferralStatus.ACCEPTED}),
                  ReferralStatus.CANCELLED, Side.REFERRING, "cancelled_at"),
}


@dataclass(frozen=True)
class Consent:
    """The victim's informed consent to this referral, as recorded by a worker."""

    recorded_by: str
    recorded_at: dt.datetime
    #: Whether the victim agreed that personal data (name, contact) goes to the receiving organisation.
    covers_personal: bool = False


@dataclass(frozen=True)
class Referral:
    """A referral as one side sees it. ``case_id`` is ``None`` for the receiving organisation."""

    id: str
    case_id: str | None
    from_org: str
    to_org: str
    #: ``None`` only for a referral read from an HTCDS file.
    service: Service | None
    reason: ReferralReason
    urgency: Urgency
    status: ReferralStatus
    summary: str
    consent_recorded_by: str
    consent_recorded_at: dt.datetime
    consent_personal: bool
    has_personal: bool
    created_at: dt.datetime
    sent_at: dt.datetime | None
    accepted_at: dt.datetime | None
    declined_at: dt.datetime | None
    decline_reason: str | None
    completed_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    feedback: str | None

    def to_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, dt.datetime) else str(v) if isinstance(v, enum.Enum) else v)
                for k, v in self.__dict__.items()}


def _view(row: Any, side: Side) -> Referral:
    m = row._mapping
    return Referral(
        m["id"], m["case_id"] if side is Side.REFERRING else None, m["from_org"], m["to_org"],
        Service(m["service"]) if m["service"] else None, ReferralReason(m["reason"]), Urgency(m["urgency"]),
        ReferralStatus(m["status"]),
        m["summary"], m["consent_recorded_by"], m["consent_recorded_at"], bool(m["consent_personal"]),
        m["personal_enc"] is not None, m["created_at"], m["sent_at"], m["accepted_at"], m["declined_at"],
        m["decline_reason"], m["completed_at"], m["cancelled_at"], m["feedback"])


def _summary(text: str) -> str:
    text = text.strip()
    if not text:
        raise InputError("a summary for the receiving organisation is required", field="summary")
    if len(text) > MAX_SUMMARY:
        raise InputError(f"at most {MAX_SUMMARY} characters", field="summary")
    return text


def _audit(conn: Connection, actor: Actor, referral_id: str, action: audit.AuditAction, purpose: str,
           **detail: Any) -> None:
    audit.record(conn, actor=actor.username, action=action, entity="referral", entity_id=referral_id,
                 purpose=purpose, detail={"organisation": actor.org_code, **detail})


def _require_stored_consent(conn: Connection, case_id: str) -> None:
    """Refuse personal data in a referral unless every victim's recorded consent covers referral.

    The consent given for this referral is the worker's record of a
    conversation; the person's stored consent (``consent_purposes``) is what
    the victim agreed to when their data was taken. Both must allow it.
    """
    persons = REGISTRY["person"]
    victims = [str(r) for r in PersonRole if r.is_victim]
    tally = ConsentTally(ConsentPurpose.REFERRAL)
    q = select(persons.c.consent_given, persons.c.consent_purposes).where(persons.c.case_id == case_id,
                                                                          persons.c.role.in_(victims))
    for row in conn.execute(q).mappings():
        tally.allows(dict(row))
    if tally.total:
        raise InputError(f"personal data cannot go with this referral: {tally.describe('on the case')}",
                         field="personal")


def create_referral(store: Store, actor: Actor, case_id: str, *, to_org: str, service: Service,
                    reason: ReferralReason, urgency: Urgency, consent: Consent | None, summary: str,
                    personal: Mapping[str, str] | None = None, now: dt.datetime | None = None) -> Referral:
    """A draft referral of case ``case_id`` to ``to_org``; refused without consent.

    ``personal`` (e.g. name and phone for the shelter's intake) is sealed
    with the data key and kept only if the consent covers personal data.
    """
    if consent is None or not consent.recorded_by.strip():
        raise InputError("the victim's informed consent to the referral must be recorded first", field="consent")
    if personal and not consent.covers_personal:
        raise InputError("personal data can be shared only when the victim's consent covers it",
                         field="personal")
    at = now or audit.now()
    if consent.recorded_at > at:
        raise InputError("consent cannot be recorded in the future", field="consent")
    with acting(store) as conn:
        require_case(conn, actor, case_id, write=True, purpose="create referral")
        if personal:
            _require_stored_consent(conn, case_id)
        target = require_org(conn, to_org, "to_org")
        if target == actor.org_code:
            raise InputError("a referral goes to another organisation", field="to_org")
        rid = new_id()
        sealed = store.cipher.seal(PERSONAL_FIELD, json.dumps(dict(personal), sort_keys=True)) if personal else None
        conn.execute(insert(referrals).values(
            id=rid, case_id=case_id, from_org=actor.org_code, to_org=target, service=str(Service(service)),
            reason=str(ReferralReason(reason)), urgency=str(Urgency(urgency)),
            consent_recorded_by=consent.recorded_by.strip(), consent_recorded_at=consent.recorded_at,
            consent_personal=consent.covers_personal, status=str(ReferralStatus.DRAFT), created_by=actor.username,
            created_at=at, summary=_summary(summary), personal_enc=sealed))
        _audit(conn, actor, rid, audit.AuditAction.CREATE, "create referral", case_id=case_id, to_org=target,
               service=str(service), personal=sealed is not None)
        row = conn.execute(select(referrals).where(referrals.c.id == rid)).one()
    return _view(row, Side.REFERRING)


def _side(actor: Actor, row: Any) -> Side | None:
    if row.from_org == actor.org_code:
        return Side.REFERRING
    if row.to_org == actor.org_code and row.status != ReferralStatus.DRAFT:
        return Side.RECEIVING
    return None


def _load(conn: Connection, actor: Actor, referral_id: str, purpose: str) -> tuple[Any, Side]:
    """The referral and the actor's side of it; anyone else is told it does not exist (audited).

    A draft is invisible to the receiving organisation: nothing was sent yet.
    """
    row = conn.execute(select(referrals).where(referrals.c.id == referral_id)).first()
    side = _side(actor, row) if row is not None else None
    if row is None or side is None:
        raise NotFound(f"no referral {referral_id!r}", field="referral_id", actor=actor, entity="referral",
                       entity_id=referral_id, purpose=purpose, why="not a party to the referral")
    return row, side


def _step(store: Store, actor: Actor, referral_id: str, step: Step, now: dt.datetime | None,
          **values: Any) -> Referral:
    sources, target, side_needed, stamp = TRANSITIONS[step]
    with acting(store) as conn:
        row, side = _load(conn, actor, referral_id, f"{step} referral")
        if side is not side_needed:
            raise Forbidden(f"only the {side_needed.value} organisation may {step} a referral", field="status",
                            actor=actor, entity="referral", entity_id=referral_id, purpose=f"{step} referral")
        status = ReferralStatus(row.status)
        if status not in sources:
            raise TransitionRefused(f"a {status} referral cannot be {target}", field="status")
        if side is Side.REFERRING:
            require_case(conn, actor, row.case_id, write=True, purpose=f"{step} referral")
        done = conn.execute(update(referrals).where(referrals.c.id == referral_id,
                                                    referrals.c.status == row.status)
                            .values(status=str(target), **{stamp: now or audit.now()}, **values))
        if done.rowcount != 1:
            raise TransitionRefused("the referral changed meanwhile; reload it", field="status")
        _audit(conn, actor, referral_id, audit.AuditAction.UPDATE, f"{step} referral",
               status_from=str(status), status_to=str(target))
        fresh = conn.execute(select(referrals).where(referrals.c.id == referral_id)).one()
    return _view(fresh, side)


def send(store: Store, actor: Actor, referral_id: str, *, summary: str | None = None,
         now: dt.datetime | None = None) -> Referral:
    """Send a draft; ``summary`` replaces the draft's summary (it is chosen at sending)."""
    extra = {"summary": _summary(summary)} if summary is not None else {}
    return _step(store, actor, referral_id, Step.SEND, now, **extra)


def accept(store: Store, actor: Actor, referral_id: str, *, now: dt.datetime | None = None) -> Referral:
    return _step(store, actor, referral_id, Step.ACCEPT, now, answered_by=actor.username)


def decline(store: Store, actor: Actor, referral_id: str, *, reason: str, now: dt.datetime | None = None) -> Referral:
    """Decline with a reason (no bed, no interpreter...), so the referring worker can look elsewhere."""
    if not reason.strip():
        raise InputError("a reason for declining is required", field="reason")
    return _step(store, actor, referral_id, Step.DECLINE, now, answered_by=actor.username,
                 decline_reason=reason.strip()[:MAX_SUMMARY])


def complete(store: Store, actor: Actor, referral_id: str, *, feedback: str = "",
             now: dt.datetime | None = None) -> Referral:
    """The service was given; ``feedback`` goes back to the referring organisation."""
    return _step(store, actor, referral_id, Step.COMPLETE, now, feedback=feedback.strip()[:MAX_SUMMARY] or None)


def cancel(store: Store, actor: Actor, referral_id: str, *, now: dt.datetime | None = None) -> Referral:
    return _step(store, actor, referral_id, Step.CANCEL, now)


def read_referral(store: Store, actor: Actor, referral_id: str) -> Referral:
    """One referral as the actor's side sees it (audited)."""
    with acting(store) as conn:
        row, side = _load(conn, actor, referral_id, "read referral")
        _audit(conn, actor, referral_id, audit.AuditAction.READ, "read referral", side=side.value)
    return _view(row, side)


def read_personal(store: Store, actor: Actor, referral_id: str, *, purpose: str) -> dict[str, str]:
    """The personal data shared with the referral, for either side, with a stated purpose (audited).

    The receiving side reads it only once the referral is sent; it was sealed
    only if the victim's consent covered it.
    """
    if not purpose.strip():
        raise InputError("reading personal data needs a stated purpose", field="purpose")
    with acting(store) as conn:
        row, side = _load(conn, actor, referral_id, purpose)
        if row.personal_enc is None:
            raise InputError("this referral shares no personal data", field="referral_id")
        _audit(conn, actor, referral_id, audit.AuditAction.READ, purpose, side=side.value, personal=True)
    data: dict[str, str] = json.loads(store.cipher.open(PERSONAL_FIELD, row.personal_enc))
    return data


def incoming(store: Store, actor: Actor, *, status: ReferralStatus | None = None) -> list[Referral]:
    """Referrals sent to the actor's organisation (never drafts), newest first: the receiving inbox."""
    q = select(referrals).where(referrals.c.to_org == actor.org_code,
                                referrals.c.status != str(ReferralStatus.DRAFT))
    if status is not None:
        q = q.where(referrals.c.status == str(status))
    with acting(store) as conn:
        rows = conn.execute(q.order_by(referrals.c.sent_at.desc())).all()
        if rows:
            audit.record(conn, actor=actor.username, action=audit.AuditAction.READ, entity="referral",
                         purpose="incoming referrals", detail={"referrals": [r.id for r in rows]})
    return [_view(r, Side.RECEIVING) for r in rows]


def outgoing(store: Store, actor: Actor, *, case_id: str | None = None) -> list[Referral]:
    """Referrals the actor's organisation made (of one case, if given), newest first."""
    q = select(referrals).where(referrals.c.from_org == actor.org_code)
    with acting(store) as conn:
        if case_id is not None:
            require_case(conn, actor, case_id, purpose="case referrals")
            q = q.where(referrals.c.case_id == case_id)
        rows = conn.execute(q.order_by(referrals.c.created_at.desc())).all()
    return [_view(r, Side.REFERRING) for r in rows]


def involving(store: Store, actor: Actor) -> list[Referral]:
    """Every referral the actor's organisation made or received (drafts only its own), newest first."""
    q = select(referrals).where(or_(referrals.c.from_org == actor.org_code,
                                    (referrals.c.to_org == actor.org_code)
                                    & (referrals.c.status != str(ReferralStatus.DRAFT))))
    with acting(store) as conn:
        rows = conn.execute(q.order_by(referrals.c.created_at.desc())).all()
    return [_view(r, Side.REFERRING if r.from_org == actor.org_code else Side.RECEIVING) for r in rows]
