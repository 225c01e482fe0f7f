"""Each alert: at least one positive and one negative case, explained and sourced."""

from __future__ import annotations

from typing import Any

import pytest

from tests.screening.conftest import case, recruited_for_forced_labour
from tipsom.screening import AlertCode, InvalidDocument, NonPunishmentTest, Severity, screen_document


def codes(doc: dict[str, Any], jurisdiction: str | None = None) -> set[str]:
    return screen_document(doc, jurisdiction).codes()


def test_child_recruited_for_forced_labour_without_means_is_tip_child() -> None:
    result = screen_document(case(recruited_for_forced_labour(16)))
    assert "TIP_CHILD" in result.codes()
    assert "TIP_INCOMPLETE" not in result.codes()
    alert = next(a for a in result.alerts if a.code is AlertCode.TIP_CHILD)
    assert any("art. 3(c)" in s.article for s in alert.sources)
    assert any("age = 16" in line for line in alert.because)


def test_adult_recruited_for_forced_labour_without_means_is_incomplete_naming_means() -> None:
    result = screen_document(case(recruited_for_forced_labour(25)))
    assert "TIP_INCOMPLETE" in result.codes()
    assert not {"TIP_CHILD", "TIP_INDICATED"} & result.codes()
    alert = next(a for a in result.alerts if a.code is AlertCode.TIP_INCOMPLETE)
    assert [m.element for m in alert.missing] == ["means"]
    assert "means" in alert.explanation
    assert alert.missing[0].ask


def test_adult_with_act_means_and_purpose_is_tip_indicated() -> None:
    person = recruited_for_forced_labour(30, control_methods=["DebtBondage"])
    assert codes(case(person)) >= {"TIP_INDICATED"}
    assert "TIP_INCOMPLETE" not in codes(case(person))


def test_person_with_no_trafficking_elements_gets_no_tip_alert() -> None:
    witness = {"role": "Witness", "age": 40, "age_basis": "Documented"}
    assert not codes(case(witness)) & {"TIP_INDICATED", "TIP_CHILD", "TIP_INCOMPLETE"}


def test_victim_charged_with_illegal_entry_gets_non_punishment() -> None:
    victim = recruited_for_forced_labour(30, role="Victim", charges=[{"offence": "IllegalEntry", "stage": "Arrest"}])
    result = screen_document(case(victim))
    alert = next(a for a in result.alerts if a.code is AlertCode.NON_PUNISHMENT)
    assert alert.severity is Severity.CRITICAL
    assert alert.legal_test is NonPunishmentTest.CAUSATION
    assert "causation" in alert.explanation


def test_suspect_charged_with_illegal_entry_gets_no_non_punishment() -> None:
    suspect = {"role": "Suspect", "age": 40, "age_basis": "Documented",
               "charges": [{"offence": "IllegalEntry", "stage": "Prosecution"}]}
    assert "NON_PUNISHMENT" not in codes(case(suspect))


def test_non_punishment_states_the_jurisdictions_test() -> None:
    adult = recruited_for_forced_labour(30, role="Victim", charges=[{"offence": "Theft", "stage": "Trial"}])
    child = recruited_for_forced_labour(15, role="Victim", charges=[{"offence": "Theft", "stage": "Trial"}])
    result = screen_document(case(adult, child, jurisdiction="GBR"))
    tests = {a.person_id: a.legal_test for a in result.alerts if a.code is AlertCode.NON_PUNISHMENT}
    assert tests == {"P1": NonPunishmentTest.COMPULSION, "P2": NonPunishmentTest.CAUSATION}
    assert any("s. 45" in s.article for a in result.alerts for s in a.sources if a.person_id == "P1")


def test_smuggled_migrant_charged_with_illegal_entry_gets_non_liability() -> None:
    migrant = {"role": "SmuggledMigrant", "age": 30, "age_basis": "Documented",
               "charges": [{"offence": "IllegalEntry", "stage": "Prosecution"}]}
    assert "NON_LIABILITY_ART5" in codes(case(migrant, case_type="SOM"))


def test_smuggled_migrant_charged_with_smuggling_others_gets_no_non_liability() -> None:
    driver = {"role": "SmuggledMigrant", "age": 30, "age_basis": "Documented",
              "charges": [{"offence": "SmugglingOfMigrants", "stage": "Prosecution"}]}
    assert "NON_LIABILITY_ART5" not in codes(case(driver, case_type="SOM"))


def test_unknown_age_no_documents_adolescent_appearance_is_presumed_minor() -> None:
    person = {"role": "PresumedVictim", "age_basis": "Unknown", "has_identity_documents": False,
              "age_appearance": "Adolescent", "age_min": 15, "age_max": 19}
    result = screen_document(case(person))
    alert = next(a for a in result.alerts if a.code is AlertCode.PRESUMED_MINOR)
    assert alert.facts["age_min"] == [15]
    assert "guardian" in alert.explanation
    assert "lowest age" in alert.explanation
    assert "CHILD_PROTECTION" in result.codes()  # the presumption makes the child rules apply


def test_unknown_age_adult_appearance_is_not_presumed_minor() -> None:
    person = {"role": "PresumedVictim", "age_basis": "Unknown", "has_identity_documents": False,
              "age_appearance": "Adult"}
    assert "PRESUMED_MINOR" not in codes(case(person))


def test_documented_adult_is_not_presumed_minor() -> None:
    person = {"role": "Victim", "age": 30, "age_basis": "Documented", "age_appearance": "Adolescent"}
    assert "PRESUMED_MINOR" not in codes(case(person))


def _migrant(**extra: Any) -> dict[str, Any]:
    return {"role": "SmuggledMigrant", "age": 28, "age_basis": "Documented", "smuggling_fee": 3000,
            "fee_currency": "USD", "route_legs": [{"seq": 1, "origin": "LBY", "destination": "ITA",
                                                   "crossing": "Irregular"}], **extra}


def test_smuggling_case_with_deaths_on_route_is_aggravated() -> None:
    assert "SOM_AGGRAVATED" in codes(case(_migrant(), case_type="SOM", deaths_on_route=3))


def test_smuggling_case_without_harm_is_not_aggravated() -> None:
    assert "SOM_AGGRAVATED" not in codes(case(_migrant(), case_type="SOM"))


def test_paid_irregular_entry_is_som_indicated_but_not_without_benefit() -> None:
    assert "SOM_INDICATED" in codes(case(_migrant(), case_type="SOM"))
    unpaid = _migrant()
    del unpaid["smuggling_fee"], unpaid["fee_currency"]
    assert "SOM_INDICATED" not in codes(case(unpaid, case_type="SOM"))


def test_smuggled_migrant_with_debt_bondage_is_rescreened_for_trafficking() -> None:
    assert "SOM_EXPLOITATION_RESCREEN" in codes(case(_migrant(control_methods=["DebtBondage"]), case_type="SOM"))
    assert "SOM_EXPLOITATION_RESCREEN" not in codes(case(_migrant(), case_type="SOM"))


def test_armed_group_recruitment_is_conflict_nexus() -> None:
    assert "CONFLICT_NEXUS" in codes(case(recruited_for_forced_labour(16, armed_group_recruitment=True)))
    assert "CONFLICT_NEXUS" not in codes(case(recruited_for_forced_labour(16, conflict_area=True)))


def test_child_victim_gets_child_protection_adult_does_not() -> None:
    assert "CHILD_PROTECTION" in codes(case(recruited_for_forced_labour(12)))
    assert "CHILD_PROTECTION" not in codes(case(recruited_for_forced_labour(35)))


@pytest.mark.parametrize("extra", [{}, {"charges": [{"offence": "IllegalEntry", "stage": "Arrest"}]},
                                   {"armed_group_recruitment": True, "age_at_recruitment": 14}])
def test_every_alert_carries_a_legal_source_and_an_explanation(extra: dict[str, Any]) -> None:
    result = screen_document(case(recruited_for_forced_labour(20, role="Victim", **extra),
                                  _migrant(charges=[{"offence": "IllegalStay", "stage": "Arrest"}]),
                                  case_type="Mixed", deaths_on_route=1))
    assert len(result.codes()) >= 4
    for alert in result.alerts:
        assert alert.sources
        assert all(s.instrument and s.article for s in alert.sources)
        assert alert.explanation
        assert alert.because


def test_jurisdiction_layer_extends_forms_of_exploitation() -> None:
    surrogate = {"role": "PresumedVictim", "age": 26, "age_basis": "Documented", "deceived": True,
                 "recruitment_methods": ["ThroughOnlineSocialNetworks"], "exploitation_forms": ["Surrogacy"]}
    assert "TIP_INDICATED" in codes(case(surrogate, jurisdiction="ITA"))  # EU Directive 2024/1712
    assert "TIP_INDICATED" not in codes(case(surrogate, jurisdiction="KEN"))  # Protocol minimum only
    result = screen_document(case(surrogate), jurisdiction="ITA")
    assert "2024/1712" in result.ruleset or "EU" in result.ruleset


def test_invalid_document_is_refused_with_the_problem_named() -> None:
    with pytest.raises(InvalidDocument) as err:
        screen_document(case({"role": "Victm", "age": 16}))
    assert any(p.column == "role" for p in err.value.problems)
