"""Issue 15 finding 8: every create, update, view and export through the web names its record."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

from fastapi.testclient import TestClient

from tests.web.conftest import BASE, WebEnv, csrf_of, signed_in
from tests.web.test_api import bearer, token_for
from tipsom.store import audit
from tipsom.web.security import Scope


def _events_since(env: WebEnv, first: int, actor: str) -> list[dict[str, Any]]:
    with env.store.engine.connect() as conn:
        found = audit.events(conn, actor=actor, limit=100)
    return sorted((e for e in found if e["id"] > first), key=lambda e: e["id"])


def _newest(env: WebEnv) -> int:
    with env.store.engine.connect() as conn:
        found = audit.events(conn, limit=1)
    return int(found[0]["id"]) if found else 0


def _new_case_form(c: TestClient) -> dict[str, str]:
    page = c.get("/cases/new")
    case_id = re.search(r'name="c.case_id" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return {"csrf_token": csrf_of(page.text), "c.case_id": case_id, "c.case_type": "TIP", "p0.person_id": "P1",
            "p0.__present": "1", "p0.role": "Victim", "action": "save"}


def _created(response: Any, data: dict[str, str]) -> str:
    """The stored id of a case saved on the form: the local id under the organisation's code."""
    assert response.status_code == 303
    case_id = unquote(response.headers["location"].split("?")[0].rsplit("/", 1)[-1])
    assert case_id.endswith(f".{data['c.case_id']}")
    return case_id


def test_a_case_created_and_edited_on_the_web_is_logged_under_its_id(web_env: WebEnv) -> None:
    c = signed_in(web_env, "demo.caseworker")
    data = _new_case_form(c)
    first = _newest(web_env)
    case_id = _created(c.post("/cases/new", data=data, follow_redirects=False), data)
    created = [e for e in _events_since(web_env, first, "demo.caseworker") if e["entity"] == "case"]
    assert [(e["action"], e["entity_id"]) for e in created] == [("create", case_id)]
    assert json.loads(created[0]["detail"])["cases_created"] == 1

    edit = c.get(f"/cases/{case_id}/edit")
    first = _newest(web_env)
    form = {**data, "c.case_id": case_id, "csrf_token": csrf_of(edit.text), "c.status": "Closed"}
    assert c.post(f"/cases/{case_id}/edit", data=form, follow_redirects=False).status_code == 303
    updated = [e for e in _events_since(web_env, first, "demo.caseworker") if e["action"] == "update"]
    # the edit itself, then the store's record of the changed row, both under the case's id
    assert {(e["entity"], e["entity_id"]) for e in updated} == {("case", case_id)}
    assert json.loads(updated[0]["detail"])["cases_updated"] == 1


def test_a_case_created_through_the_api_is_logged_under_its_id(web_env: WebEnv) -> None:
    api = TestClient(web_env.app, base_url=BASE)
    token = token_for(web_env, "demo.caseworker", {Scope.CASES_WRITE})
    first = _newest(web_env)
    doc = {"case_id": "API-AUDIT-1", "case_type": "TIP", "persons": [{"person_id": "P1", "role": "Victim"}]}
    answer = api.post("/api/v1/cases", json=doc, headers=bearer(token))
    assert answer.status_code == 201
    case_id = answer.json()["case_id"]  # the organisation's code before the local id
    assert case_id.endswith(".API-AUDIT-1")
    events = _events_since(web_env, first, "demo.caseworker")
    assert [(e["action"], e["entity"], e["entity_id"]) for e in events] == [("create", "case", case_id)]
    assert json.loads(events[0]["detail"])["source"] == "API"


def test_case_page_and_api_reads_are_logged_one_event_per_view(web_env: WebEnv) -> None:
    c = signed_in(web_env, "demo.analyst")
    first = _newest(web_env)
    assert c.get(f"/cases/{web_env.case_a}").status_code == 200
    assert c.get(f"/cases/{web_env.case_a}").status_code == 200
    views = _events_since(web_env, first, "demo.analyst")
    assert [(e["action"], e["entity"], e["entity_id"]) for e in views] == [("read", "case", web_env.case_a)] * 2

    api = TestClient(web_env.app, base_url=BASE)
    token = token_for(web_env, "demo.analyst", {Scope.CASES_READ})
    first = _newest(web_env)
    assert api.get(f"/api/v1/cases/{web_env.case_a}", headers=bearer(token)).status_code == 200
    views = _events_since(web_env, first, "demo.analyst")
    assert [(e["action"], e["entity"], e["entity_id"]) for e in views] == [("read", "case", web_env.case_a)]
    assert json.loads(views[0]["detail"]) == {"via": "API"}


def test_list_and_search_views_log_one_compact_event_naming_the_cases_shown(web_env: WebEnv) -> None:
    c = signed_in(web_env, "demo.analyst")
    first = _newest(web_env)
    page = c.get("/cases", params={"case_type": "TIP"})
    shown = re.findall(r'href="/cases/([^"/?]+)"', page.text)
    events = _events_since(web_env, first, "demo.analyst")
    assert [(e["action"], e["entity"]) for e in events] == [("read", "case_list")]
    detail = json.loads(events[0]["detail"])
    assert detail["search"] == {"case_type": "TIP"}
    assert set(detail["cases"]) == set(shown) - {"new"}
    assert detail["cases"]

    api = TestClient(web_env.app, base_url=BASE)
    token = token_for(web_env, "demo.analyst", {Scope.CASES_READ})
    first = _newest(web_env)
    listing = api.get("/api/v1/cases", params={"per_page": 3}, headers=bearer(token)).json()
    events = _events_since(web_env, first, "demo.analyst")
    assert len(events) == 1
    assert json.loads(events[0]["detail"])["cases"] == [i["case_id"] for i in listing["items"]]


def test_an_attachment_is_logged_under_its_case_and_exhibit(web_env: WebEnv) -> None:
    c = signed_in(web_env, "demo.caseworker")
    data = _new_case_form(c)
    case_id = _created(c.post("/cases/new", data=data, follow_redirects=False), data)
    page = c.get(f"/cases/{case_id}")
    first = _newest(web_env)
    token = csrf_of(page.text)
    response = c.post(f"/cases/{case_id}/attachments", data={"csrf_token": token, "note": "pay slip"},
                      headers={"X-CSRF-Token": token},
                      files={"file": ("slip.txt", b"wage 0, debt 4000", "text/plain")}, follow_redirects=False)
    assert response.status_code == 303, response.text[-800:]
    logged = [e for e in _events_since(web_env, first, "demo.caseworker") if e["entity_id"] == case_id]
    assert [(e["action"], e["entity"]) for e in logged] == [("update", "case")]
    assert json.loads(logged[0]["detail"])["exhibit"] == f"{case_id}-E001"
