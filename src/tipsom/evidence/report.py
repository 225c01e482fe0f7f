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
from html import escape
from importlib.metadata import version
from pathlib import Path
from typing import Any

from tipsom.core.render.pdf import html_to_pdf
from tipsom.evidence.custody import utc_now
from tipsom.evidence.locker import EvidenceItem, EvidenceLocker
from tipsom.evidence.verify import Verification, verify
from tipsom.store import audit

STYLE = """
@page { size: A4; margin: 18mm 15mm; @bottom-right { content: "page " counter(page) " of " counter(pages);
  font-size: 8pt; } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 9pt; color: #111; }
h1 { font-size: 15pt; margin: 0 0 2mm; } h2 { font-size: 11pt; margin: 6mm 0 2mm; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 0.4pt solid #777; padding: 1.2mm 1.6mm; text-align: left; vertical-align: top; }
th { background: #eee; } td.hash { font-family: "DejaVu Sans Mono", monospace; font-size: 7pt;
  word-break: break-all; }
.ok { color: #14591d; font-weight: bold; } .fail { color: #a10d0d; font-weight: bold; }
.kv th { width: 28%; } .sign th { width: 45%; } .sign td { height: 14mm; }
.generated { color: #555; font-size: 8pt; }
"""


def _rows(pairs: list[tuple[str, str | int | None]]) -> str:
    return "".join(
        f"<tr><th>{escape(k)}</th><td class=\"{'hash' if k.startswith(('SHA', 'MD5')) else ''}\">"
        f"{escape(str(v)) if v not in (None, '') else '—'}</td></tr>"
        for k, v in pairs
    )


def _remarks(event: Mapping[str, Any]) -> str:
    parts = [event["purpose"], event["note"],
             event["authorisation"] and f"authorised: {event['authorisation']}",
             event["corrects"] and f"corrects event {event['corrects']}"]
    return "; ".join(p for p in parts if p)


def custody_html(locker: EvidenceLocker, item: EvidenceItem, check: Verification) -> str:
    """The report as self-contained HTML (no external resources)."""
    events = locker.events([item.id])
    own = [p for p in check.problems if item.id in p.subject or item.exhibit_number in p.subject]
    status = (
        f"<p class=\"ok\">Verified intact when printed (custody log at event {check.head.seq}): "
        "the vault copy matches its SHA-256 and the custody log's hashes, links and signatures check.</p>"
        if check.intact else
        "<p class=\"fail\">INTEGRITY PROBLEMS FOUND:</p><ul>"
        + "".join(f"<li>{escape(str(p))}</li>" for p in (own or check.problems)) + "</ul>"
    )
    event_rows = "".join(
        "<tr>" + "".join(f"<td>{escape(str(v)) if v else '—'}</td>" for v in (
            e["seq"], e["occurred_at"], e["action"], e["actor"], e["recipient"], e["place"], _remarks(e),
        )) + f"<td class=\"hash\">{escape(e['hash'])}</td></tr>"
        for e in events
    )
    exhibit = _rows([
        ("Exhibit number", item.exhibit_number), ("Case", item.case_id), ("Item id", item.id),
        ("Kind", item.kind.value), ("Original name", item.original_name),
        ("Original path", item.original_path),
        ("MIME type", item.mime_type), ("Size (bytes)", item.size), ("SHA-256", item.sha256),
        ("SHA-1", item.sha1), ("MD5", item.md5), ("File last modified (UTC)", item.file_modified_at),
        ("Collected (UTC)", item.collected_at), ("Collected by", item.collector),
        ("Device or source", item.source), ("Legal authority", item.authority), ("Note", item.note),
    ])
    return f"""<!doctype html><html><head><meta charset="utf-8"><style>{STYLE}</style>
<title>Chain of custody {escape(item.exhibit_number)}</title></head><body>
<h1>Chain of custody: exhibit {escape(item.exhibit_number)}</h1>
<p class="generated">Generated {utc_now()} (UTC) by tipsom {escape(version("tipsom"))}.</p>
<h2>Exhibit</h2><table class="kv">{exhibit}</table>
<h2>Integrity</h2>{status}
<table class="kv">{_rows([("Custody log seal", str(check.head)), ("Events in log", check.events_checked)])}
</table>
<p>The seal names the newest event of the whole custody log and its hash. Anyone can later run
<code>tipsom evidence verify --seal SEAL</code> to show that the log still contains this state.</p>
<h2>Custody events</h2>
<table><tr><th>#</th><th>Time (UTC)</th><th>Action</th><th>By</th><th>To</th><th>Place</th>
<th>Purpose, note, authority</th><th>Event hash</th></tr>{event_rows}</table>
<p>Each event is signed with the installation's Ed25519 custody key and records the hash of the event
before it; an edited, removed or reordered event breaks the chain.</p>
<h2>Certification</h2>
<table class="sign"><tr><th>Evidence custodian (name, signature, date)</th><td></td></tr>
<tr><th>Examiner (name, signature, date)</th><td></td></tr></table>
</body></html>"""


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
