"""The new-case form: folding sections, child-only fields for children, a person added without a reload."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import WebEnv, csrf_of, signed_in

pytestmark = pytest.mark.sqlite_only("form rendering only; saving is covered on both backends")


def _form(c: TestClient, **fields: str) -> dict[str, str]:
    page = c.get("/cases/new")
    case_id = re.search(r'name="c.case_id" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return {"csrf_token": csrf_of(page.text), "c.case_id": case_id, "p0.person_id": "P1", "p0.__present": "1",
            **fields}


def _child_section(html: str, prefix: str) -> str:
    found = re.search(rf'<details[^>]*data-child-only="{prefix}"[^>]*>', html)
    assert found, "no child-only section"
    return found.group(0)


def test_a_person_is_added_alone_with_htmx_and_the_whole_form_without(web_env: WebEnv) -> None:
    c = signed_in(web_env, "demo.caseworker")
    data = _form(c, **{"p0.given_name": "Typed before", "action": "add:persons"})
    added = c.post("/cases/new", data=data, headers={"HX-Request": "true"})
    assert added.status_code == 200
    assert "<html" not in added.text
    assert 'name="p1.__present"' in added.text
    assert 'name="p0.' not in added.text  # what was typed for the first person stays in the browser
    assert ">Person 2<" in added.text.replace("</legend>", "<")
    page = c.post("/cases/new", data=data)  # no JavaScript: the whole form comes back, as before
    assert 'name="p1.__present"' in page.text
    assert 'value="Typed before"' in page.text
    assert 'hx-post="/cases/new"' in page.text
    assert re.search(r'<details class="section" open>\s*<summary>', page.text)  # case sections fold


def test_fields_about_children_are_shown_for_children_only(web_env: WebEnv) -> None:
    c = signed_in(web_env, "demo.caseworker")
    for ages, hidden in (({"p0.age": "40"}, True), ({"p0.age_min": "19"}, True), ({"p0.age": "12"}, False),
                         ({}, False), ({"p0.age": "40", "p0.unaccompanied": "true"}, False)):
        page = c.post("/cases/new", data=_form(c, action="add:persons", **ages)).text
        assert (" hidden" in _child_section(page, "p0")) is hidden, ages
        assert " hidden" not in _child_section(page, "p1")  # the new person's age is not known yet
