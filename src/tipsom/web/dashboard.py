"""Dashboard charts: the report module's charts, or simple counts until it lands.

Charts are static SVG drawn on the server (matplotlib, Natural Earth map
shipped in the package), so they render with the network off. Drawing a map
takes a few hundred milliseconds, so results are cached per workspace,
filter and language for a few minutes and dropped whenever a case is saved.
The dashboard shows statistics over all organisations' cases, which is why
cells under ``TIPSOM_SUPPRESSION_THRESHOLD`` are left out, never drawn.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select

from tipsom.schema.enums import PersonRole
from tipsom.store.db import Store
from tipsom.store.tables import REGISTRY
from tipsom.web.i18n import _, current_language
from tipsom.web.labels import code_label

CACHE_SECONDS = 300.0
CASES, PERSONS = REGISTRY["case"], REGISTRY["person"]
ChartSource = Callable[[Store, int | None, str | None], dict[str, str]]


def report_charts() -> ChartSource | None:
    """The report module's ``dashboard_charts`` when it is installed, else None."""
    try:
        module = importlib.import_module("tipsom.report.dashboard")
    except ImportError:
        return None
    source: ChartSource = module.dashboard_charts
    return source


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


def _published(counts: Counter[str], threshold: int) -> dict[str, float]:
    return {k: float(v) for k, v in counts.most_common() if v >= threshold}


def count_charts(store: Store, year: int | None, country: str | None) -> dict[str, str]:
    """Charts from plain counts (used while ``tipsom.report.dashboard`` is absent)."""
    from tipsom.report.charts import bar_svg, choropleth_svg, line_svg

    conds = []
    if year is not None:
        conds.append(CASES.c.year == year)
    if country:
        conds.append(CASES.c.jurisdiction == country)
    threshold = store.settings.suppression_threshold
    victims = [str(r) for r in PersonRole if r.is_victim]
    with store.engine.connect() as conn:
        by_year: dict[int | str, float] = {int(y): float(n) for y, n in conn.execute(
            select(CASES.c.year, func.count()).where(*conds, CASES.c.year.is_not(None))
            .group_by(CASES.c.year)) if n >= threshold}
        by_type = Counter({str(t): int(n) for t, n in conn.execute(
            select(CASES.c.case_type, func.count()).where(*conds).group_by(CASES.c.case_type))})
        joined = select(PERSONS.c.origin_country, PERSONS.c.exploitation_forms).join(
            CASES, CASES.c.id == PERSONS.c.case_id).where(*conds, PERSONS.c.role.in_(victims))
        origins: Counter[str] = Counter()
        forms: Counter[str] = Counter()
        for origin, joined_forms in conn.execute(joined):
            if origin:
                origins[origin] += 1
            for form in (joined_forms or "").split("|"):
                if form:
                    forms[form] += 1
    case_f = store.model["case"].fields["case_type"]
    form_f = store.model["person"].fields["exploitation_forms"]
    types = _published(by_type, threshold)
    top_forms = _published(forms, threshold)
    return {
        "cases_by_year": line_svg({_("Cases"): by_year}, _("Cases by year of registration"), _("Cases")),
        "cases_by_type": bar_svg([code_label(case_f, k) for k in types], list(types.values()),
                                 _("Cases by type")),
        "victims_by_form": bar_svg([code_label(form_f, k) for k in top_forms], list(top_forms.values()),
                                   _("Victims by form of exploitation")),
        "victims_by_origin": choropleth_svg(_published(origins, threshold), _("Victims by country of origin")),
    }


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
            charts = (report_charts() or count_charts)(store, year, country)
        with self._lock:
            self._items[key] = (time.monotonic() + CACHE_SECONDS, charts)
        return charts
