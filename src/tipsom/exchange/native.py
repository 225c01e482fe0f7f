"""Native file formats: CSV, XLSX (flat, one row per person) and JSON Lines (documents).

Readers stream: they yield one :class:`Record` at a time, with the row or line
number users see in a spreadsheet or editor, so memory stays flat whatever
the size of the file. Writers take documents and stream them out.
"""

from __future__ import annotations

import csv
import enum
import io
import json
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from tipsom.core.cells import TEXT_MARK, neutral, restore_all, text_cell
from tipsom.core.errors import InputError
from tipsom.schema.document import document_to_flat, flat_columns


class FileFormat(enum.StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    JSONL = "jsonl"

    @classmethod
    def from_path(cls, path: Path) -> FileFormat:
        suffix = path.suffix.lower().lstrip(".")
        if suffix in ("json", "ndjson"):
            return cls.JSONL
        try:
            return cls(suffix)
        except ValueError:
            raise ValueError(f"{path}: cannot tell the format from the extension {path.suffix!r}") from None


@dataclass(frozen=True)
class Record:
    """One raw record as read: its position, its original form, and its document.

    Flat rows (CSV, XLSX) carry ``document=None``: they become documents during
    validation, which may run in a worker process.
    """

    row: int
    original: dict[str, Any]
    document: dict[str, Any] | None = None
    #: Why the record as read cannot be trusted at all (cut short, not JSON), or None.
    defect: str | None = None


class ReadError(InputError):
    """The file as a whole cannot be read (not one bad row)."""


def refuse_repeated_columns(names: Sequence[str], path: Path | str, row: int = 1) -> None:
    """Refuse a header that names a column twice.

    Which of the two values would win depends on the reader, so a second
    ``case_type`` or ``age`` column silently changes the record: refuse the file.
    """
    seen: set[str] = set()
    for name in names:
        if name and name in seen:
            raise ReadError("column named twice in the header; remove one of them", file=path, row=row,
                            field=name)
        seen.add(name)


def short_row(values: Sequence[str], width: int) -> str | None:
    """Why a record with fewer values than the header is refused, or None if it is full or blank.

    A record cut short (a file truncated in transit, an editor that dropped the
    end of a line) would otherwise import as a record whose missing fields are
    empty and overwrite the complete stored one.
    """
    if len(values) >= width or not any(v.strip() for v in values):
        return None
    return f"the record has {len(values)} of the header's {width} values: cut short?"


#: Records per chunk handed to validation.
CHUNK_ROWS = 2000


def _plain_lines(text: str) -> list[str] | None:
    """The lines of ``text`` if the csv module would only split them on commas, else None.

    That holds without quote characters and NULs, when every carriage return
    ends a line (``\r\n``, as csv writers emit), and with no line beyond the
    module's field size limit. str.split then does the same work several times faster.
    """
    if '"' in text or "\0" in text:
        return None
    lines = text.split("\n")
    if "\r" in text:
        if text.count("\r") != text.count("\r\n"):
            return None
        lines = [line.removesuffix("\r") for line in lines]
    return lines if max(map(len, lines)) <= csv.field_size_limit() else None


@dataclass(frozen=True)
class CsvChunk:
    """Whole CSV records exactly as the file holds them, and the line they start on.

    Reading a large file only has to find where records end (cheap); parsing
    and validating the text happen wherever the chunk is handled, which may be
    a worker process. The raw text is also far cheaper to send there than
    parsed rows.
    """

    source: str
    header: tuple[str, ...]
    first_line: int
    text: str
    #: Why this chunk's last record is cut short (the file ends inside it), or None.
    cut: str | None = None

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line number, values) of each non-empty record; the line is where the record ends.

        Values tipsom marked as text on export (:mod:`tipsom.core.cells`) are restored.
        """
        base = self.first_line - 1
        marked = TEXT_MARK in self.text
        lines = _plain_lines(self.text)
        if lines is not None:
            for i, line in enumerate(lines, start=1):
                if line:
                    yield base + i, restore_all(line.split(",")) if marked else line.split(",")
            return
        reader = csv.reader(io.StringIO(self.text, newline=""))
        try:
            for values in reader:
                if values:
                    yield base + reader.line_num, restore_all(values) if marked else values
        except csv.Error as exc:
            raise ReadError(str(exc), file=self.source, row=base + reader.line_num + 1) from None

    def named(self, values: Sequence[str]) -> dict[str, str]:
        """One record's values by column, as ``csv.DictReader`` pairs them.

        Missing trailing values are empty. A value beyond the header's width
        is kept under a name that says so, so the validator reports it instead
        of the import dropping it (``csv.DictReader`` would file it under None).
        """
        row = dict(zip(self.header, values, strict=False))
        for name in self.header[len(values):]:
            row[name] = ""
        for i, extra in enumerate(values[len(self.header):], start=len(self.header) + 1):
            if extra.strip():
                row[f"(column {i}, beyond the {len(self.header)}-column header)"] = extra
        return row

    def record(self, line: int, values: Sequence[str], last: bool) -> Record | None:
        """The record of one parsed row (None if blank), refused whole when it was cut short."""
        row = self.named(values)
        if not any(v.strip() for v in row.values()):
            return None
        defect = short_row(values, len(self.header))
        if last and self.cut:
            defect = self.cut
        return Record(line, row, defect=defect)

    def records(self) -> Iterator[Record]:
        rows = list(self.rows())
        for i, (line, values) in enumerate(rows, start=1):
            record = self.record(line, values, i == len(rows))
            if record is not None:
                yield record


def _record_text(first: str, rest: Iterator[str], source: str, line: int) -> list[str]:
    """The physical lines of the record that starts with ``first``.

    A line without a quote character is a whole record; otherwise the csv
    module itself reads one record (it pulls no line beyond the record's end),
    so quoted line breaks are handled exactly as in parsing.
    """
    if '"' not in first:
        return [first]
    taken = [first]

    def lines() -> Iterator[str]:
        yield first
        for more in rest:
            taken.append(more)
            yield more

    try:
        next(csv.reader(lines()), None)
    except csv.Error as exc:
        raise ReadError(f"{source}: line {line}: {exc}") from None
    return taken


def read_csv_chunks(path: Path, rows: int = CHUNK_ROWS) -> Iterator[CsvChunk]:
    """The file's records in chunks of ``rows`` (blank lines count), header parsed once."""
    source = str(path)
    with path.open(newline="", encoding="utf-8-sig") as fh:
        lines = iter(fh)
        first = next(lines, "")
        head_lines = _record_text(first, lines, source, 1) if first else []
        header = CsvChunk(source, (), 1, "".join(head_lines))
        names = next((v for _, v in header.rows()), [])
        if not names:
            raise ReadError("empty file or no header row", file=path)
        refuse_repeated_columns(names, path)
        line = len(head_lines) + 1
        start, texts = line, []
        record: list[str] = []
        for text in lines:
            record = _record_text(text, lines, source, line)
            texts.extend(record)
            line += len(record)
            if len(texts) >= rows:
                yield CsvChunk(source, tuple(names), start, "".join(texts), _cut(record))
                start, texts = line, []
        if texts:
            yield CsvChunk(source, tuple(names), start, "".join(texts), _cut(record))


def _cut(record: list[str]) -> str | None:
    """Why the file's last record is cut short, or None if a line end closes it.

    A record the file ends in without a line end (``head -c`` of a file, a copy
    interrupted) may have lost the end of its last value or its last values,
    and nothing in the text says which: it is refused rather than imported
    short. Every other record ends where the csv module said it does.
    """
    last = record[-1] if record else "\n"
    if last.endswith(("\n", "\r")):
        return None
    if sum(part.count('"') for part in record) % 2 == 1:
        return CUT_IN_QUOTES
    return CUT_UNTERMINATED


#: Why the last record of a file is refused when the file ends inside it.
CUT_IN_QUOTES = "the file ends inside a quoted value: the record is cut short"
CUT_UNTERMINATED = ("the file ends inside this record (no line end after it): it may be cut short; "
                    "end the file with a line break if the record is whole")


def read_csv(path: Path) -> Iterator[Record]:
    for chunk in read_csv_chunks(path):
        yield from chunk.records()


def ends_inside_record(path: Path) -> bool:
    """Whether a text file's last byte is something other than a line end (its last record is unterminated)."""
    with path.open("rb") as fh:
        fh.seek(0, 2)
        if fh.tell() == 0:
            return False
        fh.seek(-1, 2)
        return fh.read(1) not in (b"\n", b"\r")


def last_line(path: Path) -> int:
    """The number of the line a text file ends on."""
    with path.open("rb") as fh:
        return sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b"")) + 1


#: What a damaged or mislabelled workbook makes the ZIP, XML and openpyxl layers raise.
_WORKBOOK_ERRORS: tuple[type[Exception], ...] = (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, EOFError,
                                                 zlib.error, ValueError, TypeError, IndexError, AttributeError,
                                                 SyntaxError)  # SyntaxError: ElementTree's ParseError


def workbook_rows(path: Path, sheet: str | None = None) -> Iterator[tuple[int, list[Any]]]:
    """(row number, cell values) of a workbook's sheet (``sheet`` if it has one, else the first).

    A file that is not a workbook (a CSV or random bytes named ``.xlsx``, a ZIP
    of something else, a workbook cut in half) is refused with one
    :class:`ReadError` naming the file, wherever the damage shows: openpyxl
    reads lazily, so a cut file may fail only on a later row.
    """
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    with path.open("rb") as fh:
        if fh.read(4) != b"PK\x03\x04":
            raise ReadError("not an XLSX workbook (it does not start as one; a CSV file must be named .csv)",
                            file=path)
    line = 0
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (*_WORKBOOK_ERRORS, InvalidFileException) as exc:
        raise ReadError(f"not a readable XLSX workbook ({type(exc).__name__})", file=path) from None
    try:
        try:
            ws = wb[sheet] if sheet in wb.sheetnames else wb.worksheets[0]
            rows = ws.iter_rows(values_only=True)
            while (values := next(rows, None)) is not None:
                line += 1
                yield line, list(values)
        except _WORKBOOK_ERRORS as exc:
            raise ReadError(f"the workbook is damaged after row {line} ({type(exc).__name__})",
                            file=path) from None
    finally:
        wb.close()


def read_xlsx(path: Path, header_rows: int = 1) -> Iterator[Record]:
    """Read the first sheet; the first row holds column names (codes)."""
    rows = workbook_rows(path)
    first = next(rows, None)
    if first is None or not any(v is not None for v in first[1]):
        raise ReadError("empty sheet", file=path)
    names = [str(h).strip() if h is not None else "" for h in first[1]]
    refuse_repeated_columns(names, path)
    for _ in range(header_rows - 1):
        next(rows, None)
    for line, values in rows:
        row = {n: _cell_text(v) for n, v in zip(names, values, strict=False) if n}
        if any(row.values()):
            yield Record(line, row)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "date") and hasattr(value, "hour"):
        return str(value.date().isoformat())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


#: Deepest nesting a case document may have (a case, its persons, their records, a list of codes: 5).
MAX_JSON_DEPTH = 16


def _too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``value`` nests deeper than ``limit`` (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, (dict, list)))
    return False


def read_jsonl(path: Path) -> Iterator[Record]:
    """One record per non-blank line; a line that is not one JSON object is a refused record.

    Deep nesting is refused before it can reach code that recurses (``repr``,
    pickling to worker processes): the ``json`` module itself gives up with a
    ``RecursionError`` on a few thousand levels.
    """
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            defect = None
            try:
                doc = json.loads(line)
            except json.JSONDecodeError as exc:
                defect = f"not valid JSON: {exc.msg} at column {exc.colno}"
            except RecursionError:
                defect = f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
            else:
                if not isinstance(doc, dict):
                    defect = "a line must hold one JSON object"
                elif _too_deep(doc):
                    defect = f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
            if defect is not None:
                # The original is kept only as text, and only its start, for the rejects file.
                original: dict[str, Any] = {"_line": line[:2000].rstrip("\n")}
                yield Record(line_no, original, {}, defect=defect)
            else:
                yield Record(line_no, doc, doc)


def read_records(path: Path, fmt: FileFormat | None = None) -> Iterator[Record]:
    fmt = fmt or FileFormat.from_path(path)
    readers = {FileFormat.CSV: read_csv, FileFormat.XLSX: read_xlsx, FileFormat.JSONL: read_jsonl}
    return readers[fmt](path)


def _json_default(value: Any) -> str:
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dump_document(doc: Mapping[str, Any]) -> str:
    """One document as a compact JSON line (no null fields, for readability)."""
    return json.dumps(_drop_nulls(doc), default=_json_default, ensure_ascii=False, separators=(",", ":"))


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None and v != []}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


class DocumentSink:
    """Streams documents to a CSV, XLSX or JSONL file."""

    def __init__(self, path: Path, fmt: FileFormat | None = None) -> None:
        self.path, self.fmt = path, fmt or FileFormat.from_path(path)
        self.count = 0
        self._fh: IO[str] | None = None
        self._csv: Any = None
        self._wb: Any = None
        self._ws: Any = None
        self._columns = flat_columns()

    def __enter__(self) -> DocumentSink:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.fmt is FileFormat.XLSX:
            from openpyxl import Workbook

            self._wb = Workbook(write_only=True)
            self._ws = self._wb.create_sheet("cases")
            self._ws.append(self._columns)
        else:
            self._fh = self.path.open("w", newline="", encoding="utf-8")
            if self.fmt is FileFormat.CSV:
                self._csv = csv.writer(self._fh)
                self._csv.writerow(self._columns)
        return self

    def write(self, doc: Mapping[str, Any]) -> None:
        """Write one document: as a JSON line, or as flat rows no spreadsheet evaluates."""
        self.count += 1
        if self.fmt is FileFormat.JSONL:
            assert self._fh is not None
            self._fh.write(dump_document(doc) + "\n")
            return
        for row in document_to_flat(doc):
            if self._csv is not None:
                self._csv.writerow([neutral(row[c]) for c in self._columns])
            else:
                self._ws.append([text_cell(self._ws, row[c]) for c in self._columns])

    def __exit__(self, *exc: object) -> None:
        if self._wb is not None:
            self._wb.save(self.path)
        if self._fh is not None:
            self._fh.close()
