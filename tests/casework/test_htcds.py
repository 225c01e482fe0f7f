"""HTCDS referral fields and casework referrals: import, export, and a round trip that adds nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import func, select, update

from tests.casework.conftest import World
from tipsom.casework import referrals as rf
from tipsom.casework.enums import ReferralReason, ReferralStatus, Service, Urgency
from tipsom.casework.htcds import IMPORTED_CONSENT, referrals_from_identifications, with_referrals
from tipsom.casework.tables import referrals
from tipsom.exchange.htcds import read_htcds, write_htcds
from tipsom.exchange.importer import import_file
from tipsom.store.reader import iter_documents
from tipsom.store.tables import REGISTRY

NOW = dt.datetime(2026, 4, 2, 9, 0)
PERSONS = REGISTRY["person"]
IDENTS = REGISTRY["identification"]


def _victim_with_identification(world: World, case_id: str) -> str:
    with world.store.engine.connect() as conn:
        key = conn.scalar(select(PERSONS.c.key).join(IDENTS, IDENTS.c.person_key == PERSONS.c.key).where(
            PERSONS.c.case_id == case_id, PERSONS.c.role.in_(["Victim", "PresumedVictim"])).limit(1))
    assert key is not None, "the synthetic case should have a victim with an identification"
    return str(key)


def _referral_rows(world: World) -> int:
    with world.store.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(referrals)) or 0)


def test_identification_referral_fields_become_a_referral_once(world: World) -> None:
    key = _victim_with_identification(world, world.other_case)
    with world.store.begin() as conn:
        conn.execute(update(IDENTS).where(IDENTS.c.person_key != key).values(referred_to=None))
        conn.execute(update(IDENTS).where(IDENTS.c.person_key == key).values(
            referred_to="Organisation B", referral_date=dt.date(2026, 3, 1), referral_reason="Other"))
        conn.execute(update(PERSONS).where(PERSONS.c.key == key).values(consent_given=False, consent_purposes=None))
    assert referrals_from_identifications(world.store, actor="test", now=NOW).no_consent == 1
    assert _referral_rows(world) == 0
    with world.store.begin() as conn:
        conn.execute(update(PERSONS).where(PERSONS.c.key == key).values(consent_given=True))
    first = referrals_from_identifications(world.store, actor="test", now=NOW)
    assert (first.created, first.unchanged) == (1, 0)
    again = referrals_from_identifications(world.store, actor="test", now=NOW)
    assert (again.created, again.unchanged) == (0, 1)
    made = rf.outgoing(world.store, world.a, case_id=world.other_case)
    assert [(r.to_org, r.status, r.service, r.consent_recorded_by, r.sent_at) for r in made] == [
        ("ORGB", ReferralStatus.SENT, None, IMPORTED_CONSENT, dt.datetime(2026, 3, 1))]
    assert [r.id for r in rf.incoming(world.store, world.b)] == [made[0].id]


def test_referral_made_in_tipsom_round_trips_through_htcds(world: World, tmp_path: Path) -> None:
    key = _victim_with_identification(world, world.case)
    with world.store.begin() as conn:
        conn.execute(update(IDENTS).values(referred_to=None, referral_date=None, referral_reason=None))
        conn.execute(update(PERSONS).where(PERSONS.c.key == key).values(consent_given=True, consent_purposes=None))
    made = rf.create_referral(world.store, world.a, world.case, to_org="ORGB", service=Service.LEGAL_AID,
                              reason=ReferralReason.ADDITIONAL_SERVICES_REQUIRED, urgency=Urgency.ROUTINE,
                              consent=rf.Consent("a.worker", NOW), summary="Needs a lawyer", now=NOW)
    rf.send(world.store, world.a, made.id, now=NOW)
    out = tmp_path / "htcds.xlsx"
    with world.store.engine.connect() as conn:
        docs = list(iter_documents(conn, world.store.model, case_ids=[world.case]))
    write_htcds(with_referrals(world.store, docs), out)
    rows = [r.document for r in read_htcds(out)]
    referred = [p["identifications"][0] for d in rows for p in d["persons"] if p.get("identifications")]
    assert {(i["referred_to"], i["referral_date"], i["referral_reason"]) for i in referred} == {
        ("Organisation B", "2026-04-02", "AdditionalServicesRequired")}
    # HTCDS holds one identification per victim: the stored case is replaced by what the file says.
    report = import_file(world.store, out, fmt="htcds", actor="test", replace=True)
    assert report.accepted >= 1
    back = referrals_from_identifications(world.store, actor="test", now=NOW)
    assert back.created == 0
    assert back.unchanged >= 1
    assert _referral_rows(world) == 1
