"""A write that finds the SQLite store locked by another process waits, says so, and gives up cleanly (issue 14).

A long import holds SQLite's single write lock; here the test process holds it
with ``BEGIN IMMEDIATE`` while ``tipsom import cases`` of a small file runs in
another process.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tipsom.settings import get_settings
from tipsom.store.db import Store
from tipsom.synth.demo import load_demo

pytestmark = [pytest.mark.sqlite_only("SQLite's single write lock, held with BEGIN IMMEDIATE; PostgreSQL locks rows"),
              pytest.mark.slow]  # each waits out a lock timeout in another process

TIPSOM = [sys.executable, "-m", "tipsom.cli.main"]
WAITING = "waiting for another tipsom process that is writing the store"


def _store_with_cases() -> Path:
    """The configured store (a SQLite file under this test's TIPSOM_HOME) with a few cases."""
    store = Store.init()
    load_demo(store, n=5, seed=2)
    store.dispose()
    return get_settings().home / "tipsom.db"


def _small_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.jsonl"
    subprocess.run([*TIPSOM, "synth", "cases", "--n", "3", "--seed", "99", "-o", str(path), "-q"],
                   check=True, capture_output=True, timeout=300)
    # new cases, not updates of the stored ones: an update holding fewer route legs than stored is refused
    docs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    path.write_text("".join(json.dumps({**d, "case_id": f"LOCK-{d['case_id']}"}) + "\n" for d in docs),
                    encoding="utf-8")
    return path


def _import(path: Path, lock_timeout: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TIPSOM_DB_LOCK_TIMEOUT": str(lock_timeout)}
    return subprocess.run([*TIPSOM, "import", "cases", str(path), "-q"], env=env, capture_output=True, text=True,
                          timeout=600, check=False)


def _counts(db: Path) -> tuple[int, int]:
    con = sqlite3.connect(db)
    try:
        row = con.execute("SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM audit_log)").fetchone()
    finally:
        con.close()
    return int(row[0]), int(row[1])


def _hold_write_lock(db: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_a_write_blocked_past_the_timeout_fails_with_one_line_and_writes_nothing(
        data_key: str, tmp_path: Path) -> None:
    db = _store_with_cases()
    small = _small_file(tmp_path)
    before = _counts(db)
    holder = _hold_write_lock(db)
    try:
        done = _import(small, lock_timeout=2)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert done.returncode == 2, done.stderr
    assert WAITING in done.stderr
    refusal = [line for line in done.stderr.splitlines() if line.startswith("tipsom: ")]
    assert len(refusal) == 1, done.stderr
    assert f"store {db} is locked" in refusal[0]
    assert "Traceback" not in done.stderr
    assert _counts(db) == before


def test_a_write_waits_for_the_lock_and_then_succeeds(data_key: str, tmp_path: Path) -> None:
    db = _store_with_cases()
    small = _small_file(tmp_path)
    _cases, events_before = _counts(db)
    holder = _hold_write_lock(db)
    env = {**os.environ, "TIPSOM_DB_LOCK_TIMEOUT": "300"}
    proc = subprocess.Popen([*TIPSOM, "import", "cases", str(small), "-q"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()  # blocks until the importer says it is waiting (or fails)
    finally:
        holder.execute("ROLLBACK")  # the "large import" finishes
        holder.close()
    out, rest = proc.communicate(timeout=600)
    assert WAITING in first, first + rest
    assert proc.returncode == 0, rest
    assert json.loads(out)["committed"] is True
    assert _counts(db)[1] > events_before  # the import and what it changed are audited
