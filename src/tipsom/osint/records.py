"""Reading ads and posts: JSON Lines, CSV, WARC captures and saved HTML.

Every ad keeps the SHA-256 of the exact bytes it was read from, its URL and
its capture time, so that whatever is found about it later can be traced back
to preserved evidence and an evidence package can be assembled for a cluster.
A record that cannot be read is reported with its file, row, field and reason;
it is never dropped silently.
"""

from __future__ import annotations

import csv
import enum
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

from tipsom.core.cells import restore_all
from tipsom.core.errors import InputError
from tipsom.core.textinput import parse_json
from tipsom.core.textnorm import strip_html


class InputFormat(enum.StrEnum):
    JSONL = "jsonl"
    CSV = "csv"
    WARC = "warc"
    HTML = "html"


_SUFFIXES = {
    ".jsonl": InputFormat.JSONL, ".ndjson": InputFormat.JSONL, ".csv": InputFormat.CSV,
    ".html": InputFormat.HTML, ".htm": InputFormat.HTML,
}


@dataclass(frozen=True, slots=True)
class Ad:
    ad_id: str
    text: str
    title: str = ""
    url: str = ""
    source: str = ""
    posted_at: datetime | None = None
    location: str = ""
    price: str = ""
    #: SHA-256 of the raw bytes the ad was read from (line, CSV record or HTTP payload).
    raw_sha256: str = ""
    captured_at: datetime | None = None
    #: Where it was read: ``file:row`` or ``file#warc-record-id``.
    origin: str = ""

    @property
    def full_text(self) -> str:
        """Title and body together: both carry identifiers and indicators."""
        return f"{self.title}\n{self.text}" if self.title else self.text


@dataclass(frozen=True, slots=True)
class BadRecord:
    """One record that could not be read, and why."""

    path: str
    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: row {self.row}: field {self.field!r}: {self.reason}"


class AdInputError(InputError):
    """Input that cannot be read at all (unknown format, unreadable file)."""


def parse_timestamp(value: Any) -> datetime:
    """ISO 8601 date or date-time (``Z`` allowed); naive values are taken as UTC."""
    text = str(value).strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


_OPTIONAL_TEXT = ("title", "url", "source", "location", "price")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def ad_from_mapping(record: dict[str, Any], raw: bytes, path: str, row: int) -> Ad | BadRecord:
    """Build an ad from one JSON object or CSV row, or say exactly what is wrong."""
    ad_id = str(record.get("id") or record.get("ad_id") or "").strip()
    if not ad_id:
        return BadRecord(path, row, "id", "missing or empty")
    text = record.get("text")
    if text is None or not isinstance(text, str) or not (text.strip() or str(record.get("title") or "").strip()):
        return BadRecord(path, row, "text", "missing or empty (and no title)")
    values: dict[str, Any] = {}
    for name in _OPTIONAL_TEXT:
        value = record.get(name)
        if value is not None and not isinstance(value, str | int | float):
            return BadRecord(path, row, name, f"expected text, got {type(value).__name__}")
        values[name] = "" if value is None else str(value)
    for name, value in (("id", ad_id), ("text", text), *values.items()):
        if not _is_unicode_text(value):
            return BadRecord(path, row, name, "not valid Unicode text (a lone surrogate or undecodable bytes)")
    stamps: dict[str, datetime | None] = {}
    for name in ("posted_at", "captured_at"):
        value = record.get(name)
        try:
            stamps[name] = parse_timestamp(value) if value not in (None, "") else None
        except ValueError:
            return BadRecord(path, row, name, f"not an ISO 8601 date or date-time: {value!r}")
    digest = str(record.get("raw_sha256") or "").lower()
    if digest and not _SHA256.fullmatch(digest):
        return BadRecord(path, row, "raw_sha256", "not 64 hexadecimal digits")
    return Ad(ad_id=ad_id, text=text, raw_sha256=digest or hashlib.sha256(raw).hexdigest(),
              posted_at=stamps["posted_at"], captured_at=stamps["captured_at"], origin=f"{path}:{row}",
              **values)


def _is_unicode_text(value: str) -> bool:
    """Whether ``value`` is text every later step can encode: no lone surrogates.

    JSON may spell a lone surrogate (``"\\ud800"``) and a CSV read with
    ``surrogateescape`` carries undecodable bytes as surrogates; the language
    model and every writer would fail on them far from the record.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _read_jsonl(path: Path) -> Iterator[Ad | BadRecord]:
    with path.open("rb") as fh:
        for row, line in enumerate(fh, start=1):
            raw = line.rstrip(b"\r\n")
            if not raw.strip():
                continue
            try:
                record = parse_json(raw, file=path, row=row)
            except InputError as exc:
                yield BadRecord(str(path), row, "*", exc.reason)
                continue
            if not isinstance(record, dict):
                yield BadRecord(str(path), row, "*", "a line must hold one JSON object")
                continue
            yield ad_from_mapping(record, raw, str(path), row)


class _RecordingLines:
    """Feeds lines to ``csv.reader`` and remembers them, to hash each record's raw bytes."""

    def __init__(self, handle: TextIO) -> None:
        self._handle = handle
        self.consumed: list[str] = []

    def __iter__(self) -> _RecordingLines:
        return self

    def __next__(self) -> str:
        line = self._handle.readline()
        if not line:
            raise StopIteration
        self.consumed.append(line)
        return line


def _read_csv(path: Path) -> Iterator[Ad | BadRecord]:
    # Undecodable bytes become surrogates, so that one record in Latin-1 is one
    # bad record (found by ``_is_unicode_text``) rather than the end of the file.
    with path.open("r", encoding="utf-8", errors="surrogateescape", newline="") as fh:
        lines = _RecordingLines(fh)
        reader = csv.reader(lines)
        row = 1
        try:
            header = next(reader, None)
            if header is None:
                return
            if not all(_is_unicode_text(name) and "\x00" not in name for name in header):
                yield BadRecord(str(path), 1, "*", "the header is not UTF-8 text (a binary file?); "
                                "save the file as UTF-8 CSV")
                return
            if "id" not in header and "ad_id" not in header:
                yield BadRecord(str(path), 1, "id", "the header has no 'id' column")
                return
            lines.consumed.clear()
            for row, values in enumerate(reader, start=2):
                yield from _csv_record(path, row, header, restore_all(values), "".join(lines.consumed))
                lines.consumed.clear()
        except csv.Error as exc:  # NUL bytes, an oversized field: the reader cannot go on
            yield BadRecord(str(path), row + 1, "*", f"not a readable CSV record ({exc})")


def _csv_record(path: Path, row: int, header: list[str], values: list[str], text: str) -> Iterator[Ad | BadRecord]:
    """The ad of one CSV record; ``text`` is the record as read, hashed as its raw bytes."""
    raw = text.rstrip("\r\n").encode("utf-8", errors="surrogateescape")
    if not any(v.strip() for v in values):
        return
    if len(values) != len(header):
        yield BadRecord(str(path), row, "*", f"{len(values)} values for {len(header)} columns")
        return
    yield ad_from_mapping(dict(zip(header, values, strict=True)), raw, str(path), row)


_META = re.compile(
    r"<meta\s+[^>]*(?:property|name)=[\"'](?P<name>[^\"']+)[\"'][^>]*content=[\"'](?P<content>[^\"']*)[\"']",
    re.IGNORECASE,
)
_TITLE = re.compile(r"<title[^>]*>(?P<t>.*?)</title>", re.IGNORECASE | re.DOTALL)
_BODY = re.compile(r"<body[^>]*>(?P<b>.*)</body>", re.IGNORECASE | re.DOTALL)
_POSTED_META = ("article:published_time", "og:published_time", "date", "dc.date", "pubdate")
_LOCATION_META = ("geo.placename", "og:locality", "ad:location")


def ad_from_html(html_text: str, raw: bytes, *, url: str, captured_at: datetime | None, origin: str,
                 ad_id: str = "") -> Ad:
    """An ad from a saved or captured page: title, visible body text, and meta dates."""
    meta = {m.group("name").lower(): m.group("content") for m in _META.finditer(html_text)}
    title_match = _TITLE.search(html_text)
    body_match = _BODY.search(html_text)
    body = body_match.group("b") if body_match else html_text
    posted = next((meta[k] for k in _POSTED_META if k in meta), "")
    try:
        posted_at = parse_timestamp(posted) if posted else None
    except ValueError:
        posted_at = None  # a page's own meta date is a hint, not a record field the user supplied
    digest = hashlib.sha256(raw).hexdigest()
    return Ad(
        ad_id=ad_id or f"sha256:{digest[:16]}", text=strip_html(body),
        title=strip_html(title_match.group("t")).strip() if title_match else "",
        url=url, source=url.split("/")[2] if url.count("/") >= 2 else "", posted_at=posted_at,
        location=next((meta[k] for k in _LOCATION_META if k in meta), ""),
        raw_sha256=digest, captured_at=captured_at, origin=origin,
    )


@dataclass(frozen=True, slots=True)
class _WarcPage:
    """One HTML response of a WARC file, as warcio read it."""

    number: int
    record_id: str
    url: str
    content_type: str
    warc_date: str
    payload: bytes


def _read_warc(path: Path) -> Iterator[Ad | BadRecord]:
    n = 0
    pages = _warc_pages(path)
    while True:
        try:
            page = next(pages, None)
        except Exception:  # warcio fails on damaged input with whatever it hits (AttributeError, zlib.error...)
            # Nothing after a damaged record can be located, so reading stops here;
            # warcio's message quotes raw bytes, which would break the one-line report.
            yield BadRecord(str(path), n + 1, "*", "not a WARC record: the file is damaged, cut short or not WARC")
            return
        if page is None:
            return
        n = page.number
        try:
            captured = parse_timestamp(page.warc_date)
        except ValueError:
            yield BadRecord(str(path), n, "WARC-Date", "missing or not ISO 8601")
            continue
        charset = re.search(r"charset=([\w-]+)", page.content_type)
        try:
            text = page.payload.decode(charset.group(1) if charset else "utf-8", errors="strict")
        except (UnicodeDecodeError, LookupError) as exc:
            yield BadRecord(str(path), n, "payload", f"cannot decode page {page.url}: {exc}")
            continue
        yield ad_from_html(text, page.payload, url=page.url, captured_at=captured,
                           origin=f"{path}#{page.record_id}")


def _warc_pages(path: Path) -> Iterator[_WarcPage]:
    """The HTML responses of a WARC file, numbered by record; only warcio's reading happens here."""
    from warcio.archiveiterator import ArchiveIterator

    with path.open("rb") as fh:
        for n, record in enumerate(ArchiveIterator(fh), start=1):
            if record.rec_type != "response":
                continue
            headers = record.http_headers
            ctype = (headers.get_header("Content-Type") if headers else "") or ""
            if "html" not in ctype.lower():
                continue
            yield _WarcPage(n, record.rec_headers.get_header("WARC-Record-ID") or f"record-{n}",
                            record.rec_headers.get_header("WARC-Target-URI") or "", ctype,
                            record.rec_headers.get_header("WARC-Date") or "", record.content_stream().read())


def _read_html(path: Path) -> Iterator[Ad | BadRecord]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        yield BadRecord(str(path), 1, "payload", f"not UTF-8: {exc}")
        return
    stat_time = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    yield ad_from_html(text, raw, url=path.resolve().as_uri(), captured_at=stat_time, origin=str(path))


_READERS = {InputFormat.JSONL: _read_jsonl, InputFormat.CSV: _read_csv, InputFormat.WARC: _read_warc,
            InputFormat.HTML: _read_html}


def input_format(path: Path) -> InputFormat:
    name = path.name.lower()
    if name.endswith((".warc.gz", ".warc")):
        return InputFormat.WARC
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise AdInputError(f"{path}: unknown input format (use .jsonl, .csv, .warc[.gz] or .html)")
    return fmt


def iter_records(path: Path) -> Iterator[Ad | BadRecord]:
    """Ads and bad records from a file, or from every readable file in a folder."""
    if not path.exists():
        raise AdInputError(f"{path}: no such file or folder")
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            try:
                fmt = input_format(file)
            except AdInputError:
                continue  # folders may hold other files (checksums, notes)
        else:
            fmt = input_format(file)
        yield from _READERS[fmt](file)


@dataclass
class AdBatch:
    ads: list[Ad]
    bad: list[BadRecord]


def read_ads(path: Path) -> AdBatch:
    """All ads of ``path`` and every record that could not be read.

    Duplicate ids are reported as bad records: two ads with one id would make
    clusters and evidence references ambiguous.
    """
    ads: list[Ad] = []
    bad: list[BadRecord] = []
    seen: dict[str, str] = {}
    for item in iter_records(path):
        if isinstance(item, BadRecord):
            bad.append(item)
        elif item.ad_id in seen:
            file, _, row = item.origin.rpartition(":")
            bad.append(BadRecord(file or item.origin, int(row) if row.isdigit() else 0, "id",
                                 f"duplicate id {item.ad_id!r} (first at {seen[item.ad_id]})"))
        else:
            seen[item.ad_id] = item.origin
            ads.append(item)
    return AdBatch(ads, bad)
