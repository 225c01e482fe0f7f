"""Refused intakes leave the vault as it was; FIFOs and devices are refused unread; a lost signing key is never
silently replaced."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tipsom.cli.main import app
from tipsom.core.errors import ExitCode, InputError
from tipsom.evidence.custody import CustodyError
from tipsom.evidence.locker import EvidenceLocker, Intake
from tipsom.evidence.signing import KEY_FILE, TRUSTED_KEYS_FILE, SigningKeyMissing
from tipsom.evidence.verify import Finding, verify
from tipsom.store.db import Store

from .conftest import CASE_ID

TIPSOM = str(Path(sys.executable).with_name("tipsom"))


def _vault_files(locker: EvidenceLocker) -> list[Path]:
    """Every file under the vault, staging included (a refused intake must add none)."""
    root = locker.vault.root
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.parametrize("actor", ["", "   "])
def test_an_intake_without_actor_leaves_no_object_in_the_vault(
        locker: EvidenceLocker, exhibit_files: list[Path], actor: str) -> None:
    with pytest.raises(CustodyError, match="actor"):
        locker.add_files(exhibit_files, Intake(CASE_ID, actor))
    assert _vault_files(locker) == []
    assert locker.items() == []


def test_an_intake_for_an_unknown_case_leaves_no_object(locker: EvidenceLocker, exhibit_files: list[Path]) -> None:
    with pytest.raises(CustodyError, match="not in the registry"):
        locker.add_files(exhibit_files, Intake("NO-SUCH-CASE", "Officer A"))
    assert _vault_files(locker) == []


@pytest.mark.parametrize("special", ["/dev/null", "/dev/zero", "directory"])
def test_a_path_that_is_not_a_regular_file_is_refused_before_anything_is_stored(
        locker: EvidenceLocker, exhibit_files: list[Path], tmp_path: Path, special: str) -> None:
    path = Path(special) if special.startswith("/") else tmp_path
    with pytest.raises(InputError, match="not a regular file") as refused:
        locker.add_files([exhibit_files[0], path], Intake(CASE_ID, "Officer A"))
    assert refused.value.file == str(path)
    assert _vault_files(locker) == []  # not even the regular file listed before it


@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_evidence_add_of_a_fifo_or_dev_zero_exits_1_at_once(
        locker: EvidenceLocker, tmp_path: Path, special: str) -> None:
    """The real command, in its own process with a time limit: the old code blocked or read forever."""
    if special == "fifo":
        path = tmp_path / "pipe"
        os.mkfifo(path)
    else:
        path = Path(special)
    locker.store.dispose()
    result = subprocess.run([TIPSOM, "evidence", "add", str(path), "--case", CASE_ID, "--actor", "Officer A"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == ExitCode.INVALID_INPUT, result.stderr
    assert "Traceback" not in result.stderr
    assert f"{path}: is a " in result.stderr
    assert _vault_files(locker) == []


def test_the_vault_refuses_a_fifo_swapped_in_after_the_checks(locker: EvidenceLocker, tmp_path: Path) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    outcome: list[BaseException | None] = []

    def store() -> None:
        try:
            locker.vault.store(pipe)
            outcome.append(None)
        except BaseException as exc:  # handed to the test thread to assert on
            outcome.append(exc)

    worker = threading.Thread(target=store)
    worker.start()
    worker.join(timeout=30)
    if worker.is_alive():  # blocked on the pipe: unblock it so the test can fail instead of hang
        with pipe.open("wb"):
            pass
        worker.join()
        pytest.fail("the vault blocked reading a FIFO")
    assert isinstance(outcome[0], InputError)
    assert _vault_files(locker) == []


def test_a_deleted_signing_key_is_refused_not_silently_replaced(
        locker: EvidenceLocker, exhibit_files: list[Path]) -> None:
    home = locker.store.settings.home
    locker.add_files(exhibit_files[:1], Intake(CASE_ID, "Officer A"))
    original_signer = locker.keyring.signer
    locker.store.dispose()
    (home / KEY_FILE).unlink()
    objects = _vault_files(locker)
    with pytest.raises(SigningKeyMissing, match=re.escape(original_signer)):
        EvidenceLocker.for_store(Store.open())
    result = CliRunner().invoke(app, ["evidence", "add", str(exhibit_files[1]), "--case", CASE_ID,
                                      "--actor", "Officer A"])
    assert result.exit_code == ExitCode.USAGE, result.output
    assert result.stderr.startswith("tipsom: the custody signing key")
    assert "restore the key from its backup" in result.stderr
    assert not (home / KEY_FILE).exists()
    assert _vault_files(locker) == objects


def test_a_lost_signing_key_is_replaced_only_once_its_public_key_is_trusted(
        locker: EvidenceLocker, exhibit_files: list[Path]) -> None:
    home = locker.store.settings.home
    locker.add_files(exhibit_files[:1], Intake(CASE_ID, "Officer A"))
    original_signer = locker.keyring.signer
    locker.store.dispose()
    (home / KEY_FILE).unlink()
    refused = CliRunner().invoke(app, ["evidence", "new-signing-key", "--actor", "Admin"])
    assert refused.exit_code == ExitCode.USAGE
    assert TRUSTED_KEYS_FILE in refused.stderr
    assert not (home / KEY_FILE).exists()
    (home / TRUSTED_KEYS_FILE).write_text(f"{original_signer}  # lost custody key\n")
    created = CliRunner().invoke(app, ["evidence", "new-signing-key", "--actor", "Admin"])
    assert created.exit_code == 0, created.output
    reopened = EvidenceLocker.for_store(Store.open())
    assert reopened.keyring.signer != original_signer
    reopened.add_files(exhibit_files[1:2], Intake(CASE_ID, "Officer A"))
    checked = verify(reopened)
    assert checked.events_checked == 2
    assert not [p for p in checked.problems if p.finding is Finding.UNTRUSTED_SIGNER]
    assert checked.intact
    reopened.store.dispose()


def test_a_new_locker_still_creates_its_signing_key(locker: EvidenceLocker, exhibit_files: list[Path]) -> None:
    assert (locker.store.settings.home / KEY_FILE).exists()
    [(item, new)] = locker.add_files(exhibit_files[:1], Intake(CASE_ID, "Officer A"))
    assert new
    assert locker.events([item.id])[0]["signer"] == locker.keyring.signer
