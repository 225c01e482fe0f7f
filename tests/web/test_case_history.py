"""The case page's history: who changed what and when; a supervisor restores a version (confirmed, audited)."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import BASE, WebEnv, csrf_of, signed_in
from tests.web.test_api import bearer, token_for
from tests.web.test_person_removal import _edit_data
from tipsom.store import audit
from tipsom.store.reader import iter_documents
from tipsom.web.security import Scope

pytestmark = pytest.mark.sqlite_only("the store's history is tested on both backends in tests/store/test_history.py")


def _forms(web_env: WebEnv, case_id: str) -> list[str]:
    with web_env.store.begin() as conn:
        doc = next(iter_documents(conn, web_env.store.model, case_ids=[case_id]))
    return list(doc["persons"][0]["exploitation_forms"] or [])


def _new_case(c: TestClient) -> str:
    page = c.get("/cases/new")
    case_id = re.search(r'name="c.case_id" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    data = {"csrf_token": csrf_of(page.text), "action": "save", "c.case_id": case_id, "c.case_type": "TIP",
            "p0.__present": "1", "p0.person_id": "P1", "p0.role": "Victim",
            "p0.exploitation_forms": "SexualExploitation"}
    saved = c.post("/cases/new", data=data, follow_redirects=False)
    assert saved.status_code == 303, saved.text[-1500:]
    return unquote(saved.headers["location"].split("/")[2].split("?")[0])


def test_an_edit_shows_in_the_history_and_a_supervisor_restores_it(web_env: WebEnv) -> None:
    worker = signed_in(web_env, "demo.caseworker")
    case_id = _new_case(worker)
    assert "has not been changed since it was first saved" in worker.get(f"/cases/{case_id}").text
    data = _edit_data(worker, case_id)
    data.update({"action": "save", "p0.exploitation_forms": "ForcedLabour"})
    assert worker.post(f"/cases/{case_id}/edit", data=data, follow_redirects=False).status_code == 303
    assert _forms(web_env, case_id) == ["ForcedLabour"]

    page = worker.get(f"/cases/{case_id}").text
    history = page[page.index('id="history-title"'):]
    assert "demo.caseworker changed the case" in history
    assert "<del>Sexual exploitation</del>" in history
    assert "<ins>Forced labour</ins>" in history
    assert "/history/1/restore" not in history, "only a supervisor is offered the restore"
    refused = worker.post(f"/cases/{case_id}/history/1/restore",
                          data={"csrf_token": csrf_of(page), "confirm": "yes", "purpose": "undo"})
    assert refused.status_code == 403

    admin = signed_in(web_env, "demo.admin")
    page = admin.get(f"/cases/{case_id}").text
    assert f"/cases/{case_id}/history/1/restore" in unquote(page)
    unconfirmed = admin.post(f"/cases/{case_id}/history/1/restore", data={"csrf_token": csrf_of(page),
                                                                         "purpose": "undo mistaken edit"})
    assert unconfirmed.status_code == 422
    assert _forms(web_env, case_id) == ["ForcedLabour"], "nothing is restored without the confirmation"
    done = admin.post(f"/cases/{case_id}/history/1/restore", follow_redirects=False,
                      data={"csrf_token": csrf_of(page), "confirm": "yes", "purpose": "undo mistaken edit"})
    assert done.status_code == 303
    assert _forms(web_env, case_id) == ["SexualExploitation"]
    with web_env.store.engine.connect() as conn:
        events = audit.events(conn, entity_id=case_id, action=audit.AuditAction.RESTORE)
    assert [(e["actor"], e["purpose"]) for e in events] == [("demo.admin", "undo mistaken edit")]
    assert "demo.admin restored an earlier version" in admin.get(f"/cases/{case_id}").text

    api = TestClient(web_env.app, base_url=BASE)
    own = api.get(f"/api/v1/cases/{case_id}/history",
                  headers=bearer(token_for(web_env, "demo.caseworker", {Scope.CASES_READ})))
    assert own.status_code == 200
    assert [v["change"] for v in own.json()] == ["update", "restore"]
    assert {"entity": "person", "record": "P1", "field": "exploitation_forms", "before": ["SexualExploitation"],
            "after": ["ForcedLabour"], "sealed": False} in own.json()[0]["changes"]
    with web_env.store.engine.connect() as conn:
        assert len(audit.events(conn, entity_id=case_id, action=audit.AuditAction.READ)) >= 1
    other = api.get(f"/api/v1/cases/{case_id}/history",
                    headers=bearer(token_for(web_env, "other.caseworker", {Scope.CASES_READ})))
    assert other.status_code == 404
