"""Acceptance: ``tipsom evidence verify`` exits 3 and names the problem after each kind of tampering."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tipsom.cli.evidence import evidence_app
from tipsom.core.errors import ExitCode
from tipsom.evidence.custody import CustodyAction
from tipsom.evidence.locker import EvidenceLocker, Intake
from tipsom.store.db import Store

from .conftest import CASE_ID


@pytest.fixture
def log(locker: EvidenceLocker, exhibit_files: list[Path]) -> Iterator[sqlite3.Connection]:
    """Three exhibits with five events, and a raw connection with the append-only guard removed."""
    locker.add_files(exhibit_files, Intake(CASE_ID, "Officer A", authority="Warrant W-2025-117"))
    locker.record(f"{CASE_ID}-E001", CustodyAction.TRANSFER, "Officer A", recipient="Custodian B")
    locker.record(f"{CASE_ID}-E001", CustodyAction.ANALYSIS, "Analyst C", note="reverse image search")
    locker.store.dispose()
    conn = sqlite3.connect(locker.store.settings.home / "tipsom.db", isolation_level=None)
    conn.execute("DROP TRIGGER custody_events_no_update")  # what someone with file access can do
    conn.execute("DROP TRIGGER custody_events_no_delete")
    yield conn
    conn.close()


def run_verify(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(evidence_app, ["verify", *args])
    return result.exit_code, result.output + result.stderr


def test_intact_store_verifies(log: sqlite3.Connection) -> None:
    code, output = run_verify()
    assert code == 0, output
    assert "3 items re-hashed, 5 events checked" in output


def test_flipped_byte_in_vault_file(locker: EvidenceLocker, log: sqlite3.Connection) -> None:
    item = locker.resolve(f"{CASE_ID}-E002")
    path = locker.vault.path_for(item.sha256)
    path.chmod(0o600)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    code, output = run_verify()
    assert code == ExitCode.INTEGRITY_FAILURE
    assert f"file changed: {CASE_ID}-E002 (chat_export.txt" in output


def test_missing_vault_file(locker: EvidenceLocker, log: sqlite3.Connection) -> None:
    locker.vault.path_for(locker.resolve(f"{CASE_ID}-E003").sha256).unlink()
    code, output = run_verify("--case", CASE_ID)
    assert code == ExitCode.INTEGRITY_FAILURE
    assert f"file missing: {CASE_ID}-E003" in output


def test_edited_event(log: sqlite3.Connection) -> None:
    log.execute("UPDATE custody_events SET actor = 'Officer Z' WHERE seq = 4")
    code, output = run_verify()
    assert code == ExitCode.INTEGRITY_FAILURE
    assert "event edited: event 4 (transfer by Officer Z" in output


def test_edited_event_with_recomputed_hash_breaks_signature_and_link(log: sqlite3.Connection) -> None:
    from tipsom.evidence.custody import event_hash

    cur = log.execute("SELECT * FROM custody_events WHERE seq = 4")
    row = dict(zip([c[0] for c in cur.description], cur.fetchone(), strict=True))
    row["actor"] = "Officer Z"
    log.execute("UPDATE custody_events SET actor = ?, hash = ? WHERE seq = 4",
                (row["actor"], event_hash(row)))
    code, output = run_verify()
    assert code == ExitCode.INTEGRITY_FAILURE
    assert "bad signature: event 4" in output
    assert "chain broken: event 5" in output


def test_deleted_event(log: sqlite3.Connection) -> None:
    log.execute("DELETE FROM custody_events WHERE seq = 2")
    code, output = run_verify()
    assert code == ExitCode.INTEGRITY_FAILURE
    assert "event deleted: event 2: missing between events 1 and 3" in output
    assert "chain broken: event 3" in output


def test_deleted_newest_event_is_caught_by_the_remembered_head(log: sqlite3.Connection) -> None:
    log.execute("DELETE FROM custody_events WHERE seq = 5")
    code, output = run_verify()
    assert code == ExitCode.INTEGRITY_FAILURE
    assert "log rolled back" in output
    assert "names event 5 but the log ends at event 4" in output


def test_swapped_events(log: sqlite3.Connection) -> None:
    log.execute("UPDATE custody_events SET seq = -1 WHERE seq = 4")
    log.execute("UPDATE custody_events SET seq = 4 WHERE seq = 5")
    log.execute("UPDATE custody_events SET seq = 5 WHERE seq = -1")
    code, output = run_verify()
    assert code == ExitCode.INTEGRITY_FAILURE
    assert "event reordered: event 4: it was chained after event 5" in output


def test_restored_older_database_is_caught_by_a_seal(
    locker: EvidenceLocker, log: sqlite3.Connection, tmp_path: Path
) -> None:
    home = locker.store.settings.home
    backup = sqlite3.connect(tmp_path / "backup.db")
    log.backup(backup)  # last week's backup
    reopened = EvidenceLocker.for_store(Store.open())
    reopened.record(f"{CASE_ID}-E002", CustodyAction.COURT, "Prosecutor D", place="District Court 3")
    seal = str(reopened.seal("Custodian B", note="written into the case file"))
    reopened.store.dispose()
    backup.backup(log)  # the database is rolled back to the backup
    backup.close()
    shutil.rmtree(home / "custody")  # and this machine's own memory of the head is gone too
    assert run_verify()[0] == 0, "without a seal an old, self-consistent log cannot be told apart"
    code, output = run_verify("--seal", seal)
    assert code == ExitCode.INTEGRITY_FAILURE
    expected = (f"log rolled back: seal {seal} (--seal {seal}): "
                "the seal names event 6 but the log ends at event 5")
    assert expected in output


def test_malformed_seal_is_a_usage_error(log: sqlite3.Connection) -> None:
    code, output = run_verify("--seal", "TSEAL1-3-nothex")
    assert code == ExitCode.USAGE
    assert "not a seal" in output
