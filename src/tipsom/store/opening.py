"""Checks made when a store is opened, so a wrong or damaged database is refused in one line.

Only ``tipsom init`` (and the server at start) create or upgrade the schema;
every other open checks that the schema is this tipsom's and refuses a store
that is missing, not yet created or behind (:func:`require_current`), so a
read command never migrates an older installation by surprise. Pointed at the wrong thing (a
typo in the URL, a folder, a file that is not a database), at a damaged copy
(cut short by a full disk or an interrupted copy), at a store written by a
newer tipsom, or at one whose migration record was lost, carrying on would
either crash deep inside SQLAlchemy or, worse, create fresh tables beside
data they do not describe. Each case becomes a :class:`StoreError` (exit 2)
saying what is wrong and what to do.

The checks cost almost nothing on a healthy store: a 100-byte header read and
one comparison of sizes for SQLite, one query for the table names and one for
the schema record, compared with the migration heads. The full
``PRAGMA quick_check`` (which reads every page) runs only when the sizes
disagree.
"""

from __future__ import annotations

import ast
import os
import re
import weakref
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from tipsom.core.errors import ConfigError

SQLITE_MAGIC = b"SQLite format 3\x00"
#: The table Alembic keeps the applied revisions in.
VERSION_TABLE = "alembic_version"


class StoreError(ConfigError):
    """The database cannot be used as a tipsom store as it is (exit 2)."""


def check_url(url: str) -> None:
    """Refuse a URL whose backend tipsom cannot load, before any connection is tried."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        make_url(url).get_dialect()
    except (ArgumentError, NoSuchModuleError):
        raise StoreError(f"{url}: not a database URL tipsom can use; give sqlite:///PATH or "
                         "postgresql+psycopg://USER@HOST/NAME (--db or TIPSOM_DB_URL)") from None


#: Engines this process holds on each SQLite file (by resolved path). The file check below reads the
#: header with a plain ``open()``, and closing any descriptor of a file releases every POSIX lock the
#: process holds on it, including the locks of its live SQLite connections: another process then
#: believes it is the last user, checkpoints and deletes the WAL, and this process's later commits are
#: lost (issue 14, the same fault as a second SQLite copy). So the file is read raw only while the
#: process holds no engine on it; a live engine already proves the file opened as a store.
_LIVE: dict[str, weakref.WeakSet[Any]] = {}


def hold(path: Path, engine: Any) -> None:
    """Record that ``engine`` may hold connections (and so POSIX locks) on the SQLite file ``path``."""
    _LIVE.setdefault(str(path.resolve()), weakref.WeakSet()).add(engine)


def release(path: Path, engine: Any) -> None:
    """``engine`` was disposed: its connections, and their locks, are gone."""
    _LIVE.get(str(path.resolve()), weakref.WeakSet()).discard(engine)


def check_sqlite_file(path: Path) -> None:
    """Refuse a path that is not a usable SQLite store: a folder, another file, a cut copy, read-only.

    A missing or empty file passes: ``tipsom init`` makes it a store (and any
    other open refuses it, :func:`refuse_missing_file`). A file this
    process already holds an engine on is not read again (see :data:`_LIVE`).
    """
    if len(_LIVE.get(str(path.resolve()), ())):
        return
    _check_unopened_file(path)


def _check_unopened_file(path: Path) -> None:
    if path.is_dir():
        raise StoreError(f"{path}: is a folder, not a database file; give the path of the store's .db file")
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb") as fh:
        header = fh.read(100)
    if not header.startswith(SQLITE_MAGIC):
        raise StoreError(f"{path}: not an SQLite database (not a tipsom store); check --db or TIPSOM_DB_URL")
    if not os.access(path, os.W_OK):
        raise StoreError(f"{path}: the store is read-only (permissions or an immutable flag); tipsom writes "
                         "its audit log and journal there: copy it somewhere writable or restore write access")
    if _shorter_than_header_says(path, header) and not _passes_quick_check(path):
        raise StoreError(f"{path}: the database is damaged or cut short (fewer pages than its header "
                         "records); restore it from a backup")


def _shorter_than_header_says(path: Path, header: bytes) -> bool:
    """Whether the file holds fewer pages than its header records (SQLite file format, section 1.3)."""
    if len(header) < 100:
        return True
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65_536 if page_size == 1 else page_size
    change_counter = int.from_bytes(header[24:28], "big")
    pages = int.from_bytes(header[28:32], "big")
    if int.from_bytes(header[92:96], "big") != change_counter:  # the size field predates the last write
        return False
    return path.stat().st_size < pages * page_size


def _passes_quick_check(path: Path) -> bool:
    """SQLite's own verdict on every page; a write-ahead log may hold the pages the file lacks."""
    import sqlite3

    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            rows = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError:
        return False
    return bool(rows == [("ok",)])


class SchemaState(StrEnum):
    """Where a store's schema stands against this tipsom's migrations: what opening it may do."""

    #: No tipsom table and no record: a new store, which ``tipsom init`` creates.
    EMPTY = "empty"
    #: Some module's branch lacks revisions this tipsom has: ``tipsom init`` upgrades it.
    BEHIND = "behind"
    #: Every branch at this tipsom's newest revision: ready to use.
    CURRENT = "current"


@dataclass(frozen=True)
class MigrationGraph:
    """This tipsom's Alembic revisions: every id it knows, and the heads a current store records."""

    known: frozenset[str]
    heads: frozenset[str]


@cache
def migration_graph() -> MigrationGraph:
    """The revisions in every migration directory, read from the files' ``revision`` and ``down_revision``.

    Alembic finds the same by executing each file, which costs more than the
    rest of opening a store together (a tenth of a second and more, once per
    command); opening only needs the ids, which Alembic writes as plain
    literals on lines of their own. ``tests/store/test_migration_layout.py`` checks that this agrees
    with Alembic's own graph.
    """
    from tipsom.store.db import version_locations

    known: set[str] = set()
    parents: set[str] = set()
    for folder in version_locations():
        for path in folder.glob("*.py"):
            ids = _literal_assignments(path)
            if isinstance(ids.get("revision"), str):
                known.add(ids["revision"])
                down = ids.get("down_revision")
                parents.update([down] if isinstance(down, str) else down or ())
    return MigrationGraph(frozenset(known), frozenset(known - parents))


#: A module-level ``revision = "..."`` or ``down_revision = ...`` line of an Alembic revision file.
_REVISION_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)


def _literal_assignments(path: Path) -> dict[str, Any]:
    """The ``revision`` and ``down_revision`` literals of a revision file, read without running or parsing it all."""
    return {name: ast.literal_eval(value) for name, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8"))}


def schema_state(conn: Any, known_tables: set[str]) -> SchemaState:
    """Read the store's schema record and compare it with this tipsom's migration heads (reads only).

    Refused outright, because no command can make them usable: a store whose
    record is missing beside tipsom tables, and one naming revisions this
    tipsom lacks (written by a newer tipsom).
    """
    from sqlalchemy import inspect, text

    present = set(inspect(conn).get_table_names())
    revisions = ({str(r) for r in conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()}
                 if VERSION_TABLE in present else set())
    ours = sorted(present & known_tables)
    if not revisions and ours:
        raise StoreError(f"{_where(conn)}: the store holds tipsom tables ({', '.join(ours[:3])}...) but no "
                         f"record of its schema version ({VERSION_TABLE} is missing or empty); tipsom will not "
                         "create tables over existing data: restore the store from a backup")
    if not revisions:
        return SchemaState.EMPTY
    graph = migration_graph()
    unknown = sorted(revisions - graph.known)
    if unknown:
        raise StoreError(f"{_where(conn)}: this store was written by a newer tipsom (schema revision "
                         f"{unknown[0]!r} is unknown here); upgrade tipsom before opening it")
    return SchemaState.CURRENT if revisions == graph.heads else SchemaState.BEHIND


def require_current(conn: Any, known_tables: set[str]) -> None:
    """Refuse, writing nothing, a store that is not yet at this tipsom's schema: only ``tipsom init`` migrates.

    A read command that upgraded on the way would change an older
    installation's tables behind its operator's back (and, interrupted, leave
    some modules upgraded and others not); the operator upgrades on purpose,
    after a backup.
    """
    state = schema_state(conn, known_tables)
    if state is SchemaState.EMPTY:
        raise StoreError(f"{_where(conn)}: not a tipsom store yet (no tipsom tables); run 'tipsom init' to "
                         "create it, or check --db or TIPSOM_DB_URL")
    if state is SchemaState.BEHIND:
        raise StoreError(f"{_where(conn)}: the store was written by an older tipsom and its schema is not "
                         "upgraded yet; back it up, then run 'tipsom init' to upgrade it")


def refuse_missing_file(path: Path) -> None:
    """Refuse to open a SQLite path that holds no store yet, before SQLite creates the file by connecting."""
    if not path.exists() or path.stat().st_size == 0:
        raise StoreError(f"{path}: no tipsom store here; run 'tipsom init' to create it, or check --db or "
                         "TIPSOM_DB_URL")


def explain_open_failure(url: str, exc: Exception) -> StoreError:
    """The one-line reason an engine could not open or migrate ``url``, from SQLAlchemy's error."""
    reason = str(getattr(exc, "orig", exc)).splitlines()[0] if str(exc) else type(exc).__name__
    lowered = reason.lower()
    if "not a database" in lowered:
        advice = "not an SQLite database (not a tipsom store); check --db or TIPSOM_DB_URL"
    elif "malformed" in lowered:
        advice = "the database is damaged; restore it from a backup"
    elif "readonly" in lowered or "read-only" in lowered:
        advice = "the store is read-only; copy it somewhere writable or restore write access"
    elif "unable to open" in lowered:
        advice = "cannot open the database file: check that its folder exists and is writable"
    else:
        advice = f"cannot open the store ({reason}); check --db or TIPSOM_DB_URL and that the server is running"
    return StoreError(f"{_redacted(url)}: {advice}")


def _where(conn: Any) -> str:
    return _redacted(str(conn.engine.url))


def _redacted(url: str) -> str:
    """The URL without its password, fit for a message."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url
