"""One case screened on plain values gives exactly the alerts of the vectorised store path.

The case page screens one case at a time through :class:`DocumentRows`; bulk
screening goes through pandas batches. Both read the same compiled rules, and
these tests compare every alert (code, severity, explanation, because, missing
elements, legal test, facts) over thousands of synthetic cases, awkward
hand-written ones, and a stored demo store.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from tests.screening.conftest import case, recruited_for_forced_labour
from tipsom.screening import AlertCode, case_alerts, screen_document
from tipsom.screening.batch import batch_from_documents, batches_from_store
from tipsom.screening.engine import MISSING_NOTE, default_screener, rule_texts
from tipsom.screening.fields import batch_schema
from tipsom.screening.rows import document_rows
from tipsom.synth.cases import CaseGenerator


def _one_by_one(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [a.to_dict() for d in docs for a in case_alerts(d)]


def _vectorised(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    screener = default_screener()
    return [a.to_dict() for a in screener.alerts(batch_from_documents(docs, screener.columns))]


def test_thousands_of_synthetic_cases_get_the_same_alerts_both_ways() -> None:
    docs = list(CaseGenerator(7).cases(3000))
    # Layers must be exercised: EU (compulsion test) and GBR (adult/child tests differ).
    for i, doc in enumerate(docs[:600]):
        doc["jurisdiction"] = ("GBR", "FRA", "DEU")[i % 3]
    single = _one_by_one(docs)
    assert single == _vectorised(docs)
    seen = Counter(a["code"] for a in single)
    assert len(single) > 5000
    assert set(seen) >= set(AlertCode) - {AlertCode.SOM_EXPLOITATION_RESCREEN}
    assert {a["legal_test"] for a in single if "legal_test" in a} == {"causation", "compulsion"}


def _awkward_cases() -> list[dict[str, Any]]:
    """Unvalidated documents with the values a careless import produces: empty text, empty lists, no records."""
    rescreen = {"role": "SmuggledMigrant", "age": 29, "control_methods": ["DebtBondage"],
                "route_legs": [{"origin": "ERI", "destination": "LBY", "crossing": "Irregular"}]}
    return [
        case(recruited_for_forced_labour(16), rescreen, case_type="SOM"),
        case({"role": "", "age": None, "recruitment_place": "", "exploitation_forms": []},
             {"role": "Victim", "age_appearance": "", "charges": [{"offence": "", "stage": None},
                                                                   {"offence": "IllegalStay"}]},
             jurisdiction=""),
        case({"role": "PresumedVictim", "age_basis": "Estimated", "age_min": 15, "age_max": 19,
              "route_legs": [{"crossing": None}, {"crossing": ""}], "deceived": False},
             {"role": "SmuggledMigrant", "smuggling_fee": 0, "fee_payment_method": "",
              "charges": [{"offence": "FalseDocuments", "stage": "Trial", "outcome": "Convicted"}]},
             jurisdiction="GBR", case_type="Mixed"),
        case(recruited_for_forced_labour(40, role="Victim", charges=[{"offence": "Theft"}]), jurisdiction="ITA"),
        case(),
    ]


def test_awkward_documents_get_the_same_alerts_both_ways() -> None:
    docs = _awkward_cases()
    single = _one_by_one(docs)
    assert single == _vectorised(docs)
    assert {"SOM_EXPLOITATION_RESCREEN", "NON_LIABILITY_ART5", "NON_PUNISHMENT", "TIP_CHILD"} <= {
        a["code"] for a in single}


def test_empty_text_is_not_recorded_on_either_path() -> None:
    screener = default_screener()
    docs = [case({"role": "Victim", "recruitment_place": "", "charges": [{"offence": ""}]},
                 {"role": "Victim", "recruitment_place": "Port", "charges": [{"offence": "Theft"}]})]
    rows, batch = document_rows(docs, screener.columns), batch_from_documents(docs, screener.columns)
    for path in ("recruitment_place", "charges.offence", "charges"):
        spec = batch_schema().spec(path)
        assert spec is not None
        assert rows.present(spec).tolist() == batch.present(spec).tolist()
    place = batch_schema().spec("recruitment_place")
    assert place is not None
    assert rows.present(place).tolist() == [False, True]
    assert np.array_equal(rows.member(place, ["Port"]), batch.member(place, ["Port"]))


def _person(alert: dict[str, Any]) -> tuple[str, str]:
    return alert["case_id"], alert["person_id"]


def test_stored_cases_get_the_alerts_of_the_store_batches(demo_store: Any) -> None:
    from tipsom.store.reader import iter_documents

    screener = default_screener()
    vectorised = [a.to_dict() for b in batches_from_store(demo_store, screener.columns, chunk=77)
                  for a in screener.alerts(b)]
    with demo_store.engine.connect() as conn:
        docs = list(iter_documents(conn, demo_store.model))
    by_case = {d["case_id"]: d for d in docs}
    single = [a.to_dict() for cid in sorted(by_case) for a in case_alerts(by_case[cid])]
    assert sorted(single, key=_person) == sorted(vectorised, key=_person)
    assert len(single) > 200


def test_case_alerts_are_the_alerts_of_screen_document() -> None:
    for doc in CaseGenerator(3).cases(50):
        assert case_alerts(doc) == screen_document(doc, validate=False).alerts


def test_explanation_parts_translate_separately() -> None:
    doc = case(recruited_for_forced_labour(25, role="Victim", charges=[{"offence": "IllegalEntry"}]))
    alerts = case_alerts(doc)
    incomplete = next(a for a in alerts if a.code is AlertCode.TIP_INCOMPLETE)
    marked = incomplete.explain(lambda text: f"<{text}>")
    label = incomplete.missing[0].label
    assert marked == f"<{incomplete.rule_text}> <Missing or unknown: <{label}>.>"
    assert incomplete.explanation == incomplete.explain()
    punished = next(a for a in alerts if a.code is AlertCode.NON_PUNISHMENT)
    assert punished.test_text
    assert punished.explanation == f"{punished.rule_text} {punished.test_text}"
    texts = {text for text, _origin in rule_texts()}
    assert {incomplete.rule_text, punished.test_text, incomplete.missing[0].label, MISSING_NOTE} <= texts
