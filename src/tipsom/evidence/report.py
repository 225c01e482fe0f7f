"""A printable chain-of-custody report for one exhibit, for the court file.

The report restates what a witness would be asked: what the exhibit is (names,
sizes, all three hashes), under what authority it was collected, every hand it
passed through in order, whether the stored copy still matches its hashes and
the log is intact *at the time of printing*, and the seal that pins the log, so
a later reader can check that nothing has changed since. It ends with signature
lines for the custodian and the examiner.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

from tipsom.core.render import html_to_pdf, render
from tipsom.evidence.custody import utc_now
from tipsom.evidence.locker import EvidenceItem, EvidenceLocker
from tipsom.evidence.verify import Verification, verify
from tipsom.store import audit

#: Labels whose values are digests, printed in a monospace that may break anywhere.
DIGESTS = ("SHA", "MD5")


def _remarks(event: Mapping[str, Any]) -> str:
    parts = [event["purpose"], event["note"],
             event["authorisation"] and f"authorised: {event['authorisation']}",
             event["corrects"] and f"corrects event {event['corrects']}"]
    return "; ".join(p for p in parts if p)


def custody_html(locker: EvidenceLocker, item: EvidenceItem, check: Verification) -> str:
    """The report as self-contained HTML (template ``custody_report.html``, no external resources)."""
    own = [p for p in check.problems if item.id in p.subject or item.exhibit_number in p.subject]
    exhibit = [
        ("Exhibit number", item.exhibit_number), ("Case", item.case_id), ("Item id", item.id),
        ("Kind", item.kind.value), ("Original name", item.original_name),
        ("Original path", item.original_path),
        ("MIME type", item.mime_type), ("Size (bytes)", item.size), ("SHA-256", item.sha256),
        ("SHA-1", item.sha1), ("MD5", item.md5), ("File last modified (UTC)", item.file_modified_at),
        ("Collected (UTC)", item.collected_at), ("Collected by", item.collector),
        ("Device or source", item.source), ("Legal authority", item.authority), ("Note", item.note),
    ]
    return render(
        "tipsom.evidence", "custody_report.html", item=item, check=check, problems=own or check.problems,
        generated=utc_now(), version=version("tipsom"),
        exhibit=[(k, v, k.startswith(DIGESTS)) for k, v in exhibit],
        events=[{"cells": (e["seq"], e["occurred_at"], e["action"], e["actor"], e["recipient"], e["place"],
                           _remarks(e)), "hash": e["hash"]} for e in locker.events([item.id])],
    )


def custody_report(locker: EvidenceLocker, ref: str, out: Path, actor: str) -> Verification:
    """Verify the exhibit's case, write its custody report PDF to ``out``, and log the export."""
    item = locker.resolve(ref)
    check = verify(locker, case_id=item.case_id)
    html_to_pdf(custody_html(locker, item, check), out)
    with locker.store.begin() as conn:
        audit.record(conn, actor=actor, action=audit.AuditAction.EXPORT, entity="evidence_item",
                     entity_id=item.id, purpose="chain-of-custody report",
                     detail={"exhibit": item.exhibit_number, "file": str(out.resolve()), "intact": check.intact})
    return check
