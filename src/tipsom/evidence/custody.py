"""The hash-chained, signed custody log and the lock that serialises writers.

One chain covers the whole installation: event *n* records the hash of event
*n-1*, its own hash covers every column, and the installation key signs that
hash. Editing, deleting, inserting or reordering an event therefore breaks a
hash or a link, and a single head hash (the seal) pins the whole log's state.

Appending is read-head-then-insert, so two writers must not interleave: on
SQLite the transaction starts with ``BEGIN IMMEDIATE`` (the write lock is taken
before the head is read); on PostgreSQL a transaction-scoped advisory lock does
the same across connections and machines.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select, text

from tipsom.core.errors import InputError
from tipsom.evidence.actions import CustodyAction
from tipsom.evidence.signing import Keyring
from tipsom.evidence.tables import custody_events

__all__ = ["CustodyAction", "CustodyError", "EventDraft", "append", "custody_transaction", "head"]

#: ``prev_hash`` of the first event.
GENESIS = "0" * 64
#: Arbitrary constant naming the PostgreSQL advisory lock of the custody log.
ADVISORY_LOCK_KEY = 0x7469_7073_6F6D_0006
#: Columns covered by an event's hash, in a fixed order.
HASHED_COLUMNS = (
    "seq", "id", "item_id", "action", "actor", "occurred_at", "place", "purpose", "note",
    "recipient", "authorisation", "corrects", "details", "prev_hash", "signer",
)


class CustodyError(InputError):
    """An event that the rules of custody do not allow (named field and reason)."""


def utc_now() -> str:
    """The current time in the fixed ISO 8601 form every stored timestamp uses."""
    return iso_utc(datetime.now(UTC))


def iso_utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise CustodyError(f"time {moment.isoformat()} has no time zone; custody times are UTC")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Mapping[str, Any]) -> str:
    """Sorted keys and no spaces: the same details always give the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class EventDraft:
    """An event before the chain gives it a position, a hash and a signature."""

    item_id: str
    action: CustodyAction
    actor: str
    place: str | None = None
    purpose: str | None = None
    note: str | None = None
    recipient: str | None = None
    authorisation: str | None = None
    corrects: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    occurred_at: str = field(default_factory=utc_now)

    def __post_init__(self) -> None:
        if not self.actor.strip():
            raise CustodyError("actor: every custody event names the person who acted")
        if self.action is CustodyAction.DISPOSAL and not (self.authorisation or "").strip():
            raise CustodyError("authorisation: disposal needs the order or authorisation that allows it")
        if self.action is CustodyAction.TRANSFER and not (self.recipient or "").strip():
            raise CustodyError("recipient: a transfer names who received the exhibit")
        if self.action is CustodyAction.WITHDRAWN and not (self.note or "").strip():
            raise CustodyError("note: a withdrawal says why the exhibit was taken off its case")
        if self.action is CustodyAction.CORRECTION and not self.corrects:
            raise CustodyError("corrects: a correction names the event it corrects")


def event_hash(row: Mapping[str, Any]) -> str:
    """SHA-256 over the hashed columns of a stored or about-to-be-stored event."""
    payload = canonical_json({name: row[name] for name in HASHED_COLUMNS})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@contextmanager
def custody_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction holding the custody write lock; commits on success."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        else:
            raise NotImplementedError(f"no custody lock for database dialect {conn.dialect.name!r}")
        yield conn
        conn.commit()


def head(conn: Connection) -> tuple[int, str]:
    """Position and hash of the newest event (0 and the genesis hash when empty)."""
    seq = conn.execute(select(func.max(custody_events.c.seq))).scalar_one_or_none()
    if seq is None:
        return 0, GENESIS
    newest = conn.execute(select(custody_events.c.hash).where(custody_events.c.seq == seq)).scalar_one()
    return int(seq), str(newest)


def append(conn: Connection, keyring: Keyring, draft: EventDraft) -> dict[str, Any]:
    """Chain, sign and insert one event; the caller holds :func:`custody_transaction`."""
    seq, prev_hash = head(conn)
    row: dict[str, Any] = {
        "seq": seq + 1,
        "id": str(uuid.uuid4()),
        "item_id": draft.item_id,
        "action": draft.action.value,
        "actor": draft.actor.strip(),
        "occurred_at": draft.occurred_at,
        "place": draft.place,
        "purpose": draft.purpose,
        "note": draft.note,
        "recipient": draft.recipient,
        "authorisation": draft.authorisation,
        "corrects": draft.corrects,
        "details": canonical_json(draft.details),
        "prev_hash": prev_hash,
        "signer": keyring.signer,
    }
    row["hash"] = event_hash(row)
    row["signature"] = keyring.sign(row["hash"].encode("ascii"))
    conn.execute(custody_events.insert().values(**row))
    return row
