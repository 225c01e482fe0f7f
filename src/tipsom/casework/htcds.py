"""HTCDS referral fields and casework referrals, in both directions.

An HTCDS file records one outgoing referral per victim row
(``cas_ReferredOrganisation``, ``cas_OutgoingReferralDate``,
``cas_ReasonForOutgoingReferral``); the importer keeps them on the person's
identification. :func:`referrals_from_identifications` turns those into
casework referrals, so an imported referral can be followed like one made in
tipsom; :func:`with_referrals` fills the same fields from casework referrals
when cases are exported, so a referral made in tipsom reaches the next HTCDS
file.

An HTCDS row carries one consent flag (``con_Consent``), not a consent per
referral: a referral is created only when that flag is set and the person's
recorded purposes (if any) include ``Referral``; it is marked as recorded by
``htcds-import``. HTCDS does not say which service was asked, so the
referral's service stays unknown, and the answer is unknown, so it stays
``sent``. Both organisations must be registered; the rest are counted, not
guessed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, or_, select

from tipsom.casework.access import CASES, ORGANISATIONS, org_code_of
from tipsom.casework.enums import ReferralReason, ReferralStatus, Urgency
from tipsom.casework.tables import referrals
from tipsom.schema.document import PERSONS
from tipsom.schema.enums import PersonRole
from tipsom.store import audit
from tipsom.store.db import Store
from tipsom.store.tables import PERSON_KEY, REGISTRY

IDENTIFICATIONS = REGISTRY["identification"]
PERSONS_T = REGISTRY["person"]
#: Who "recorded" the consent of an imported referral: the HTCDS file's consent flag.
IMPORTED_CONSENT = "htcds-import"
IMPORTED_SUMMARY = "Referral recorded in an imported HTCDS file"
#: Namespace of imported referrals' ids: the same row imported twice gives the same id.
NAMESPACE = uuid.UUID("0b8f2c5e-61a4-4f5e-9a7c-5d1e7c3b2a10")
#: Consent purpose (codelist ``consent_purpose``) a referral needs when purposes are recorded.
REFERRAL_PURPOSE = "Referral"
MULTI_SEP = "|"


@dataclass(frozen=True)
class ReferralImport:
    created: int
    unchanged: int
    no_consent: int
    unregistered: int

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def _org(conn: Connection, text: str) -> str | None:
    """The code of the organisation an HTCDS cell names (by registered name or code)."""
    return conn.scalar(select(ORGANISATIONS.c.code).where(
        or_(ORGANISATIONS.c.name == text.strip(), ORGANISATIONS.c.code == text.strip().upper())))


def _consents(given: bool | None, purposes: str | None) -> bool:
    return bool(given) and (not purposes or REFERRAL_PURPOSE in purposes.split(MULTI_SEP))


def _known(conn: Connection, rid: str, case_id: str, to_org: str, day: dt.date | None) -> bool:
    """Imported before, or made in tipsom and exported: the same case, organisation and day."""
    if conn.scalar(select(referrals.c.id).where(referrals.c.id == rid)) is not None:
        return True
    if day is None:
        return False
    start = dt.datetime.combine(day, dt.time())
    return conn.scalar(select(referrals.c.id).where(
        referrals.c.case_id == case_id, referrals.c.to_org == to_org,
        referrals.c.sent_at >= start, referrals.c.sent_at < start + dt.timedelta(days=1)).limit(1)) is not None


def referrals_from_identifications(store: Store, *, actor: str, case_ids: Sequence[str] | None = None,
                                   now: dt.datetime | None = None) -> ReferralImport:
    """Create a casework referral for every stored identification that names a referred organisation.

    Idempotent: a referral's id derives from its case, person, organisation
    and date, so running it again (or after re-importing the file) adds nothing;
    nor does a referral made in tipsom that went out in an HTCDS file and came back.
    """
    at = now or audit.now()
    counts = {"created": 0, "unchanged": 0, "no_consent": 0, "unregistered": 0}
    q = (select(CASES.c.id.label("case_id"), CASES.c.reporting_org, PERSONS_T.c.person_id,
                PERSONS_T.c.consent_given, PERSONS_T.c.consent_purposes, PERSONS_T.c.consent_date,
                IDENTIFICATIONS.c.referred_to, IDENTIFICATIONS.c.referral_date, IDENTIFICATIONS.c.referral_reason)
         .join(PERSONS_T, PERSONS_T.c.case_id == CASES.c.id)
         .join(IDENTIFICATIONS, IDENTIFICATIONS.c.person_key == PERSONS_T.c[PERSON_KEY])
         .where(IDENTIFICATIONS.c.referred_to.is_not(None)).order_by(CASES.c.id, PERSONS_T.c.person_id))
    if case_ids is not None:
        q = q.where(CASES.c.id.in_(list(case_ids)))
    with store.begin() as conn:
        for r in conn.execute(q).all():
            from_org = org_code_of(conn, r.reporting_org) if r.reporting_org else None
            to_org = _org(conn, r.referred_to)
            if from_org is None or to_org is None or from_org == to_org:
                counts["unregistered"] += 1
                continue
            if not _consents(r.consent_given, r.consent_purposes):
                counts["no_consent"] += 1
                continue
            rid = str(uuid.uuid5(NAMESPACE, f"{r.case_id}|{r.person_id}|{to_org}|{r.referral_date}"))
            sent = dt.datetime.combine(r.referral_date, dt.time()) if r.referral_date else at
            if _known(conn, rid, r.case_id, to_org, r.referral_date):
                counts["unchanged"] += 1
                continue
            reason = r.referral_reason if r.referral_reason in set(ReferralReason) else ReferralReason.OTHER
            conn.execute(insert(referrals).values(
                id=rid, case_id=r.case_id, from_org=from_org, to_org=to_org, service=None, reason=str(reason),
                urgency=str(Urgency.ROUTINE), consent_recorded_by=IMPORTED_CONSENT,
                consent_recorded_at=dt.datetime.combine(r.consent_date, dt.time()) if r.consent_date else sent,
                consent_personal=False, status=str(ReferralStatus.SENT), created_by=actor, created_at=at,
                sent_at=sent, summary=IMPORTED_SUMMARY))
            counts["created"] += 1
        if counts["created"]:
            audit.record(conn, actor=actor, action=audit.AuditAction.IMPORT, entity="referral",
                         purpose="referrals from HTCDS fields", detail=counts)
    return ReferralImport(**counts)


def with_referrals(store: Store, docs: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """``docs`` with each victim's first identification carrying the case's latest sent referral.

    Only where the identification names no referred organisation yet (the
    file's own value wins); drafts and cancelled referrals never leave.
    """
    shown = [str(s) for s in ReferralStatus if s not in (ReferralStatus.DRAFT, ReferralStatus.CANCELLED)]
    with store.engine.connect() as conn:
        for doc in docs:
            out = dict(doc)
            latest = conn.execute(
                select(ORGANISATIONS.c.name, referrals.c.sent_at, referrals.c.reason)
                .join(ORGANISATIONS, ORGANISATIONS.c.code == referrals.c.to_org)
                .where(referrals.c.case_id == doc.get("case_id"), referrals.c.status.in_(shown))
                .order_by(referrals.c.sent_at.desc()).limit(1)).first()
            if latest is not None:
                out[PERSONS] = [_referred(p, latest) for p in doc.get(PERSONS, [])]
            yield out


def _referred(person: Mapping[str, Any], latest: Any) -> dict[str, Any]:
    person = dict(person)
    idents = [dict(i) for i in person.get("identifications") or []]
    if PersonRole(person["role"]).is_victim and idents and not idents[0].get("referred_to"):
        idents[0].update(referred_to=latest.name, referral_date=latest.sent_at.date(),
                         referral_reason=latest.reason)
        person["identifications"] = idents
    return person
