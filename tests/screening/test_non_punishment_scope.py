"""Issue 15 finding 15: non-punishment reaches anyone for whom trafficking is indicated, naming every charge."""

from __future__ import annotations

from typing import Any

from tipsom.schema.document import DocumentValidator
from tipsom.screening import AlertCode, Severity, case_alerts, screen_document
from tipsom.screening.engine import default_screener, documents_batch
from tipsom.screening.enums import NonPunishmentTest


def _case(role: str, age: int, offences: list[str], *, exploited: bool = True) -> dict[str, Any]:
    person: dict[str, Any] = {"person_id": "P1", "role": role, "age": age, "age_basis": "Documented",
                              "charges": [{"offence": o, "stage": "Prosecution"} for o in offences]}
    if exploited:
        person.update({"exploitation_forms": ["ForcedCriminality"], "control_methods": ["DebtBondage"],
                       "recruitment_country": "VNM"})
    return {"case_id": "NP-1", "case_type": "Mixed", "jurisdiction": "GBR", "reporting_org": "Test org",
            "persons": [person]}


def _non_punishment(doc: dict[str, Any]) -> list[Any]:
    return [a for a in screen_document(doc).alerts if a.code is AlertCode.NON_PUNISHMENT]


def test_a_child_filed_as_a_smuggled_migrant_is_in_scope_of_non_punishment() -> None:
    doc = _case("SmuggledMigrant", 15, ["DrugOffence"])
    codes = {a.code for a in screen_document(doc).alerts}
    assert AlertCode.TIP_CHILD in codes
    (alert,) = _non_punishment(doc)
    assert alert.legal_test is NonPunishmentTest.CAUSATION  # GBR s. 45(4) for under-18s
    assert "charges.offence = DrugOffence" in alert.because


def test_every_qualifying_charge_is_named() -> None:
    alerts = _non_punishment(_case("PresumedVictim", 30, ["IllegalEntry", "IllegalStay", "DrugOffence"]))
    assert len(alerts) == 1
    (alert,) = alerts
    assert alert.severity is Severity.CRITICAL  # the status offence's rule leads
    named = [line for line in alert.because if line.startswith("charges.offence")]
    assert named == ["charges.offence = IllegalEntry, IllegalStay", "charges.offence = DrugOffence"]


def test_a_migrant_with_no_sign_of_trafficking_stays_out_of_scope() -> None:
    doc = _case("SmuggledMigrant", 30, ["IllegalEntry"], exploited=False)
    codes = {a.code for a in screen_document(doc).alerts}
    assert AlertCode.NON_PUNISHMENT not in codes
    assert AlertCode.NON_LIABILITY_ART5 in codes


def test_the_single_case_and_batch_paths_agree() -> None:
    docs = [DocumentValidator().validate(d, 1)[0] for d in (
        _case("SmuggledMigrant", 15, ["DrugOffence"]), _case("PresumedVictim", 30, ["IllegalEntry", "DrugOffence"]))]
    single = [a for d in docs for a in case_alerts(d)]
    batch = default_screener().alerts(documents_batch(docs))
    key = sorted((a.code.value, a.rule_id, a.because) for a in single)
    assert key == sorted((a.code.value, a.rule_id, a.because) for a in batch)
    assert any(a.code is AlertCode.NON_PUNISHMENT for a in single)
