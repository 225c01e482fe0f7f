"""Issue 15, access findings 1, 2, 6 and 7: scoped administration, scoped audit, accounts, login.

Each test runs on SQLite and PostgreSQL over a small demo store of its own,
through the ASGI client as a user (or an attacker) would.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pyotp
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.web.conftest import BASE, WebEnv, csrf_of, env_for, login, make_settings
from tests.web.test_person_removal import _edit_data
from tipsom.store import audit
from tipsom.store.db import Store
from tipsom.store.tables import REGISTRY
from tipsom.store.writer import BatchWriter
from tipsom.synth.demo import load_demo
from tipsom.web import accounts, casework, organisations
from tipsom.web.accounts import DEMO_INSTALLATION_ADMIN, DEMO_OTHER_ORG_USER, DEMO_PASSWORD, Role
from tipsom.web.organisations import register_reporting_organisations
from tipsom.web.tables import case_shares


@pytest.fixture
def env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WebEnv]:
    # argon2 at its production cost would make these many logins take minutes on a shared machine.
    cheap = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    monkeypatch.setattr(accounts, "_HASHER", cheap)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", cheap.hash("no such user"))
    store = Store.init(db_url, settings=make_settings(tmp_path / "var"))
    load_demo(store, n=24, seed=5)
    register_reporting_organisations(store, actor="demo")
    accounts.ensure_demo_accounts(store)
    yield env_for(store)
    store.dispose()


def _client(env: WebEnv, username: str, password: str = DEMO_PASSWORD, host: str = "testclient") -> TestClient:
    c = TestClient(env.app, base_url=BASE, client=(host, 50000))
    assert login(c, username, password).status_code == 303
    return c


def _post(c: TestClient, path: str, data: dict[str, str], page: str = "/account") -> object:
    token = csrf_of(c.get(page).text)
    return c.post(path, data={**data, "csrf_token": token}, follow_redirects=False)


def _events(env: WebEnv, **kw: object) -> list[dict[str, object]]:
    with env.store.engine.connect() as conn:
        return audit.events(conn, **kw)  # type: ignore[arg-type]


def _other_org_admin(env: WebEnv) -> str:
    """An administrator of the second organisation, created as the installation administrator would."""
    with env.store.engine.connect() as conn:
        installation = accounts.get_user(conn, username=DEMO_INSTALLATION_ADMIN)
    accounts.create_user(env.store, username="other.admin", password="Fjord-walrus-42", organisation=env.org_b,
                         role=Role.ADMIN, actor=DEMO_INSTALLATION_ADMIN, by=installation)
    return "other.admin"


# --- finding 1: administration scoped by organisation ---------------------------------------------


def test_organisation_admin_cannot_touch_another_organisations_accounts(env: WebEnv) -> None:
    admin = _client(env, "demo.admin")
    created = _post(admin, "/admin/users", {"username": "mole", "password": "Quiet-otter-5517",
                                            "organisation": env.org_b, "role": "caseworker"}, "/admin/users")
    assert created.status_code == 422  # type: ignore[attr-defined]
    with env.store.engine.connect() as conn:
        assert accounts.get_user(conn, username="mole") is None
    reset = _post(admin, f"/admin/users/{DEMO_OTHER_ORG_USER}/password", {"password": "Taken-over-9981"},
                  "/admin/users")
    assert reset.status_code == 422  # type: ignore[attr-defined]
    assert "no account" in reset.text  # type: ignore[attr-defined]  # same words as for a missing account
    for change, data in (("unlock", {}), ("active", {"active": "0"}), ("role", {"role": "viewer"})):
        assert _post(admin, f"/admin/users/{DEMO_OTHER_ORG_USER}/{change}", data,
                     "/admin/users").status_code == 422  # type: ignore[attr-defined]
    _client(env, DEMO_OTHER_ORG_USER)  # password unchanged, account still active
    assert DEMO_OTHER_ORG_USER not in admin.get("/admin/users").text
    denied = _events(env, actor="demo.admin", action=audit.AuditAction.DENIED)
    assert {e["entity_id"] for e in denied} >= {"mole", DEMO_OTHER_ORG_USER}
    own = _post(admin, "/admin/users", {"username": "new.colleague", "password": "Quiet-otter-5517",
                                        "organisation": env.org_a, "role": "caseworker"}, "/admin/users")
    assert own.status_code == 303  # type: ignore[attr-defined]
    assert _events(env, entity_id="new.colleague", action=audit.AuditAction.CREATE)


def test_installation_admin_sets_up_organisations_but_sees_no_cases(env: WebEnv) -> None:
    installation = _client(env, DEMO_INSTALLATION_ADMIN)
    assert installation.get("/cases").status_code == 403
    assert installation.get(f"/cases/{env.case_a}").status_code in (403, 404)
    assert installation.get("/api/v1/cases", headers={}).status_code in (401, 403)
    added = _post(installation, "/admin/organisations", {"code": "NLD-KNP", "name": "NLD Border police",
                                                         "jurisdiction": "NLD", "org_type": "LawEnforcement"},
                  "/admin/organisations")
    assert added.status_code == 303  # type: ignore[attr-defined]
    first_admin = _post(installation, "/admin/users", {"username": "nl.admin", "password": "Dutch-tulip-8841",
                                                       "organisation": "NLD Border police", "role": "admin"},
                        "/admin/users")
    assert first_admin.status_code == 303  # type: ignore[attr-defined]
    caseworker = _post(installation, "/admin/users", {"username": "nl.worker", "password": "Dutch-tulip-8841",
                                                      "organisation": "NLD Border police", "role": "caseworker"},
                       "/admin/users")
    assert caseworker.status_code == 422  # type: ignore[attr-defined]
    unregistered = _post(installation, "/admin/users", {"username": "ghost.admin", "password": "Dutch-tulip-8841",
                                                        "organisation": "Made-up agency", "role": "admin"},
                         "/admin/users")
    assert unregistered.status_code == 422  # type: ignore[attr-defined]
    assert _events(env, entity_id="NLD-KNP", action=audit.AuditAction.CREATE)
    nl_admin = _client(env, "nl.admin", "Dutch-tulip-8841")
    assert env.case_a not in nl_admin.get("/cases").text


# --- finding 2: the audit log per organisation --------------------------------------------------


def test_audit_log_shows_each_organisation_its_own_events(env: WebEnv) -> None:
    other = _client(env, DEMO_OTHER_ORG_USER)
    person = re.search(r'name="person_id" value="([^"]+)"', other.get(f"/cases/{env.case_b}").text)
    assert person
    secret_purpose = "referral to a named shelter 4471"
    revealed = _post(other, f"/cases/{env.case_b}/reveal", {"person_id": person.group(1),
                                                            "other_purpose": secret_purpose},
                     f"/cases/{env.case_b}")
    assert revealed.status_code == 200  # type: ignore[attr-defined]
    admin_a = _client(env, "demo.admin").get("/admin/audit").text
    assert secret_purpose not in admin_a
    assert DEMO_OTHER_ORG_USER not in admin_a
    assert env.case_b not in admin_a
    admin_b = _client(env, _other_org_admin(env), "Fjord-walrus-42").get("/admin/audit").text
    assert secret_purpose in admin_b
    assert "demo.admin" not in admin_b
    assert other.get(f"/cases/{env.case_a}").status_code == 404  # a probe, audited as denied
    installation = _client(env, DEMO_INSTALLATION_ADMIN).get("/admin/audit",
                                                             params={"actor": DEMO_OTHER_ORG_USER}).text
    assert "action-login" in installation  # security events are there
    assert "action-denied" in installation
    assert env.case_a not in installation
    assert secret_purpose not in installation
    assert env.case_b not in installation
    assert "action-read" not in installation


# --- finding 6: accounts ------------------------------------------------------------------------


@pytest.mark.parametrize("weak", ["aaaaaaaaaa", "password123", "qwertyuiop", DEMO_PASSWORD, "Demo.Admin-x1"])
def test_weak_common_and_demo_passwords_are_refused(weak: str) -> None:
    with pytest.raises(accounts.AccountError):
        accounts.check_password_strength(weak, username="demo.admin")


def test_password_change_disable_role_change_and_defaults(env: WebEnv) -> None:
    accounts.create_user(env.store, username="self.service", password="Glacier-moth-2290", organisation=env.org_a,
                         role=Role.CASEWORKER, actor="test")
    me = _client(env, "self.service", "Glacier-moth-2290")
    wrong = _post(me, "/account/password", {"current_password": "not it at all", "password": "Harbour-finch-7713"})
    assert wrong.status_code == 422  # type: ignore[attr-defined]
    weak = _post(me, "/account/password", {"current_password": "Glacier-moth-2290", "password": "aaaaaaaaaa"})
    assert weak.status_code == 422  # type: ignore[attr-defined]
    demo = _post(me, "/account/password", {"current_password": "Glacier-moth-2290", "password": DEMO_PASSWORD})
    assert demo.status_code == 422  # type: ignore[attr-defined]
    changed = _post(me, "/account/password", {"current_password": "Glacier-moth-2290",
                                              "password": "Harbour-finch-7713"})
    assert changed.status_code == 303  # type: ignore[attr-defined]
    assert me.get("/account", follow_redirects=False).status_code == 303  # the session ended
    with TestClient(env.app, base_url=BASE) as c:
        assert login(c, "self.service", "Glacier-moth-2290").status_code == 401
    admin = _client(env, "demo.admin")
    users_page = admin.get("/admin/users").text
    new_user_role = re.search(r'<select id="u-role" name="role">(.*?)</select>', users_page, re.S)
    assert new_user_role
    assert re.search(r'<option value="viewer" selected', new_user_role.group(1))
    assert _post(admin, "/admin/users/self.service/active", {"active": "0"}, "/admin/users").status_code == 303  # type: ignore[attr-defined]
    with TestClient(env.app, base_url=BASE) as c:
        assert login(c, "self.service", "Harbour-finch-7713").status_code == 401
    assert _post(admin, "/admin/users/self.service/active", {"active": "1"}, "/admin/users").status_code == 303  # type: ignore[attr-defined]
    assert _post(admin, "/admin/users/self.service/role", {"role": "viewer"}, "/admin/users").status_code == 303  # type: ignore[attr-defined]
    viewer = TestClient(env.app, base_url=BASE)
    form = viewer.get("/login")
    first = viewer.post("/login", data={"username": "self.service", "password": "Harbour-finch-7713",
                                        "next": re.search(r'name="next" value="([^"]*)"', form.text).group(1),  # type: ignore[union-attr]
                                        "csrf_token": csrf_of(form.text)}, follow_redirects=False)
    assert first.headers["location"] == "/dashboard"  # a page the viewer may open (not "Access denied")
    changes = [e["detail"] for e in _events(env, entity_id="self.service", action=audit.AuditAction.UPDATE)]
    for change in ("own password", "disabled", "enabled", "role caseworker -> viewer"):
        assert any(change in str(d) for d in changes), change


# --- finding 7: login -----------------------------------------------------------------------------


def _login_answer(env: WebEnv, username: str, password: str, host: str) -> tuple[int, str]:
    c = TestClient(env.app, base_url=BASE, client=(host, 50000))
    response = login(c, username, password)
    error = re.search(r'<p class="error"[^>]*>([^<]+)</p>', response.text)
    return response.status_code, error.group(1) if error else ""


def test_login_answers_alike_for_unknown_wrong_disabled_and_locked(env: WebEnv,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    accounts.create_user(env.store, username="gone.user", password="Quartz-lemur-6620", organisation=env.org_a,
                         role=Role.CASEWORKER, actor="test")
    accounts.set_active(env.store, "gone.user", False, actor="test")
    accounts.create_user(env.store, username="held.user", password="Quartz-lemur-6620", organisation=env.org_a,
                         role=Role.CASEWORKER, actor="test")
    with env.store.begin() as conn:
        from sqlalchemy import update

        from tipsom.web.tables import users
        conn.execute(update(users).where(users.c.username == "held.user").values(
            locked_until=audit.now().replace(year=audit.now().year + 1)))
    verified: list[str] = []
    real_verify = accounts._verify
    monkeypatch.setattr(accounts, "_verify", lambda h, p: verified.append(h) or real_verify(h, p))
    answers = {name: _login_answer(env, name, pw, f"10.1.0.{i}") for i, (name, pw) in enumerate([
        ("no.such.user", "Quartz-lemur-6620"), ("demo.analyst", "wrong password 1"),
        ("gone.user", "Quartz-lemur-6620"), ("held.user", "Quartz-lemur-6620")])}
    assert len(set(answers.values())) == 1, answers
    assert next(iter(answers.values()))[0] == 401
    # One argon2 verification per attempt whatever the account's state: the same work, so the same time.
    assert len(verified) == len(answers)


def test_guessing_cannot_lock_out_the_real_user(env: WebEnv) -> None:
    accounts.create_user(env.store, username="target.user", password="Copper-heron-3385", organisation=env.org_a,
                         role=Role.CASEWORKER, actor="test")
    real = _client(env, "target.user", "Copper-heron-3385", host="192.0.2.10")  # signed in before: known device
    limit = env.app.state.web.throttle.per_account
    # A distributed guess, one failure from each of many sources: slowed once the account's limit is reached.
    codes = [_login_answer(env, "target.user", "guess guess", f"198.51.100.{i}")[0] for i in range(limit + 2)]
    assert codes == [401] * limit + [429] * 2
    for _ in range(6):
        _login_answer(env, "target.user", "guess guess", "203.0.113.7")
    # The attacker is slowed down, even with the right password, and for unknown names alike.
    assert _login_answer(env, "target.user", "Copper-heron-3385", "203.0.113.7")[0] == 429
    for _ in range(6):
        _login_answer(env, "nobody.here", "guess guess", "203.0.113.8")
    assert _login_answer(env, "nobody.here", "guess guess", "203.0.113.8")[0] == 429
    # The real user, from the browser where they signed in before, still gets in.
    real.cookies.delete("tipsom_session")
    assert login(real, "target.user", "Copper-heron-3385").status_code == 303
    with env.store.engine.connect() as conn:
        user = accounts.get_user(conn, username="target.user")
    assert user is not None
    assert not user.locked(audit.now())
    assert any('"throttled"' in str(e["detail"]) for e in _events(env, actor="target.user",
                                                                    action=audit.AuditAction.LOGIN))


def test_totp_code_is_accepted_once(env: WebEnv) -> None:
    user = accounts.create_user(env.store, username="otp.user", password="Velvet-bison-1174",
                                organisation=env.org_a, role=Role.ANALYST, actor="test")
    secret = accounts.new_totp_secret()
    totp = pyotp.TOTP(secret)
    assert accounts.enable_totp(env.store, user, secret, totp.at(time.time() - 30))  # the previous step's code
    code = totp.now()
    assert accounts.verify_totp(env.store, user, code, client="t")
    assert not accounts.verify_totp(env.store, user, code, client="t")  # replayed within its window
    c = TestClient(env.app, base_url=BASE)
    first = login(c, "otp.user", "Velvet-bison-1174")
    page = c.get(first.headers["location"])
    replay = c.post("/login/totp", data={"code": code, "csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert replay.status_code == 401


# --- finding 3: sharing with registered organisations, scoped, ending, revocable --------------------


def _share(owner: TestClient, env: WebEnv, **data: str) -> object:
    return _post(owner, f"/cases/{env.case_a}/share", data, f"/cases/{env.case_a}")


def _first_person(c: TestClient, case_id: str) -> str:
    found = re.search(r'name="person_id" value="([^"]+)"', c.get(f"/cases/{case_id}").text)
    assert found, "no reveal form on the case page"
    return found.group(1)


def test_sharing_is_with_registered_organisations_within_a_scope_and_revocable(env: WebEnv) -> None:
    with env.store.engine.connect() as conn:
        code_b = organisations.find(conn, name=env.org_b).code  # type: ignore[union-attr]
    owner = _client(env, "demo.caseworker")
    other = _client(env, DEMO_OTHER_ORG_USER)
    assert _share(owner, env, organisation="Made-up agency", scope="edit").status_code == 422  # type: ignore[attr-defined]
    assert _share(owner, env, organisation=code_b, scope="summary",
                  ends_on="2001-01-01").status_code == 422  # type: ignore[attr-defined]
    assert other.get(f"/cases/{env.case_a}").status_code == 404
    assert _share(owner, env, organisation=code_b, scope="summary").status_code == 303  # type: ignore[attr-defined]
    summary = other.get(f"/cases/{env.case_a}")
    assert summary.status_code == 200
    assert "Show personal data" not in summary.text
    assert other.get(f"/cases/{env.case_a}/edit").status_code == 403
    person = _first_person(owner, env.case_a)
    token = csrf_of(summary.text)
    reveal = {"person_id": person, "purpose": "referral", "csrf_token": token}
    assert other.post(f"/cases/{env.case_a}/reveal", data=reveal).status_code == 403
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    assert _share(owner, env, organisation=code_b, scope="personal",
                  ends_on=tomorrow).status_code == 303  # type: ignore[attr-defined]
    assert other.post(f"/cases/{env.case_a}/reveal", data=reveal).status_code == 200
    assert other.get(f"/cases/{env.case_a}/edit").status_code == 403
    assert _share(owner, env, organisation=code_b, scope="edit").status_code == 303  # type: ignore[attr-defined]
    assert other.get(f"/cases/{env.case_a}/edit").status_code == 200
    assert _post(other, f"/cases/{env.case_a}/share", {"organisation": code_b, "scope": "edit"},
                 f"/cases/{env.case_a}").status_code == 403  # type: ignore[attr-defined]  # no onward sharing
    revoked = _post(owner, f"/cases/{env.case_a}/share/{code_b}/revoke", {}, f"/cases/{env.case_a}")
    assert revoked.status_code == 303  # type: ignore[attr-defined]
    assert other.get(f"/cases/{env.case_a}").status_code == 404
    assert env.case_a not in other.get("/cases").text
    assert "revoked" in owner.get(f"/cases/{env.case_a}").text
    steps = _events(env, entity_id=env.case_a)
    share_events = [str(e["detail"]) for e in steps if e["entity"] == "case_share"]
    assert len(share_events) == 2 * 4  # grant, change, change, revoke: each on both sides
    assert sum('"side": "recipient"' in d for d in share_events) == 4
    admin_b = _client(env, _other_org_admin(env), "Fjord-walrus-42")
    assert "revoke case share" in admin_b.get("/admin/audit", params={"entity_id": env.case_a}).text


def test_a_share_past_its_end_date_gives_no_access(env: WebEnv) -> None:
    with env.store.engine.connect() as conn:
        code_b = organisations.find(conn, name=env.org_b).code  # type: ignore[union-attr]
    owner = _client(env, "demo.caseworker")
    assert _share(owner, env, organisation=code_b, scope="summary").status_code == 303  # type: ignore[attr-defined]
    other = _client(env, DEMO_OTHER_ORG_USER)
    assert other.get(f"/cases/{env.case_a}").status_code == 200
    with env.store.begin() as conn:
        conn.execute(update(case_shares).values(ends_on=dt.date.today() - dt.timedelta(days=1)))
    assert other.get(f"/cases/{env.case_a}").status_code == 404


# --- finding 4: the edit form keeps personal data sealed ----------------------------------------


def _personal_columns(env: WebEnv, key: str) -> dict[str, object]:
    persons = REGISTRY["person"]
    cols = [c for c in persons.c if c.name.endswith("_enc") or c.name.startswith("pseudo_")]
    with env.store.engine.connect() as conn:
        return dict(conn.execute(select(*cols).where(persons.c.key == key)).one()._mapping)


def _named_person(env: WebEnv) -> tuple[str, str, str]:
    """(person key, case id, person id) of the first stored person with a given name in organisation A."""
    persons = REGISTRY["person"]
    with env.store.engine.connect() as conn:
        row = conn.execute(
            select(persons.c.key, persons.c.case_id, persons.c.person_id).where(
                persons.c.given_name_enc.is_not(None), persons.c.case_id.in_(
                    select(REGISTRY["case"].c.id).where(REGISTRY["case"].c.reporting_org == env.org_a)))
            .order_by(persons.c.key)).first()
    assert row is not None
    return row[0], row[1], row[2]


def _given_name(env: WebEnv, case_id: str, person_id: str) -> str:
    """The person's given name, decrypted as a caseworker of organisation A revealing it."""
    document = casework.read_case(env.store, accounts.User(0, "test", "", env.org_a, Role.CASEWORKER, "en", False,
                                                           True, False, None), case_id, reveal=person_id,
                                  purpose="test")
    return str(next(p["given_name"] for p in document["persons"] if p["person_id"] == person_id))


def test_editing_a_case_never_decrypts_until_one_person_is_revealed(env: WebEnv) -> None:
    key, case_id, person_id = _named_person(env)
    before = _personal_columns(env, key)
    given = _given_name(env, case_id, person_id)
    reads = len(_events(env, action=audit.AuditAction.READ))
    worker = _client(env, "demo.caseworker")
    form = worker.get(f"/cases/{case_id}/edit").text
    assert given not in form
    assert "Show personal data" in form
    data = _edit_data(worker, case_id)
    data.update({"c.status": "FollowUp", "action": "save"})
    saved = worker.post(f"/cases/{case_id}/edit", data=data, follow_redirects=False)
    assert saved.status_code == 303, saved.text[-1500:]
    assert len(_events(env, action=audit.AuditAction.READ)) == reads  # nothing was decrypted
    assert _personal_columns(env, key) == before  # and nothing personal was lost or rewritten
    with env.store.engine.connect() as conn:
        assert conn.scalar(select(REGISTRY["case"].c.status).where(REGISTRY["case"].c.id == case_id)) == "FollowUp"
    data = _edit_data(worker, case_id)
    index = next(k.split(".")[0] for k, v in data.items() if k.endswith(".person_id") and v == person_id)
    shown = worker.post(f"/cases/{case_id}/edit", data={**data, "action": f"reveal:{index}",
                                                        f"{index}.__purpose": "case management"})
    assert shown.status_code == 200
    assert f'value="{given}"' in shown.text
    all_reads = _events(env, action=audit.AuditAction.READ)  # newest first
    new_reads = all_reads[: len(all_reads) - reads]
    assert [e["entity_id"] for e in new_reads] == [key]
    assert "case management" in str(new_reads[0]["purpose"])


def test_saving_with_hidden_persons_is_all_or_nothing(env: WebEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hidden persons' stored ciphertexts are kept in the transaction that saves the case."""
    key, case_id, person_id = _named_person(env)
    given = _given_name(env, case_id, person_id)
    before = _personal_columns(env, key)
    cases = REGISTRY["case"]
    with env.store.engine.connect() as conn:
        status = conn.scalar(select(cases.c.status).where(cases.c.id == case_id))
    new_status = "Closed" if status != "Closed" else "FollowUp"
    worker = _client(env, "demo.caseworker")
    data = {**_edit_data(worker, case_id), "c.status": new_status, "action": "save"}
    written = BatchWriter._update
    persons = REGISTRY["person"]
    sealed_in_transaction: list[dict[str, object]] = []

    def fail_after_the_person(self: BatchWriter, layout: Any, key_column: str, row_key: str, row: Any,
                              entity: str, keep: frozenset[str] = frozenset()) -> None:
        written(self, layout, key_column, row_key, row, entity, keep)
        if row_key == key:  # what the transaction holds once the person's row is rewritten
            columns = [persons.c[name] for name in before]
            stored = self.conn.execute(select(*columns).where(persons.c.key == key)).one()
            sealed_in_transaction.append(dict(stored._mapping))
            raise OSError("disk full")

    monkeypatch.setattr(BatchWriter, "_update", fail_after_the_person)
    with pytest.raises(OSError, match="disk full"):
        worker.post(f"/cases/{case_id}/edit", data=data, follow_redirects=False)
    assert sealed_in_transaction == [before]  # never a moment without them, so no second step to fail
    with env.store.engine.connect() as conn:
        assert conn.scalar(select(cases.c.status).where(cases.c.id == case_id)) == status
    assert _personal_columns(env, key) == before
    monkeypatch.setattr(BatchWriter, "_update", written)
    saved = worker.post(f"/cases/{case_id}/edit", data=data, follow_redirects=False)
    assert saved.status_code == 303, saved.text[-1500:]
    with env.store.engine.connect() as conn:
        assert conn.scalar(select(cases.c.status).where(cases.c.id == case_id)) == new_status
    assert _given_name(env, case_id, person_id) == given


# --- finding 5: no existence oracle; ids scoped by organisation ---------------------------------


def test_not_yours_answers_like_missing_and_both_organisations_may_use_one_id(env: WebEnv) -> None:
    other = _client(env, DEMO_OTHER_ORG_USER)
    theirs = other.get(f"/cases/{env.case_a}")
    missing = other.get("/cases/ZZ-NOT-THERE")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.text.replace(env.case_a, "X") == missing.text.replace("ZZ-NOT-THERE", "X")
    assert other.get(f"/cases/{env.case_a}/edit").status_code == 404
    denied = _events(env, entity_id=env.case_a, actor=DEMO_OTHER_ORG_USER, action=audit.AuditAction.DENIED)
    assert denied
    keys = []
    for c in (_client(env, "demo.caseworker"), other):
        for local in ("2024-017", env.case_a):  # the same local id, and the other organisation's own id
            page = c.get("/cases/new")
            created = c.post("/cases/new", data={"csrf_token": csrf_of(page.text), "action": "save",
                                                 "c.case_id": local, "c.case_type": "TIP", "p0.__present": "1",
                                                 "p0.person_id": "P1", "p0.role": "Victim"},
                             follow_redirects=False)
            assert created.status_code == 303, created.text[-800:]
            keys.append(unquote(created.headers["location"].split("?")[0].removeprefix("/cases/")))
            assert c.get(created.headers["location"]).status_code == 200
    assert len(set(keys)) == 4
