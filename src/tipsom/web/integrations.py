"""Where the web app meets other modules: screening alerts and the evidence vault.

Screening runs on the stored case whenever the case page is shown, so alerts
always reflect the record as stored; one case takes about a millisecond
(:func:`tipsom.screening.case_alerts`), and results are also kept per document
content. Alert texts come from the rule files in English and are shown in the
reader's language through the same catalogs as the pages. Attachments go into
the evidence vault as exhibits of the case, with their custody chain.
"""

from __future__ import annotations

import enum
import hashlib
import re
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from starlette.datastructures import UploadFile

from tipsom.evidence.actions import CustodyAction
from tipsom.evidence.locker import EvidenceItem, EvidenceLocker, Intake
from tipsom.screening import Alert, AlertCode, Severity, case_alerts
from tipsom.store import audit
from tipsom.store.db import Store
from tipsom.web.i18n import N_, _

_SAFE_NAME = re.compile(r"[^\w.\- ]+")

#: Titles of the screening engine's alert codes in the user's language.
ALERT_TITLES = {
    AlertCode.TIP_INDICATED: N_("Trafficking indicated"),
    AlertCode.TIP_CHILD: N_("Child trafficking: no means need be shown"),
    AlertCode.TIP_INCOMPLETE: N_("Trafficking elements incomplete"),
    AlertCode.SOM_INDICATED: N_("Smuggling of migrants indicated"),
    AlertCode.SOM_AGGRAVATED: N_("Aggravated smuggling"),
    AlertCode.SOM_EXPLOITATION_RESCREEN: N_("Smuggled person shows exploitation: screen for trafficking"),
    AlertCode.NON_PUNISHMENT: N_("Non-punishment: a victim is charged"),
    AlertCode.NON_LIABILITY_ART5: N_("Non-liability (Smuggling Protocol art. 5): a migrant is charged"),
    AlertCode.PRESUMED_MINOR: N_("Presume a minor until the age is assessed"),
    AlertCode.CONFLICT_NEXUS: N_("Conflict-related trafficking"),
    AlertCode.CHILD_PROTECTION: N_("Child protection steps are due"),
}


#: How urgent each severity is, in words: colour alone must not carry it.
SEVERITY_LABELS = {
    Severity.CRITICAL: N_("Act now"),
    Severity.HIGH: N_("Urgent"),
    Severity.REVIEW: N_("Check"),
    Severity.INFO: N_("For information"),
}


@dataclass(frozen=True)
class ShownAlert:
    """A screening alert as the case page shows it, in the reader's language."""

    title: str
    severity: Severity
    explanation: str
    person_id: str
    #: Questions to ask next, one per missing element of the definition.
    asks: tuple[str, ...]
    #: Legal sources (instrument and article), as cited in the rule files.
    sources: tuple[str, ...]
    #: The severity in words.
    urgency: str


def shown(alert: Alert) -> ShownAlert:
    """One alert with its title, explanation and questions translated."""
    return ShownAlert(_(ALERT_TITLES[alert.code]), alert.severity, alert.explain(_), alert.person_id,
                      tuple(_(m.ask) for m in alert.missing if m.ask), tuple(str(s) for s in alert.sources),
                      _(SEVERITY_LABELS[alert.severity]))


def screen(doc: Mapping[str, Any]) -> list[ShownAlert]:
    """Screening alerts (child, non-punishment, non-liability...) of a stored case, most urgent first.

    The case page is shown far more often than a case changes, so results are
    kept per document content: an edited case is a new key and is screened again.
    """
    return [shown(a) for a in _screened(hashlib.sha256(repr(sorted(doc.items())).encode()).hexdigest(), doc)]


_SCREENED: OrderedDict[str, tuple[Alert, ...]] = OrderedDict()
_SCREENED_MAX = 2048
_SCREEN_LOCK = threading.Lock()


def _screened(digest: str, doc: Mapping[str, Any]) -> tuple[Alert, ...]:
    with _SCREEN_LOCK:
        if digest in _SCREENED:
            _SCREENED.move_to_end(digest)
            return _SCREENED[digest]
    alerts = tuple(sorted(case_alerts(doc), key=lambda a: (-a.severity.rank, a.person_id)))
    with _SCREEN_LOCK:
        _SCREENED[digest] = alerts
        while len(_SCREENED) > _SCREENED_MAX:
            _SCREENED.popitem(last=False)
    return alerts


_LOCKERS: dict[str, EvidenceLocker] = {}


def _locker(store: Store) -> EvidenceLocker:
    """One evidence locker per store for the life of the process (it reads key files on creation)."""
    with _SCREEN_LOCK:
        locker = _LOCKERS.get(store.url)
    if locker is None:
        locker = EvidenceLocker.for_store(store)
        with _SCREEN_LOCK:
            _LOCKERS[store.url] = locker
    return locker


def attachments(store: Store, case_id: str) -> list[EvidenceItem]:
    """Exhibits of the case in the evidence vault, in exhibit order, less those withdrawn as mistaken."""
    locker = _locker(store)
    items = locker.items(case_id)
    withdrawn = {e["item_id"] for e in locker.events([i.id for i in items])
                 if e["action"] == CustodyAction.WITHDRAWN.value}
    return [i for i in items if i.id not in withdrawn]


#: Types a browser shows without running anything: raster images, PDF, plain text. Anything else
#: (SVG and HTML can carry scripts) is only ever downloaded.
PREVIEWABLE = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain",
                         "text/csv"})


class Delivery(enum.Enum):
    """How an attachment leaves the vault: shown in the browser, or saved as a file."""

    PREVIEW = "preview"
    DOWNLOAD = "download"


@dataclass(frozen=True)
class OpenedAttachment:
    path: Path
    media_type: str
    filename: str
    inline: bool


def attachment(store: Store, case_id: str, item_id: str) -> EvidenceItem:
    """One shown exhibit of this case; another case's or a withdrawn one is "not found"."""
    found = next((i for i in attachments(store, case_id) if i.id == item_id), None)
    if found is None:
        raise LookupError(f"no attachment {item_id!r} on case {case_id!r}")
    return found


def open_attachment(store: Store, case_id: str, item_id: str, delivery: Delivery, *,
                    actor: str) -> OpenedAttachment:
    """The vault file of an exhibit, after an audit event naming the reader, the exhibit and how it was opened.

    Attachments are often identity documents or photographs of a victim, so
    every opening is logged like a reveal of personal data. A type that is not
    safe to show is downloaded even when a preview was asked for.
    """
    item = attachment(store, case_id, item_id)
    path = _locker(store).vault.path_for(item.sha256)
    if not path.is_file():
        raise LookupError(f"the vault has no file for {item.exhibit_number}")
    inline = delivery is Delivery.PREVIEW and item.mime_type in PREVIEWABLE
    with store.begin() as conn:
        audit.record(conn, actor=actor, action=audit.AuditAction.READ, entity="evidence_item", entity_id=item.id,
                     purpose=f"{'preview' if inline else 'download'} attachment",
                     detail={"case": case_id, "exhibit": item.exhibit_number, "sha256": item.sha256})
    media = (f"{item.mime_type}; charset=utf-8" if item.mime_type.startswith("text/") else item.mime_type) \
        if inline else "application/octet-stream"
    return OpenedAttachment(path, media, item.original_name, inline)


def withdraw_attachment(store: Store, case_id: str, item_id: str, *, actor: str, reason: str) -> None:
    """Take a mistaken upload off its case: a "withdrawn" custody event; the file and its chain stay."""
    item = attachment(store, case_id, item_id)
    _locker(store).record(item.id, CustodyAction.WITHDRAWN, actor, note=reason.strip()[:500],
                          purpose="withdraw a mistaken upload")


async def attach(store: Store, case_id: str, upload: UploadFile, *, actor: str, note: str) -> None:
    """Take an uploaded file into the evidence vault as an exhibit of the case.

    The upload is written to a private temporary directory under its own
    (sanitised) name, hashed and copied into the vault in a worker thread,
    and the temporary copy removed.
    """
    name = _SAFE_NAME.sub("_", Path(upload.filename or "upload").name)[:200].strip(". ") or "upload"
    with tempfile.TemporaryDirectory(prefix="tipsom-upload-") as tmp:
        path = Path(tmp) / name
        with path.open("wb") as fh:
            while chunk := await upload.read(1 << 20):
                fh.write(chunk)
        intake = Intake(case_id=case_id, actor=actor, source="web upload", purpose="case attachment",
                        note=note or None)
        taken = await anyio.to_thread.run_sync(lambda: _locker(store).add_files([path], intake))
    with store.begin() as conn:
        for item, new in taken:
            audit.record(conn, actor=actor, action=audit.AuditAction.UPDATE, entity="case", entity_id=case_id,
                         purpose="case attachment",
                         detail={"via": "web upload", "attachment": item.id, "exhibit": item.exhibit_number,
                                 "sha256": item.sha256, "size": item.size, "new_in_vault": new})
