"""Issue 15, finding 14 (bounded parameters, headers on errors, static files without the database)
and 16 (Arabic country names)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import BASE, WebEnv, signed_in
from tests.web.test_api import bearer, token_for
from tipsom.web import app as web_app
from tipsom.web import casework, i18n
from tipsom.web.i18n import Language
from tipsom.web.security import Scope

HUGE = "99999999999999999999"


@pytest.mark.parametrize(("path", "params"), [
    ("/cases", {"page": HUGE}), ("/cases", {"year": HUGE}), ("/cases", {"page": "-5"}),
    ("/dashboard", {"year": HUGE}), ("/admin/audit", {"page": "9223372036854775807"}),
])
def test_out_of_range_integer_parameters_answer_422(web_env: WebEnv, path: str, params: dict[str, str]) -> None:
    admin = signed_in(web_env, "demo.admin")
    response = admin.get(path, params=params)
    assert response.status_code == 422
    assert response.headers["x-frame-options"] == "DENY"


def test_a_500_page_carries_the_security_headers(web_env: WebEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    admin = signed_in(web_env, "demo.admin")
    cookies = dict(admin.cookies)

    def broken(*_args: object, **_kw: object) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr(casework, "list_cases", broken)
    with TestClient(web_env.app, base_url=BASE, raise_server_exceptions=False, cookies=cookies) as c:
        response = c.get("/cases")
    assert response.status_code == 500
    assert "database gone" not in response.text
    for header in ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy"):
        assert header in response.headers, header


def test_static_files_are_served_without_the_database(web_env: WebEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_database(*_args: object) -> None:
        raise RuntimeError("the database is down")

    monkeypatch.setattr(web_app, "load_session", no_database)
    with TestClient(web_env.app, base_url=BASE, raise_server_exceptions=False,
                    cookies={"tipsom_session": "some-token"}) as c:
        css = c.get("/static/css/app.css")
        page = c.get("/login")
    assert css.status_code == 200
    assert css.headers["x-content-type-options"] == "nosniff"
    assert page.status_code == 500  # pages do need the database; static files do not


def test_arabic_country_names_are_translated() -> None:
    def names(language: Language) -> dict[str, str]:
        token = i18n.set_language(language)
        try:
            return {code: i18n.country_name(code) for code in ("DEU", "TUR", "SYR", "IRN", "XKX", "GBR")}
        finally:
            i18n.reset_language(token)

    english, arabic = names(Language.EN), names(Language.AR)
    assert english["SYR"] == "Syria"
    for code, name in arabic.items():
        assert name != english[code], code
        assert any("\u0600" <= ch <= "\u06ff" for ch in name), (code, name)
    token = i18n.set_language(Language.AR)
    try:
        untranslated = [c for c, n in i18n.country_choices() if n == i18n._country_names()[c]]
    finally:
        i18n.reset_language(token)
    assert untranslated == []


def test_case_links_encode_identifiers_as_one_path_segment(web_env: WebEnv,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    odd = "A B/../x?y#z<1>"
    row = {"id": odd, "case_type": "TIP", "status": "Active", "reporting_org": web_env.org_a,
           "jurisdiction": "DEU", "year": 2024, "opened_on": None, "persons": 1, "victims": 1}
    monkeypatch.setattr(casework, "list_cases", lambda *_a, **_k: casework.CaseListing([row], 1, 1, 25))
    page = signed_in(web_env, "demo.caseworker").get("/cases").text
    assert 'href="/cases/A%20B%2F..%2Fx%3Fy%23z%3C1%3E"' in page
    assert "/cases/A B" not in page


def test_a_write_blocked_by_another_process_answers_503_and_asks_to_retry(
        web_env: WebEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store held by an import past the lock timeout is a busy store, not a server error."""
    from tipsom.store.base import StoreLockedError

    admin = signed_in(web_env, "demo.admin")
    cookies = dict(admin.cookies)

    def locked(*_args: object, **_kw: object) -> None:
        raise StoreLockedError("the store is locked by another process")

    monkeypatch.setattr(casework, "list_cases", locked)
    token = token_for(web_env, "demo.admin", {Scope.CASES_READ})
    with TestClient(web_env.app, base_url=BASE, raise_server_exceptions=False, cookies=cookies) as c:
        page = c.get("/cases")
    with TestClient(web_env.app, base_url=BASE, raise_server_exceptions=False) as c:
        api = c.get("/api/v1/cases", headers=bearer(token))
    assert api.status_code == 503
    assert "retry" in api.json()["detail"]
    assert api.headers["retry-after"] == str(web_app.BUSY_RETRY_SECONDS)
    assert page.status_code == 503
    assert page.headers["retry-after"] == str(web_app.BUSY_RETRY_SECONDS)
    assert "Store busy" in page.text
    assert "Nothing was changed" in page.text
    assert page.headers["x-frame-options"] == "DENY"
