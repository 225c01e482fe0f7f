"""A case's conversations read back, in time order, searchable.

Message texts and names are sealed, so a search cannot run in the database:
the messages of the case's chat exhibits are opened in memory, filtered there,
and nothing opened is written anywhere. Every read names its actor and purpose
in the audit log with the number of messages opened, like any read of
personal data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from tipsom.core.errors import InputError
from tipsom.evidence.custody import iso_utc
from tipsom.evidence.locker import EvidenceItem, EvidenceLocker
from tipsom.evidence.tables import (
    chat_attachments,
    chat_exports,
    chat_messages,
    chat_participants,
    chat_threads,
)
from tipsom.store import audit
from tipsom.store.crypto import FieldCipher


@dataclass(frozen=True)
class StoredParticipant:
    seq: int
    key: str
    name: str
    phone: str


@dataclass(frozen=True)
class TimelineEntry:
    """One message as stored: where it came from (exhibit, line or element) and what it says."""

    exhibit: str
    seq: int
    sent_at: str
    thread: str
    sender: StoredParticipant | None
    kind: str
    text: str
    origin: str
    message_id: str
    reply_to: str
    attachments: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"exhibit": self.exhibit, "seq": self.seq, "sent_at": self.sent_at, "thread": self.thread,
                "sender": self.sender.name if self.sender else None,
                "sender_phone": self.sender.phone if self.sender and self.sender.phone else None,
                "kind": self.kind, "text": self.text, "origin": self.origin, "attachments": list(self.attachments)}


@dataclass
class StoredChat:
    """One ingested export, opened: its exhibit, format, assumptions, participants, threads and messages."""

    exhibit: EvidenceItem
    export_id: str
    format: str
    timezone: str
    assumptions: list[str]
    participants: list[StoredParticipant] = field(default_factory=list)
    threads: list[tuple[int, str]] = field(default_factory=list)
    messages: list[TimelineEntry] = field(default_factory=list)


def open_chat(conn: Connection, cipher: FieldCipher, item: EvidenceItem) -> StoredChat | None:
    """The chat stored for an exhibit, opened; None when the exhibit is not a chat export."""
    row = conn.execute(select(chat_exports).where(chat_exports.c.item_id == item.id)).first()
    if row is None:
        return None
    chat = StoredChat(item, row.id, row.format, row.timezone, json.loads(row.assumptions))
    people = {r.seq: StoredParticipant(r.seq, cipher.open("key", r.key_enc), cipher.open("name", r.name_enc),
                                       cipher.open("phone", r.phone_enc) if r.phone_enc else "")
              for r in conn.execute(select(chat_participants).where(chat_participants.c.export_id == row.id)
                                    .order_by(chat_participants.c.seq))}
    chat.participants = list(people.values())
    titles = {r.seq: cipher.open("title", r.title_enc) for r in conn.execute(
        select(chat_threads).where(chat_threads.c.export_id == row.id).order_by(chat_threads.c.seq))}
    chat.threads = list(titles.items())
    attached: dict[int, list[str]] = {}
    for r in conn.execute(select(chat_attachments).where(chat_attachments.c.export_id == row.id)
                          .order_by(chat_attachments.c.id)):
        attached.setdefault(r.message_seq, []).append(cipher.open("name", r.name_enc) or f"({r.state})")
    m = chat_messages
    for r in conn.execute(select(m).where(m.c.export_id == row.id).order_by(m.c.seq)):
        chat.messages.append(TimelineEntry(
            item.exhibit_number, r.seq, r.sent_at, titles[r.thread_seq],
            None if r.sender_seq is None else people[r.sender_seq], r.kind, cipher.open("text", r.text_enc),
            r.origin, r.message_id, r.reply_to, tuple(attached.get(r.seq, ())),
        ))
    return chat


def case_chats(locker: EvidenceLocker, conn: Connection, case_id: str, exhibit: str | None = None) -> list[StoredChat]:
    """The chat exhibits of a case (or the one named), opened."""
    items = [locker.resolve(exhibit, conn)] if exhibit else locker.items(case_id)
    if exhibit and items[0].case_id != case_id:
        raise LookupError(f"exhibit {items[0].exhibit_number} belongs to case {items[0].case_id}, not {case_id}")
    cipher = locker.store.cipher
    chats = [chat for item in items if (chat := open_chat(conn, cipher, item)) is not None]
    if exhibit and not chats:
        raise LookupError(f"exhibit {items[0].exhibit_number} is not a chat export (take it in with ingest-chat)")
    return chats


def timeline(locker: EvidenceLocker, case_id: str, *, actor: str, purpose: str, exhibit: str | None = None,
             search: str | None = None, sender: str | None = None, since: str | None = None,
             until: str | None = None) -> list[TimelineEntry]:
    """Messages of a case's chats in time order, filtered; the read is audited.

    ``search`` matches the text, a sender's name or number, or an attachment's
    name, ignoring case; ``sender`` a sender's name or number; ``since`` and
    ``until`` are ISO 8601 times (with a zone, or UTC).
    """
    bounds = [_utc(value, name) for value, name in ((since, "--since"), (until, "--until"))]
    with locker.store.begin() as conn:
        chats = case_chats(locker, conn, case_id, exhibit)
        entries = sorted((e for chat in chats for e in chat.messages), key=lambda e: (e.sent_at, e.exhibit, e.seq))
        chosen = [e for e in entries if _keeps(e, search, sender, bounds)]
        audit.record(conn, actor=actor, action=audit.AuditAction.READ, entity="chat_messages",
                     entity_id=exhibit or case_id, purpose=purpose,
                     detail={"case": case_id, "exhibits": [c.exhibit.exhibit_number for c in chats],
                             "opened": len(entries), "shown": len(chosen), "search": bool(search)})
    return chosen


def _utc(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"not an ISO 8601 time: {value!r}", field=option) from None
    return iso_utc(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _keeps(entry: TimelineEntry, search: str | None, sender: str | None, bounds: Sequence[str | None]) -> bool:
    since, until = bounds
    if (since and entry.sent_at < since) or (until and entry.sent_at > until):
        return False
    who = (entry.sender.name, entry.sender.phone, entry.sender.key) if entry.sender else ()
    if sender and not any(sender.casefold() in w.casefold() for w in who if w):
        return False
    if search:
        wanted = search.casefold()
        fields = (entry.text, *who, *entry.attachments)
        return any(wanted in f.casefold() for f in fields if f)
    return True
