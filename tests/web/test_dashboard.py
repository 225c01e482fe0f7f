"""Dashboard charts kept per data version: shared by workers and restarts, never stale after a save."""

from __future__ import annotations

import dataclasses
from typing import Any

import matplotlib
import pytest
from sqlalchemy import func, select

from tests.web.conftest import without_chart_snapshots
from tipsom.exchange.importer import import_records
from tipsom.exchange.native import Record
from tipsom.report import dashboard as report_dashboard
from tipsom.store import audit
from tipsom.store.db import Store
from tipsom.web import dashboard
from tipsom.web.dashboard import ChartCache, Redraw, Served, data_version, filter_key
from tipsom.web.tables import chart_snapshots


@pytest.fixture
def store(seeded_copy: Store) -> Store:
    return without_chart_snapshots(seeded_copy)


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int | None, str | None]]:
    """Each drawing the web cache asks the report module for (the filter), so tests can count them."""
    calls: list[tuple[int | None, str | None]] = []

    def counting(store: Store, year: int | None = None, country: str | None = None) -> str:
        calls.append((year, country))
        return data_version_of(store)

    monkeypatch.setattr(dashboard, "dashboard_data", counting)
    monkeypatch.setattr(dashboard, "draw_dashboard", lambda version: {"forms": f"<svg>{version}</svg>"})
    return calls


def data_version_of(store: Store) -> str:
    with store.engine.connect() as conn:
        return data_version(conn)


def _save_a_case(store: Store, case_id: str) -> None:
    doc = {"case_id": case_id, "case_type": "TIP", "reporting_org": "Test unit", "jurisdiction": "KEN",
           "year": 2024, "persons": [{"person_id": "P1", "role": "Victim"}]}
    import_records(store, [Record(1, {}, doc)], source="test", actor="tester", purpose="test save")


def test_a_second_worker_and_a_restart_reuse_the_stored_snapshot(store: Store, drawn: list[Any]) -> None:
    first = ChartCache()
    charts = first.charts(store, 2099, None)
    assert drawn == [(2099, None)]
    assert first.charts(store, 2099, None) == charts
    other_worker = ChartCache()
    assert other_worker.charts(store, 2099, None) == charts
    assert drawn == [(2099, None)], "the snapshot in the database is reused, not redrawn"


def test_a_save_anywhere_makes_the_charts_stale_at_once(store: Store, drawn: list[Any]) -> None:
    worker_a, worker_b = ChartCache(), ChartCache()
    before = worker_a.charts(store, None, "KEN")
    worker_b.charts(store, None, "KEN")
    assert len(drawn) == 1
    _save_a_case(store, "DASH-SAVE-1")  # e.g. a command-line import: neither worker was told
    after_b = worker_b.charts(store, None, "KEN")
    assert after_b != before
    assert len(drawn) == 2
    assert worker_a.charts(store, None, "KEN") == after_b
    assert len(drawn) == 2


def test_reads_and_logins_do_not_change_the_data_version(store: Store) -> None:
    version = data_version_of(store)
    with store.begin() as conn:
        audit.record(conn, actor="reader", action=audit.AuditAction.READ, entity="person", entity_id="X/P1",
                     purpose="case management")
        audit.record(conn, actor="reader", action=audit.AuditAction.LOGIN, entity="user", purpose="login")
    assert data_version_of(store) == version
    with store.begin() as conn:
        audit.record(conn, actor="editor", action=audit.AuditAction.DELETE, entity="person", entity_id="X/P1",
                     purpose="remove person from case")
    assert data_version_of(store) != version


def test_a_new_suppression_threshold_redraws(store: Store, drawn: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    cache = ChartCache()
    cache.charts(store, 2098, None)
    stricter = dataclasses.replace(store.settings, suppression_threshold=store.settings.suppression_threshold + 7)
    monkeypatch.setattr(store, "settings", stricter)
    cache.charts(store, 2098, None)
    assert drawn == [(2098, None), (2098, None)]


def test_background_redraw_stores_the_unfiltered_and_yearly_dashboards(store: Store, drawn: list[Any]) -> None:
    cache = ChartCache(Redraw.BACKGROUND)
    _save_a_case(store, "DASH-SAVE-2")
    cache.redraw_soon(store, delay=0.0, force=True)
    cache.wait_for_redraw(timeout=60)
    years = dashboard.filter_options(store).years
    assert len(years) > 1
    assert drawn == [(None, None)] + [(year, None) for year in years]
    with store.engine.connect() as conn:
        stored = conn.scalar(select(chart_snapshots.c.data_version).where(
            chart_snapshots.c.filter_key == filter_key(None, None)))
    assert stored == data_version_of(store)
    count = len(drawn)
    cache.redraw_soon(store)  # within the interval: not again
    cache.wait_for_redraw(timeout=60)
    assert ChartCache().charts(store, None, None)
    assert ChartCache().charts(store, years[0], None)
    assert len(drawn) == count
    quiet = ChartCache()  # tests and tools: never in the background
    quiet.redraw_soon(store, delay=0.0, force=True)
    quiet.wait_for_redraw(timeout=1)
    assert len(drawn) == count


def test_only_the_latest_snapshots_are_kept(store: Store, drawn: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "settings", dataclasses.replace(store.settings, dashboard_cached_filters=2))
    cache = ChartCache()
    for year in (2001, 2002, 2003):
        cache.charts(store, year, None)
    with store.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(chart_snapshots)) == 2
    assert sorted(key for url, key in cache._items if url == store.url) == [filter_key(2002, None),
                                                                            filter_key(2003, None)]
    assert len(drawn) == 3


def test_the_view_says_when_its_charts_were_drawn(store: Store, drawn: list[Any]) -> None:
    before = audit.now()
    view = ChartCache().view(store, 2097, None, user="someone")
    assert view.served is Served.CURRENT
    assert view.as_of is not None
    assert before <= view.as_of <= audit.now()
    assert ChartCache().view(store, 2097, None, user="someone").as_of == view.as_of  # from the database


def test_new_filter_drawings_are_limited_per_user(store: Store, drawn: list[Any],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "settings", dataclasses.replace(store.settings, dashboard_draws_per_hour=2))
    cache = ChartCache()
    unfiltered = cache.view(store, None, None, user=None)
    drawn.clear()
    first, second = (cache.view(store, year, None, user="curious") for year in (1991, 1992))
    assert [v.served for v in (first, second)] == [Served.CURRENT, Served.CURRENT]
    limited = cache.view(store, 1993, None, user="curious")
    assert drawn == [(1991, None), (1992, None)], "the third new filter is not drawn"
    assert limited.served is Served.RATE_LIMITED
    assert (limited.charts, limited.year) == (unfiltered.charts, None)
    assert cache.view(store, 1991, None, user="curious").served is Served.CURRENT  # drawn already: no cost
    assert cache.view(store, 1993, None, user="someone else").served is Served.CURRENT
    assert drawn[-1] == (1993, None)


def test_a_limited_user_sees_the_filters_last_charts_after_a_save(store: Store, drawn: list[Any],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "settings", dataclasses.replace(store.settings, dashboard_draws_per_hour=1))
    cache = ChartCache()
    old = cache.view(store, 1981, None, user="busy")
    _save_a_case(store, "DASH-LIMIT-1")
    again = cache.view(store, 1981, None, user="busy")
    assert again.served is Served.RATE_LIMITED
    assert (again.charts, again.as_of, again.year) == (old.charts, old.as_of, 1981)
    assert len(drawn) == 1


@pytest.mark.slow
@pytest.mark.sqlite_only("drawing from computed tables; the store's part is covered on both backends")
def test_drawing_only_the_shown_charts_draws_them_exactly_as_before(store: Store,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(matplotlib.rcParams, "svg.hashsalt", "fixed for the comparison")
    data = report_dashboard.dashboard_data(store)
    every = report_dashboard._victim_charts(data.cubes["victims"], data.filter.title)
    shown = report_dashboard.draw_dashboard(data)
    assert list(shown) == list(report_dashboard.DASHBOARD_CHARTS)

    def undated(svg: str) -> str:
        return svg.split("</metadata>", 1)[-1]

    for name in ("forms", "sex_age", "trend", "map"):
        assert undated(shown[name]) == undated(report_dashboard.scoped(name, every[name]))
    assert set(every) - set(shown) == {"age", "children_forms"}



def test_a_request_right_after_a_save_is_answered_from_the_last_snapshot(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The drawing is made slow (it waits for the test's signal): the request must not wait for it."""
    import threading

    release, started = threading.Event(), threading.Event()
    slow = {"on": False}

    def drawing(version: str) -> dict[str, str]:
        if slow["on"]:
            started.set()
            release.wait(60)
        return {"forms": f"<svg>{version}</svg>"}

    monkeypatch.setattr(dashboard, "dashboard_data", lambda s, year=None, country=None: data_version_of(s))
    monkeypatch.setattr(dashboard, "draw_dashboard", drawing)
    cache = ChartCache(Redraw.BACKGROUND)
    before = cache.charts(store, 2098, None)
    _save_a_case(store, "DASH-SLOW-1")
    slow["on"] = True
    answered = cache.charts(store, 2098, None)  # would block until release if it drew in the request
    assert answered == before
    assert started.wait(30), "a background redraw was started"
    release.set()
    for _ in range(600):
        if cache.charts(store, 2098, None) != before:
            break
        threading.Event().wait(0.05)
    assert cache.charts(store, 2098, None) == {"forms": f"<svg>{data_version_of(store)}</svg>"}


@pytest.mark.browser
def test_the_dashboard_fits_a_390_px_phone_and_says_when_it_was_drawn(browser: Any, live_server: Any) -> None:
    from tests.web.test_browser import sign_in

    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        sign_in(page, live_server, "demo.viewer", landing="/dashboard")
        assert page.locator("figure.chart svg").count() == len(report_dashboard.DASHBOARD_CHARTS)
        assert "UTC" in page.locator("#as-of").inner_text()
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0
        for box in (page.locator(f"#chart-{name} svg").bounding_box() for name in report_dashboard.DASHBOARD_CHARTS):
            assert box is not None
            assert 200 < box["width"] <= 390
    finally:
        context.close()
