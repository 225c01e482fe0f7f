"""Opening the store again in a process that holds connections must not drop their SQLite locks (issue 14).

The open-time file check reads the database header with a plain ``open()``;
closing that descriptor would release every POSIX lock the process holds on the
file, so an outside reader would checkpoint and delete the WAL that this
process keeps writing into, and its later commits would be lost.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.report.test_live_store import open_elsewhere_and_close
from tipsom.store.db import Store
from tipsom.store.tables import REGISTRY
from tipsom.synth.demo import load_demo

pytestmark = pytest.mark.sqlite_only("POSIX locks on the SQLite file and its WAL")


def test_a_second_open_in_a_process_holding_connections_keeps_their_locks(tmp_path: Path, data_key: str) -> None:
    path = tmp_path / "live.db"
    store = Store.init(f"sqlite:///{path}")
    load_demo(store, n=5, seed=3)
    cases = REGISTRY["case"]
    with store.engine.connect() as held:
        held.execute(select(func.count()).select_from(cases))  # a live connection, as a web server keeps
        again = Store.open(f"sqlite:///{path}")  # e.g. a request or a background job opening the store
        open_elsewhere_and_close(path)
        assert Path(f"{path}-wal").exists(), "another process deleted the WAL this process writes into"
        with store.begin() as conn:
            conn.execute(cases.update().where(cases.c.id == select(func.min(cases.c.id)).scalar_subquery())
                         .values(jurisdiction="ZZZ"))
        held.rollback()
    again.dispose()
    store.dispose()
    outside = sqlite3.connect(path)
    try:
        stored = outside.execute("SELECT count(*) FROM cases WHERE jurisdiction = 'ZZZ'").fetchone()
    finally:
        outside.close()
    assert stored == (1,), "a commit made after the second open is not in the store"


def test_a_file_damaged_after_its_engines_were_disposed_is_checked_again(tmp_path: Path, data_key: str) -> None:
    """The check is skipped only while the process holds an engine on the file, not for ever."""
    import pytest

    from tipsom.store.opening import StoreError

    path = tmp_path / "cut.db"
    store = Store.init(f"sqlite:///{path}")
    load_demo(store, n=3, seed=1)
    store.dispose()
    path.write_bytes(b"not a database at all" * 10)
    with pytest.raises(StoreError, match="not an SQLite database"):
        Store.open(f"sqlite:///{path}")
