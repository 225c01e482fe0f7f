"""Acceptance: ``tipsom evidence ingest-chat`` keeps the export unchanged and its messages sealed; a file it
cannot read exits 1 naming where, and stores nothing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.evidence import chat_exports as ex
from tipsom.cli.main import app
from tipsom.evidence.locker import EvidenceLocker
from tipsom.evidence.tables import CHAT_TABLES, chat_messages, chat_participants

from .conftest import CASE_ID

N = 220


def _ingest(path: Path, *extra: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["evidence", "ingest-chat", str(path), "--case", CASE_ID, "--json",
                                      "--actor", "Officer A", *extra])
    return result.exit_code, result.stdout, result.stderr


def _stored_rows(locker: EvidenceLocker) -> dict[str, int]:
    with locker.engine.connect() as conn:
        return {t.name: conn.scalar(select(func.count()).select_from(t)) or 0 for t in CHAT_TABLES}


def _vault_files(locker: EvidenceLocker) -> list[Path]:
    root = locker.vault.root
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.usefixtures("data_key")
def test_ingest_keeps_the_original_and_seals_the_messages(locker: EvidenceLocker, tmp_path: Path) -> None:
    path = ex.whatsapp_zip(tmp_path / "WhatsApp Chat - Amina K.zip", N)
    code, out, err = _ingest(path, "--tz", "Europe/Paris")
    assert code == 0, err
    printed = json.loads(out)
    assert printed["exhibit"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert printed["format"] == "whatsapp"
    assert printed["messages"] == N + 1  # and the encryption notice
    assert printed["participants"] == 2
    assert printed["attachments"] == len(range(5, N, ex.MEDIA_EVERY))
    [item] = locker.items(CASE_ID)
    assert locker.vault.path_for(item.sha256).read_bytes() == path.read_bytes()
    [intake] = locker.events([item.id])
    assert json.loads(intake["details"])["chat"]["timezone"] == "Europe/Paris"
    rows = _stored_rows(locker)
    assert rows["chat_messages"] == N + 1
    assert rows["chat_attachments"] == printed["attachments"]
    with locker.engine.connect() as conn:
        sealed = conn.scalars(select(chat_messages.c.text_enc).where(chat_messages.c.seq == 4)).one()
        names = list(conn.scalars(select(chat_participants.c.name_enc)))
    assert b"message 3" not in sealed
    assert locker.store.cipher.open("text", sealed) == ex.body(3)
    assert sorted(locker.store.cipher.open("name", n) for n in names) == sorted(ex.PEOPLE)
    database = Path(locker.store.sqlite_path or "")
    assert b"about the job in the city" not in database.read_bytes()


def _cut_json() -> tuple[str, int]:
    """A Telegram export cut in the middle, as an interrupted copy leaves it."""
    text = ex.telegram(N)
    cut = text[: len(text) // 2]
    return cut, cut.count("\n") + 1


def _stray_line() -> tuple[str, int]:
    """A WhatsApp export with a line in the middle that starts like a message but has no valid layout."""
    lines = ex.whatsapp_android(N).split("\n")
    lines.insert(N // 2, "14/03/2024 21;05 = Amina K: clock gone wrong")
    return "\n".join(lines), N // 2 + 1


@pytest.mark.usefixtures("data_key")
@pytest.mark.parametrize(("name", "spoilt"), [("result.json", _cut_json), ("chat.txt", _stray_line)])
def test_an_unreadable_export_exits_1_and_stores_nothing(locker: EvidenceLocker, tmp_path: Path, name: str,
                                                          spoilt: Callable[[], tuple[str, int]]) -> None:
    text, line = spoilt()
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    code, _out, err = _ingest(path)
    assert code == 1
    assert f"{path}: row {line}: " in err
    assert locker.items() == []
    assert _vault_files(locker) == []
    assert set(_stored_rows(locker).values()) == {0}


@pytest.mark.usefixtures("data_key")
def test_a_refused_intake_removes_the_object_it_stored(locker: EvidenceLocker, tmp_path: Path) -> None:
    path = tmp_path / "messages.csv"
    ex.messages_csv(path, 5)
    result = CliRunner().invoke(app, ["evidence", "ingest-chat", str(path), "--case", "NO-SUCH-CASE",
                                      "--actor", "Officer A"])
    assert result.exit_code == 1
    assert "not in the registry" in result.stderr
    assert _vault_files(locker) == []
    assert set(_stored_rows(locker).values()) == {0}


def test_without_the_data_key_nothing_is_read_or_stored(locker: EvidenceLocker, tmp_path: Path) -> None:
    path = ex.messages_csv(tmp_path / "messages.csv", 5)
    code, _out, err = _ingest(path)
    assert code == 2, err
    assert _vault_files(locker) == []
