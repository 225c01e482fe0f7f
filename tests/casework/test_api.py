"""The casework API with a TestClient: the referral journey between A and B, need-to-know for C, tasks, notes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.casework.conftest import World
from tipsom.store.tables import audit_log
from tipsom.web import security
from tipsom.web.accounts import get_user
from tipsom.web.app import create_app
from tipsom.web.security import Scope


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.store), base_url="https://testserver") as c:
        yield c


def bearer(world: World, username: str, scopes: set[Scope] | None = None) -> dict[str, str]:
    with world.store.engine.connect() as conn:
        user = get_user(conn, username=username)
    assert user is not None
    token = security.issue_token(world.store, user, name="test", scopes=scopes or set(Scope))
    return {"Authorization": f"Bearer {token}"}


def test_referral_journey_and_need_to_know(client: TestClient, world: World) -> None:
    a, b, c = bearer(world, "a.worker"), bearer(world, "b.worker"), bearer(world, "c.worker")
    body = {"case_id": world.case, "to_org": "ORGB", "service": "Shelter", "urgency": "urgent",
            "consent_given": False, "summary": "Adult woman, safe bed needed"}
    assert client.post("/api/v1/referrals", json=body, headers=a).status_code == 422  # no consent
    made = client.post("/api/v1/referrals", json={**body, "consent_given": True, "send": True}, headers=a)
    assert made.status_code == 201, made.text
    rid = made.json()["id"]
    assert made.json()["status"] == "sent"
    assert made.json()["consent_recorded_by"] == "a.worker"
    seen_by_b = client.get("/api/v1/referrals", headers=b).json()
    assert [(r["id"], r["case_id"], r["summary"]) for r in seen_by_b] == [(rid, None, body["summary"])]
    assert world.case not in client.get("/api/v1/referrals", headers=b).text
    assert client.get("/api/v1/referrals", headers=c).json() == []
    assert client.post(f"/api/v1/referrals/{rid}/accept", headers=c).status_code == 404
    assert client.get(f"/api/v1/cases/{world.case}/notes", params={"purpose": "look"}, headers=b).status_code == 404
    assert client.post(f"/api/v1/referrals/{rid}/accept", headers=a).status_code == 403  # wrong side
    assert client.post(f"/api/v1/referrals/{rid}/accept", headers=b).json()["status"] == "accepted"
    assert client.post(f"/api/v1/referrals/{rid}/decline", json={"reason": "full"}, headers=b).status_code == 409
    assert client.get("/api/v1/referrals", headers=a).json()[0]["status"] == "accepted"
    done = client.post(f"/api/v1/referrals/{rid}/complete", json={"feedback": "placed"}, headers=b)
    assert done.json()["status"] == "completed"
    assert client.get("/api/v1/referrals", headers=a).json()[0]["feedback"] == "placed"
    with world.store.engine.connect() as conn:
        steps = [r.purpose for r in conn.execute(select(audit_log.c.purpose).where(
            audit_log.c.entity == "referral", audit_log.c.entity_id == rid, audit_log.c.action == "update")
            .order_by(audit_log.c.id))]
    assert steps == ["send referral", "accept referral", "complete referral"]


def test_tasks_notes_and_due(client: TestClient, world: World) -> None:
    a, b = bearer(world, "a.worker"), bearer(world, "b.worker")
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    made = client.post("/api/v1/tasks", json={"case_id": world.case, "title": "Find interpreter",
                                              "due_on": tomorrow}, headers=a)
    assert made.status_code == 201, made.text
    assert [t["id"] for t in client.get("/api/v1/tasks", headers=a).json()] == [made.json()["id"]]
    assert client.get("/api/v1/tasks", headers=b).json() == []
    assert client.post(f"/api/v1/tasks/{made.json()['id']}/complete", headers=b).status_code == 404
    assert client.get("/api/v1/casework/due", headers=a).json() == [
        {"case_id": world.case, "kind": "task", "due": tomorrow, "overdue": False}]
    assert client.post(f"/api/v1/tasks/{made.json()['id']}/complete", headers=a).json()["done_by"] == "a.worker"
    note = client.post(f"/api/v1/cases/{world.case}/notes", json={"narrative": "Arrived scared"}, headers=a)
    assert note.status_code == 201
    assert client.get(f"/api/v1/cases/{world.case}/notes", headers=a).status_code == 422  # purpose required
    read = client.get(f"/api/v1/cases/{world.case}/notes", params={"purpose": "court"}, headers=a)
    assert [n["narrative"] for n in read.json()] == ["Arrived scared"]
    read_only = bearer(world, "a.worker", {Scope.CASES_READ})
    assert client.post(f"/api/v1/cases/{world.case}/notes", json={"narrative": "x"},
                       headers=read_only).status_code == 403
    assert client.get("/api/v1/tasks").status_code == 401


def test_alert_follow_up_task_needs_the_alert(client: TestClient, world: World) -> None:
    a = bearer(world, "a.worker")
    assert client.post(f"/api/v1/cases/{world.case}/alerts/NO_SUCH_ALERT/task", headers=a).status_code == 404
    assert client.post(f"/api/v1/cases/{world.case}/alerts/CHILD_PROTECTION/task",
                       headers=bearer(world, "c.worker")).status_code == 404


def test_alert_becomes_its_task_in_one_call(client: TestClient, world: World) -> None:
    from tipsom.screening.screen import screen_stored_case

    codes = sorted({str(alert.code) for alert in screen_stored_case(world.store, world.case).alerts})
    assert codes, "the synthetic case should raise at least one alert"
    a = bearer(world, "a.worker")
    made = client.post(f"/api/v1/cases/{world.case}/alerts/{codes[0]}/task", headers=a)
    assert made.status_code == 201, made.text
    assert made.json()["alert_code"] == codes[0]
    again = client.post(f"/api/v1/cases/{world.case}/alerts/{codes[0]}/task", headers=a)
    assert again.json()["id"] == made.json()["id"]
