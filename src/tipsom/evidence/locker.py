"""The evidence locker: intake, custody events, working copies and seals on one store.

Slow work (hashing and copying gigabytes into the vault) happens before the
custody lock is taken; only the short database transaction (allocate exhibit
numbers, insert items, chain their intake events) runs under it. Every change
also leaves a row in the store's audit log, and after each commit the new head
is remembered outside the database (see :mod:`tipsom.evidence.seals`).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from tipsom.evidence.custody import (
    CustodyAction,
    CustodyError,
    EventDraft,
    append,
    custody_transaction,
    head,
    utc_now,
)
from tipsom.evidence.intake import FileFacts, file_facts
from tipsom.evidence.seals import Seal, SealJournal
from tipsom.evidence.signing import Keyring, load_keyring, replace_lost_key
from tipsom.evidence.tables import (
    custody_events,
    custody_seals,
    evidence_items,
    working_copies,
)
from tipsom.evidence.vault import StoredObject, Vault
from tipsom.store import audit
from tipsom.store.db import Store
from tipsom.store.tables import REGISTRY


def signers_of(engine: Engine) -> frozenset[str]:
    """Public keys that signed the custody events already in this store."""
    with engine.connect() as conn:
        return frozenset(conn.scalars(select(custody_events.c.signer).distinct()))


#: Shortest id prefix accepted where an item id is expected.
MIN_PREFIX = 6


class ItemKind(enum.Enum):
    """What an exhibit is: a file handed in, or a web capture made by tipsom."""

    FILE = "file"
    WEB_CAPTURE = "web_capture"


@dataclass(frozen=True)
class Intake:
    """Who took a batch in, under what authority, from where: shared by its files."""

    case_id: str
    actor: str
    authority: str | None = None
    source: str | None = None
    place: str | None = None
    purpose: str | None = None
    note: str | None = None
    collected_at: str | None = None

    def check(self) -> None:
        """Refuse an intake its custody event would refuse, before anything is stored for it."""
        if not self.actor.strip():
            raise CustodyError("actor: every custody event names the person who acted")


@dataclass(frozen=True)
class IntakeEntry:
    """One stored object about to become an exhibit."""

    stored: StoredObject
    facts: FileFacts
    kind: ItemKind = ItemKind.FILE
    details: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class EvidenceItem:
    id: str
    case_id: str
    exhibit_number: str
    kind: ItemKind
    sha256: str
    sha1: str
    md5: str
    size: int
    original_name: str
    original_path: str
    mime_type: str
    collected_at: str
    collector: str
    source: str | None
    authority: str | None
    note: str | None
    file_modified_at: str | None
    intake_seq: int

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> EvidenceItem:
        names = cls.__dataclass_fields__
        values = {k: row[k] for k in names if k != "kind"}
        return cls(kind=ItemKind(row["kind"]), **values)


def intake_record(item: Mapping[str, Any]) -> dict[str, Any]:
    """The item fields the intake event carries, so editing the item row is detectable."""
    return {k: item[k] for k in INTAKE_FIELDS}


INTAKE_FIELDS = (
    "case_id", "exhibit_number", "kind", "sha256", "sha1", "md5", "size", "original_name",
    "original_path", "mime_type", "file_modified_at", "file_changed_at", "collected_at", "collector",
    "source", "authority", "note",
)

AfterIntake = Callable[[Connection, list[EvidenceItem]], None]


class EvidenceLocker:
    """Evidence of one database, with its vault, signing key and seal journal."""

    def __init__(self, store: Store, vault: Vault, keyring: Keyring, journal: SealJournal) -> None:
        self.store = store
        self.vault = vault
        self.keyring = keyring
        self.journal = journal

    @classmethod
    def for_store(cls, store: Store) -> EvidenceLocker:
        """The locker of an open store: its vault, signing keys and seal journal.

        A missing signing key is created only while no event is signed: over
        a signed chain it is refused (see :mod:`tipsom.evidence.signing`).
        """
        settings = store.settings
        database = store.engine.url.render_as_string(hide_password=True)
        return cls(store, Vault(settings.vault_path), load_keyring(settings.home, signers_of(store.engine)),
                   SealJournal(settings.home, database))

    @classmethod
    def replace_lost_signing_key(cls, store: Store, actor: str) -> str:
        """Start a new signing key after the old one was lost for good; returns the new public key."""
        keyring = replace_lost_key(store.settings.home, signers_of(store.engine))
        with store.begin() as conn:
            audit.record(conn, actor=actor, action=audit.AuditAction.CREATE, entity="custody_signing_key",
                         entity_id=keyring.signer, purpose="replace a lost custody signing key")
        return keyring.signer

    @property
    def engine(self) -> Engine:
        return self.store.engine

    # -- reading -------------------------------------------------------------------------

    def resolve(self, ref: str, conn: Connection | None = None) -> EvidenceItem:
        """Find an item by id, exhibit number or a unique id prefix."""
        if conn is None:
            with self.engine.connect() as own:
                return self.resolve(ref, own)
        t = evidence_items
        rows = conn.execute(select(t).where((t.c.id == ref) | (t.c.exhibit_number == ref))).all()
        if not rows and len(ref) >= MIN_PREFIX:
            rows = conn.execute(select(t).where(t.c.id.startswith(ref, autoescape=True)).limit(2)).all()
        if not rows:
            raise LookupError(f"no evidence item {ref!r} (give an item id, exhibit number or id prefix)")
        if len(rows) > 1:
            raise LookupError(f"{ref!r} matches more than one item; give more of the id")
        return EvidenceItem.from_row(dict(rows[0]._mapping))

    def items(self, case_id: str | None = None) -> list[EvidenceItem]:
        query = select(evidence_items).order_by(evidence_items.c.case_id, evidence_items.c.exhibit_seq)
        if case_id is not None:
            query = query.where(evidence_items.c.case_id == case_id)
        with self.engine.connect() as conn:
            return [EvidenceItem.from_row(dict(r._mapping)) for r in conn.execute(query)]

    def events(self, item_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Custody events in chain order, for some items or all."""
        query = select(custody_events).order_by(custody_events.c.seq)
        if item_ids is not None:
            query = query.where(custody_events.c.item_id.in_(list(item_ids)))
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    # -- intake --------------------------------------------------------------------------

    def add_files(self, paths: Sequence[Path], intake: Intake) -> list[tuple[EvidenceItem, bool]]:
        """Take files in: store each in the vault, then register all in one transaction.

        Returns each item with whether its content was new to the vault.
        """
        intake.check()
        self._check_case(intake.case_id)
        # Every refusal that can be known in advance (actor, case, a path that is not a regular file) comes
        # before the first byte is copied, so a refused intake leaves no unregistered object in the vault.
        facts = [file_facts(p) for p in paths]
        entries = [IntakeEntry(self.vault.store(p), f) for p, f in zip(paths, facts, strict=True)]
        items = self.take_in(entries, intake)
        return [(item, e.stored.newly_written) for item, e in zip(items, entries, strict=True)]

    def take_in(self, entries: Sequence[IntakeEntry], intake: Intake,
                after: AfterIntake | None = None) -> list[EvidenceItem]:
        """Register stored objects as exhibits of ``intake.case_id`` and chain their intake events."""
        intake.check()
        self._check_case(intake.case_id)
        collected_at = intake.collected_at or utc_now()
        created: list[EvidenceItem] = []
        with custody_transaction(self.engine) as conn:
            t = evidence_items
            next_seq = (conn.execute(
                select(func.max(t.c.exhibit_seq)).where(t.c.case_id == intake.case_id)
            ).scalar_one_or_none() or 0) + 1
            for offset, entry in enumerate(entries):
                d, f = entry.stored.digests, entry.facts
                item: dict[str, Any] = {
                    "id": str(uuid.uuid4()), "case_id": intake.case_id, "exhibit_seq": next_seq + offset,
                    "exhibit_number": f"{intake.case_id}-E{next_seq + offset:03d}", "kind": entry.kind.value,
                    "sha256": d.sha256, "sha1": d.sha1, "md5": d.md5, "size": d.size,
                    "original_name": f.original_name, "original_path": f.original_path,
                    "mime_type": f.mime_type, "file_modified_at": f.modified_at,
                    "file_changed_at": f.changed_at, "collected_at": collected_at,
                    "collector": intake.actor.strip(), "source": intake.source,
                    "authority": intake.authority, "note": intake.note,
                }
                details = {"item": intake_record(item), **dict(entry.details or {})}
                conn.execute(evidence_items.insert().values(**item, intake_seq=0))
                event = append(conn, self.keyring, EventDraft(
                    item_id=item["id"], action=CustodyAction.INTAKE, actor=intake.actor,
                    place=intake.place, purpose=intake.purpose, note=intake.note, details=details,
                ))
                conn.execute(evidence_items.update().where(evidence_items.c.id == item["id"])
                             .values(intake_seq=event["seq"]))
                created.append(EvidenceItem.from_row({**item, "intake_seq": event["seq"]}))
                audit.record(conn, actor=intake.actor, action=audit.AuditAction.CREATE,
                             entity="evidence_item", entity_id=item["id"],
                             purpose=intake.purpose or "evidence intake",
                             detail={"exhibit": item["exhibit_number"], "sha256": d.sha256})
            if after is not None:
                after(conn, created)
            sealed = head(conn)
        self.journal.raise_head(Seal(*sealed))
        return created

    def _check_case(self, case_id: str) -> None:
        cases = REGISTRY["case"]
        with self.engine.connect() as conn:
            if conn.execute(select(cases.c.id).where(cases.c.id == case_id)).first() is None:
                raise CustodyError(f"case {case_id!r} is not in the registry; evidence belongs to a case")

    # -- custody -------------------------------------------------------------------------

    def record(self, ref: str, action: CustodyAction, actor: str, *, note: str | None = None,
               place: str | None = None, purpose: str | None = None, recipient: str | None = None,
               authorisation: str | None = None, corrects: str | None = None,
               details: Mapping[str, Any] | None = None,
               after: Callable[[Connection, dict[str, Any]], None] | None = None) -> dict[str, Any]:
        """Append one custody event for an exhibit; returns the stored event."""
        if action is CustodyAction.INTAKE:
            raise CustodyError("action: intake is recorded by adding evidence, not as a separate event")
        with custody_transaction(self.engine) as conn:
            item = self.resolve(ref, conn)
            self._check_open(conn, item, action, corrects)
            event = append(conn, self.keyring, EventDraft(
                item_id=item.id, action=action, actor=actor, place=place, purpose=purpose, note=note,
                recipient=recipient, authorisation=authorisation, corrects=corrects, details=details or {},
            ))
            if after is not None:
                after(conn, event)
            audit.record(conn, actor=actor, action=audit.AuditAction.CREATE, entity="custody_event",
                         entity_id=event["id"], purpose=purpose or f"custody: {action.value}",
                         detail={"exhibit": item.exhibit_number, "action": action.value, "seq": event["seq"]})
            sealed = head(conn)
        self.journal.raise_head(Seal(*sealed))
        return event

    def _check_open(self, conn: Connection, item: EvidenceItem, action: CustodyAction,
                    corrects: str | None) -> None:
        """Refuse events after disposal and corrections of events that are not this item's."""
        if corrects is not None:
            target = conn.execute(select(custody_events.c.item_id)
                                  .where(custody_events.c.id == corrects)).scalar_one_or_none()
            if target != item.id:
                raise CustodyError(f"corrects: event {corrects!r} is not an event of {item.exhibit_number}")
        disposed = conn.execute(select(custody_events.c.seq).where(
            (custody_events.c.item_id == item.id) & (custody_events.c.action == CustodyAction.DISPOSAL.value)
        )).first()
        if disposed is not None and action is not CustodyAction.CORRECTION:
            raise CustodyError(f"action: {item.exhibit_number} was disposed of (event {disposed.seq}); "
                               "only a correction can follow")

    def checkout(self, ref: str, dest: Path, actor: str,
                 purpose: str | None = None) -> tuple[Path, dict[str, Any]]:
        """Give an analyst a registered, writable working copy; the vault copy stays untouched."""
        item = self.resolve(ref)
        target = dest / item.original_name if dest.is_dir() else dest
        copy_id = str(uuid.uuid4())
        self.vault.copy_out(item.sha256, target)

        def register(conn: Connection, event: dict[str, Any]) -> None:
            conn.execute(working_copies.insert().values(
                id=copy_id, item_id=item.id, path=str(target.resolve()), created_at=event["occurred_at"],
                actor=actor, purpose=purpose, event_seq=event["seq"],
            ))

        try:
            event = self.record(item.id, CustodyAction.COPY, actor, purpose=purpose, after=register,
                                note=f"working copy written to {target.resolve()}",
                                details={"working_copy": copy_id, "path": str(target.resolve()),
                                         "sha256": item.sha256})
        except Exception:
            target.unlink(missing_ok=True)  # an unregistered copy must not be left behind
            raise
        return target, event

    def seal(self, actor: str, note: str | None = None) -> Seal:
        """Issue a seal of the current head and remember it in the database and the journal."""
        with custody_transaction(self.engine) as conn:
            seal = Seal(*head(conn))
            conn.execute(custody_seals.insert().values(
                seq=seal.seq, head_hash=seal.head_hash, issued_at=utc_now(), actor=actor, note=note,
            ))
            audit.record(conn, actor=actor, action=audit.AuditAction.CREATE, entity="custody_seal",
                         entity_id=str(seal), purpose=note or "seal the custody log")
        self.journal.record_issued(seal)
        self.journal.raise_head(seal)
        return seal
