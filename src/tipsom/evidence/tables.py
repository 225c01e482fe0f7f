"""Evidence tables on the shared metadata: items, custody events, seals, working copies, captures, chats.

Timestamps are stored as ISO 8601 UTC strings rather than ``DateTime`` columns:
each custody event's hash is computed over its columns, and a string comes back
from SQLite and PostgreSQL byte for byte, while a datetime may lose its zone or
precision on the way. The custody log is append-only at the database level too
(triggers refuse UPDATE and DELETE); the hash chain is what proves it, the
triggers only stop accidents.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)

from tipsom.store.base import CASES_TABLE, metadata

ISO_TIME = String(32)
DIGEST = String(64)

evidence_items = Table(
    "evidence_items", metadata,
    Column("id", String(36), primary_key=True),
    Column("case_id", String(64), ForeignKey(f"{CASES_TABLE}.id"), nullable=False, index=True),
    Column("exhibit_seq", Integer, nullable=False),
    Column("exhibit_number", String(100), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("sha256", DIGEST, nullable=False, index=True),
    Column("sha1", String(40), nullable=False),
    Column("md5", String(32), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("original_name", String(500), nullable=False),
    Column("original_path", Text, nullable=False),
    Column("mime_type", String(200), nullable=False),
    Column("file_modified_at", ISO_TIME, nullable=True),
    Column("file_changed_at", ISO_TIME, nullable=True),
    Column("collected_at", ISO_TIME, nullable=False),
    Column("collector", String(200), nullable=False),
    Column("source", String(500), nullable=True),
    Column("authority", String(500), nullable=True),
    Column("note", Text, nullable=True),
    Column("intake_seq", Integer, nullable=False),
    UniqueConstraint("case_id", "exhibit_seq"),
)

custody_events = Table(
    "custody_events", metadata,
    # Assigned under the custody lock as head + 1, never by autoincrement, so a gap
    # always means a deleted event.
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("id", String(36), nullable=False, unique=True),
    Column("item_id", String(36), ForeignKey("evidence_items.id"), nullable=False, index=True),
    Column("action", String(20), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("occurred_at", ISO_TIME, nullable=False),
    Column("place", String(500), nullable=True),
    Column("purpose", String(500), nullable=True),
    Column("note", Text, nullable=True),
    Column("recipient", String(200), nullable=True),
    Column("authorisation", String(500), nullable=True),
    Column("corrects", String(36), nullable=True),
    Column("details", Text, nullable=False),
    Column("prev_hash", DIGEST, nullable=False),
    Column("hash", DIGEST, nullable=False, unique=True),
    Column("signer", String(64), nullable=False),
    Column("signature", String(100), nullable=False),
)

custody_seals = Table(
    "custody_seals", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("seq", Integer, nullable=False),
    Column("head_hash", DIGEST, nullable=False),
    Column("issued_at", ISO_TIME, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("note", Text, nullable=True),
)

working_copies = Table(
    "evidence_working_copies", metadata,
    Column("id", String(36), primary_key=True),
    Column("item_id", String(36), ForeignKey("evidence_items.id"), nullable=False, index=True),
    Column("path", Text, nullable=False),
    Column("created_at", ISO_TIME, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("purpose", String(500), nullable=True),
    Column("event_seq", Integer, ForeignKey("custody_events.seq"), nullable=False),
)

captures = Table(
    "evidence_captures", metadata,
    Column("id", String(36), primary_key=True),
    Column("item_id", String(36), ForeignKey("evidence_items.id"), nullable=False, unique=True),
    Column("target", Text, nullable=False),
    Column("captured_at", ISO_TIME, nullable=False),
    Column("tool", String(200), nullable=False),
    Column("operator", String(200), nullable=False),
    Column("warc_sha256", DIGEST, nullable=False),
    Column("screenshot_sha256", DIGEST, nullable=True),
    Column("screenshot_status", Text, nullable=False),
    Column("records", Text, nullable=False),
)

# -- chat exports (evidence.chats) -------------------------------------------------------------
# One row per ingested export, linked to its exhibit; messages, participants, threads, attachments
# and findings below it. Names, numbers and texts are personal data: sealed in ``*_enc`` columns
# (field name = column name without the suffix), so key rotation reseals them like any other.

chat_exports = Table(
    "chat_exports", metadata,
    Column("id", String(36), primary_key=True),
    Column("item_id", String(36), ForeignKey("evidence_items.id"), nullable=False, unique=True),
    Column("format", String(20), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("assumptions", Text, nullable=False),
    Column("messages", Integer, nullable=False),
    Column("participants", Integer, nullable=False),
    Column("attachments", Integer, nullable=False),
    Column("ingested_at", ISO_TIME, nullable=False),
)

chat_participants = Table(
    "chat_participants", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("export_id", String(36), ForeignKey("chat_exports.id"), nullable=False, index=True),
    Column("seq", Integer, nullable=False),
    Column("key_enc", LargeBinary, nullable=False),
    Column("name_enc", LargeBinary, nullable=False),
    Column("phone_enc", LargeBinary, nullable=True),
    UniqueConstraint("export_id", "seq"),
)

chat_threads = Table(
    "chat_threads", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("export_id", String(36), ForeignKey("chat_exports.id"), nullable=False, index=True),
    Column("seq", Integer, nullable=False),
    Column("title_enc", LargeBinary, nullable=False),
    UniqueConstraint("export_id", "seq"),
)

chat_messages = Table(
    "chat_messages", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("export_id", String(36), ForeignKey("chat_exports.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("thread_seq", Integer, nullable=False),
    Column("sent_at", ISO_TIME, nullable=False),
    Column("sender_seq", Integer, nullable=True),
    Column("kind", String(10), nullable=False),
    Column("origin", String(200), nullable=False),
    Column("message_id", String(100), nullable=False),
    Column("reply_to", String(100), nullable=False),
    Column("text_enc", LargeBinary, nullable=False),
    Column("forwarded_from_enc", LargeBinary, nullable=True),
    Column("recipient_enc", LargeBinary, nullable=True),
    UniqueConstraint("export_id", "seq"),
)

chat_attachments = Table(
    "chat_attachments", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("export_id", String(36), ForeignKey("chat_exports.id"), nullable=False, index=True),
    Column("message_seq", Integer, nullable=False),
    Column("state", String(10), nullable=False),
    Column("media_type", String(100), nullable=False),
    Column("name_enc", LargeBinary, nullable=False),
)

chat_findings = Table(
    "chat_findings", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("export_id", String(36), ForeignKey("chat_exports.id"), nullable=False, index=True),
    Column("message_seq", Integer, nullable=False),
    #: "selector" (category = its kind, value = its canonical form) or "indicator" (category, indicator key).
    Column("finding", String(10), nullable=False),
    Column("category", String(40), nullable=False),
    Column("obfuscated", Boolean, nullable=False),
    Column("value_enc", LargeBinary, nullable=False),
)

CHAT_TABLES = (chat_exports, chat_participants, chat_threads, chat_messages, chat_attachments, chat_findings)

APPEND_ONLY_MESSAGE = "custody events are append-only; record a correction instead"
APPEND_ONLY_DDL = {
    "sqlite": [
        f"CREATE TRIGGER custody_events_no_{op.lower()} BEFORE {op} ON custody_events "
        f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
        for op in ("UPDATE", "DELETE")
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION custody_events_append_only() RETURNS trigger AS $$ BEGIN "
        f"RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}'; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER custody_events_append_only BEFORE UPDATE OR DELETE ON custody_events "
        "FOR EACH ROW EXECUTE FUNCTION custody_events_append_only()",
    ],
}


@event.listens_for(custody_events, "after_create")
def _append_only(_table: Table, connection: Connection, **_kw: Any) -> None:
    """Refuse UPDATE and DELETE on the custody log (a migration must run the same statements)."""
    for statement in APPEND_ONLY_DDL.get(connection.dialect.name, []):
        connection.exec_driver_sql(statement)


EVIDENCE_TABLES = (evidence_items, custody_events, custody_seals, working_copies, captures, *CHAT_TABLES)
