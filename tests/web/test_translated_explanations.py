"""Screening alerts and validator reasons in the reader's language, and the case page's fast screening."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from tests.web.conftest import WebEnv, csrf_of, signed_in
from tipsom.schema.document import DocumentValidator, Problem
from tipsom.schema.model import get_model
from tipsom.screening import Severity, case_alerts
from tipsom.synth.cases import CaseGenerator
from tipsom.web import forms, integrations
from tipsom.web.i18n import TRANSLATED, Language, gettext, reset_language, set_language


def _in(language: Language, fn: Any, *args: Any) -> Any:
    token = set_language(language)
    try:
        return fn(*args)
    finally:
        reset_language(token)


@pytest.fixture(scope="module")
def alerts() -> list[Any]:
    docs = list(CaseGenerator(21).cases(300))
    for i, doc in enumerate(docs[:60]):
        doc["jurisdiction"] = ("GBR", "FRA")[i % 2]
    return [a for d in docs for a in case_alerts(d)]


@pytest.mark.parametrize("language", TRANSLATED, ids=lambda lang: lang.value)
def test_every_part_of_every_alert_is_shown_translated(language: Language, alerts: list[Any]) -> None:
    assert len({a.code for a in alerts}) >= 9
    for alert in alerts:
        shown = _in(language, integrations.shown, alert)
        english = integrations.shown(alert)
        assert shown.explanation != english.explanation
        for part in (alert.rule_text, alert.test_text, *(m.label for m in alert.missing)):
            if part:
                assert part not in shown.explanation, (language, part)
        assert all(ask not in shown.asks for ask in english.asks)
        assert shown.urgency == _in(language, gettext, integrations.SEVERITY_LABELS[alert.severity])
        assert shown.sources == english.sources  # titles of instruments are cited as published


def test_case_page_shows_alerts_in_the_users_language(web_env: WebEnv) -> None:
    c = signed_in(web_env, "demo.caseworker")
    token = csrf_of(c.get("/cases").text)
    c.post("/language", data={"lang": "fr", "csrf_token": token})
    page = c.get("/cases/" + _case_with_alerts(web_env)).text
    c.post("/language", data={"lang": "en", "csrf_token": token})
    assert "Alertes de filtrage" in page
    assert "Fondement juridique" in page
    for english in ("Refer the child", "treat the person as a presumed victim", "Ask next"):
        assert english not in page


def _case_with_alerts(web_env: WebEnv) -> str:
    from tipsom.web import casework
    from tipsom.web.access import CASES

    with web_env.store.engine.connect() as conn:
        ids = [r[0] for r in conn.execute(CASES.select().with_only_columns(CASES.c.id)
                                          .where(CASES.c.reporting_org == web_env.org_a))]
    user = _user(web_env, "demo.caseworker")
    for case_id in ids:
        if case_alerts(casework.read_case(web_env.store, user, case_id)):
            return str(case_id)
    raise AssertionError("no demo case with an alert")


def _user(web_env: WebEnv, username: str) -> Any:
    from tipsom.web.accounts import get_user

    with web_env.store.engine.connect() as conn:
        return get_user(conn, username=username)


def test_case_page_screening_builds_no_pandas_frame(web_env: WebEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """One case is screened on plain values: frames cost tens of ms per page view."""
    from tipsom.web import casework

    doc = casework.read_case(web_env.store, _user(web_env, "demo.caseworker"), _case_with_alerts(web_env))
    doc["case_id"] = "NEVER-SCREENED-BEFORE"  # not in the per-content memo

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the case page built a pandas frame")

    monkeypatch.setattr(pd, "DataFrame", refuse)
    monkeypatch.setattr(pd, "Series", refuse)
    shown = integrations.screen(doc)
    assert shown
    assert shown == sorted(shown, key=lambda a: -Severity(a.severity).rank)


def _problems() -> list[Problem]:
    """One document raising every kind of reason the validator gives."""
    model = get_model()
    raw = {"case_id": "X" * 80, "case_type": "Nope", "reporting_org": "Unit", "jurisdiction": "XXX",
           "opened_on": "2024-05-01", "closed_on": "2024-01-01", "colour": "blue", "persons": [
               {"person_id": "P1", "age": "old", "age_min": 30, "age_max": 20, "deceived": "maybe",
                "birth_date": "yesterday", "languages": ["zz9"], "route_legs": "not a list"},
               {"person_id": "P1", "age": 2.5, "smuggling_fee": -3, "fee_currency": "XYZ",
                "charges": ["not an object"]},
               {"person_id": "P3", "age": 500},
           ]}
    _doc, problems = DocumentValidator(model).validate(raw, 1)
    problems += [Problem(1, "case_id", "X", "already exists"),
                 Problem(1, "case_id", "", "case X: case fields differ from an earlier record in this import")]
    return problems


@pytest.mark.parametrize("language", TRANSLATED, ids=lambda lang: lang.value)
def test_every_validator_reason_reaches_the_form_translated(language: Language) -> None:
    model = get_model()
    problems = _problems()
    assert len({p.reason.split(" ")[0] for p in problems}) >= 12, [p.reason for p in problems]
    for p in problems:
        english = forms.translate_reason(p.reason, model)
        assert english != p.reason, p.reason
        translated = _in(language, forms.translate_reason, p.reason, model)
        assert translated != english, (language, p.reason)
