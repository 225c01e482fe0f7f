"""WhatsApp "Export chat" text, bare or in the ZIP the app writes with the media.

Android writes ``31/12/2024, 23:59 - Name: text``, iOS ``[31/12/2024, 23:59:59] Name: text``
(often after a left-to-right mark, U+200E); both follow the phone's locale for
the date order, the separator and the clock (``11:59 PM``, recently with a
narrow no-break space, U+202F, before ``PM``). A line that does not start with
a timestamp continues the message above it (messages can span lines).

What counts as unreadable, so that a damaged file is refused rather than
silently merged into a message: bytes that are not UTF-8 text or hold control
characters, a first line that is not a timestamped message, and a line that
*starts like a timestamp* (a full date with its year, then a comma or space,
then a number) but does not parse as one of the two layouts or gives an
impossible date or time. A person rarely starts a continuation line with a
full date followed by a number ("12/05/2024 9h at the station" would be
refused, naming its line, for the examiner to judge); a date without its year, or
followed by words, continues the message as written.

The date order is read from the whole file: a first number above 12 means
day first, a second above 12 month first; a file where no date decides follows
``--date-order`` or, failing that, the phone region's locale, and the
assumption is recorded.
"""

from __future__ import annotations

import re
import zipfile
from datetime import datetime
from pathlib import Path, PurePosixPath

from tipsom.core.errors import InputError
from tipsom.core.identifiers import canonical_phone
from tipsom.evidence.chats.reading import DateOrder, People, ReadOptions, decode_text
from tipsom.evidence.chats.records import (
    Attachment,
    AttachmentState,
    ChatExport,
    ChatFormat,
    Message,
    MessageKind,
    Thread,
)

LRM = "\u200e"
_STAMP = (r"(?P<date>\d{1,4}[./-]\d{1,2}[./-]\d{1,4})\.?,?\s(?P<time>\d{1,2}[:.]\d{2}(?:[:.]\d{2})?)"
          r"(?:[\s\u202f\u00a0]?(?P<ampm>[AaPp]\.?\s?[Mm]\.?))?")
_ANDROID = re.compile(rf"{_STAMP} - (?P<rest>.*)")
_IOS = re.compile(rf"\[{_STAMP}\] (?P<rest>.*)")
#: Where a header would be: a full date (day, month and year), then a comma or space, then a number.
_LOOKS_STAMPED = re.compile(r"\[?\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\.?,?\s+\d")
_DATE_PARTS = re.compile(r"[./-]")
_FILE_ATTACHED = re.compile(r"(?P<name>\S.*?\.\w{1,5}) \(file attached\)")
_IOS_ATTACHED = re.compile(r"<attached: (?P<name>[^>]+)>")
_OMITTED_KINDS = ("image", "video", "audio", "sticker", "GIF", "document", "Contact card")
_IOS_OMITTED = re.compile(rf"(?P<kind>{'|'.join(_OMITTED_KINDS)}) omitted", re.IGNORECASE)
_MEDIA_OMITTED = "<Media omitted>"
_PHONE_NAME = re.compile(r"\+?[\d\s\-().]{7,}")
_CHAT_WITH = re.compile(r"WhatsApp Chat (?:with|-) (?P<title>.+)\.txt", re.IGNORECASE)


def read_whatsapp(path: Path, options: ReadOptions) -> ChatExport:
    """Read a WhatsApp export: the ``.txt`` alone, or the app's ZIP (chat text and media files)."""
    if zipfile.is_zipfile(path):
        chat_name, data, media = _from_zip(path)
        where = f"{path}!{chat_name}"
    else:
        chat_name, data, media, where = path.name, path.read_bytes(), frozenset(), str(path)
    return parse_whatsapp(decode_text(data, where), where, options, media, _title(chat_name))


def _from_zip(path: Path) -> tuple[str, bytes, frozenset[str]]:
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
            texts = [n for n in names if PurePosixPath(n).name == "_chat.txt"
                     or _CHAT_WITH.fullmatch(PurePosixPath(n).name)]
            if not texts:
                texts = [n for n in names if n.lower().endswith(".txt")]
            if len(texts) != 1:
                raise InputError(f"expected one chat text (_chat.txt or 'WhatsApp Chat with ….txt') in the ZIP, "
                                 f"found {len(texts)}", file=path)
            data = archive.read(texts[0])
    except zipfile.BadZipFile as exc:
        raise InputError(f"damaged ZIP: {exc}", file=path) from None
    media = frozenset(PurePosixPath(n).name for n in names if n != texts[0])
    return texts[0], data, media


def _title(chat_name: str) -> str:
    found = _CHAT_WITH.fullmatch(PurePosixPath(chat_name).name)
    return found.group("title") if found else PurePosixPath(chat_name).stem


_Header = tuple[int, re.Match[str], bool]


def parse_whatsapp(text: str, where: str, options: ReadOptions, media: frozenset[str] = frozenset(),
                   title: str = "chat") -> ChatExport:
    """Records from the text of an export; ``media`` names the files that came with it."""
    lines = text.split("\n")
    headers: list[_Header] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r").lstrip(LRM)
        found = _IOS.fullmatch(line)
        ios = found is not None
        if found is None:
            found = _ANDROID.fullmatch(line)
        if found is not None:
            headers.append((number, found, ios))
        elif _LOOKS_STAMPED.match(line):
            raise InputError("starts like a timestamped message but is in no WhatsApp layout", file=where,
                             row=number)
        elif not headers and line.strip():
            raise InputError("the first line is not a timestamped WhatsApp message", file=where, row=number)
    if not headers:
        raise InputError("no timestamped WhatsApp message in the file", file=where)
    export = ChatExport(ChatFormat.WHATSAPP, threads=[Thread("chat", title)], timezone=options.timezone)
    order = _date_order(headers, where, options, export.assumptions)
    export.assumptions.append(options.zone_assumption())
    people = People()
    for index, (number, found, ios) in enumerate(headers):
        end = headers[index + 1][0] - 1 if index + 1 < len(headers) else len(lines)
        body = "\n".join([found.group("rest"), *(ln.rstrip("\r") for ln in lines[number:end])]).rstrip("\n")
        sent_at = options.localise(_when(found, order, where, number))
        export.messages.append(_message(body, sent_at, ios, f"line {number}", people, media, options))
    export.participants = people.list()
    return export


def _date_order(headers: list[_Header], where: str, options: ReadOptions, assumptions: list[str]) -> DateOrder:
    if options.date_order is not None:
        assumptions.append(f"date order {options.date_order.value} as given by --date-order")
        return options.date_order
    day_first = month_first = None
    for number, found, _ios in headers:
        first, second, _third = _DATE_PARTS.split(found.group("date"))
        if len(first) == 4:
            assumptions.append("date order ymd: the year is written first")
            return DateOrder.YMD
        if int(first) > 12 and day_first is None:
            day_first = number
        if int(second) > 12 and month_first is None:
            month_first = number
    if day_first and month_first:
        raise InputError(f"dates in two orders: line {day_first} is day first, line {month_first} month first",
                         file=where, row=max(day_first, month_first))
    if day_first:
        assumptions.append(f"date order dmy: line {day_first} has a day above 12 first")
        return DateOrder.DMY
    if month_first:
        assumptions.append(f"date order mdy: line {month_first} has a day above 12 second")
        return DateOrder.MDY
    order = options.locale_order
    assumptions.append(f"date order {order.value} assumed from the locale"
                       f"{' of ' + options.region if options.region else ''}: no date in the file decides")
    return order


def _when(found: re.Match[str], order: DateOrder, where: str, number: int) -> datetime:
    parts = [int(p) for p in _DATE_PARTS.split(found.group("date"))]
    if order is DateOrder.YMD:
        year, month, day = parts
    elif order is DateOrder.DMY:
        day, month, year = parts
    else:
        month, day, year = parts
    if year < 100:
        year += 2000
    clock = [int(p) for p in re.split(r"[:.]", found.group("time"))]
    hour, minute, second = clock[0], clock[1], clock[2] if len(clock) > 2 else 0
    if ampm := found.group("ampm"):
        if not 1 <= hour <= 12:
            raise InputError(f"hour {hour} on a 12-hour clock", file=where, row=number)
        hour = hour % 12 + (12 if ampm[0] in "Pp" else 0)
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError as exc:
        raise InputError(f"impossible date or time {found.group('date')} {found.group('time')} "
                         f"read {order.value}: {exc}", file=where, row=number) from None


def _message(body: str, sent_at: datetime, ios: bool, origin: str, people: People, media: frozenset[str],
             options: ReadOptions) -> Message:
    name, sep, text = body.partition(": ")
    if not sep or (ios and text.startswith(LRM) and not _attachment(text.lstrip(LRM), media)[0]):
        return Message("chat", sent_at, None, body.replace(LRM, ""), MessageKind.SYSTEM, origin)
    name = name.replace(LRM, "").strip()
    phone = canonical_phone(name, options.region or None) if _PHONE_NAME.fullmatch(name) else ""
    sender = people.add(name, name, phone)
    attachments, text = _attachment(text.lstrip(LRM), media)
    return Message("chat", sent_at, sender, text, MessageKind.TEXT, origin, attachments)


def _attachment(text: str, media: frozenset[str]) -> tuple[tuple[Attachment, ...], str]:
    """The attachment a message's first line announces, and the text left (a caption)."""
    first, _nl, rest = text.partition("\n")
    first = first.strip().replace(LRM, "")
    if first == _MEDIA_OMITTED:
        return (Attachment("", AttachmentState.OMITTED),), rest
    if found := _IOS_OMITTED.fullmatch(first):
        return (Attachment("", AttachmentState.OMITTED, found.group("kind").lower()),), rest
    found = _FILE_ATTACHED.fullmatch(first) or _IOS_ATTACHED.fullmatch(first)
    if found:
        name = found.group("name").strip()
        state = AttachmentState.INCLUDED if name in media else AttachmentState.NAMED
        return (Attachment(name, state),), rest
    return (), text
