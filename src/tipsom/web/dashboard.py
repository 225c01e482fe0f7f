"""Dashboard charts: the report module's charts (published, suppressed figures), cached.

Charts are static SVG drawn on the server (matplotlib, Natural Earth map
shipped in the package), so they render with the network off. Drawing a map
takes a few hundred milliseconds, so results are cached per workspace,
filter and language for a few minutes and dropped whenever a case is saved.
The dashboard shows statistics over all organisations' cases, which is why
cells under ``TIPSOM_SUPPRESSION_THRESHOLD`` are left out, never drawn.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import select

from tipsom.report.dashboard import dashboard_charts
from tipsom.store.db import Store
from tipsom.store.tables import REGISTRY
from tipsom.web.i18n import current_language

CACHE_SECONDS = 300.0
CASES, PERSONS = REGISTRY["case"], REGISTRY["person"]


@dataclass(frozen=True)
class Filters:
    years: list[int]
    countries: list[str]


def filter_options(store: Store) -> Filters:
    with store.engine.connect() as conn:
        years = [r[0] for r in conn.execute(select(CASES.c.year).where(CASES.c.year.is_not(None))
                                            .group_by(CASES.c.year).order_by(CASES.c.year))]
        countries = [r[0] for r in conn.execute(select(CASES.c.jurisdiction)
                                                .where(CASES.c.jurisdiction.is_not(None))
                                                .group_by(CASES.c.jurisdiction))]
    return Filters(years, countries)


class ChartCache:
    """Rendered charts per (store, year, country, language), kept ``CACHE_SECONDS``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # matplotlib's pyplot is not thread-safe: one chart set is drawn at a time,
        # and requests for the same set wait for it rather than drawing it again.
        self._draw = threading.Lock()
        self._items: dict[tuple[str, int | None, str | None, str], tuple[float, dict[str, str]]] = {}
        self._filters: dict[str, tuple[float, Filters]] = {}

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._filters.clear()

    def filters(self, store: Store) -> Filters:
        """Years and countries present (two scans of the case table), cached like the charts."""
        with self._lock:
            hit = self._filters.get(store.url)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        options = filter_options(store)
        with self._lock:
            self._filters[store.url] = (time.monotonic() + CACHE_SECONDS, options)
        return options

    def _fresh(self, key: tuple[str, int | None, str | None, str]) -> dict[str, str] | None:
        with self._lock:
            hit = self._items.get(key)
        return hit[1] if hit and hit[0] > time.monotonic() else None

    def charts(self, store: Store, year: int | None, country: str | None) -> dict[str, str]:
        key = (store.url, year, country, str(current_language()))
        hit = self._fresh(key)
        if hit is not None:
            return hit
        with self._draw:
            hit = self._fresh(key)
            if hit is not None:
                return hit
            charts = dashboard_charts(store, year, country)
        with self._lock:
            self._items[key] = (time.monotonic() + CACHE_SECONDS, charts)
        return charts
