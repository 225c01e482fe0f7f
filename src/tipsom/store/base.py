"""The one SQLAlchemy ``MetaData`` every module's tables live on, and engines.

All tables (registry, audit, evidence, screening results, web accounts) share
this metadata so one Alembic history and one ``create_all`` cover the whole
database, whichever backend ``TIPSOM_DB_URL`` selects.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, create_engine, event
from sqlalchemy.engine import ExceptionContext

from tipsom.core.errors import ExitCode, TipsomError

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

#: Name of the registry's case table; other modules reference ``cases.id``.
CASES_TABLE = "cases"


#: Statements that need SQLite's single write lock.
_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.IGNORECASE)

#: Seconds a transaction's first write may wait for the lock before the user is told why nothing happens.
LOCK_NOTICE_SECONDS = 1.0

LOG = logging.getLogger(__name__)


class StoreLockedError(TipsomError):
    """Another process kept the SQLite store's write lock longer than ``TIPSOM_DB_LOCK_TIMEOUT``.

    Exit 2 like a configuration problem (the user reruns later or raises the
    timeout), but not a ``ValueError``: no value offered was wrong, so code that
    reports bad values as bad input must let it through to the one handler.
    """

    exit_code = ExitCode.USAGE


def _sqlite_pragmas(lock_timeout: int) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        # WAL lets readers (web, reports) work while an import writes; foreign keys
        # are off by default in SQLite; busy_timeout makes a writer wait (bounded)
        # for another one to finish instead of failing at once.
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={lock_timeout * 1000}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return on_connect


def _watch_lock_waits(engine: Engine, store: str, lock_timeout: int) -> None:
    """Say when a write waits for another process's lock, and turn a timeout into one clear error.

    SQLite serialises writers: a small import started while a large one runs
    blocks inside the driver, silently, for up to ``busy_timeout``. Python's
    ``sqlite3`` exposes no busy handler, so the first write of each
    transaction (the one that takes the lock; later writes already hold it)
    arms a timer that logs a warning when the statement has not finished
    after :data:`LOCK_NOTICE_SECONDS` (the command line prints warnings on
    stderr). When the wait exceeds the timeout, the driver's bare "database
    is locked" becomes a :class:`StoreLockedError` naming the store; the
    transaction is rolled back by its owner, so nothing is written.
    """
    notice = (f"waiting for another tipsom process that is writing the store {store} "
              f"(up to {lock_timeout} s, TIPSOM_DB_LOCK_TIMEOUT)…")

    def before(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if not conn.info.get("holds_write_lock") and _WRITE.match(statement):
            timer = threading.Timer(LOCK_NOTICE_SECONDS, LOG.warning, (notice,))
            timer.daemon = True
            conn.info["lock_timer"] = timer
            timer.start()

    def after(conn: Connection, *_args: Any) -> None:
        timer = conn.info.pop("lock_timer", None)
        if timer is not None:
            timer.cancel()
            conn.info["holds_write_lock"] = True

    def released(conn: Connection) -> None:
        conn.info["holds_write_lock"] = False

    def checked_in(_dbapi_conn: Any, record: Any) -> None:
        # The pool may end a transaction itself (reset on return) without a rollback event.
        record.info["holds_write_lock"] = False

    def failed(context: ExceptionContext) -> None:
        if context.connection is not None:
            timer = context.connection.info.pop("lock_timer", None)
            if timer is not None:
                timer.cancel()
        if isinstance(context.original_exception, sqlite3.OperationalError) and \
                "locked" in str(context.original_exception):
            raise StoreLockedError(
                f"store {store} is locked: another process kept writing it for more than {lock_timeout} s; "
                "nothing was written: run the command again when it has finished, or raise "
                "TIPSOM_DB_LOCK_TIMEOUT") from context.original_exception

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    event.listen(engine, "commit", released)
    event.listen(engine, "rollback", released)
    event.listen(engine, "checkin", checked_in)
    event.listen(engine, "handle_error", failed)


def engine_for(url: str, *, lock_timeout: int = 60) -> Engine:
    """Create an engine for ``url`` with the settings tipsom relies on.

    ``lock_timeout`` bounds, in seconds, how long a SQLite writer waits for
    another process's write lock (``TIPSOM_DB_LOCK_TIMEOUT``).
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas(lock_timeout))
        _watch_lock_waits(engine, engine.url.database or url, lock_timeout)
        return engine
    return create_engine(url, pool_pre_ping=True)
