"""The caseworker's day in Chromium (issue 16 acceptance): refer, accept, follow an alert up, close.

Three people in three browser contexts against the live server: a caseworker
of organisation A, a caseworker of organisation B and A's supervisor. The
clock the casework pages read is moved forward instead of waiting; the
command line is asked the same question with ``--now`` at that time.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.web.conftest import LiveServer
from tests.web.test_browser import sign_in
from tests.web.test_casework_pages import child_case, org_code
from tipsom.cli.main import app as cli
from tipsom.store import audit
from tipsom.store.tables import REGISTRY
from tipsom.web.accounts import DEMO_OTHER_ORG_USER

pytestmark = pytest.mark.browser
SUMMARY = "Girl aged 15, Tagalog speaker, needs a safe bed tonight"
#: Every visible form control must have a name a screen reader can announce.
UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.name)"""


@pytest.fixture
def people(browser: Any, live_server: LiveServer) -> Iterator[dict[str, Any]]:
    """One offline page per person (requests outside the live server are aborted and recorded)."""
    blocked: list[str] = []
    contexts = []

    def guard(route: Any) -> None:
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    pages: dict[str, Any] = {"blocked": blocked}
    for who in ("a", "b", "boss"):
        context = browser.new_context()
        context.route("**/*", guard)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())  # every casework action asks for a confirmation
        contexts.append(context)
        pages[who] = page
    clock = live_server.env.app.state.web.clock
    yield pages
    live_server.env.app.state.web.clock = clock
    for context in contexts:
        context.close()


def _casework(page: Any, server: LiveServer, case_id: str) -> Any:
    page.goto(f"{server.url}/cases/{case_id}")
    page.locator("#cw-referrals").wait_for()  # loaded into the case page by htmx
    return page.locator("#casework")


def test_refer_accept_follow_up_and_close_only_after_the_bid(people: dict[str, Any], live_server: LiveServer) -> None:
    env = live_server.env
    a, b, boss = people["a"], people["b"], people["boss"]
    case_id = child_case(env.store, "demo.caseworker", "JOURNEY-1")
    org_a, org_b = org_code(env, env.org_a), org_code(env, env.org_b)

    sign_in(a, live_server, "demo.caseworker")
    work = _casework(a, live_server, case_id)
    a.locator("#ref-org").select_option(org_b)
    a.locator("#ref-service").select_option("Shelter")
    a.locator("#ref-summary").fill(SUMMARY)
    a.get_by_label("The victim gave informed consent to this referral").check()
    a.get_by_role("button", name="Send referral").click()
    assert work.locator(".referral-status").first.inner_text() == "sent"
    assert a.evaluate(UNLABELLED) == []

    sign_in(b, live_server, DEMO_OTHER_ORG_USER)
    incoming = b.locator("article.referral").filter(has_text=SUMMARY)
    assert incoming.count() == 1
    assert case_id not in b.locator("main").inner_text()  # the summary, never the case
    assert b.evaluate(UNLABELLED) == []
    incoming.get_by_role("button", name="Accept").click()
    b.get_by_role("heading", name="Referrals we accepted").wait_for()

    work = _casework(a, live_server, case_id)
    assert work.locator(".referral-status").first.inner_text() == "accepted"
    alert = work.locator("#cw-alerts li").filter(has_text="Child protection steps are due")
    alert.get_by_role("button", name="Create follow-up task").click()
    work.locator("#cw-alerts li").filter(has_text="follow-up task open").first.wait_for()
    due_on = dt.date.fromisoformat(work.locator("#cw-tasks tbody td").first.inner_text())

    later = dt.datetime.combine(due_on + dt.timedelta(days=2), dt.time(9))
    env.app.state.web.clock = lambda: later
    a.goto(f"{live_server.url}/work")
    overdue = a.locator("table.tasks tr.overdue").filter(has_text=case_id)
    assert overdue.count() == 1
    assert "Overdue" in overdue.inner_text()
    answer = CliRunner().invoke(cli, ["casework", "due", "--org", org_a, "--json", "--now", later.isoformat(),
                                      "--db", env.store.url], env={"TIPSOM_KEY": env.store.settings.key})
    assert answer.exit_code == 0, answer.output
    assert {"case_id": case_id, "kind": "task", "due": due_on.isoformat(), "overdue": True} in json.loads(
        answer.output)

    work = _casework(a, live_server, case_id)
    a.locator("#closure-reason").fill("Placed with a foster family")
    a.get_by_role("button", name="Request closure").click()
    refused = work.locator("#cw-closure [role=alert]")
    assert "cannot be closed yet" in refused.inner_text()
    assert "child_without_bid" in refused.inner_text()
    work.locator("#cw-tasks").get_by_role("button", name="Mark done").click()
    work.locator("#cw-tasks td", has_text="Done").wait_for()
    incoming_done = b.locator("article.referral").filter(has_text=SUMMARY)
    incoming_done.get_by_label("Feedback for the referring organisation").fill("Placed in our shelter")
    incoming_done.get_by_role("button", name="Complete").click()
    b.get_by_role("heading", name="Referrals we accepted").wait_for(state="detached")

    work = _casework(a, live_server, case_id)
    assert work.locator(".blockers").inner_text().strip() == \
        "children without a best-interests determination: 1"
    a.locator("#as-kind").select_option("bid")
    a.locator("#as-result").fill("Foster care in the country of destination")
    a.locator("#as-guardian").fill("Appointed guardian")
    a.get_by_role("button", name="Record assessment").click()
    work.locator(".blockers").wait_for(state="detached")
    a.locator("#closure-reason").fill("Placed with a foster family")
    a.get_by_role("button", name="Request closure").click()
    work.locator(".approval", has_text="waiting for a supervisor").wait_for()
    assert work.get_by_role("button", name="Approve closure").count() == 0  # never one's own request

    sign_in(boss, live_server, "demo.admin")
    _casework(boss, live_server, case_id).get_by_role("button", name="Approve closure").click()
    boss.locator(".approval", has_text="approved").wait_for()
    cases = REGISTRY["case"]
    with env.store.engine.connect() as conn:
        assert conn.scalar(select(cases.c.status).where(cases.c.id == case_id)) == "Closed"
        decided = [e for e in audit.events(conn, actor="demo.admin") if e["entity"] == "approval"]
    assert decided[0]["purpose"] == "decide closure approval"
    assert people["blocked"] == []
