"""What every context importer shares: the source list, the issue report and CSV reading.

Context files come from many publishers, in several encodings and with header
spellings that change between releases. Importers never drop a row silently:
anything they cannot use, or use only with a caveat, becomes an
:class:`ImportIssue` naming the file, the line, the field and the reason, so an
analyst can check the original.
"""

from __future__ import annotations

import csv
import enum
import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from tipsom.core.errors import InputError


class Source(enum.StrEnum):
    """The context data sets tipsom can import (the ``--source`` values)."""

    UCDP = "ucdp"
    ACLED = "acled"
    IDMC = "idmc"
    IDMC_DISASTERS = "idmc-disasters"
    EMDAT = "emdat"
    WDI = "wdi"
    UNHCR = "unhcr"
    MMP = "mmp"
    POPULATION = "population"


class Severity(enum.StrEnum):
    """How an issue affected the row: rejected, or kept with a caveat."""

    REJECTED = "rejected"
    WARNING = "warning"


class EventKind(enum.StrEnum):
    """Events that can push people to move: the two families the flags look for."""

    CONFLICT = "conflict"
    DISASTER = "disaster"


@dataclass(frozen=True)
class ImportIssue:
    """One problem found in an input file, precise enough to find the cell again."""

    file: str
    line: int
    field: str
    reason: str
    severity: Severity

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        column = f" [{self.field}]" if self.field else ""
        return f"{where}{column} {self.severity.value}: {self.reason}"


class ContextInputError(InputError):
    """The file as a whole cannot be read as the requested source."""


@dataclass
class IssueLog:
    """Collects issues for one file; importers add to it as they read."""

    file: str
    issues: list[ImportIssue] = field(default_factory=list)

    def reject(self, line: int, column: str, reason: str) -> None:
        self.issues.append(ImportIssue(self.file, line, column, reason, Severity.REJECTED))

    def warn(self, line: int, column: str, reason: str) -> None:
        self.issues.append(ImportIssue(self.file, line, column, reason, Severity.WARNING))


def _norm_header(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", name.strip().lower()).strip()


@dataclass(frozen=True)
class Row:
    """One CSV record with its physical line number and alias-aware access."""

    line: int
    values: Mapping[str, str]
    raw: Mapping[str, str]

    def get(self, key: str) -> str:
        return self.values.get(key, "").strip()


@dataclass
class Table:
    """A delimited file read into rows whose keys are our canonical field names."""

    path: Path
    encoding: str
    rows: list[Row]
    present: frozenset[str]
    header: list[str]

    def has(self, key: str) -> bool:
        return key in self.present


def detect_encoding(raw: bytes) -> str:
    """UTF-8 (with or without BOM) when the bytes decode, else Windows-1252.

    The Missing Migrants files circulate in both; cp1252 accepts almost any byte
    sequence, so it is the fallback rather than the first guess.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def read_text(path: Path, encoding: str | None = None) -> tuple[str, str]:
    """The file's text and the encoding used to decode it."""
    raw = path.read_bytes()
    used = encoding or detect_encoding(raw)
    try:
        return raw.decode(used), used
    except UnicodeDecodeError as exc:
        raise ContextInputError(f"{path}: cannot decode as {used}: {exc}") from exc


def _xlsx_as_csv(path: Path) -> tuple[str, str]:
    """The first sheet of a workbook as CSV text (EM-DAT publishes xlsx)."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a bad file
        raise ContextInputError(f"{path}: cannot read workbook: {exc}") from exc
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for values in book.worksheets[0].iter_rows(values_only=True):
        writer.writerow(["" if v is None else str(v).replace("\n", " ") for v in values])
    book.close()
    return out.getvalue(), "xlsx"


def read_table(
    path: Path,
    aliases: Mapping[str, Sequence[str]],
    required: Sequence[str],
    encoding: str | None = None,
    header_hint: str | None = None,
) -> Table:
    """Read a CSV whose columns are matched to canonical names through ``aliases``.

    ``aliases`` maps each canonical field to header spellings seen in the wild
    (compared case- and punctuation-insensitively). ``header_hint`` lets files
    with a preamble (UNHCR, World Bank) start at the first line containing it.
    A missing required column is an error for the whole file.
    """
    text, used = _xlsx_as_csv(path) if path.suffix.lower() == ".xlsx" else read_text(path, encoding)
    lines = text.splitlines(keepends=True)
    skip = 0
    if header_hint:
        hint = _norm_header(header_hint)
        for i, raw_line in enumerate(lines):
            if hint in _norm_header(raw_line):
                skip = i
                break
        else:
            raise ContextInputError(f"{path}: no header line containing {header_hint!r}")
    body = "".join(lines[skip:])
    reader = csv.reader(io.StringIO(body, newline=""))
    try:
        header = next(reader)
    except StopIteration as exc:
        raise ContextInputError(f"{path}: the file is empty") from exc
    lookup: dict[str, str] = {}
    for canonical, spellings in aliases.items():
        wanted = {_norm_header(s) for s in (canonical, *spellings)}
        for column in header:
            if _norm_header(column) in wanted:
                lookup[column] = canonical
                break
    present = frozenset(lookup.values())
    missing = [name for name in required if name not in present]
    if missing:
        found = ", ".join(h if h.isprintable() else repr(h)[1:-1] for h in header if h)  # one line, always
        raise ContextInputError(f"{path}: missing column(s) {', '.join(missing)}; found {found}")
    rows: list[Row] = []
    try:
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            raw = dict(zip(header, record, strict=False))
            values = {lookup[h]: v for h, v in raw.items() if h in lookup}
            rows.append(Row(reader.line_num + skip, values, raw))
    except csv.Error as exc:  # an oversized field: the reader cannot go on
        line = reader.line_num + skip + 1
        raise ContextInputError(f"{path}: line {line}: not a readable CSV record ({exc})") from None
    return Table(path, used, rows, present, header)


#: How publishers write "no value": read as unknown without a word.
_UNKNOWN = frozenset({"", "..", "-", "NA", "N/A", "None"})


def parse_number(text: str) -> float | None:
    """A count or value as published: blanks, '..' and '-' mean unknown, commas group digits.

    ``ValueError`` for anything else that is not a finite number: ``NaN`` (a
    computation gone wrong upstream, not a publisher's blank) and values such as
    ``1e400`` or ``inf`` would otherwise be stored as NaN or infinity and
    silently poison every index and total computed from them.
    """
    cleaned = text.strip().replace(",", "").replace("\u202f", "").replace(" ", "")
    if cleaned in _UNKNOWN:
        return None
    try:
        value = float(cleaned)
    except ValueError:
        raise ValueError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {text!r}")
    return value


def number_field(row: Row, key: str, log: IssueLog, *, allow_negative: bool = False) -> float | None:
    """Parse ``key`` of ``row``; a malformed value is reported and treated as unknown."""
    text = row.get(key)
    try:
        value = parse_number(text)
    except ValueError as exc:
        log.warn(row.line, key, f"{exc}; treated as unknown")
        return None
    if value is not None and value < 0 and not allow_negative:
        log.warn(row.line, key, f"negative count {value:g}; treated as unknown")
        return None
    return value


_DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%d/%m/%Y", "%Y/%m/%d", "%d-%b-%y", "%d %b %Y")


def parse_date(text: str) -> date | None:
    """ISO dates and the day-first spellings ACLED and IDMC exports use; None when blank."""
    cleaned = text.strip()
    if not cleaned:
        return None
    candidate = cleaned[:10] if re.match(r"^\d{4}-\d{2}-\d{2}", cleaned) else cleaned
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(candidate, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"unrecognised date {cleaned!r}")


def date_field(row: Row, key: str, log: IssueLog) -> date | None:
    """Parse a date column, reporting values that are not dates."""
    try:
        return parse_date(row.get(key))
    except ValueError as exc:
        log.warn(row.line, key, str(exc))
        return None

