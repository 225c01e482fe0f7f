"""Exporting cases from the store to files.

Personal fields leave the store only when asked for, with a stated purpose,
and the export is written to the audit log either way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tipsom.exchange.formats import CaseFormat, Direction, case_format
from tipsom.exchange.importer import check_output
from tipsom.schema.consent import ConsentTally
from tipsom.schema.document import PERSONS
from tipsom.store import audit
from tipsom.store.db import Store
from tipsom.store.reader import iter_documents


def export_cases(
    store: Store,
    out: Path,
    *,
    fmt: CaseFormat | str = "native",
    include_personal: bool = False,
    actor: str,
    purpose: str = "export",
    progress: Callable[[int], None] | None = None,
    force: bool = False,
    consent: ConsentTally | None = None,
) -> int:
    """Write every case to ``out``; returns the number of cases written.

    An existing ``out`` is refused unless ``force``. The file is written beside
    ``out`` and moved into place when complete, so a failed export never
    leaves a half-written file where a good one was.

    With personal data, ``consent`` names the purpose the file serves: persons
    whose recorded consent does not cover it are left out of the file (their
    case stays, with the others) and counted in the tally, which the audit
    event repeats. ``tipsom export cases`` always passes one; without it the
    copy is the data controller's own (moving a store, a test round trip).
    """
    layout = case_format(fmt, Direction.EXPORT)
    out.parent.mkdir(parents=True, exist_ok=True)
    check_output(out, force=force)
    cipher = store.cipher if include_personal else None
    partial = out.with_name(f".{out.name}.partial")
    exported: list[str] = []
    with store.begin() as conn:
        docs = _noting_ids(iter_documents(conn, store.model, cipher=cipher), exported)
        if include_personal and consent is not None:
            docs = _consented(docs, consent)
        try:
            count = layout.save(docs, partial, out, progress)
            partial.replace(out)
        finally:
            partial.unlink(missing_ok=True)
        audit.record(conn, actor=actor, action=audit.AuditAction.EXPORT, entity="case", purpose=purpose,
                     detail={"file": str(out), "format": layout.name, "cases": count,
                             "personal_data": include_personal, **exported_records(exported),
                             **({"consent": consent.to_dict()} if include_personal and consent is not None else {})})
    return count


def _consented(docs: Iterator[dict[str, Any]], consent: ConsentTally) -> Iterator[dict[str, Any]]:
    for doc in docs:
        doc[PERSONS] = [p for p in doc[PERSONS] if consent.allows(p)]
        yield doc


#: Exports naming at most this many cases list their ids in the audit event; larger ones a digest of them.
LISTED_IN_AUDIT = 100_000


def _noting_ids(docs: Iterator[dict[str, Any]], ids: list[str]) -> Iterator[dict[str, Any]]:
    for doc in docs:
        ids.append(str(doc.get("case_id", "")))
        yield doc


def exported_records(case_ids: list[str]) -> dict[str, Any]:
    """What the audit event says of the records that left: their ids, or for a whole registry a digest.

    The audit log must name the records an export carried (who received which
    victim's file), but one event listing a million ids would be a 12 MB row;
    above :data:`LISTED_IN_AUDIT` the event keeps the SHA-256 of the sorted ids,
    the first and last, which a later check can recompute from the store.
    """
    if len(case_ids) <= LISTED_IN_AUDIT:
        return {"case_ids": case_ids}
    ordered = sorted(case_ids)
    digest = hashlib.sha256("\n".join(ordered).encode()).hexdigest()
    return {"case_ids_sha256": digest, "first_case_id": ordered[0], "last_case_id": ordered[-1]}
