"""Personal data goes with a referral only when the victims' stored consent covers referral."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from tests.casework.conftest import World
from tests.casework.test_referrals import consent_to_referral
from tipsom.casework import referrals as rf
from tipsom.casework.enums import ReferralReason, Service, Urgency
from tipsom.casework.tables import referrals
from tipsom.core.errors import InputError
from tipsom.store.tables import REGISTRY

NOW = dt.datetime(2026, 4, 2, 9, 0)


def _refer(w: World, personal: dict[str, str] | None) -> rf.Referral:
    return rf.create_referral(w.store, w.a, w.case, to_org="ORGB", service=Service.SHELTER,
                              reason=ReferralReason.ADDITIONAL_SERVICES_REQUIRED, urgency=Urgency.URGENT,
                              consent=rf.Consent("a.worker", NOW, covers_personal=True), summary="needs a bed",
                              personal=personal, now=NOW)


def test_personal_data_needs_the_victims_stored_consent_to_referral(world: World) -> None:
    consent_to_referral(world, world.case)
    persons = REGISTRY["person"]
    with world.store.begin() as conn:
        one = conn.scalar(select(persons.c.key).where(persons.c.case_id == world.case,
                                                      persons.c.role.in_(["Victim", "PresumedVictim"])))
        conn.execute(update(persons).where(persons.c.key == one).values(consent_purposes="Research"))
    with pytest.raises(InputError, match=r"1 person\(s\) on the case: consent does not cover Referral"):
        _refer(world, {"name": "Test Person"})
    with world.store.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(referrals)) == 0, "the refusal stored nothing"
    assert _refer(world, None).has_personal is False, "a summary-only referral needs no stored consent"
    consent_to_referral(world, world.case)
    assert _refer(world, {"name": "Test Person"}).has_personal
