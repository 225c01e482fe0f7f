"""The live SQLite store is opened by one SQLite library only (issue 14, section 1).

DuckDB's ``sqlite_scanner`` carries its own copy of SQLite. Opening the live
store through it in a process that also holds Python ``sqlite3`` connections
lets the operating system drop that process's locks when the copy closes its
handle, after which another process deletes the WAL the first one still
writes into. These tests refuse the pattern in the source and check the
warehouse leaves the store's locks in place.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tipsom.core.errors import IntegrityError
from tipsom.report.compute import REPORT_COLUMNS
from tipsom.report.warehouse import open_warehouse
from tipsom.store.db import Store
from tipsom.store.tables import REGISTRY
from tipsom.synth.demo import load_demo

SRC = Path(__file__).resolve().parents[2] / "src" / "tipsom"

#: Ways code could make DuckDB (directly or through Ibis) open a SQLite file with its own SQLite copy.
SECOND_SQLITE = re.compile(
    r"TYPE\s*[:=]?\s*['\"]?sqlite\b|sqlite_scan\s*\(|sqlite_attach|attach_sqlite|read_sqlite|"
    r"duckdb_extension_sqlite_scanner|(LOAD|INSTALL)\s+['\"]?sqlite",
    re.IGNORECASE,
)


def test_no_source_opens_a_sqlite_file_through_duckdb() -> None:
    offenders = [f"{path.relative_to(SRC)}:{n}: {line.strip()}"
                 for path in sorted(SRC.rglob("*.py"))
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
                 if SECOND_SQLITE.search(line)]
    assert offenders == []


def test_the_pattern_catches_the_attach_that_lost_data() -> None:
    """The lint above must recognise the statement that caused the loss, or it proves nothing."""
    assert SECOND_SQLITE.search("con.execute(f\"ATTACH '{path}' AS registry (TYPE sqlite, READ_ONLY)\")")
    assert SECOND_SQLITE.search("con.execute(\"LOAD 'sqlite_scanner'\")")
    assert SECOND_SQLITE.search("ibis.duckdb.connect().attach_sqlite(path)")
    assert not SECOND_SQLITE.search("con.execute('CREATE TABLE cases AS SELECT * FROM _cases_arrow')")


def open_elsewhere_and_close(path: Path) -> None:
    """What ``tipsom user list`` or a backup script does: open the store with another process's SQLite, close."""
    code = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('SELECT count(*) FROM cases'); c.close()"
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, timeout=120)


def test_the_warehouse_leaves_the_store_locks_of_its_process_in_place(tmp_path: Path, data_key: str) -> None:
    path = tmp_path / "live.db"
    store = Store.init(f"sqlite:///{path}")
    load_demo(store, n=12, seed=3)
    cases = REGISTRY["case"]
    # The process keeps a connection open, as a web server does, and writes after the warehouse read.
    with store.engine.connect() as held:
        con = open_warehouse(store, projection=REPORT_COLUMNS)
        loaded = con.execute("SELECT count(*) FROM duckdb_extensions() WHERE loaded AND "
                             "extension_name LIKE '%sqlite%'").fetchone()
        con.close()
        open_elsewhere_and_close(path)
        assert Path(f"{path}-wal").exists(), "another process deleted the WAL this process writes into"
        with store.begin() as conn:
            conn.execute(cases.update().where(cases.c.id == select(func.min(cases.c.id)).scalar_subquery())
                         .values(jurisdiction="ZZZ"))
        held.rollback()
    outside = sqlite3.connect(path)
    try:
        stored = outside.execute("SELECT count(*) FROM cases WHERE jurisdiction = 'ZZZ'").fetchone()
    finally:
        outside.close()
    store.dispose()
    assert stored == (1,), "a commit made after the warehouse read is not in the store"
    assert loaded == (0,), "DuckDB loaded a SQLite extension"


def test_a_stored_value_of_the_wrong_type_is_an_integrity_error(tmp_path: Path, data_key: str) -> None:
    """SQLite keeps whatever it is given; a text year must be named, not crash the report."""
    path = tmp_path / "typed.db"
    store = Store.init(f"sqlite:///{path}")
    load_demo(store, n=3, seed=4)
    raw = sqlite3.connect(path)
    try:
        raw.execute("UPDATE cases SET year = 'two thousand' WHERE id = (SELECT min(id) FROM cases)")
        raw.commit()
    finally:
        raw.close()
    with pytest.raises(IntegrityError, match="table cases: column year holds a value that is not BIGINT"):
        open_warehouse(store, {"cases": ("id", "year")})
    store.dispose()
