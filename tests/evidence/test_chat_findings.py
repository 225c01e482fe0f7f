"""Acceptance: selectors in messages are found with the ads' extractor (an obfuscated phone, an IBAN), a wallet
with a bad checksum is refused, and indicators are matched in each message's language."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tipsom.cli.main import app
from tipsom.evidence.chats.findings import FindingKind, scan_messages
from tipsom.evidence.chats.records import Message, MessageKind
from tipsom.evidence.locker import EvidenceLocker

from .conftest import CASE_ID

VALID_WALLET = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
BAD_WALLET = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb"  # last character changed: the checksum fails
VALID_IBAN = "FR76 3000 6000 0112 3456 7890 189"
BAD_IBAN = "FR76 3000 6000 0112 3456 7890 188"
TEXTS = [
    "call me on zero six. 12 34 56 78 tomorrow",
    f"send the money to {VALID_IBAN} today",
    f"or to {BAD_IBAN}, or in bitcoin {VALID_WALLET}",
    f"not this one {BAD_WALLET}",
    "you owe me 3000 euros, pay back your debt",
    "donne-moi ton passeport, je garde ton passeport",
    "ни с кем не говори, не ходи в полицию",
    "our little secret ok? don't tell your parents",
    "the price for the crossing is 2000",
]


def _messages() -> list[Message]:
    when = datetime(2024, 3, 14, 21, 5, tzinfo=UTC)
    return [Message("chat", when, "A", text) for text in TEXTS] + [
        Message("chat", when, None, "you owe me", MessageKind.SYSTEM)]


def test_selectors_are_found_and_bad_checksums_refused() -> None:
    findings = scan_messages(_messages(), ["FR"])
    selectors = {(f.category, f.value) for f in findings if f.kind is FindingKind.SELECTOR}
    assert ("phone", "+33612345678") in selectors
    assert next(f for f in findings if f.value == "+33612345678").obfuscated
    assert ("iban", "FR7630006000011234567890189") in selectors
    assert ("wallet", f"bitcoin:{VALID_WALLET}") in selectors
    assert not any(BAD_WALLET in value or "90188" in value for _kind, value in selectors)
    assert not any(kind == "phone" and f.message in (1, 2) for f in findings for kind in [f.category])


def test_indicators_in_each_language() -> None:
    findings = [f for f in scan_messages(_messages(), []) if f.kind is FindingKind.INDICATOR]
    by_message = {(f.message, f.category) for f in findings}
    assert {(4, "debt"), (5, "control"), (6, "control"), (7, "grooming"), (8, "smuggling")} <= by_message
    assert not any(f.message == 9 for f in findings)  # a system line is not a message a person wrote
    assert sum(1 for f in findings if f.message == 5) == 1  # one indicator counted once per message


@pytest.mark.usefixtures("data_key")
def test_ingest_prints_selectors_and_indicators(locker: EvidenceLocker, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIPSOM_PHONE_REGION", "FR")
    path = tmp_path / "messages.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "sender", "text"])
        for n, text in enumerate(TEXTS):
            writer.writerow([f"2024-03-14T21:{n:02d}:00", "A" if n % 2 else "B", text])
    result = CliRunner().invoke(app, ["evidence", "ingest-chat", str(path), "--case", CASE_ID, "--json",
                                      "--actor", "Officer A", "--format", "csv"])
    assert result.exit_code == 0, result.stderr
    printed = json.loads(result.stdout)
    assert {"kind": "phone", "value": "+33612345678"} in printed["selectors"]
    assert {"kind": "iban", "value": "FR7630006000011234567890189"} in printed["selectors"]
    assert {"kind": "wallet", "value": f"bitcoin:{VALID_WALLET}"} in printed["selectors"]
    assert printed["indicators"]["control"] == 2
    assert printed["indicators"]["debt"] == 1
