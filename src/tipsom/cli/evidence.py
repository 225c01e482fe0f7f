"""``tipsom evidence``: vault intake, chain of custody, verification, captures, CASE export, reports."""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from tipsom.cli.common import DbOption, JsonOption, QuietOption, fail, open_store
from tipsom.core.errors import ExitCode, TipsomError
from tipsom.evidence.actions import CustodyAction
from tipsom.evidence.chats.reading import DateOrder
from tipsom.evidence.chats.records import ChatFormat

if TYPE_CHECKING:
    from tipsom.evidence.locker import EvidenceLocker

evidence_app = typer.Typer(
    help="Evidence: write-once vault, signed chain of custody, web captures, CASE/UCO export.",
    no_args_is_help=True,
)

CaseOption = Annotated[str, typer.Option("--case", help="Case id in the registry.")]
ActorOption = Annotated[str, typer.Option("--actor", help="Person who acts (recorded in the custody log).")]
PlaceOption = Annotated[str | None, typer.Option("--place", help="Where it happened (unit, room, court).")]
PurposeOption = Annotated[str | None, typer.Option("--purpose", help="Why it was done.")]
T = TypeVar("T")


class ExportFormat(enum.StrEnum):
    case = "case"


@contextmanager
def _locker(db: str | None) -> Iterator[EvidenceLocker]:
    """Open the locker and turn the library's input errors into exit code 1 with the reason."""
    from tipsom.evidence.custody import CustodyError
    from tipsom.evidence.locker import EvidenceLocker

    try:
        locker = EvidenceLocker.for_store(open_store(db, verify_key=False))  # custody records hold no personal value
    except TipsomError:
        raise  # a missing signing key or a bad data key: the root handler gives its exit code
    except (OSError, ValueError) as exc:
        fail(f"evidence store: {exc}")
    try:
        yield locker
    except (CustodyError, LookupError, FileNotFoundError, FileExistsError, IsADirectoryError) as exc:
        fail(f"error: {exc}")
    finally:
        locker.store.dispose()


def _run(db: str | None, work: Callable[[EvidenceLocker], T]) -> T:
    with _locker(db) as locker:
        return work(locker)


@evidence_app.command("add")
def add(
    files: Annotated[list[Path], typer.Argument(help="Files to take in.", exists=True, dir_okay=False)],
    *,
    case: CaseOption,
    actor: ActorOption,
    authority: Annotated[str | None, typer.Option(help="Legal authority: warrant or order.")] = None,
    source: Annotated[str | None, typer.Option(help="Device or source it came from.")] = None,
    place: PlaceOption = None,
    purpose: PurposeOption = None,
    note: Annotated[str | None, typer.Option(help="Free note kept with the item.")] = None,
    db: DbOption = None,
) -> None:
    """Store files in the vault and record their intake; prints each item's id and SHA-256."""
    from tipsom.evidence.locker import Intake

    intake = Intake(case, actor, authority=authority, source=source, place=place, purpose=purpose, note=note)
    for item, new in _run(db, lambda locker: locker.add_files(files, intake)):
        print(f"{item.id}\t{item.sha256}\t{item.exhibit_number}\t{item.original_name}"
              + ("" if new else "\t(content already in vault)"))


@evidence_app.command("event")
def record_event(
    item: Annotated[str, typer.Argument(help="Item id, exhibit number or id prefix.")],
    *,
    action: Annotated[CustodyAction, typer.Option(help="What happened (intake is done by add/capture).")],
    actor: ActorOption,
    note: Annotated[str, typer.Option(help="What was done and by whom, in words.")],
    place: PlaceOption = None,
    purpose: PurposeOption = None,
    to: Annotated[str | None, typer.Option("--to", help="Recipient of a transfer.")] = None,
    authorisation: Annotated[str | None, typer.Option(help="Order allowing it (disposal).")] = None,
    corrects: Annotated[str | None, typer.Option(help="Id of the event a correction corrects.")] = None,
    db: DbOption = None,
) -> None:
    """Append one custody event; prints its position and hash."""
    event = _run(db, lambda locker: locker.record(
        item, action, actor, note=note, place=place, purpose=purpose, recipient=to,
        authorisation=authorisation, corrects=corrects,
    ))
    print(f"event {event['seq']}\t{event['id']}\t{event['hash']}")


@evidence_app.command("checkout")
def checkout(
    item: Annotated[str, typer.Argument(help="Item id, exhibit number or id prefix.")],
    dest: Annotated[str, typer.Argument(help="File, or directory (existing or ending in /), for the copy.")],
    actor: ActorOption,
    purpose: PurposeOption = None,
    db: DbOption = None,
) -> None:
    """Write a registered working copy for analysis; the vault copy is never handed out."""
    target = Path(dest)
    if dest.endswith(("/", os.sep)):
        target.mkdir(parents=True, exist_ok=True)
    path, event = _run(db, lambda locker: locker.checkout(item, target, actor, purpose))
    print(f"{path}\tevent {event['seq']}")


@evidence_app.command("list")
def list_items(
    case: Annotated[str | None, typer.Option("--case", help="Only this case.")] = None,
    db: DbOption = None,
) -> None:
    """List exhibits: exhibit number, id, SHA-256, size, name (tab-separated)."""
    for it in _run(db, lambda locker: locker.items(case)):
        print(f"{it.exhibit_number}\t{it.id}\t{it.sha256}\t{it.size}\t{it.original_name}")


@evidence_app.command("verify")
def verify_cmd(
    case: Annotated[str | None, typer.Option("--case", help="Re-hash only this case's files.")] = None,
    seal: Annotated[list[str] | None, typer.Option("--seal", help="Seal to check (repeatable).")] = None,
    quiet: QuietOption = False,
    db: DbOption = None,
) -> None:
    """Re-hash vault files and walk the custody chain; exit 3 naming each failure."""
    from tipsom.evidence.seals import Seal
    from tipsom.evidence.verify import verify

    try:
        given = [(f"--seal {s}", Seal.parse(s)) for s in seal or []]
    except ValueError as exc:
        fail(f"--seal: {exc}", ExitCode.USAGE)
    result = _run(db, lambda locker: verify(locker, case, given))
    for problem in result.problems:
        print(f"FAIL {problem}", file=sys.stderr)
    if not quiet:
        print(f"{result.items_checked} items re-hashed, {result.events_checked} events checked, "
              f"head {result.head}: {'intact' if result.intact else f'{len(result.problems)} problem(s)'}")
    if not result.intact:
        raise typer.Exit(int(ExitCode.INTEGRITY_FAILURE))


@evidence_app.command("seal")
def seal_cmd(
    actor: Annotated[str | None, typer.Option(help="Who issues the seal (default TIPSOM_ACTOR).")] = None,
    note: Annotated[str | None, typer.Option(help="Where the seal will be written down.")] = None,
    db: DbOption = None,
) -> None:
    """Print a seal of the custody log's head, to keep outside the system and check later."""
    from tipsom.settings import get_settings

    print(_run(db, lambda locker: locker.seal(actor or get_settings().actor, note)))


@evidence_app.command("export")
def export(
    case: CaseOption,
    out: Annotated[Path, typer.Option("-o", "--out", help="JSON-LD file to write.")],
    format_: Annotated[ExportFormat, typer.Option("--format", help="Only CASE/UCO 1.5.0 JSON-LD.")] = (
        ExportFormat.case),
    exhibit: Annotated[str | None, typer.Option(help="Only this exhibit (id or number).")] = None,
    db: DbOption = None,
) -> None:
    """Export a case's (or one exhibit's) evidence and custody as CASE/UCO JSON-LD."""
    from tipsom.evidence.case_export import export_case
    from tipsom.settings import get_settings

    graph = _run(db, lambda locker: export_case(locker, case, out, get_settings().actor, exhibit))
    print(f"wrote {out} ({len(graph['@graph'])} nodes)")


@evidence_app.command("new-signing-key")
def new_signing_key(actor: ActorOption, db: DbOption = None) -> None:
    """Start a new custody signing key after the old one was lost (its public key must be trusted first)."""
    from tipsom.evidence.locker import EvidenceLocker

    store = open_store(db, verify_key=False)
    try:
        signer = EvidenceLocker.replace_lost_signing_key(store, actor)
    finally:
        store.dispose()
    print(f"new custody signing key {signer}; back up custody-signing.pem now")


@evidence_app.command("capture")
def capture_cmd(
    target: Annotated[str, typer.Argument(help="http(s) URL, or a saved .html/.mhtml page.")],
    *,
    case: CaseOption,
    actor: Annotated[str | None, typer.Option(help="Operator (default TIPSOM_ACTOR).")] = None,
    authority: Annotated[str | None, typer.Option(help="Legal authority for the capture.")] = None,
    purpose: PurposeOption = None,
    screenshot: Annotated[bool, typer.Option(help="Render a screenshot with Chromium if available.")] = True,
    db: DbOption = None,
) -> None:
    """Capture a page into a WARC exhibit; prints item id, WARC SHA-256 and each payload's SHA-256."""
    from tipsom.evidence.capture import capture
    from tipsom.evidence.locker import Intake
    from tipsom.settings import get_settings

    intake = Intake(case, actor or get_settings().actor, authority=authority, purpose=purpose, source=target)
    intake.check()  # before the page is fetched and stored, so a refused capture leaves nothing in the vault
    result = _run(db, lambda locker: capture(locker, target, intake, screenshot=screenshot))
    print(f"{result.item.id}\t{result.warc_sha256}\t{result.item.exhibit_number}")
    for record in result.records:
        print(f"  {record.record_type}\t{record.sha256}\t{record.uri}")
    print(f"  screenshot: {result.screenshot.value} ({result.screenshot_note})")


@evidence_app.command("report")
def report(
    item: Annotated[str, typer.Argument(help="Item id, exhibit number or id prefix.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="PDF file to write.")],
    db: DbOption = None,
) -> None:
    """Write a printable chain-of-custody PDF for one exhibit (verifies its case first)."""
    from tipsom.evidence.report import custody_report
    from tipsom.settings import get_settings

    check = _run(db, lambda locker: custody_report(locker, item, out, get_settings().actor))
    warning = "" if check.intact else f" (WARNING: {len(check.problems)} integrity problem(s))"
    print(f"wrote {out}{warning}")


@evidence_app.command("ingest-chat")
def ingest_chat_cmd(
    file: Annotated[Path, typer.Argument(help="WhatsApp .txt/.zip, Telegram result.json, xLEAPP TSV(s), CSV.")],
    *,
    case: CaseOption,
    format_: Annotated[ChatFormat, typer.Option("--format", help="Export format (auto: from the name).")] = (
        ChatFormat.AUTO),
    tz: Annotated[str, typer.Option("--tz", help="IANA zone of times written without one.")] = "UTC",
    date_order: Annotated[DateOrder | None, typer.Option(
        "--date-order", help="WhatsApp date order when no date in the file decides (default: phone region's).",
    )] = None,
    actor: Annotated[str | None, typer.Option(help="Who takes it in (default TIPSOM_ACTOR).")] = None,
    authority: Annotated[str | None, typer.Option(help="Legal authority: warrant or order.")] = None,
    source: Annotated[str | None, typer.Option(help="Device or person it came from.")] = None,
    purpose: PurposeOption = None,
    json_: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Keep a chat export as an exhibit and store its messages sealed; a file it cannot read stores nothing."""
    import json

    from tipsom.evidence.chats.ingest import ingest_chat
    from tipsom.evidence.chats.reading import ReadOptions
    from tipsom.evidence.locker import Intake
    from tipsom.settings import get_settings

    settings = get_settings()
    intake = Intake(case, actor or settings.actor, authority=authority, source=source, purpose=purpose)
    options = ReadOptions(timezone=tz, date_order=date_order, region=settings.phone_region)
    result = _run(db, lambda locker: ingest_chat(locker, file, intake, format_, options))
    if json_:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
    else:
        print(f"{result.exhibit.exhibit_number}\t{result.exhibit.sha256}\t{result.format.value}\t"
              f"{result.messages} messages, {result.participants} participants, {result.attachments} attachments")
        for assumption in result.assumptions:
            print(f"  assumed: {assumption}")


@evidence_app.command("chat")
def chat_cmd(
    exhibit: Annotated[str | None, typer.Argument(help="Only this chat exhibit (id or number).")] = None,
    *,
    case: CaseOption,
    search: Annotated[str | None, typer.Option(help="Text, sender or attachment name to look for.")] = None,
    sender: Annotated[str | None, typer.Option(help="Only messages from this name or number.")] = None,
    since: Annotated[str | None, typer.Option(help="From this ISO 8601 time (UTC if no zone).")] = None,
    until: Annotated[str | None, typer.Option(help="Up to this ISO 8601 time (UTC if no zone).")] = None,
    purpose: Annotated[str, typer.Option(help="Why the messages are read (audit log).")] = "case review",
    json_: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Print the case's conversations in time order (one exhibit's with EXHIBIT), filtered; the read is audited."""
    import json

    from tipsom.evidence.chats.timeline import timeline
    from tipsom.settings import get_settings

    entries = _run(db, lambda locker: timeline(locker, case, actor=get_settings().actor, purpose=purpose,
                                               exhibit=exhibit, search=search, sender=sender, since=since,
                                               until=until))
    if json_:
        print(json.dumps([e.as_dict() for e in entries], ensure_ascii=False))
        return
    for e in entries:
        who = e.sender.name if e.sender else f"({e.kind})"
        extra = f" [{', '.join(e.attachments)}]" if e.attachments else ""
        print(f"{e.sent_at}\t{e.exhibit}\t{who}\t{e.text}{extra}".replace("\n", "\n\t\t\t"))


def register(root: typer.Typer) -> None:
    """Add ``tipsom evidence`` and its commands."""
    root.add_typer(evidence_app, name="evidence")
