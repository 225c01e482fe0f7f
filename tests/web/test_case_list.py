"""The case list: name search on keyed tokens, sorting, page size and the casework filters."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.web.conftest import WebEnv, csrf_of, signed_in
from tipsom.casework.access import Actor
from tipsom.casework.tasks import create_task
from tipsom.store import audit
from tipsom.web import casework, integrations, organisations
from tipsom.web.access import CASES
from tipsom.web.accounts import get_user


def _create(c: TestClient, **fields: str) -> str:
    page = c.get("/cases/new")
    case_id = re.search(r'name="c.case_id" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    data = {"csrf_token": csrf_of(page.text), "c.case_id": case_id, "p0.person_id": "P1", "p0.__present": "1",
            "action": "save", "c.case_type": "TIP", "p0.role": "Victim", **fields}
    saved = c.post("/cases/new", data=data, follow_redirects=False)
    assert saved.status_code == 303, re.findall(r'class="error"[^>]*>([^<]+)', saved.text)
    return str(saved.headers["location"]).split("?")[0].removeprefix("/cases/")


def _listed(c: TestClient, **params: str) -> list[str]:
    page = c.get("/cases", params=params, headers={"HX-Request": "true"})
    assert page.status_code == 200, page.text
    return re.findall(r'<th scope="row"><a href="/cases/[^"]+">([^<]+)</a>', page.text)


def test_names_are_found_by_word_beginnings_without_accents_and_kept_out_of_the_log(web_env: WebEnv) -> None:
    c = signed_in(web_env, "demo.caseworker")
    found = _create(c, **{"p0.given_name": "José", "p0.family_name": "Ñúñez Ortega"})
    assert found in _listed(c, q="jose")
    assert found in _listed(c, q="NUNE ort")
    assert found not in _listed(c, q="jose ortiz")
    other = signed_in(web_env, "other.caseworker")  # another organisation's reader never finds it
    assert found not in _listed(other, q="jose")
    with web_env.store.engine.connect() as conn:
        listed = [e for e in audit.events(conn) if e["entity"] == "case_list"]
    assert listed
    assert not any("jose" in str(e["detail"]).casefold() for e in listed)


@pytest.mark.sqlite_only("plain ORDER BY and LIMIT; the search and filter tests cover PostgreSQL")
def test_columns_sort_both_ways_and_the_page_size_is_chosen(web_env: WebEnv) -> None:
    with web_env.store.begin() as conn:  # this test's own copy: every case becomes the analyst's organisation's
        conn.execute(update(CASES).values(reporting_org=web_env.org_a))
    c = signed_in(web_env, "demo.analyst")
    page = c.get("/cases", params={"sort": "jurisdiction", "order": "asc", "per_page": "10"})
    assert 'aria-sort="ascending"' in page.text
    ids = re.findall(r'<th scope="row"><a href="/cases/[^"]+">([^<]+)</a>', page.text)
    assert len(ids) == 10
    with web_env.store.engine.connect() as conn:
        places = dict(conn.execute(select(CASES.c.id, CASES.c.jurisdiction)).all())
    shown = [places[i] or "" for i in ids]
    assert shown == sorted(shown)
    down = [places[i] or "" for i in _listed(c, sort="jurisdiction", order="desc", per_page="10")]
    assert down == sorted(down, reverse=True)
    assert len(_listed(c, per_page="7")) == 25  # a size not offered falls back to the default


def test_child_date_range_and_open_task_filters(web_env: WebEnv) -> None:
    c = signed_in(web_env, "demo.caseworker")
    child = _create(c, **{"p0.age": "15", "c.opened_on": "2019-03-05"})
    adult = _create(c, **{"p0.age": "40", "c.opened_on": "2019-03-20"})
    children = _listed(c, child="1", per_page="100")
    assert child in children
    assert adult not in children
    march = _listed(c, opened_from="2019-03-01", opened_to="2019-03-10", per_page="100")
    assert child in march
    assert adult not in march
    assert c.get("/cases", params={"opened_from": "5 March"}).status_code == 422
    with web_env.store.engine.connect() as conn:
        org = organisations.find(conn, name=web_env.org_a)
    assert org is not None
    create_task(web_env.store, Actor("demo.caseworker", org.code), adult, title="Call the shelter",
                assignee="demo.investigator", due_on=dt.date(2030, 1, 10))
    assert _listed(c, assignee="demo.investigator") == [adult]
    assert _listed(c, due_by="2030-01-31") == [adult]
    assert _listed(c, due_by="2030-01-09") == []


@pytest.mark.sqlite_only("the alert index is computed in Python, the same on both backends")
def test_the_alert_filter_lists_the_cases_screening_raises_it_for(web_env: WebEnv) -> None:
    c = signed_in(web_env, "demo.caseworker")
    child = _create(c, **{"p0.age": "15"})
    with web_env.store.engine.connect() as conn:
        user = get_user(conn, username="demo.caseworker")
    assert user is not None
    doc = casework.read_case(web_env.store, user, child)
    raised = integrations.screen(doc)
    assert raised
    code = next(code for code, title in integrations.ALERT_TITLES.items() if title == raised[0].title)
    listed = _listed(c, alert=code.value, per_page="100")
    assert child in listed
    assert len(listed) < len(_listed(c, per_page="100"))



@pytest.mark.sqlite_only("pseudonym equality and IN lists; the name search test covers the tokens on PostgreSQL")
def test_possible_duplicates_name_their_reason_and_only_visible_cases(web_env: WebEnv) -> None:
    c = signed_in(web_env, "demo.caseworker")
    person = {"p0.birth_date": "2001-02-03", "p0.citizenship": "SEN"}
    case = _create(c, **{"p0.given_name": "Amara", "p0.family_name": "Diallo", **person})
    same = _create(c, **{"p0.given_name": "AMARA", "p0.family_name": "Diallo", **person})
    similar = _create(c, **{"p0.given_name": "Amadou", "p0.family_name": "Diallo", **person})
    unrelated = _create(c, **{"p0.given_name": "Bintou", "p0.family_name": "Sow", **person})
    hidden = _create(signed_in(web_env, "other.caseworker"),
                     **{"p0.given_name": "Amara", "p0.family_name": "Diallo", **person})
    assert case in _listed(c, q="diallo")  # a name search brings the name tokens up to date
    page = c.get(f"/cases/{case}").text
    section = page[page.index('id="duplicates-title"'):]
    section = section[: section.index("</section>")]
    rows = dict(re.findall(r'<a href="/cases/[^"]+">([^<]+)</a></th>\s*<td>P1</td>\s*<td>([^<]+)</td>', section))
    assert rows == {same: "same name and date of birth", similar: "same date of birth and citizenship, a similar name"}
    assert unrelated not in section
    assert hidden not in section
