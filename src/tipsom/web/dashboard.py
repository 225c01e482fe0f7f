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
"""

from __future__ import annotations

import contextlib
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
from collections.abc import Iterator
from dataclasses import dataclass

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
#: Snapshots kept in the database (one per filter drawn; the oldest go first).
KEPT_SNAPSHOTS = 200
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
    return Snapshot(row.data_version, row.threshold, json.loads(row.charts))


def save_snapshot(store: Store, key: str, snapshot: Snapshot) -> None:
    """Keep ``snapshot`` for ``key`` (replacing the older one), and only the latest :data:`KEPT_SNAPSHOTS`."""
    with store.begin() as conn:
        conn.execute(delete(chart_snapshots).where(chart_snapshots.c.filter_key == key))
        conn.execute(insert(chart_snapshots).values(
            filter_key=key, data_version=snapshot.data_version, threshold=snapshot.threshold, software=SOFTWARE,
            charts=json.dumps(snapshot.charts), drawn_at=audit.now()))
        old = select(chart_snapshots.c.filter_key).order_by(chart_snapshots.c.drawn_at.desc()).offset(KEPT_SNAPSHOTS)
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
        self._items: dict[tuple[str, str], Snapshot] = {}
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

    def _valid(self, store: Store, key: str, version: str) -> dict[str, str] | None:
        """Charts drawn from ``version`` with the current threshold: from memory, else the stored snapshot."""
        threshold = store.settings.suppression_threshold
        with self._lock:
            held = self._items.get((store.url, key))
        if held is not None and held.data_version == version and held.threshold == threshold:
            return held.charts
        with store.engine.connect() as conn:
            stored = load_snapshot(conn, key)
        if stored is None or stored.data_version != version or stored.threshold != threshold:
            return None
        with self._lock:
            self._items[(store.url, key)] = stored
        return stored.charts

    def _last_drawn(self, store: Store, key: str) -> dict[str, str] | None:
        """The latest charts of ``key`` at the current threshold, whatever data version they show."""
        threshold = store.settings.suppression_threshold
        with self._lock:
            held = self._items.get((store.url, key))
        if held is not None and held.threshold == threshold:
            return held.charts
        with store.engine.connect() as conn:
            stored = load_snapshot(conn, key)
        return stored.charts if stored is not None and stored.threshold == threshold else None

    def charts(self, store: Store, year: int | None, country: str | None) -> dict[str, str]:
        """Charts for a filter: current ones if drawn, else (on a server) the last ones drawn while a
        background thread redraws them, so a request waits for a drawing only when none exists yet."""
        key = filter_key(year, country)
        hit = self._valid(store, key, self._version(store))
        if hit is not None:
            return hit
        if self.redraw is Redraw.BACKGROUND:
            last = self._last_drawn(store, key)
            if last is not None:
                self._redraw_filter(store, year, country)
                return last
        return self._draw(store, year, country)

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

    def _draw(self, store: Store, year: int | None, country: str | None) -> dict[str, str]:
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
            snapshot = Snapshot(version, store.settings.suppression_threshold, charts)
            save_snapshot(store, key, snapshot)
        with self._lock:
            self._items[(store.url, key)] = snapshot
        return snapshot.charts

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
