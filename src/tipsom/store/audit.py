"""The audit log: who did what to which record, when, and why; hash-chained.

Every create, update and delete, and every read of personal data, leaves a row.
Bulk imports log one event per run; each created record points back to it
(``created_by_event``), so a record's origin is always answerable.

Tamper evidence follows the evidence custody log: event *n* carries the hash of
event *n-1* (``prev_hash``) and its own SHA-256 over a canonical serialisation
of every column (``hash``), so a changed, deleted, inserted or reordered event
breaks a hash or a link, and :func:`verify` names the first one. A seal (the
head's position and hash, kept outside the database) catches a cut-off tail
or a restored old copy, which a self-consistent chain cannot show.

Events are chained when their transaction commits, not when they are written:
a long import holds its event open for minutes, and taking the chain's lock
at its start would stop every other writer (each case view writes an event)
for that long. At commit, the transaction takes the chain lock (on SQLite the
write lock it already holds; on PostgreSQL a transaction-scoped advisory
lock), reads the head, numbers its own events after it and commits. The lock
is held for a few statements, writers in several processes keep one chain, and
writing an event costs one insert as before.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, bindparam, event, func, insert, select, text, update

from tipsom.core.errors import InputError
from tipsom.store.tables import audit_log

#: ``prev_hash`` of the first event.
GENESIS = "0" * 64
#: Arbitrary constant naming the PostgreSQL advisory lock of the audit chain.
ADVISORY_LOCK_KEY = 0x7469_7073_6F6D_0015
#: Columns covered by an event's hash, in a fixed order.
HASHED_COLUMNS = ("seq", "id", "at", "actor", "action", "entity", "entity_id", "purpose", "detail", "prev_hash")
#: Marks a connection whose open transaction wrote events that still need chaining.
_UNCHAINED = "tipsom_audit_unchained"
#: Events read per query when chaining or verifying (bounded memory on a log of millions).
_BATCH = 5000
SEAL_PATTERN = re.compile(r"^ASEAL1-(\d+)-([0-9a-f]{64})$")


class AuditAction(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    READ = "read"
    IMPORT = "import"
    EXPORT = "export"
    DENIED = "denied"
    LOGIN = "login"
    #: An earlier version of a case made the stored state again (the replaced state is kept as a version).
    RESTORE = "restore"
    #: Personal fields erased at the end of their retention period.
    ERASE = "erase"


def now() -> dt.datetime:
    """UTC now without tzinfo (portable across SQLite and PostgreSQL columns)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def record(
    conn: Connection,
    *,
    actor: str,
    action: AuditAction,
    entity: str,
    purpose: str,
    entity_id: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> int:
    """Append one audit event inside the caller's transaction; returns its id.

    The event joins the hash chain when the transaction commits.
    """
    if not purpose.strip():
        raise InputError("an audit event needs a stated purpose", field="purpose")
    result = conn.execute(
        insert(audit_log).values(
            at=now(), actor=actor, action=str(action), entity=entity, entity_id=entity_id,
            purpose=purpose, detail=json.dumps(dict(detail), default=str, sort_keys=True) if detail else None,
        )
    )
    conn.info[_UNCHAINED] = True
    pk = result.inserted_primary_key
    assert pk is not None
    return int(pk[0])


def events(conn: Connection, *, entity_id: str | None = None, actor: str | None = None,
           action: AuditAction | None = None, limit: int = 1000) -> list[dict[str, Any]]:
    """Recent events, newest first, optionally filtered."""
    q = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if entity_id is not None:
        q = q.where(audit_log.c.entity_id == entity_id)
    if actor is not None:
        q = q.where(audit_log.c.actor == actor)
    if action is not None:
        q = q.where(audit_log.c.action == str(action))
    return [dict(r._mapping) for r in conn.execute(q)]


# --- the chain ---------------------------------------------------------------------------


def event_hash(row: Mapping[Any, Any]) -> str:
    """SHA-256 over the hashed columns: sorted-key JSON, times in ISO 8601 to the microsecond."""
    values = {name: row[name] for name in HASHED_COLUMNS}
    at = values["at"]
    values["at"] = at.isoformat(timespec="microseconds") if isinstance(at, dt.datetime) else str(at)
    payload = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def head(conn: Connection) -> tuple[int, str]:
    """Position and hash of the newest chained event (0 and the genesis hash when empty)."""
    seq = conn.scalar(select(func.max(audit_log.c.seq)))
    if seq is None:
        return 0, GENESIS
    newest = conn.scalar(select(audit_log.c.hash).where(audit_log.c.seq == seq))
    return int(seq), str(newest)


def _take_chain_lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    elif conn.dialect.name == "sqlite":
        # A transaction that wrote an event already holds SQLite's single write lock;
        # this makes sure of it when chaining is called directly (migration, tests).
        conn.execute(update(audit_log).where(audit_log.c.id == -1).values(seq=None))
    else:
        raise NotImplementedError(f"no audit chain lock for database dialect {conn.dialect.name!r}")


def chain_unchained(conn: Connection) -> int:
    """Number, link and hash every event not yet in the chain, in id order; returns how many.

    Inside a transaction only its own new events (and none committed by
    others, which all commit chained) are unchained, so this extends the
    chain by exactly what the transaction wrote.
    """
    _take_chain_lock(conn)
    seq, prev = head(conn)
    chained = 0
    while True:
        rows = conn.execute(select(audit_log).where(audit_log.c.seq.is_(None))
                            .order_by(audit_log.c.id).limit(_BATCH)).mappings().all()
        if not rows:
            return chained
        links = []
        for row in rows:
            seq += 1
            linked = {**row, "seq": seq, "prev_hash": prev}
            prev = event_hash(linked)
            links.append({"row_id": row["id"], "seq": seq, "prev_hash": linked["prev_hash"], "hash": prev})
        conn.execute(update(audit_log).where(audit_log.c.id == bindparam("row_id"))
                     .values(seq=bindparam("seq"), prev_hash=bindparam("prev_hash"), hash=bindparam("hash")),
                     links)
        chained += len(links)


@event.listens_for(Engine, "commit")
def _chain_on_commit(conn: Connection) -> None:
    if conn.info.pop(_UNCHAINED, False):
        chain_unchained(conn)


@event.listens_for(Engine, "rollback")
def _forget_on_rollback(conn: Connection) -> None:
    conn.info.pop(_UNCHAINED, None)


# --- verification and seals ----------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Seal:
    """The audit log's chain contained event ``seq`` with hash ``head_hash`` when this was issued.

    Written ``ASEAL1-<seq>-<hash>``; the same idea as the custody log's seals,
    with its own prefix so the two are never checked against the wrong log.
    """

    seq: int
    head_hash: str

    def __str__(self) -> str:
        return f"ASEAL1-{self.seq}-{self.head_hash}"

    @classmethod
    def parse(cls, text: str) -> Seal:
        match = SEAL_PATTERN.match(text.strip())
        if not match:
            raise InputError(f"not an audit seal: {text.strip()!r} (expected ASEAL1-<number>-<64 hex digits>)",
                             field="seal")
        return cls(int(match.group(1)), match.group(2))


class SealJournal:
    """Audit seals issued and the highest head verified, for one database, kept under ``TIPSOM_HOME``.

    Outside the database on purpose: whoever can rewrite the audit table must
    not also be able to rewrite the record of how long it was.
    """

    def __init__(self, home: Path, database: str) -> None:
        digest = hashlib.sha256(database.encode("utf-8")).hexdigest()[:16]
        self.path = home / "audit" / digest / "seals.log"

    def remember(self, seal: Seal) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(f"{seal}\n")

    def known(self) -> list[tuple[str, Seal]]:
        """Every remembered seal, each with the line it came from."""
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [(f"{self.path}:{n}", Seal.parse(line)) for n, line in enumerate(lines, start=1) if line.strip()]


class Break(enum.StrEnum):
    """How an event fails the chain."""

    CHANGED = "its contents do not match its hash (changed)"
    LINK = "it does not follow the event before it (an event was deleted, inserted or moved)"
    GAP = "the event before it is missing (deleted)"
    UNCHAINED = "it was written outside the chain"
    SEAL = "it does not match a seal (the log was cut short or replaced)"


@dataclass(frozen=True)
class Finding:
    """One event that fails verification."""

    seq: int | None
    event_id: int | None
    why: Break
    note: str = ""

    def __str__(self) -> str:
        where = f"audit event {self.seq}" if self.seq is not None else "audit event (unnumbered)"
        ident = f" (id {self.event_id})" if self.event_id is not None else ""
        return f"{where}{ident}: {self.why}{f'; {self.note}' if self.note else ''}"


@dataclass
class Verification:
    """What :func:`verify` checked and what it found, first break first."""

    events_checked: int = 0
    head: Seal = field(default_factory=lambda: Seal(0, GENESIS))
    findings: list[Finding] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.findings


def _chained(conn: Connection) -> Iterator[RowMapping]:
    after = 0
    while True:
        rows = conn.execute(select(audit_log).where(audit_log.c.seq > after)
                            .order_by(audit_log.c.seq).limit(_BATCH)).mappings().all()
        if not rows:
            return
        yield from rows
        after = int(rows[-1]["seq"])


def verify(conn: Connection, seals: Sequence[tuple[str, Seal]] = ()) -> Verification:
    """Walk the chain in order, recomputing every hash and link, then check ``seals``.

    Each seal must name an event still in the chain with the same hash; a
    seal beyond the head means the tail was cut off.
    """
    result = Verification()
    expected_seq, prev = 1, GENESIS
    hashes: dict[int, str] = {}
    for row in _chained(conn):
        seq = int(row["seq"])
        if seq != expected_seq:
            result.findings.append(Finding(seq, row["id"], Break.GAP, f"expected event {expected_seq}"))
        elif row["prev_hash"] != prev:
            result.findings.append(Finding(seq, row["id"], Break.LINK))
        if event_hash(row) != row["hash"]:
            result.findings.append(Finding(seq, row["id"], Break.CHANGED))
        expected_seq, prev = seq + 1, str(row["hash"])
        result.events_checked += 1
        result.head = Seal(seq, prev)
        if seals:
            hashes[seq] = prev
    loose = select(audit_log.c.id).where(audit_log.c.seq.is_(None)).order_by(audit_log.c.id)
    result.findings.extend(Finding(None, int(event_id), Break.UNCHAINED) for event_id in conn.scalars(loose))
    for origin, seal in seals:
        if hashes.get(seal.seq) != seal.head_hash:
            missing = "is no longer in the log" if seal.seq not in hashes else "has another hash"
            result.findings.append(Finding(seal.seq, None, Break.SEAL, f"{origin}: {seal} {missing}"))
    return result


def seal(conn: Connection, journal: SealJournal) -> Seal:
    """The current head as a seal, remembered in ``journal`` (chain anything pending first)."""
    chain_unchained(conn)
    current = Seal(*head(conn))
    journal.remember(current)
    return current
