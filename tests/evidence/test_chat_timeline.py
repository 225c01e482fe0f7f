"""Acceptance: a case's conversation reads back in time order and searchable (the read audited), and its
CASE/UCO export (Message, MessageThread, ApplicationAccount) passes case_validate."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.evidence import chat_exports as ex
from tipsom.cli.main import app
from tipsom.evidence.case_export import export_case
from tipsom.evidence.chats.ingest import ingest_chat
from tipsom.evidence.chats.reading import ReadOptions
from tipsom.evidence.locker import EvidenceLocker, Intake
from tipsom.store.tables import audit_log

from .conftest import CASE_ID

CASE_VALIDATE = Path(sys.executable).parent / "case_validate"
N = 24


#: Messages in the exported chat: SHACL validation time grows with the graph, and a few show every node kind.
EXPORTED = 5


def _ingest(locker: EvidenceLocker, folder: Path, n: int) -> EvidenceLocker:
    path = folder / "WhatsApp Chat with Amina K.txt"
    path.write_text(ex.whatsapp_android(n), encoding="utf-8")
    ingest_chat(locker, path, Intake(CASE_ID, "Officer A"), options=ReadOptions(timezone="Europe/Paris"))
    return locker


@pytest.mark.usefixtures("data_key")
def test_timeline_is_ordered_searchable_and_audited(locker: EvidenceLocker, tmp_path: Path) -> None:
    chat = _ingest(locker, tmp_path, N)
    result = CliRunner().invoke(app, ["evidence", "chat", "--case", CASE_ID, "--json"])
    assert result.exit_code == 0, result.stderr
    everything = json.loads(result.stdout)
    assert len(everything) == N + 1
    assert [e["sent_at"] for e in everything] == sorted(e["sent_at"] for e in everything)
    assert everything[1]["sent_at"] == "2024-03-14T20:05:00.000000Z"  # 21:05 in Paris
    multi = CliRunner().invoke(app, ["evidence", "chat", "--case", CASE_ID, "--json", "--search", "SECOND LINE",
                                     "--sender", "+33612345678"])
    found = json.loads(multi.stdout)
    expected = [i for i in range(N) if i % ex.MULTILINE_EVERY == 3 and i % 2 == 1]
    assert [e["text"] for e in found] == [ex.body(i) for i in expected]
    assert {e["sender_phone"] for e in found} == {"+33612345678"}
    with chat.engine.connect() as conn:
        reads = list(conn.scalars(select(audit_log.c.detail).where(audit_log.c.entity == "chat_messages")))
    assert len(reads) == 2
    assert json.loads(reads[1])["shown"] == len(expected)


@pytest.mark.usefixtures("data_key")
def test_case_export_of_a_chat_passes_case_validate(locker: EvidenceLocker, tmp_path: Path) -> None:
    chat = _ingest(locker, tmp_path, EXPORTED)
    out = tmp_path / "chat.jsonld"
    graph = export_case(chat, CASE_ID, out, "Officer A")
    check = subprocess.run([str(CASE_VALIDATE), str(out)], check=False, capture_output=True, text=True,
                           timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "Conforms: True" in check.stdout
    kinds = [n["@type"] for n in graph["@graph"]]
    assert kinds.count("uco-observable:Message") == EXPORTED + 1
    assert kinds.count("uco-observable:ApplicationAccount") == 2
    [thread] = [n for n in graph["@graph"] if n["@type"] == "uco-observable:MessageThread"]
    [facet] = thread["uco-core:hasFacet"]
    assert len(facet["uco-observable:messageThread"]["co:element"]) == EXPORTED + 1
    texts = [f["uco-observable:messageText"] for n in graph["@graph"] if n["@type"] == "uco-observable:Message"
             for f in n["uco-core:hasFacet"]]
    assert ex.body(3) in texts
