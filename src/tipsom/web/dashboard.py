"""Dashboard charts: the report module's suppressed charts, kept per data version.

Charts are static SVG drawn on the server (matplotlib, Natural Earth map
shipped in the package), so they render with the network off. Drawing them
means aggregating every case with disclosure control and then plotting:
seconds on 100,000 cases. So charts are kept per filter together with the
*data version* they were drawn from: the latest audit event that changed case
data (every create, update, delete and import writes one). Each request reads
the current version (two indexed queries) and shows kept charts only if they
were drawn from it, so a save, whether in this process, another worker or a
command-line import, makes them stale at once: nobody sees figures older than
their own save.

Kept charts live in memory and in the ``web_chart_snapshots`` table: a
restarted server, and every worker, shows an unchanged dashboard at once. At
start-up and a little after saves, a background thread redraws the
unfiltered dashboard if its snapshot is stale. On a server a request never
waits for a redraw: it is shown the filter's last charts while a background
thread draws the current ones; only a filter never drawn is drawn in the
request. The report module draws the charts in English, so one set serves every
language. Cells under ``TIPSOM_SUPPRESSION_THRESHOLD`` are left out, never drawn.

Every page says when its charts were drawn ("as of"). Two settings keep one
user from spending the server's cores: ``TIPSOM_DASHBOARD_CACHED_FILTERS``
bounds the filters kept (least recently used go first) and
``TIPSOM_DASHBOARD_DRAWS_PER_HOUR`` the drawings one user may cause; past it,
the user sees the charts last drawn (the filter's own, else the unfiltered
ones) with a note, never an error.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import fcntl
import importlib.metadata
import json
import logging
import os
import sys
import threading
import time
import zlib
from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select

from tipsom.report.dashboard import dashboard_data, draw_dashboard
from tipsom.store import audit
from tipsom.store.db import Store
from tipsom.store.tables import REGISTRY, audit_log
from tipsom.web.tables import chart_snapshots

CASES = REGISTRY["case"]
#: Audit events that change what the charts count.
DATA_CHANGES = [str(a) for a in (audit.AuditAction.CREATE, audit.AuditAction.UPDATE, audit.AuditAction.DELETE,
                                 audit.AuditAction.IMPORT)]
DATA_ENTITIES = ["case", "person"]
#: How many of the latest audit events are also counted, so that a transaction committing an
#: event id lower than one already seen (possible with PostgreSQL sequences) still changes the version.
RECENT_EVENTS = 1000
#: The window of the per-user drawing limit.
RATE_WINDOW_SECONDS = 3600.0
#: A save schedules a background redraw at most this often, so a busy office does not keep a core drawing.
REDRAW_INTERVAL_SECONDS = 60.0
REDRAW_DELAY_SECONDS = 5.0
#: Niceness of the background redraw of filtered dashboards (interactive requests keep 0).
BACKGROUND_NICENESS = 10
SOFTWARE = f"tipsom {importlib.metadata.version('tipsom')}"
LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Filters:
    years: list[int]
    countries: list[str]


@dataclass(frozen=True)
class Snapshot:
    """Charts for one filter as drawn from one data version with one suppression threshold."""

    data_version: str
    threshold: int
    charts: dict[str, str]
    drawn_at: datetime


class Served(enum.Enum):
    """Which charts a dashboard request was shown."""

    #: Drawn from the current data.
    CURRENT = "current"
    #: The filter's last charts, drawn before the latest save; current ones are being drawn.
    PREVIOUS = "previous"
    #: The user reached the drawing limit: the last charts drawn, possibly for no filter.
    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True)
class DashboardView:
    """What a dashboard page shows: charts, when they were drawn, and for which filter."""

    charts: dict[str, str]
    as_of: datetime | None
    served: Served
    #: The filter the charts are for (the unfiltered dashboard when a limited user asked for a new filter).
    year: int | None
    country: str | None


def data_version(conn: Connection) -> str:
    """The version of the case data: the latest data-changing audit event, and how many of the recent ones there are."""
    data_event = (audit_log.c.action.in_(DATA_CHANGES)) & (audit_log.c.entity.in_(DATA_ENTITIES))
    last = conn.scalar(select(audit_log.c.id).where(data_event).order_by(audit_log.c.id.desc()).limit(1)) or 0
    top = conn.scalar(select(func.max(audit_log.c.id))) or 0
    recent = conn.scalar(select(func.count()).select_from(audit_log).where(
        audit_log.c.id > top - RECENT_EVENTS, data_event)) or 0
    return f"{last}:{recent}"


def filter_key(year: int | None, country: str | None) -> str:
    return f"year={year or ''};country={country or ''}"


def filter_options(store: Store) -> Filters:
    with store.engine.connect() as conn:
        years = [r[0] for r in conn.execute(select(CASES.c.year).where(CASES.c.year.is_not(None))
                                            .group_by(CASES.c.year).order_by(CASES.c.year))]
        countries = [r[0] for r in conn.execute(select(CASES.c.jurisdiction)
                                                .where(CASES.c.jurisdiction.is_not(None))
                                                .group_by(CASES.c.jurisdiction))]
    return Filters(years, countries)


def load_snapshot(conn: Connection, key: str) -> Snapshot | None:
    row = conn.execute(select(chart_snapshots).where(chart_snapshots.c.filter_key == key,
                                                     chart_snapshots.c.software == SOFTWARE)).first()
    if row is None:
        return None
    return Snapshot(row.data_version, row.threshold, json.loads(row.charts), row.drawn_at)


def save_snapshot(store: Store, key: str, snapshot: Snapshot) -> None:
    """Keep ``snapshot`` for ``key`` (replacing the older one), and only the latest
    ``TIPSOM_DASHBOARD_CACHED_FILTERS``."""
    kept = store.settings.dashboard_cached_filters
    with store.begin() as conn:
        conn.execute(delete(chart_snapshots).where(chart_snapshots.c.filter_key == key))
        conn.execute(insert(chart_snapshots).values(
            filter_key=key, data_version=snapshot.data_version, threshold=snapshot.threshold, software=SOFTWARE,
            charts=json.dumps(snapshot.charts), drawn_at=snapshot.drawn_at))
        old = select(chart_snapshots.c.filter_key).order_by(chart_snapshots.c.drawn_at.desc()).offset(kept)
        conn.execute(delete(chart_snapshots).where(chart_snapshots.c.filter_key.in_(old)))


@contextlib.contextmanager
def _across_workers(store: Store, key: str) -> Iterator[None]:
    """One drawing of a filter at a time across the worker processes of one SQLite store.

    The second worker then finds the first one's snapshot instead of drawing
    the same charts again on the same cores; different filters are drawn side
    by side. Servers on PostgreSQL may run on several hosts; there each
    process draws for itself.
    """
    if not store.url.startswith("sqlite"):
        yield
        return
    path = store.settings.home / "dashboard-locks" / f"{zlib.crc32(key.encode()):08x}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _yield_cpu() -> None:
    """Lower this thread's CPU priority (Linux sets niceness per thread; elsewhere it would be the process)."""
    if sys.platform == "linux":
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICENESS)


class Redraw(enum.Enum):
    """Whether charts are redrawn in the background (the server) or only when asked for (tests, tools)."""

    BACKGROUND = "background"
    ON_REQUEST = "on_request"


#: matplotlib's pyplot is not thread-safe: one chart set is plotted at a time in a process.
#: Aggregation (DuckDB) runs outside it, so two filters are aggregated side by side.
_PLOT = threading.Lock()


class ChartCache:
    """Charts per (store, filter), valid while the data version and the threshold are unchanged."""

    def __init__(self, redraw: Redraw = Redraw.ON_REQUEST) -> None:
        self.redraw = redraw
        self._lock = threading.Lock()
        #: Least recently used first; at most ``TIPSOM_DASHBOARD_CACHED_FILTERS`` per store.
        self._items: OrderedDict[tuple[str, str], Snapshot] = OrderedDict()
        #: Per (store, user), when their recent drawings were asked for (monotonic seconds).
        self._draws: dict[tuple[str, str], deque[float]] = {}
        #: One lock per filter: requests for charts being drawn wait for them rather than drawing them again.
        self._drawing: dict[tuple[str, str], threading.Lock] = {}
        self._filters: dict[str, tuple[str, Filters]] = {}
        self._redraw: threading.Thread | None = None
        self._last_redraw = -REDRAW_INTERVAL_SECONDS

    def _version(self, store: Store) -> str:
        with store.engine.connect() as conn:
            return data_version(conn)

    def filters(self, store: Store) -> Filters:
        """Years and countries present (two scans of the case table), kept while the data is unchanged."""
        version = self._version(store)
        with self._lock:
            hit = self._filters.get(store.url)
        if hit and hit[0] == version:
            return hit[1]
        options = filter_options(store)
        with self._lock:
            self._filters[store.url] = (version, options)
        return options

    def _keep(self, store: Store, key: str, snapshot: Snapshot) -> None:
        """Hold ``snapshot`` in memory, dropping the least recently used beyond the store's bound."""
        with self._lock:
            self._items[(store.url, key)] = snapshot
            self._items.move_to_end((store.url, key))
            mine = [k for k in self._items if k[0] == store.url]
            for old in mine[: max(0, len(mine) - store.settings.dashboard_cached_filters)]:
                del self._items[old]
                self._drawing.pop(old, None)

    def _held(self, store: Store, key: str, version: str | None = None) -> Snapshot | None:
        """The latest snapshot of ``key`` at the current threshold: from memory unless it is older than
        ``version`` (another worker may have drawn that one), else from the database."""
        threshold = store.settings.suppression_threshold
        with self._lock:
            held = self._items.get((store.url, key))
            if held is not None:
                self._items.move_to_end((store.url, key))
        if held is None or (version is not None and held.data_version != version):
            with store.engine.connect() as conn:
                stored = load_snapshot(conn, key)
            if stored is not None:
                self._keep(store, key, stored)
                held = stored
        return held if held is not None and held.threshold == threshold else None

    def _valid(self, store: Store, key: str, version: str) -> Snapshot | None:
        """The snapshot drawn from ``version`` with the current threshold: from memory, else the database."""
        held = self._held(store, key, version)
        return held if held is not None and held.data_version == version else None

    def charts(self, store: Store, year: int | None, country: str | None) -> dict[str, str]:
        """Charts for a filter, as :meth:`view` finds them for a user without a drawing limit."""
        return self.view(store, year, country, user=None).charts

    def _may_draw(self, store: Store, user: str | None) -> bool:
        """Count one drawing for ``user``, unless they reached ``TIPSOM_DASHBOARD_DRAWS_PER_HOUR``."""
        if user is None:
            return True
        now = time.monotonic()
        with self._lock:
            recent = self._draws.setdefault((store.url, user), deque())
            while recent and now - recent[0] > RATE_WINDOW_SECONDS:
                recent.popleft()
            if len(recent) >= store.settings.dashboard_draws_per_hour:
                return False
            recent.append(now)
            return True

    def view(self, store: Store, year: int | None, country: str | None, user: str | None) -> DashboardView:
        """The charts a request for a filter is shown.

        Current charts if drawn. Otherwise, if ``user`` may cause a drawing:
        on a server the filter's last charts while a background thread
        redraws them (a request waits only for a filter never drawn), off a
        server a drawing now. A user past the limit gets the filter's last
        charts, else the unfiltered dashboard's, marked :attr:`Served.RATE_LIMITED`.
        """
        key = filter_key(year, country)
        hit = self._valid(store, key, self._version(store))
        if hit is not None:
            return DashboardView(hit.charts, hit.drawn_at, Served.CURRENT, year, country)
        last = self._held(store, key) if self.redraw is Redraw.BACKGROUND or user is not None else None
        if not self._may_draw(store, user):
            if last is not None:
                return DashboardView(last.charts, last.drawn_at, Served.RATE_LIMITED, year, country)
            if (year, country) != (None, None):
                unfiltered = self.view(store, None, None, user=None)
                return dataclasses.replace(unfiltered, served=Served.RATE_LIMITED)
        if self.redraw is Redraw.BACKGROUND and last is not None:
            self._redraw_filter(store, year, country)
            return DashboardView(last.charts, last.drawn_at, Served.PREVIOUS, year, country)
        drawn = self._draw(store, year, country)
        return DashboardView(drawn.charts, drawn.drawn_at, Served.CURRENT, year, country)

    def _redraw_filter(self, store: Store, year: int | None, country: str | None) -> None:
        """Redraw one filter's charts in a background thread, unless that filter is being drawn."""
        with self._lock:
            drawing = self._drawing.setdefault((store.url, filter_key(year, country)), threading.Lock())
        if drawing.locked():
            return

        def redraw() -> None:
            try:
                self._draw(store, year, country)
            except Exception:  # the last charts stay on show; the next request tries again
                LOG.exception("background redraw of the dashboard failed")

        threading.Thread(target=redraw, name="tipsom-chart-redraw-filter", daemon=True).start()

    def _draw(self, store: Store, year: int | None, country: str | None) -> Snapshot:
        key = filter_key(year, country)
        with self._lock:
            drawing = self._drawing.setdefault((store.url, key), threading.Lock())
        with drawing, _across_workers(store, key):
            # Read the version before drawing: a save made meanwhile makes these charts stale, never current.
            version = self._version(store)
            hit = self._valid(store, key, version)
            if hit is not None:
                return hit
            data = dashboard_data(store, year, country)
            with _PLOT:
                charts = draw_dashboard(data)
            snapshot = Snapshot(version, store.settings.suppression_threshold, charts, audit.now())
            save_snapshot(store, key, snapshot)
        self._keep(store, key, snapshot)
        return snapshot

    def redraw_soon(self, store: Store, *, delay: float = REDRAW_DELAY_SECONDS, force: bool = False) -> None:
        """Redraw stale dashboards in a background thread, unless one is running or ran lately.

        The unfiltered dashboard first, then one per year offered in the
        filter (the filter people use most), at a lower CPU priority so page
        requests come first. Called at start-up (``force``) and after saves;
        requests never wait for it unless they ask for the very charts it is drawing.
        """
        if self.redraw is not Redraw.BACKGROUND:
            return
        with self._lock:
            now = time.monotonic()
            running = self._redraw is not None and self._redraw.is_alive()
            if running or (not force and now - self._last_redraw < REDRAW_INTERVAL_SECONDS):
                return
            self._last_redraw = now
            self._redraw = threading.Thread(target=self._redraw_after, args=(store, delay),
                                            name="tipsom-chart-redraw", daemon=True)
            self._redraw.start()

    def _redraw_after(self, store: Store, delay: float) -> None:
        time.sleep(delay)
        try:
            self._draw(store, None, None)
            _yield_cpu()
            for year in self.filters(store).years:
                self._draw(store, year, None)
        except Exception:  # a failed redraw leaves the next visitor to draw; the server carries on
            LOG.exception("background redraw of the dashboard failed")

    def data_changed(self, store: Store) -> None:
        """After a save: drop the charts held in memory (stale now) and schedule a redraw."""
        with self._lock:
            self._items.clear()
            self._filters.clear()
        self.redraw_soon(store)

    def wait_for_redraw(self, timeout: float) -> None:
        """Block until a running background redraw ends (for shutdown and tests)."""
        thread = self._redraw
        if thread is not None:
            thread.join(timeout)
