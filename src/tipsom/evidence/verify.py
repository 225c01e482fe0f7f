"""Verification: re-hash the vault, walk the custody chain, check it against seals.

Each finding names the exhibit or event and why it fails, because the output
of ``verify`` is what an examiner reads out or files; "integrity error" alone
helps nobody in court. The chain is read in one ordered pass with a map from
hash to position, which is what lets a swapped pair be reported as reordered
rather than as two unrelated breaks.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from tipsom.evidence.custody import GENESIS, event_hash
from tipsom.evidence.locker import EvidenceItem, EvidenceLocker, intake_record
from tipsom.evidence.seals import Seal
from tipsom.evidence.signing import signature_valid
from tipsom.evidence.tables import custody_events, custody_seals, evidence_items
from tipsom.evidence.vault import ObjectState

#: Rows fetched per round trip while walking the chain.
CHAIN_BATCH = 2000


class Finding(enum.Enum):
    """Kinds of integrity failure; every one makes ``verify`` fail."""

    FILE_CHANGED = "file changed"
    FILE_MISSING = "file missing"
    EVENT_EDITED = "event edited"
    EVENT_DELETED = "event deleted"
    EVENT_REORDERED = "event reordered"
    CHAIN_BROKEN = "chain broken"
    BAD_SIGNATURE = "bad signature"
    UNTRUSTED_SIGNER = "untrusted signer"
    ITEM_EDITED = "item edited"
    ITEM_UNRECORDED = "item without intake event"
    ITEM_DELETED = "item deleted"
    ROLLED_BACK = "log rolled back"
    SEAL_MISMATCH = "seal mismatch"


@dataclass(frozen=True)
class Problem:
    finding: Finding
    subject: str
    reason: str

    def __str__(self) -> str:
        return f"{self.finding.value}: {self.subject}: {self.reason}"


@dataclass
class Verification:
    """What was checked and what failed."""

    items_checked: int = 0
    events_checked: int = 0
    head: Seal = field(default_factory=lambda: Seal(0, GENESIS))
    problems: list[Problem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def verify(locker: EvidenceLocker, case_id: str | None = None,
           seals: Iterable[tuple[str, Seal]] = ()) -> Verification:
    """Check files (of one case or all), the whole chain, and every known seal."""
    result = Verification()
    items = locker.items(case_id)
    _check_files(locker, items, result)
    hashes, intake_details = _walk_chain(locker, result)
    _check_items(locker, items, intake_details, result)
    with locker.engine.connect() as conn:
        recorded = [(f"seal issued {r.issued_at} by {r.actor}", Seal(r.seq, r.head_hash))
                    for r in conn.execute(select(custody_seals))]
    for origin, seal in [*locker.journal.known(), *recorded, *seals]:
        _check_seal(origin, seal, hashes, result)
    return result


def _check_files(locker: EvidenceLocker, items: list[EvidenceItem], result: Verification) -> None:
    for item in items:
        state = locker.vault.check(item.sha256, item.size)
        subject = f"{item.exhibit_number} ({item.original_name}, item {item.id})"
        if state is ObjectState.MISSING:
            result.problems.append(Problem(Finding.FILE_MISSING, subject,
                                           f"vault object {locker.vault.path_for(item.sha256)} is gone"))
        elif state is ObjectState.CHANGED:
            result.problems.append(Problem(Finding.FILE_CHANGED, subject,
                                           f"vault object no longer hashes to SHA-256 {item.sha256}"))
        result.items_checked += 1


def _walk_chain(locker: EvidenceLocker, result: Verification) -> tuple[dict[str, int], dict[str, Any]]:
    """Check every event; return hash -> position and each item's recorded intake."""
    hashes: dict[str, int] = {}
    intake: dict[str, Any] = {}
    links: list[tuple[int, str, str]] = []  # (seq, id, prev_hash) checked after all hashes are known
    previous = (0, GENESIS)
    with locker.engine.connect() as conn:
        rows = conn.execution_options(yield_per=CHAIN_BATCH).execute(
            select(custody_events).order_by(custody_events.c.seq))
        for row in rows:
            event = dict(row._mapping)
            subject = f"event {event['seq']} ({event['action']} by {event['actor']}, id {event['id']})"
            if event["seq"] != previous[0] + 1:
                gap = f"{previous[0] + 1}" if event["seq"] == previous[0] + 2 else \
                    f"{previous[0] + 1} to {event['seq'] - 1}"
                result.problems.append(Problem(Finding.EVENT_DELETED, f"event {gap}",
                                               f"missing between events {previous[0]} and {event['seq']}"))
            if event_hash(event) != event["hash"]:
                result.problems.append(Problem(Finding.EVENT_EDITED, subject,
                                               "its content no longer matches its recorded hash"))
            if not signature_valid(event["signer"], event["hash"].encode("ascii"), event["signature"]):
                result.problems.append(Problem(Finding.BAD_SIGNATURE, subject,
                                               "the signature does not match the event hash"))
            elif not locker.keyring.is_trusted(event["signer"]):
                result.problems.append(Problem(Finding.UNTRUSTED_SIGNER, subject,
                                               f"signed by key {event['signer']}, not a trusted custody key"))
            if event["action"] == "intake":
                intake[event["item_id"]] = json.loads(event["details"]).get("item")
            links.append((event["seq"], previous[1], event["prev_hash"]))
            hashes[event["hash"]] = event["seq"]
            previous = (event["seq"], event["hash"])
            result.events_checked += 1
    result.head = Seal(*previous)
    for seq, expected, recorded in links:
        if recorded == expected:
            continue
        if recorded in hashes:
            reason = f"it was chained after event {hashes[recorded]}, but the log now puts it elsewhere"
            result.problems.append(Problem(Finding.EVENT_REORDERED, f"event {seq}", reason))
        else:
            reason = "its previous-hash link matches no event (an event before it was deleted or edited)"
            result.problems.append(Problem(Finding.CHAIN_BROKEN, f"event {seq}", reason))
    return hashes, intake


def _check_items(locker: EvidenceLocker, items: list[EvidenceItem], intake: Mapping[str, Any],
                 result: Verification) -> None:
    """Every item must match what its intake event recorded; every intake must have its item."""
    with locker.engine.connect() as conn:
        rows = {r.id: dict(r._mapping) for r in conn.execute(
            select(evidence_items).where(evidence_items.c.id.in_([i.id for i in items])))}
        present = set(conn.execute(select(evidence_items.c.id)).scalars())
    for item in items:
        subject = f"{item.exhibit_number} (item {item.id})"
        recorded = intake.get(item.id)
        if recorded is None:
            result.problems.append(Problem(Finding.ITEM_UNRECORDED, subject,
                                           "no intake event in the custody log records this item"))
            continue
        current = intake_record(rows[item.id])
        changed = sorted(k for k in current if current[k] != recorded.get(k))
        if changed:
            result.problems.append(Problem(Finding.ITEM_EDITED, subject,
                                           f"differs from its intake record in: {', '.join(changed)}"))
    for item_id, recorded in intake.items():
        if item_id not in present:
            subject = f"{recorded.get('exhibit_number')} (item {item_id})"
            result.problems.append(Problem(Finding.ITEM_DELETED, subject,
                                           "its intake is in the custody log but the item row is gone"))


def _check_seal(origin: str, seal: Seal, hashes: Mapping[str, int], result: Verification) -> None:
    if seal.seq == 0:
        return
    if seal.seq > result.head.seq:
        result.problems.append(Problem(Finding.ROLLED_BACK, f"seal {seal} ({origin})",
                                       f"the seal names event {seal.seq} but the log ends at event "
                                       f"{result.head.seq}: the database was restored from an older copy "
                                       "or events were removed"))
    elif hashes.get(seal.head_hash) != seal.seq:
        result.problems.append(Problem(Finding.SEAL_MISMATCH, f"seal {seal} ({origin})",
                                       f"event {seal.seq} no longer has the sealed hash: the log was "
                                       "rewritten after the seal"))
