"""Removing a person from a saved case in the edit form: confirmed, audited, and only by the owner."""

from __future__ import annotations

import re
from urllib.parse import unquote

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.web.conftest import WebEnv, csrf_of, signed_in
from tipsom.store import audit
from tipsom.store.tables import REGISTRY


def _saved_case_with_two_persons(c: TestClient) -> tuple[str, str]:
    page = c.get("/cases/new")
    case_id = re.search(r'name="c.case_id" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    data = {"csrf_token": csrf_of(page.text), "action": "save", "c.case_id": case_id, "c.case_type": "TIP",
            "p0.__present": "1", "p0.person_id": "P1", "p0.role": "Victim",
            "p1.__present": "1", "p1.person_id": "P2", "p1.role": "Suspect",
            "p1.charges.0.__present": "1", "p1.charges.0.offence": "IllegalEntry", "p1.charges.0.stage": "Arrest",
            "p1.route_legs.0.__present": "1", "p1.route_legs.0.origin": "NGA", "p1.route_legs.0.destination": "ITA"}
    saved = c.post("/cases/new", data=data, follow_redirects=False)
    assert saved.status_code == 303, saved.text[-1500:]
    # The stored key is the organisation's code plus the id typed in the form (issue 15, finding 5).
    stored_id = unquote(saved.headers["location"].split("/")[2].split("?")[0])
    assert stored_id.endswith("." + case_id)
    return stored_id, csrf_of(page.text)


def _edit_data(c: TestClient, case_id: str) -> dict[str, str]:
    form = c.get(f"/cases/{case_id}/edit").text
    data = {k: v for k, v in re.findall(r'<input id="[^"]+" name="([^"]+)" value="([^"]*)"', form) if v}
    data.update(dict(re.findall(r'name="([^"]+__present)" value="(1)"', form)))
    for name, value in re.findall(r'<select id="[^"]+" name="([^"]+)"[^>]*>(?:(?!</select>).)*?'
                                  r'<option value="([^"]+)" selected', form, re.S):
        data[name] = value
    data["csrf_token"] = csrf_of(form)
    return data


def _stored(web_env: WebEnv, key: str) -> tuple[int, int]:
    persons, charges = REGISTRY["person"], REGISTRY["charge"]
    with web_env.store.engine.connect() as conn:
        return (conn.scalar(select(func.count()).select_from(persons).where(persons.c.key == key)) or 0,
                conn.scalar(select(func.count()).select_from(charges).where(charges.c.person_key == key)) or 0)


def test_removing_a_stored_person_is_confirmed_then_deleted_and_audited(web_env: WebEnv) -> None:
    c = signed_in(web_env, "demo.caseworker")
    case_id, _token = _saved_case_with_two_persons(c)
    key = f"{case_id}/P2"
    assert _stored(web_env, key) == (1, 1)
    data = _edit_data(c, case_id)
    assert re.search(r'name="p1.person_id" value="P2" readonly', c.get(f"/cases/{case_id}/edit").text), \
        "a stored person's id is locked: changing it would add a second person"

    asked = c.post(f"/cases/{case_id}/edit", data={**data, "action": "remove:p1"})
    assert asked.status_code == 200
    assert 'role="alertdialog"' in asked.text
    assert "Remove P2 from this case?" in asked.text
    assert 'value="confirm-remove:p1"' in asked.text
    assert _stored(web_env, key) == (1, 1), "nothing is deleted before the confirmation"

    kept = c.post(f"/cases/{case_id}/edit", data={**data, "action": "keep"})
    assert kept.status_code == 200
    assert 'role="alertdialog"' not in kept.text
    assert _stored(web_env, key) == (1, 1)

    removed = c.post(f"/cases/{case_id}/edit", data={**data, "c.closure_reason": "typed before removing",
                                                     "action": "confirm-remove:p1"})
    assert removed.status_code == 200
    assert "P2 was removed from the case." in removed.text
    assert 'name="p1.person_id"' not in removed.text
    assert 'value="typed before removing"' in removed.text, "other unsaved edits stay in the form"
    assert _stored(web_env, key) == (0, 0)
    with web_env.store.engine.connect() as conn:
        events = audit.events(conn, entity_id=key, action=audit.AuditAction.DELETE)
    assert len(events) == 1
    assert events[0]["actor"] == "demo.caseworker"
    assert "records_deleted" in str(events[0]["detail"])
    page, kept_history = c.get(f"/cases/{case_id}").text.split('id="history-title"')
    assert "P1" in page
    assert "P2" not in page
    assert "Person removed" in kept_history, "the case's history keeps the removed person"


def test_an_unsaved_person_block_goes_without_touching_the_store(web_env: WebEnv) -> None:
    c = signed_in(web_env, "demo.caseworker")
    case_id, _token = _saved_case_with_two_persons(c)
    data = {**_edit_data(c, case_id), "p5.__present": "1", "p5.person_id": "P9"}
    before = web_env.store.counts()
    response = c.post(f"/cases/{case_id}/edit", data={**data, "action": "remove:p5"})
    assert response.status_code == 200
    assert 'role="alertdialog"' not in response.text
    assert "it had not been saved" in response.text
    assert 'name="p5.person_id"' not in response.text
    assert web_env.store.counts() == before


def test_only_the_owning_organisation_can_remove_a_person(web_env: WebEnv) -> None:
    other = signed_in(web_env, "other.caseworker")
    token = csrf_of(other.get("/cases").text)
    response = other.post(f"/cases/{web_env.case_a}/edit", data={
        "csrf_token": token, "p0.__present": "1", "p0.person_id": "P1", "action": "confirm-remove:p0"})
    assert response.status_code == 404  # another organisation's case answers like a missing one
    assert _stored(web_env, f"{web_env.case_a}/P1")[0] == 1
    viewer = signed_in(web_env, "demo.analyst")
    refused = viewer.post(f"/cases/{web_env.case_a}/edit", data={
        "csrf_token": csrf_of(viewer.get("/cases").text), "p0.__present": "1", "p0.person_id": "P1",
        "action": "confirm-remove:p0"})
    assert refused.status_code == 403


def test_an_unknown_form_action_is_refused_not_saved(web_env: WebEnv) -> None:
    c = signed_in(web_env, "demo.caseworker")
    case_id, _token = _saved_case_with_two_persons(c)
    data = _edit_data(c, case_id)
    assert c.post(f"/cases/{case_id}/edit", data={**data, "action": "explode:p0"}).status_code == 404
    assert c.post(f"/cases/{case_id}/edit", data={**data, "action": "remove:p7"}).status_code == 404
