"""Intake, custody rules and working copies."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from tipsom.evidence.custody import CustodyAction, CustodyError, event_hash
from tipsom.evidence.locker import EvidenceLocker, Intake
from tipsom.evidence.signing import KEY_FILE
from tipsom.evidence.tables import custody_events, working_copies
from tipsom.evidence.verify import verify
from tipsom.store.tables import audit_log

from .conftest import CASE_ID


def test_intake_records_hashes_metadata_and_a_signed_event(
    locker: EvidenceLocker, exhibit_files: list[Path]
) -> None:
    added = locker.add_files(exhibit_files, Intake(CASE_ID, "Officer A", authority="Warrant W-2025-117",
                                                   source="witness phone", note="handed over at interview"))
    items = [item for item, _ in added]
    assert [i.exhibit_number for i in items] == [f"{CASE_ID}-E001", f"{CASE_ID}-E002", f"{CASE_ID}-E003"]
    screenshot = items[0]
    content = exhibit_files[0].read_bytes()
    assert screenshot.sha256 == hashlib.sha256(content).hexdigest()
    assert screenshot.md5 == hashlib.md5(content).hexdigest()
    assert screenshot.sha1 == hashlib.sha1(content).hexdigest()
    assert (screenshot.size, screenshot.mime_type) == (len(content), "image/png")
    assert items[2].mime_type == "application/pdf"
    assert screenshot.authority == "Warrant W-2025-117"
    assert screenshot.source == "witness phone"
    assert screenshot.original_path == str(exhibit_files[0].resolve())
    assert screenshot.file_modified_at
    assert screenshot.file_modified_at.endswith("Z")
    [intake] = locker.events([screenshot.id])
    assert intake["action"] == "intake"
    assert intake["actor"] == "Officer A"
    assert intake["hash"] == event_hash(intake)
    with locker.engine.connect() as conn:
        logged = conn.execute(select(audit_log.c.entity).where(audit_log.c.entity_id == screenshot.id))
        assert logged.scalar_one() == "evidence_item"


def test_vault_copy_is_read_only_and_stored_once(locker: EvidenceLocker, exhibit_files: list[Path]) -> None:
    [(first, new_first)] = locker.add_files(exhibit_files[:1], Intake(CASE_ID, "Officer A"))
    [(second, new_second)] = locker.add_files(exhibit_files[:1], Intake(CASE_ID, "Officer B"))
    assert (new_first, new_second) == (True, False)
    path = locker.vault.path_for(first.sha256)
    assert path.name == first.sha256 == second.sha256
    assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert first.exhibit_number != second.exhibit_number


def test_key_is_private_to_the_owner(locker: EvidenceLocker, exhibit_files: list[Path]) -> None:
    locker.add_files(exhibit_files[:1], Intake(CASE_ID, "Officer A"))
    key = locker.store.settings.home / KEY_FILE
    assert key.stat().st_mode & 0o777 == 0o600
    assert key != locker.store.settings.key_path


def test_working_copy_is_registered_and_leaves_the_vault_untouched(
    locker: EvidenceLocker, exhibit_files: list[Path], tmp_path: Path
) -> None:
    [(item, _)] = locker.add_files(exhibit_files[:1], Intake(CASE_ID, "Officer A"))
    copy, event = locker.checkout(item.exhibit_number, tmp_path / "work", "Analyst C",
                                  purpose="image analysis")
    copy.write_bytes(b"annotated")  # analysts may change their copy
    with locker.engine.connect() as conn:
        row = conn.execute(select(working_copies)).one()
    assert (row.item_id, row.event_seq, row.path) == (item.id, event["seq"], str(copy.resolve()))
    assert event["action"] == CustodyAction.COPY.value
    assert verify(locker).intact


def test_custody_rules(locker: EvidenceLocker, exhibit_files: list[Path]) -> None:
    [(item, _)] = locker.add_files(exhibit_files[:1], Intake(CASE_ID, "Officer A"))
    with pytest.raises(CustodyError, match="disposal needs"):
        locker.record(item.id, CustodyAction.DISPOSAL, "Officer A")
    with pytest.raises(CustodyError, match="transfer names"):
        locker.record(item.id, CustodyAction.TRANSFER, "Officer A")
    with pytest.raises(CustodyError, match="not in the registry"):
        locker.add_files(exhibit_files[:1], Intake("NO-SUCH-CASE", "Officer A"))
    wrong = locker.record(item.id, CustodyAction.TRANSFER, "Officer A", recipient="Custodain B")
    fix = locker.record(item.id, CustodyAction.CORRECTION, "Officer A", corrects=wrong["id"],
                        note="recipient is Custodian B")
    locker.record(item.id, CustodyAction.DISPOSAL, "Custodian B", authorisation="Court order 2025/88")
    with pytest.raises(CustodyError, match="was disposed of"):
        locker.record(item.id, CustodyAction.ANALYSIS, "Analyst C")
    assert [e["action"] for e in locker.events([item.id])] == ["intake", "transfer", "correction", "disposal"]
    assert fix["corrects"] == wrong["id"]
    assert verify(locker).intact


def test_database_refuses_edits_of_the_log(locker: EvidenceLocker, exhibit_files: list[Path]) -> None:
    locker.add_files(exhibit_files[:1], Intake(CASE_ID, "Officer A"))
    with pytest.raises(DBAPIError, match="append-only"), locker.engine.begin() as conn:
        conn.execute(text("UPDATE custody_events SET actor = 'someone else'"))
    with pytest.raises(DBAPIError, match="append-only"), locker.engine.begin() as conn:
        conn.execute(custody_events.delete())
