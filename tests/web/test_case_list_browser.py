"""In Chromium: the new-case form (children's fields, a person added without a reload) and the live name search."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import LiveServer
from tests.web.test_browser import _saved_case_id, offline_page, sign_in

pytestmark = pytest.mark.browser
__all__ = ["offline_page"]  # the shared offline-page fixture: listed so the import counts as used

UNLABELLED = """sel => Array.from(document.querySelectorAll(sel))
    .filter(e => e.type !== 'hidden' && (!e.labels || e.labels.length === 0)).map(e => e.name || e.id)"""


def test_form_then_accent_free_partial_search_finds_the_case(offline_page: tuple[Any, list[str]],
                                                            live_server: LiveServer) -> None:
    page, blocked = offline_page
    sign_in(page, live_server, "demo.caseworker")
    page.goto(f"{live_server.url}/cases/new")
    typed = page.locator("#f-c-case_id").input_value()
    page.locator("#f-c-case_type").select_option("TIP")
    page.locator("#f-p0-role").select_option("Victim")
    page.locator("#f-p0-given_name").fill("Émilienne")
    page.locator("#f-p0-family_name").fill("Ørsted-Núñez")
    children = page.locator('details[data-child-only="p0"]')
    page.locator("#person-0 summary", has_text="Age").first.click()
    page.locator("#f-p0-age").fill("40")
    assert children.is_hidden()
    page.locator("#f-p0-age").fill("12")
    assert children.is_visible()
    url = page.url
    page.get_by_role("button", name="Add a person").click()
    page.locator("#person-1").wait_for()
    assert page.url == url  # no reload: what was typed is still there
    assert page.locator("#f-p0-given_name").input_value() == "Émilienne"
    assert page.evaluate("document.activeElement.id") == "person-1"
    assert page.evaluate(UNLABELLED, "form.case-form input, form.case-form select") == []
    page.locator("#f-p1-person_id").fill("P2")
    page.locator("#f-p1-role").select_option("Witness")
    page.get_by_role("button", name="Save case").click()
    case_id = _saved_case_id(page, live_server, typed)
    page.emulate_media(media="print")
    assert page.locator("header.top").is_hidden()
    page.emulate_media(media="screen")

    page.goto(f"{live_server.url}/cases")
    assert page.evaluate(UNLABELLED, "form.filters input, form.filters select") == []
    page.get_by_label("Search").fill("emilie nune")  # no accents, word beginnings, no button pressed
    page.wait_for_function("() => document.querySelectorAll('table.cases tbody tr').length === 1")
    assert case_id in page.locator("table.cases tbody tr").inner_text()
    assert "q=emilie%20nune" in page.url  # the search is in the address, so it can be bookmarked or shared
    assert blocked == []
