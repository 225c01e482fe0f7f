"""Tables of messages: the TSV reports of ALEAPP/iLEAPP and a generic CSV from any extraction tool.

The xLEAPP tools write one TSV per artefact (SMS, iMessage, app chats,
contacts, call logs) under ``_TSV Exports``, each with the column titles of
its report, which differ between artefacts and versions. Columns are therefore
recognised by their titles (:data:`COLUMNS`), not by position; a TSV whose
titles name a text column is read as messages, one naming a duration or call
type as a call log (each call a timeline entry), one naming only a name and a
number as contacts (participants' names). Give one TSV, or a ZIP of the report's
TSV folder.

The generic CSV has a header with at least ``timestamp``, ``sender`` and
``text`` (``recipient``, ``thread`` and ``attachment`` optional); times are
ISO 8601, with a zone or read in the assumed one.
"""

from __future__ import annotations

import csv
import enum
import io
import re
import zipfile
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from tipsom.core.errors import InputError
from tipsom.core.identifiers import canonical_phone
from tipsom.evidence.chats.reading import People, ReadOptions, decode_text
from tipsom.evidence.chats.records import (
    Attachment,
    AttachmentState,
    ChatExport,
    ChatFormat,
    Message,
    MessageKind,
    Participant,
    Thread,
)


class Column(enum.StrEnum):
    TIME = "time"
    TEXT = "text"
    SENDER = "sender"
    RECIPIENT = "recipient"
    THREAD = "thread"
    DIRECTION = "direction"
    ATTACHMENT = "attachment"
    NAME = "name"
    NUMBER = "number"
    DURATION = "duration"


#: Column titles seen in xLEAPP reports, lower-cased, with a zone suffix such as "(UTC)" removed.
COLUMNS: dict[Column, tuple[str, ...]] = {
    Column.TIME: ("message timestamp", "timestamp", "date", "date sent", "message date", "sent timestamp",
                  "call date", "call timestamp", "date/time", "datetime", "start time", "creation date",
                  "message sent date", "received timestamp"),
    Column.TEXT: ("message", "body", "message text", "text", "message body", "content"),
    Column.SENDER: ("from", "sender", "sender name", "address", "from number", "sender id", "author"),
    Column.RECIPIENT: ("to", "recipient", "to number", "recipient name"),
    Column.THREAD: ("thread id", "chat id", "conversation id", "thread", "chat", "conversation", "chat name"),
    Column.DIRECTION: ("message direction", "direction", "type", "call type"),
    Column.ATTACHMENT: ("attachment", "attachment name", "attachment file", "attachments", "attachment path"),
    Column.NAME: ("name", "display name", "contact name", "full name"),
    Column.NUMBER: ("phone number", "number", "phone numbers", "mobile", "partner", "contact"),
    Column.DURATION: ("duration", "call duration"),
}
#: The generic CSV's own column names.
CSV_COLUMNS: dict[Column, tuple[str, ...]] = {
    Column.TIME: ("timestamp",), Column.SENDER: ("sender",), Column.TEXT: ("text",),
    Column.RECIPIENT: ("recipient",), Column.THREAD: ("thread",), Column.ATTACHMENT: ("attachment",),
}
_ZONE_SUFFIX = re.compile(r"\s*\((?:utc|gmt|local)[^)]*\)\s*$", re.IGNORECASE)


def read_leapp(path: Path, options: ReadOptions) -> ChatExport:
    export = ChatExport(ChatFormat.LEAPP, timezone=options.timezone)
    people = People()
    contacts: dict[str, str] = {}
    naive = 0
    for where, text in _tsv_files(path):
        rows = csv.reader(io.StringIO(text, newline=""), delimiter="\t")
        header = next(rows, None)
        if header is None:
            continue
        columns = _columns(header, COLUMNS)
        if Column.TEXT in columns or Column.DURATION in columns:
            kind = MessageKind.TEXT if Column.TEXT in columns else MessageKind.CALL
            thread = PurePosixPath(where).stem
            export.threads.append(Thread(thread, thread))
            naive += _read_rows(rows, columns, header, where, thread, kind, options, people, export)
        elif Column.NAME in columns and Column.NUMBER in columns:
            for row_number, row in enumerate(rows, start=2):
                name, number = _cell(row, columns, Column.NAME), _cell(row, columns, Column.NUMBER)
                if number:
                    contacts[canonical_phone(number, options.region or None)] = name
                elif not name and any(row):
                    raise InputError("a contact with neither name nor number", file=where, row=row_number)
    # A sender known only by number takes its name from the phone's contacts, when they name it.
    export.participants = [p if p.name != p.key or p.phone not in contacts
                           else Participant(p.key, contacts[p.phone], p.phone) for p in people.list()]
    _assume(export, naive, options)
    return export


def read_messages_csv(path: Path, options: ReadOptions) -> ChatExport:
    where = str(path)
    text = decode_text(path.read_bytes(), where)
    rows = csv.reader(io.StringIO(text, newline=""))
    header = next(rows, None)
    if header is None:
        raise InputError("empty file", file=where)
    columns = _columns(header, CSV_COLUMNS)
    missing = [c.value for c in (Column.TIME, Column.SENDER, Column.TEXT) if c not in columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(CSV_COLUMNS[Column(m)][0] for m in missing)}",
                         file=where, row=1)
    export = ChatExport(ChatFormat.CSV, timezone=options.timezone)
    people = People()
    naive = _read_rows(rows, columns, header, where, "", MessageKind.TEXT, options, people, export)
    export.threads = [Thread(key, key) for key in dict.fromkeys(m.thread for m in export.messages)]
    export.participants = people.list()
    _assume(export, naive, options)
    return export


def _assume(export: ChatExport, naive: int, options: ReadOptions) -> None:
    if naive:
        export.assumptions.append(f"{options.zone_assumption()} ({naive} rows without a zone)")
    else:
        export.assumptions.append("every time carries its zone (or a UTC column title); no zone assumed")


def _tsv_files(path: Path) -> Iterator[tuple[str, str]]:
    if not zipfile.is_zipfile(path):
        yield str(path), decode_text(path.read_bytes(), path)
        return
    try:
        with zipfile.ZipFile(path) as archive:
            names = sorted(n for n in archive.namelist() if n.lower().endswith(".tsv"))
            if not names:
                raise InputError("no TSV report in the ZIP", file=path)
            for name in names:
                where = f"{path}!{name}"
                yield where, decode_text(archive.read(name), where)
    except zipfile.BadZipFile as exc:
        raise InputError(f"damaged ZIP: {exc}", file=path) from None


def _columns(header: list[str], known: Mapping[Column, tuple[str, ...]]) -> dict[Column, tuple[int, bool]]:
    """Each recognised column's index, and whether its title says the times are UTC."""
    found: dict[Column, tuple[int, bool]] = {}
    for index, title in enumerate(header):
        plain = _ZONE_SUFFIX.sub("", title.strip().lower())
        for column, titles in known.items():
            if plain in titles and column not in found:
                found[column] = (index, "utc" in title.lower() or "gmt" in title.lower())
                break
    return found


def _cell(row: list[str], columns: Mapping[Column, tuple[int, bool]], column: Column) -> str:
    if column not in columns:
        return ""
    index = columns[column][0]
    return row[index].strip() if index < len(row) else ""


def _read_rows(rows: Iterator[list[str]], columns: Mapping[Column, tuple[int, bool]], header: list[str],
               where: str, thread: str, kind: MessageKind, options: ReadOptions, people: People,
               export: ChatExport) -> int:
    """Append one message per row; returns how many times were read in the assumed zone."""
    if Column.TIME not in columns:
        raise InputError("no timestamp column", file=where, row=1)
    naive = 0
    region = options.region or None
    for row_number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            raise InputError(f"{len(row)} cells under {len(header)} column titles", file=where, row=row_number)
        written = _cell(row, columns, Column.TIME)
        sent_at, assumed = _time(written, columns[Column.TIME][1], options, where, row_number)
        naive += assumed
        sender_text = _cell(row, columns, Column.SENDER) or (
            _cell(row, columns, Column.NUMBER) if kind is MessageKind.CALL else "")
        sender = None
        if sender_text:
            phone = canonical_phone(sender_text, region) if re.fullmatch(r"\+?[\d\s\-().]{5,}", sender_text) else ""
            sender = people.add(sender_text, sender_text, phone)
        text = _cell(row, columns, Column.TEXT)
        if kind is MessageKind.CALL:
            text = " ".join(v for v in (_cell(row, columns, Column.DIRECTION), "call",
                                        _cell(row, columns, Column.DURATION)) if v)
        attachment = _cell(row, columns, Column.ATTACHMENT)
        export.messages.append(Message(
            _cell(row, columns, Column.THREAD) or thread or "chat", sent_at, sender, text, kind,
            f"row {row_number}", (Attachment(attachment, AttachmentState.NAMED),) if attachment else (),
            recipient=_cell(row, columns, Column.RECIPIENT),
        ))
    return naive


def _time(written: str, utc_column: bool, options: ReadOptions, where: str, row: int) -> tuple[datetime, bool]:
    try:
        value = datetime.fromisoformat(written.replace(" UTC", "+00:00"))
    except ValueError:
        raise InputError(f"unreadable time {written!r} (ISO 8601 expected)", file=where, row=row,
                         field="timestamp") from None
    if value.tzinfo is not None:
        return value, False
    if utc_column:
        return value.replace(tzinfo=UTC), False
    return options.localise(value), True
