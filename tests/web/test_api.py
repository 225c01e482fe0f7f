"""REST API: bearer tokens and scopes, pagination, need-to-know, and schemathesis over the OpenAPI."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from sqlalchemy import select

from tests.web.conftest import BASE, WebEnv
from tipsom.store import audit
from tipsom.store.tables import REGISTRY
from tipsom.web import casework, security
from tipsom.web.accounts import DEMO_OTHER_ORG_USER, get_user
from tipsom.web.security import Scope


def token_for(env: WebEnv, username: str, scopes: set[Scope]) -> str:
    with env.store.engine.connect() as conn:
        user = get_user(conn, username=username)
    assert user is not None
    return security.issue_token(env.store, user, name=f"test {username}", scopes=scopes)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(web_env: WebEnv) -> TestClient:
    return TestClient(web_env.app, base_url=BASE)


@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/cases", "/api/v1/cases/SYN-0000001", "/api/v1/stats"])
def test_unauthenticated_calls_get_401(api: TestClient, path: str) -> None:
    assert api.get(path).status_code == 401
    assert api.get(path, headers=bearer("tps_not-a-real-token")).status_code == 401
    response = api.get(path, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert api.post("/api/v1/cases", json={"case_id": "X"}).status_code == 401


def test_scopes_narrow_what_a_token_may_do(api: TestClient, web_env: WebEnv) -> None:
    stats_only = token_for(web_env, "demo.caseworker", {Scope.STATS_READ})
    assert api.get("/api/v1/cases", headers=bearer(stats_only)).status_code == 403
    assert api.get("/api/v1/stats", headers=bearer(stats_only)).status_code == 200
    viewer = token_for(web_env, "demo.viewer", {Scope.CASES_READ, Scope.STATS_READ})
    assert api.get("/api/v1/cases", headers=bearer(viewer)).status_code == 403  # role: aggregates only


def test_revoked_token_is_refused(api: TestClient, web_env: WebEnv) -> None:
    token = token_for(web_env, "demo.analyst", {Scope.CASES_READ})
    assert api.get("/api/v1/me", headers=bearer(token)).status_code == 200
    with web_env.store.engine.connect() as conn:
        user = get_user(conn, username="demo.analyst")
    assert user is not None
    newest = security.list_tokens(web_env.store, user)[0]
    assert security.revoke_token(web_env.store, user, newest.id)
    assert api.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_pagination_and_need_to_know(api: TestClient, web_env: WebEnv) -> None:
    token = token_for(web_env, "demo.analyst", {Scope.CASES_READ})
    first = api.get("/api/v1/cases", params={"per_page": 2}, headers=bearer(token)).json()
    second = api.get("/api/v1/cases", params={"per_page": 2, "page": 2}, headers=bearer(token)).json()
    assert first["per_page"] == 2
    assert len(first["items"]) == 2
    assert first["total"] >= 3
    assert {i["case_id"] for i in first["items"]}.isdisjoint(i["case_id"] for i in second["items"])
    assert {i["reporting_org"] for i in first["items"] + second["items"]} <= {web_env.org_a}
    document = api.get(f"/api/v1/cases/{web_env.case_a}", headers=bearer(token)).json()
    assert document["case_id"] == web_env.case_a
    assert all("given_name" not in p and "birth_date" not in p for p in document["persons"])
    other = token_for(web_env, DEMO_OTHER_ORG_USER, {Scope.CASES_READ})
    not_shared = api.get(f"/api/v1/cases/{web_env.case_a}", headers=bearer(other))
    missing = api.get("/api/v1/cases/NO-SUCH-CASE", headers=bearer(other))
    assert not_shared.status_code == missing.status_code == 404
    assert not_shared.json() == missing.json()
    with web_env.store.engine.connect() as conn:
        assert audit.events(conn, entity_id=web_env.case_a, actor=DEMO_OTHER_ORG_USER,
                            action=audit.AuditAction.DENIED)


@pytest.mark.parametrize(("page", "per_page", "status"), [
    (casework.MAX_PAGE, 1, 200),
    (casework.MAX_PAGE + 1, 1, 422),
    (2**63, 1, 422),
    (0, 1, 422),
    (1, casework.MAX_PAGE_SIZE, 200),
    (1, casework.MAX_PAGE_SIZE + 1, 422),
    (1, 0, 422),
])
def test_case_list_refuses_pages_out_of_bounds(api: TestClient, web_env: WebEnv, page: int, per_page: int,
                                               status: int) -> None:
    token = token_for(web_env, "demo.analyst", {Scope.CASES_READ})
    response = api.get("/api/v1/cases", params={"page": page, "per_page": per_page}, headers=bearer(token))
    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert (body["page"], body["per_page"]) == (page, per_page)
        assert body["items"] == [] or page == 1


def test_create_case_through_the_api(api: TestClient, web_env: WebEnv) -> None:
    token = token_for(web_env, "demo.caseworker", {Scope.CASES_WRITE})
    doc = {"case_id": "API-0001", "case_type": "TIP", "reporting_org": "someone else",
           "persons": [{"person_id": "P1", "role": "Victim", "age": 16}]}
    created = api.post("/api/v1/cases", json=doc, headers=bearer(token))
    assert created.status_code == 201
    assert created.json()["saved"]
    stored_id = created.json()["case_id"]
    assert stored_id.endswith(".API-0001")  # scoped to the organisation (issue 15, finding 5)
    cases = REGISTRY["case"]
    with web_env.store.engine.connect() as conn:
        assert conn.scalar(select(cases.c.reporting_org).where(cases.c.id == stored_id)) == web_env.org_a
    again = api.post("/api/v1/cases", json=doc, headers=bearer(token))
    assert again.status_code == 422
    assert again.json()["problems"][0]["reason"] == "already exists"
    bad = api.post("/api/v1/cases", json={"case_id": "API-2", "persons": [1, {"person_id": {"x": 1}}]},
                   headers=bearer(token))
    assert bad.status_code == 422
    assert {p["column"] for p in bad.json()["problems"]} >= {"persons[0].", "persons[1].person_id"}


# --- schemathesis: generated requests against the OpenAPI description ------------------------


@pytest.fixture
def api_schema(web_env: WebEnv) -> Any:
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", web_env.app)


@pytest.fixture
def other_org_token(web_env: WebEnv) -> str:
    return token_for(web_env, DEMO_OTHER_ORG_USER, set(Scope))


@pytest.fixture
def org_a_markers(web_env: WebEnv) -> list[str]:
    """Strings that would betray organisation A's data: its name and its case ids."""
    cases = REGISTRY["case"]
    with web_env.store.engine.connect() as conn:
        ids = [r[0] for r in conn.execute(select(cases.c.id).where(cases.c.reporting_org == web_env.org_a))]
    return [web_env.org_a, *ids]


def test_generated_requests_never_fail_or_leak(api_schema: Any, other_org_token: str,
                                                org_a_markers: list[str]) -> None:
    """No 5xx for any generated input, and nothing of organisation A reaches organisation B."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {f"{op.method.upper()} {op.path}" for op in operations} >= {
        "GET /api/v1/cases", "POST /api/v1/cases", "GET /api/v1/cases/{case_id}", "GET /api/v1/stats"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: Any) -> None:
            response = case.call(headers=bearer(other_org_token))
            assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"
            leaked = [m for m in org_a_markers if m in response.text]
            assert not leaked, f"{case.method} {case.formatted_path} returned {leaked[:3]}"
            assert case.call(headers={"Authorization": ""}).status_code in (401, 404, 405, 422)

        check()
