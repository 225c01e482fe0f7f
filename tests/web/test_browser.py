"""Acceptance tests in Debian's Chromium, driven by Playwright, against a live server.

Every page load goes through a route handler that refuses anything but the
loopback server, so these tests also prove the pages need no network.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from sqlalchemy import select

from tests.web.conftest import LiveServer
from tipsom.store.tables import REGISTRY
from tipsom.web.accounts import DEMO_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def offline_page(browser: Any, live_server: LiveServer) -> Iterator[tuple[Any, list[str]]]:
    """A page whose every request outside the live server is aborted and recorded."""
    context = browser.new_context()
    blocked: list[str] = []

    def guard(route: Any) -> None:
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    yield page, blocked
    context.close()


def sign_in(page: Any, server: LiveServer, username: str, landing: str = "/work") -> None:
    """Log in; ``landing`` is the role's first page ("My work" for casework, the dashboard for a viewer)."""
    page.goto(f"{server.url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    with page.expect_navigation(url=f"{server.url}{landing}", timeout=120_000):
        page.get_by_role("button", name="Log in").click(no_wait_after=True)


def _saved_case_id(page: Any, server: LiveServer, typed: str) -> str:
    """The stored key of a case just saved: the organisation's code, '.', and the id typed in the form."""
    page.wait_for_url(f"{server.url}/cases/*.{typed}?*")
    return unquote(urlsplit(page.url).path.rsplit("/", 1)[1])


def test_create_case_with_15_year_old_victim_and_find_it(offline_page: tuple[Any, list[str]],
                                                        live_server: LiveServer) -> None:
    page, blocked = offline_page
    sign_in(page, live_server, "demo.caseworker")
    page.get_by_role("link", name="New case").click()
    case_id = page.locator("#f-c-case_id").input_value()
    page.locator("#f-c-case_type").select_option("TIP")
    page.locator("#f-p0-role").select_option("Victim")
    page.locator("#f-p0-sex").select_option("Female")
    page.locator("summary", has_text="Age").first.click()
    page.locator("#f-p0-age").fill("15")
    page.get_by_role("button", name="Save case").click()
    case_id = _saved_case_id(page, live_server, case_id)
    assert page.get_by_role("status").first.inner_text() == "The case was saved."
    assert "Presume a minor" in page.locator(".alerts").inner_text() or \
        "Child" in page.locator(".alerts").inner_text()
    page.goto(f"{live_server.url}/cases")
    page.get_by_label("Search").fill(case_id)
    page.get_by_role("button", name="Filter").click()
    row = page.locator("table.cases tbody tr").filter(has_text=case_id)
    assert row.count() == 1
    assert row.locator("td").nth(5).inner_text() == "1"  # victims column
    cases = REGISTRY["case"]
    with live_server.env.store.engine.connect() as conn:
        assert conn.scalar(select(cases.c.reporting_org).where(cases.c.id == case_id)) == live_server.env.org_a
    assert blocked == []


def test_dashboard_charts_render_with_network_off(offline_page: tuple[Any, list[str]], live_server: LiveServer,
                                                  tmp_path: Path) -> None:
    page, blocked = offline_page
    sign_in(page, live_server, "demo.viewer", landing="/dashboard")
    charts = page.locator("figure.chart svg")
    assert charts.count() >= 4
    box = page.locator("#chart-map svg").bounding_box()
    assert box is not None
    assert box["width"] > 200
    assert box["height"] > 100
    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    assert blocked == []


def test_arabic_ui_renders_right_to_left(offline_page: tuple[Any, list[str]], live_server: LiveServer) -> None:
    page, _blocked = offline_page
    sign_in(page, live_server, "demo.analyst", landing="/cases")
    page.locator("#lang-select").select_option("ar")
    page.locator("form[action='/language'] button").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "ar"
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    assert page.locator("h1").inner_text() == "القضايا"
    nav = page.locator("header.top").bounding_box()
    brand = page.locator(".brand").bounding_box()
    assert nav is not None
    assert brand is not None
    assert brand["x"] > nav["width"] / 2  # the first item sits on the right
    page.locator("#lang-select").select_option("en")
    page.locator("form[action='/language'] button").click()


def test_form_posted_without_csrf_token_is_refused_in_the_browser(offline_page: tuple[Any, list[str]],
                                                                  live_server: LiveServer) -> None:
    page, _blocked = offline_page
    sign_in(page, live_server, "demo.caseworker")
    page.goto(f"{live_server.url}/cases/new")
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())")
    page.locator("#f-c-case_type").select_option("TIP")
    response_status: list[int] = []
    page.on("response", lambda r: response_status.append(r.status) if r.request.method == "POST" else None)
    page.get_by_role("button", name="Save case").click()
    page.wait_for_load_state()
    assert 403 in response_status
    assert page.locator("h1").inner_text() == "Form expired"


def test_keyboard_alone_logs_in_and_reaches_the_case_list(offline_page: tuple[Any, list[str]],
                                                           live_server: LiveServer) -> None:
    page, _blocked = offline_page
    page.goto(f"{live_server.url}/login")
    assert page.evaluate("document.activeElement.id") == "username"
    page.keyboard.type("demo.analyst")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/cases")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"


def test_totp_enrolment_qr_code_renders_offline(offline_page: tuple[Any, list[str]], live_server: LiveServer,
                                                tmp_path: Path) -> None:
    page, blocked = offline_page
    sign_in(page, live_server, "demo.investigator")
    page.goto(f"{live_server.url}/account")
    page.get_by_role("button", name="Set up two-factor login").click()
    page.wait_for_load_state()
    qr = page.locator("figure.totp-qr svg")
    box = qr.bounding_box()
    assert box is not None
    assert box["width"] >= 150
    assert abs(box["width"] - box["height"]) < 1  # square, so a phone camera reads it
    assert page.locator("#totp-secret").inner_text().isalnum()
    qr.screenshot(path=str(tmp_path / "qr.png"))
    assert (tmp_path / "qr.png").stat().st_size > 1000
    assert blocked == []


def test_person_is_removed_from_a_saved_case_after_confirming(offline_page: tuple[Any, list[str]],
                                                              live_server: LiveServer) -> None:
    page, blocked = offline_page
    sign_in(page, live_server, "demo.caseworker")
    page.get_by_role("link", name="New case").click()
    case_id = page.locator("#f-c-case_id").input_value()
    page.locator("#f-c-case_type").select_option("TIP")
    page.locator("#f-p0-role").select_option("Victim")
    page.get_by_role("button", name="Add a person").click()
    page.locator("#f-p1-person_id").fill("P2")
    page.locator("#f-p1-role").select_option("Witness")
    page.get_by_role("button", name="Save case").click()
    case_id = _saved_case_id(page, live_server, case_id)
    page.get_by_role("link", name="Edit case").click()
    page.locator("#person-1").get_by_role("button", name="Remove this person").click()
    dialog = page.get_by_role("alertdialog")
    assert "Remove P2 from this case?" in dialog.inner_text()
    dialog.get_by_role("button", name="Yes, remove this person").click()
    assert "P2 was removed from the case." in page.get_by_role("status").inner_text()
    page.goto(f"{live_server.url}/cases/{case_id}")
    assert page.locator("article.person-card").count() == 1
    assert blocked == []
