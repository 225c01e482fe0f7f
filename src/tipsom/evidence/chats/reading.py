"""Choosing the reader of an export, and the options every reader shares.

``auto`` decides from the file's name and, for a ZIP, from the names inside
it, never from a guess at the text: a wrong reader would misread a chat, and
the examiner can always name the format.
"""

from __future__ import annotations

import enum
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tipsom.core.errors import ConfigError, InputError
from tipsom.evidence.chats.records import ChatExport, ChatFormat, Participant


class DateOrder(enum.StrEnum):
    """How a WhatsApp date is written; the app follows the phone's locale."""

    DMY = "dmy"
    MDY = "mdy"
    YMD = "ymd"


#: Regions whose phones write month before day (the locale default when a file cannot tell).
MONTH_FIRST_REGIONS = frozenset({"US", "PH", "FM", "MH", "PW", "BZ", "GU", "PR", "AS", "VI", "UM", "MP"})


@dataclass(frozen=True)
class ReadOptions:
    """What the examiner tells the readers: the zone of naive times, a date order, the phone region."""

    timezone: str = "UTC"
    date_order: DateOrder | None = None
    region: str = ""

    @property
    def zone(self) -> tzinfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"--tz: unknown time zone {self.timezone!r} (give an IANA name such as "
                              "Europe/Paris)") from None

    @property
    def locale_order(self) -> DateOrder:
        return DateOrder.MDY if self.region.upper() in MONTH_FIRST_REGIONS else DateOrder.DMY

    def localise(self, naive: datetime) -> datetime:
        """A naive local time as an aware one in the assumed zone (the earlier reading of a repeated hour)."""
        return naive.replace(tzinfo=self.zone)

    def zone_assumption(self) -> str:
        return f"times written without a zone were read as {self.timezone}"


class People:
    """Participants in order of first appearance, one per key."""

    def __init__(self) -> None:
        self.by_key: dict[str, Participant] = {}

    def add(self, key: str, name: str = "", phone: str = "") -> str:
        if key not in self.by_key:
            self.by_key[key] = Participant(key, name or key, phone)
        return key

    def list(self) -> list[Participant]:
        return list(self.by_key.values())


def detect_format(path: Path) -> ChatFormat:
    """The format a file's name (or a ZIP's members) says it is in."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        return ChatFormat.TELEGRAM
    if suffix == ".txt":
        return ChatFormat.WHATSAPP
    if suffix == ".tsv":
        return ChatFormat.LEAPP
    if suffix == ".csv":
        return ChatFormat.CSV
    if suffix == ".zip" or zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                names = [Path(n).name for n in archive.namelist()]
        except zipfile.BadZipFile as exc:
            raise InputError(f"not a readable ZIP: {exc}", file=path) from None
        if any(n == "result.json" for n in names):
            return ChatFormat.TELEGRAM
        if any(n.lower().endswith(".tsv") for n in names):
            return ChatFormat.LEAPP
        if any(n.lower().endswith(".txt") for n in names):
            return ChatFormat.WHATSAPP
    raise InputError("cannot tell which export this is; give --format whatsapp, telegram, leapp or csv",
                     file=path)


def read_chat(path: Path, fmt: ChatFormat = ChatFormat.AUTO, options: ReadOptions | None = None) -> ChatExport:
    """Read an export into records; a file the reader cannot read raises :class:`InputError` naming where."""
    from tipsom.evidence.chats import delimited, telegram, whatsapp

    options = options or ReadOptions()
    options.zone  # noqa: B018 -- refuse a bad --tz before reading a large file
    chosen = detect_format(path) if fmt is ChatFormat.AUTO else fmt
    readers = {ChatFormat.WHATSAPP: whatsapp.read_whatsapp, ChatFormat.TELEGRAM: telegram.read_telegram,
               ChatFormat.LEAPP: delimited.read_leapp, ChatFormat.CSV: delimited.read_messages_csv}
    export = readers[chosen](path, options)
    if not export.messages:
        raise InputError(f"no message found in this {chosen.value} export", file=path)
    return export


def decode_text(data: bytes, path: Path | str) -> str:
    """UTF-8 text (with or without a byte-order mark); bytes that are not text are refused with their line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError(f"byte {exc.start}: not UTF-8 text ({exc.reason})", file=path, row=line) from None
    bad = _BINARY.search(text)
    if bad is not None:
        raise InputError(f"control character {bad.group()!a} in a text export: binary data, not a chat",
                         file=path, row=text.count("\n", 0, bad.start()) + 1)
    return text


#: Control characters no chat app writes into an export's text (tab, CR and LF are fine).
_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
