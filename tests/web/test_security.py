"""Accounts, need-to-know, CSRF, lockout, two-factor login and the audit of refusals."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import BASE, WebEnv, csrf_of, login, signed_in
from tipsom.store import audit
from tipsom.web import accounts
from tipsom.web.accounts import DEMO_OTHER_ORG_USER, LoginOutcome, Role


def test_other_organisation_gets_not_found_and_the_attempt_is_audited(web_env: WebEnv) -> None:
    other = signed_in(web_env, DEMO_OTHER_ORG_USER)
    response = other.get(f"/cases/{web_env.case_a}")
    missing = other.get("/cases/NO-SUCH-CASE-1")
    assert response.status_code == missing.status_code == 404
    assert response.text.replace(web_env.case_a, "X") == missing.text.replace("NO-SUCH-CASE-1", "X")
    assert web_env.case_a not in response.text.replace(f"/cases/{web_env.case_a}", "")
    with web_env.store.engine.connect() as conn:
        denied = audit.events(conn, entity_id=web_env.case_a, actor=DEMO_OTHER_ORG_USER,
                              action=audit.AuditAction.DENIED)
    assert denied
    assert "not shared" in denied[0]["detail"]
    assert other.get(f"/cases/{web_env.case_b}").status_code == 200


def test_case_list_shows_only_own_and_shared_cases(web_env: WebEnv) -> None:
    other = signed_in(web_env, DEMO_OTHER_ORG_USER)
    listing = other.get("/cases").text
    assert web_env.case_b in listing
    assert web_env.case_a not in listing
    owner = signed_in(web_env, "demo.caseworker")
    page = owner.get(f"/cases/{web_env.case_a}")
    code = re.search(rf'<option value="([^"]+)">{re.escape(web_env.org_b)} ', page.text).group(1)  # type: ignore[union-attr]
    shared = owner.post(f"/cases/{web_env.case_a}/share", data={"organisation": code, "scope": "summary",
                                                                 "csrf_token": csrf_of(page.text)},
                        follow_redirects=False)
    assert shared.status_code == 303
    assert other.get(f"/cases/{web_env.case_a}").status_code == 200
    assert web_env.case_a in other.get("/cases", params={"q": web_env.case_a}).text


@pytest.mark.slow
def test_viewer_sees_aggregates_only(web_env: WebEnv) -> None:
    viewer = signed_in(web_env, "demo.viewer")
    assert viewer.get("/cases").status_code == 403
    assert viewer.get(f"/cases/{web_env.case_a}").status_code == 403
    assert viewer.get("/dashboard").status_code == 200


def test_form_posted_without_csrf_token_is_refused(web_env: WebEnv) -> None:
    worker = signed_in(web_env, "demo.caseworker")
    before = web_env.store.counts()["cases"]
    response = worker.post("/cases/new", data={"c.case_id": "NO-CSRF-1", "c.case_type": "TIP",
                                               "p0.person_id": "P1", "p0.role": "Victim", "action": "save"})
    assert response.status_code == 403
    wrong = worker.post("/cases/new", data={"c.case_id": "NO-CSRF-2", "c.case_type": "TIP",
                                            "csrf_token": "forged", "action": "save"})
    assert wrong.status_code == 403
    assert web_env.store.counts()["cases"] == before


def test_login_form_needs_its_csrf_token(web_env: WebEnv) -> None:
    with TestClient(web_env.app, base_url=BASE) as c:
        response = c.post("/login", data={"username": "demo.admin", "password": accounts.DEMO_PASSWORD})
    assert response.status_code == 403


def test_failed_logins_slow_the_source_but_never_lock_the_account(web_env: WebEnv) -> None:
    accounts.create_user(web_env.store, username="lock.me", password="correct horse 1", organisation=web_env.org_a,
                         role=Role.CASEWORKER, actor="test")
    with TestClient(web_env.app, base_url=BASE, client=("10.2.0.1", 1)) as c:
        codes = [login(c, "lock.me", "wrong password").status_code for _ in range(6)]
        assert codes == [401] * 5 + [429]
        assert login(c, "lock.me", "correct horse 1").status_code == 429
    with TestClient(web_env.app, base_url=BASE, client=("10.2.0.2", 1)) as c:
        assert login(c, "lock.me", "correct horse 1").status_code == 303
    with web_env.store.engine.connect() as conn:
        user = accounts.get_user(conn, username="lock.me")
    assert user is not None
    assert not user.locked(audit.now())


def test_session_cookie_is_secure_httponly_samesite(web_env: WebEnv) -> None:
    with TestClient(web_env.app, base_url=BASE) as c:
        cookie = login(c, "demo.analyst").headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "SameSite=Strict" in cookie


def test_totp_second_factor(web_env: WebEnv) -> None:
    user = accounts.create_user(web_env.store, username="two.factor", password="long enough pw",
                                organisation=web_env.org_a, role=Role.ANALYST, actor="test")
    secret = accounts.new_totp_secret()
    assert not accounts.enable_totp(web_env.store, user, secret, "000000" if pyotp.TOTP(secret).now() != "000000"
                                    else "111111")
    # Enabled with the previous step's code: codes are single-use, so the current one stays usable below.
    assert accounts.enable_totp(web_env.store, user, secret, pyotp.TOTP(secret).at(time.time() - 30))
    with TestClient(web_env.app, base_url=BASE) as c:
        first = login(c, "two.factor", "long enough pw")
        assert first.headers["location"].startswith("/login/totp")
        assert c.get("/cases", follow_redirects=False).status_code == 303  # not signed in yet
        page = c.get(first.headers["location"])
        done = c.post("/login/totp", data={"code": pyotp.TOTP(secret).now(), "next": "/cases",
                                           "csrf_token": csrf_of(page.text)}, follow_redirects=False)
        assert done.status_code == 303
        assert c.get("/cases").status_code == 200


def test_throttle_limits_one_client() -> None:
    from tipsom.web.security import LoginThrottle

    throttle = LoginThrottle(per_pair=100, per_source=3, per_account=100)
    waits = []
    for i in range(4):
        waits.append(throttle.wait(f"user{i}", "10.0.0.1"))
        throttle.failed(f"user{i}", "10.0.0.1")
    assert waits[:3] == [0.0] * 3
    assert waits[3] > 0
    assert throttle.wait("user9", "10.0.0.2") == 0.0


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil"])
def test_login_never_redirects_off_site(web_env: WebEnv, target: str) -> None:
    with TestClient(web_env.app, base_url=BASE) as c:
        page = c.get("/login")
        response = c.post("/login", data={"username": "demo.analyst", "password": accounts.DEMO_PASSWORD,
                                          "next": target, "csrf_token": csrf_of(page.text)},
                          follow_redirects=False)
    assert response.headers["location"] == "/cases"


def test_admin_audit_page_filters(web_env: WebEnv) -> None:
    signed_in(web_env, DEMO_OTHER_ORG_USER).get(f"/cases/{web_env.case_a}")
    admin = signed_in(web_env, "demo.admin")
    page = admin.get("/admin/audit", params={"action": "denied", "entity_id": web_env.case_a})
    assert page.status_code == 200
    assert DEMO_OTHER_ORG_USER in page.text
    assert "action-denied" in page.text
    assert "action-login" not in page.text
    assert signed_in(web_env, "demo.caseworker").get("/admin/audit").status_code == 403


def test_authenticate_outcomes(web_env: WebEnv) -> None:
    assert accounts.authenticate(web_env.store, "nobody", "x", client="t")[0] is LoginOutcome.BAD_CREDENTIALS
    assert accounts.authenticate(web_env.store, "demo.analyst", accounts.DEMO_PASSWORD,
                                 client="t")[0] is LoginOutcome.OK


def test_demo_accounts_are_idempotent(web_env: WebEnv) -> None:
    first = accounts.ensure_demo_accounts(web_env.store)
    again = accounts.ensure_demo_accounts(web_env.store)
    assert first == again
    assert {role for _u, _p, role in first} == {str(r) for r in Role}
