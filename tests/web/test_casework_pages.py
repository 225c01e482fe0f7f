"""The caseworker's pages: "My work" and the casework sections of a case, through the web client.

The library's own tests (``tests/casework``) run each rule on both backends;
these check what the pages add (landing page, need-to-know on each view,
confirmation and CSRF on each action, the clock, refusals shown beside the
form) and run on SQLite only.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import WebEnv, csrf_of, signed_in
from tipsom.casework.tables import referrals, tasks
from tipsom.store import audit
from tipsom.store.db import Store
from tipsom.web.accounts import DEMO_OTHER_ORG_USER, DEMO_PASSWORD, get_user
from tipsom.web.casework import save_case
from tipsom.web.organisations import find

pytestmark = pytest.mark.sqlite_only("page flow over the casework library, whose rules run on both backends")
CASEWORKER, SUPERVISOR = "demo.caseworker", "demo.admin"


def child_case(store: Store, username: str, typed_id: str) -> str:
    """A new case of ``username``'s organisation with one 15-year-old victim (screening: CHILD_PROTECTION)."""
    with store.engine.connect() as conn:
        user = get_user(conn, username=username)
    assert user is not None
    saved = save_case(store, user, {"case_id": typed_id, "case_type": "TIP", "status": "Active",
                                    "persons": [{"person_id": "P1", "role": "Victim", "age": 15, "sex": "Female"}]},
                      creating=True, organisation=user.organisation)
    assert saved.saved, saved.problems
    return saved.case_id


def org_code(env: WebEnv, name: str) -> str:
    with env.store.engine.connect() as conn:
        org = find(conn, name=name)
    assert org is not None
    return org.code


def _post(c: TestClient, path: str, page: str, **data: str) -> str:
    """An action as htmx sends it (CSRF header, inline answer); returns the answered view."""
    answer = c.post(path, data=data, headers={"HX-Request": "true", "X-CSRF-Token": csrf_of(page)})
    assert answer.status_code == 200, answer.text[-500:]
    return answer.text


def test_caseworkers_land_on_my_work_and_viewers_on_the_dashboard(web_env: WebEnv) -> None:
    def first_page(username: str, asked: str) -> str:
        c = TestClient(web_env.app, base_url="https://testserver")
        form = c.get("/login").text
        landed = c.post("/login", data={"username": username, "password": DEMO_PASSWORD, "next": asked,
                                        "csrf_token": csrf_of(form)}, follow_redirects=False)
        assert landed.status_code == 303
        return str(landed.headers["location"])

    assert first_page(CASEWORKER, "") == "/work"
    assert first_page("demo.viewer", "") == "/dashboard"
    assert first_page("demo.viewer", "/work") == "/dashboard"  # never "Access denied" on arrival


def test_referral_shares_only_its_summary_and_needs_consent(web_env: WebEnv) -> None:
    case_id = child_case(web_env.store, CASEWORKER, "REF-1")
    org_b = org_code(web_env, web_env.org_b)
    a = signed_in(web_env, CASEWORKER)
    page = a.get(f"/cases/{case_id}/casework").text
    fields = {"to_org": org_b, "service": "Shelter", "urgency": "urgent", "summary": "Girl, 15, needs a safe bed"}
    refused = a.post(f"/cases/{case_id}/referrals", data={**fields, "csrf_token": csrf_of(page)})
    assert refused.status_code == 422
    assert "informed consent" in refused.text
    with web_env.store.engine.connect() as conn:
        assert conn.scalar(select(referrals.c.id).where(referrals.c.case_id == case_id)) is None
    assert a.post(f"/cases/{case_id}/referrals", data={**fields, "consent": "given"}).status_code == 403  # no CSRF
    sent = _post(a, f"/cases/{case_id}/referrals", page, **fields, consent="given")
    assert re.search(r'class="referral-status">sent', sent)

    b = signed_in(web_env, DEMO_OTHER_ORG_USER)
    inbox = b.get("/work").text
    assert "Girl, 15, needs a safe bed" in inbox
    assert case_id not in inbox
    assert b.get(f"/cases/{case_id}/casework").status_code == 404  # the case itself stays hidden
    rid = re.search(r'action="/referrals/([^/"]+)/accept"', inbox).group(1)  # type: ignore[union-attr]
    accepted = _post(b, f"/referrals/{rid}/accept", inbox, view="work")
    assert "Referrals we accepted" in accepted
    assert re.search(r'class="referral-status">accepted', a.get(f"/cases/{case_id}/casework").text)
    with web_env.store.engine.connect() as conn:
        steps = {(e["actor"], e["purpose"]) for e in audit.events(conn, entity_id=rid)}
    assert {(CASEWORKER, "create referral"), (DEMO_OTHER_ORG_USER, "accept referral")} <= steps


def test_follow_up_overdue_by_the_clock_bid_needs_guardian_notes_need_purpose(web_env: WebEnv) -> None:
    """One case, one login; the rest of the closure path (refusals, supervisor) is the browser journey's."""
    case_id = child_case(web_env.store, CASEWORKER, "KID-1")
    a = signed_in(web_env, CASEWORKER)
    page = a.get(f"/cases/{case_id}/casework").text
    made = _post(a, f"/cases/{case_id}/alerts/CHILD_PROTECTION/task", page)
    assert "follow-up task open" in made
    with web_env.store.engine.connect() as conn:
        task = conn.execute(select(tasks).where(tasks.c.case_id == case_id)).one()
    assert task.alert_code == "CHILD_PROTECTION"
    assert "Overdue" not in a.get("/work").text
    web_env.app.state.web.clock = lambda: dt.datetime.combine(task.due_on + dt.timedelta(days=2), dt.time(9))
    assert re.search(r'<tr class="overdue">.*?' + re.escape(case_id), a.get("/work").text, re.S)
    no_guardian = _post(a, f"/cases/{case_id}/assessments", page, kind="bid", assessed_on="2026-01-05",
                        result="Stay in foster care")
    assert "guardian" in no_guardian
    assert "Best-interests determination (BID) ·" not in no_guardian


    added = _post(a, f"/cases/{case_id}/notes", page, narrative="She asked to call her aunt in Penang")
    assert "1 note is sealed." in added
    assert "her aunt" not in added
    assert "a stated purpose" in _post(a, f"/cases/{case_id}/notes/read", page, purpose=" ")
    shown = _post(a, f"/cases/{case_id}/notes/read", page, purpose="prepare the family tracing request")
    assert "She asked to call her aunt in Penang" in shown
    with web_env.store.engine.connect() as conn:
        reads = audit.events(conn, actor=CASEWORKER, action=audit.AuditAction.READ, entity_id=case_id)
    assert [e["purpose"] for e in reads if e["entity"] == "case_note"] == ["prepare the family tracing request"]
    analyst = signed_in(web_env, "demo.analyst")  # reads the case, no personal data, no casework
    seen = analyst.get(f"/cases/{case_id}/casework").text
    assert "Child protection steps are due" in seen
    assert "Read notes" not in seen
    assert "Create follow-up task" not in seen
    assert "<form" not in seen.split('id="casework"')[1]
