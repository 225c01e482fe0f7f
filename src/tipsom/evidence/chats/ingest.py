"""Taking a chat export in: the original into the vault, the parsed conversation beside it, sealed.

The order is what makes a refusal leave nothing behind: the export is read
in full first (a file the reader cannot read stops here, before a byte is
copied), then stored in the vault, then the exhibit, its intake event and
every parsed row are written in one custody transaction. Should that
transaction fail, a vault object this call wrote is removed again, so no
unregistered copy remains.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table

from tipsom.evidence.chats.findings import scan_messages, summarise
from tipsom.evidence.chats.reading import ReadOptions, read_chat
from tipsom.evidence.chats.records import ChatExport, ChatFormat
from tipsom.evidence.custody import iso_utc, utc_now
from tipsom.evidence.intake import file_facts
from tipsom.evidence.locker import EvidenceItem, EvidenceLocker, Intake, IntakeEntry
from tipsom.evidence.tables import (
    chat_attachments,
    chat_exports,
    chat_findings,
    chat_messages,
    chat_participants,
    chat_threads,
)
from tipsom.store import audit
from tipsom.store.crypto import FieldCipher

#: Rows sent to the database per statement: large enough to amortise the round trip, small enough for memory.
BATCH = 5_000


@dataclass
class ChatIntake:
    """What ``ingest-chat`` reports: the exhibit, the counts and what was found in the messages."""

    exhibit: EvidenceItem
    format: ChatFormat
    messages: int
    participants: int
    attachments: int
    assumptions: list[str]
    selectors: list[dict[str, str]] = field(default_factory=list)
    indicators: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"exhibit": self.exhibit.sha256, "exhibit_number": self.exhibit.exhibit_number,
                "format": self.format.value, "messages": self.messages, "participants": self.participants,
                "attachments": self.attachments, "selectors": self.selectors, "indicators": self.indicators,
                "assumptions": self.assumptions}


def ingest_chat(locker: EvidenceLocker, path: Path, intake: Intake, fmt: ChatFormat = ChatFormat.AUTO,
                options: ReadOptions | None = None) -> ChatIntake:
    """Read ``path``, keep it as an exhibit of ``intake.case_id`` and store its conversation sealed."""
    intake.check()
    facts = file_facts(path)
    options = options or ReadOptions()
    export = read_chat(path, fmt, options)
    findings = scan_messages(export.messages, [options.region] if options.region else [])
    cipher = locker.store.cipher
    export_id = str(uuid.uuid4())
    details = {"chat": {"format": export.format.value, "messages": len(export.messages),
                        "timezone": export.timezone, "assumptions": export.assumptions}}

    def store_rows(conn: Connection, items: list[EvidenceItem]) -> None:
        (item,) = items
        _write(conn, cipher, export, export_id, item.id)
        _insert(conn, chat_findings, (
            {"export_id": export_id, "message_seq": f.message, "finding": f.kind.value, "category": f.category,
             "obfuscated": f.obfuscated, "value_enc": cipher.seal("value", f.value)} for f in findings))
        audit.record(conn, actor=intake.actor, action=audit.AuditAction.CREATE, entity="chat_export",
                     entity_id=export_id, purpose=intake.purpose or "chat export intake",
                     detail={"exhibit": item.exhibit_number, "format": export.format.value,
                             "messages": len(export.messages)})

    stored = locker.vault.store(path)
    try:
        (item,) = locker.take_in([IntakeEntry(stored, facts, details=details)], intake, after=store_rows)
    except BaseException:
        if stored.newly_written:
            stored.path.unlink(missing_ok=True)  # a refused intake leaves no unregistered object
        raise
    selectors, indicators = summarise(findings)
    return ChatIntake(item, export.format, len(export.messages), len(export.participants), export.attachments,
                      export.assumptions, selectors, indicators)


def _write(conn: Connection, cipher: FieldCipher, export: ChatExport, export_id: str, item_id: str) -> None:
    conn.execute(chat_exports.insert().values(
        id=export_id, item_id=item_id, format=export.format.value, timezone=export.timezone,
        assumptions=json.dumps(export.assumptions, ensure_ascii=False), messages=len(export.messages),
        participants=len(export.participants), attachments=export.attachments, ingested_at=utc_now(),
    ))
    seal = cipher.seal
    people = {p.key: n for n, p in enumerate(export.participants)}
    threads = {t.key: n for n, t in enumerate(export.threads)}
    _insert(conn, chat_participants, (
        {"export_id": export_id, "seq": n, "key_enc": seal("key", p.key), "name_enc": seal("name", p.name),
         "phone_enc": seal("phone", p.phone) if p.phone else None}
        for n, p in enumerate(export.participants)))
    _insert(conn, chat_threads, ({"export_id": export_id, "seq": n, "title_enc": seal("title", t.title)}
                                 for n, t in enumerate(export.threads)))
    _insert(conn, chat_messages, (
        {"export_id": export_id, "seq": n, "thread_seq": threads[m.thread], "sent_at": iso_utc(m.sent_at),
         "sender_seq": None if m.sender is None else people[m.sender], "kind": m.kind.value,
         "origin": m.origin[:200], "message_id": m.message_id[:100], "reply_to": m.reply_to[:100],
         "text_enc": seal("text", m.text),
         "forwarded_from_enc": seal("forwarded_from", m.forwarded_from) if m.forwarded_from else None,
         "recipient_enc": seal("recipient", m.recipient) if m.recipient else None}
        for n, m in enumerate(export.messages)))
    _insert(conn, chat_attachments, (
        {"export_id": export_id, "message_seq": n, "state": a.state.value, "media_type": a.media_type[:100],
         "name_enc": seal("name", a.name)}
        for n, m in enumerate(export.messages) for a in m.attachments))


def _insert(conn: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    for batch in _batches(rows):
        conn.execute(table.insert(), batch)


def _batches(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, BATCH)):
        yield batch
