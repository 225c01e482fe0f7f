"""Native file formats: CSV, XLSX (flat, one row per person) and JSON Lines (documents).

Readers stream: they yield one :class:`Record` at a time, with the row or line
number users see in a spreadsheet or editor, so memory stays flat whatever
the size of the file. Writers take documents and stream them out.
"""

from __future__ import annotations

import csv
import enum
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

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


class ReadError(ValueError):
    """The file as a whole cannot be read (not one bad row)."""


def read_csv(path: Path) -> Iterator[Record]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames:
            raise ReadError(f"{path}: empty file or no header row")
        yield from _flat_records(reader, lambda: reader.line_num)


def _flat_records(rows: Iterable[Mapping[str, Any]], position: Any) -> Iterator[Record]:
    for row in rows:
        clean = {str(k): ("" if v is None else str(v)) for k, v in row.items() if k is not None}
        if not any(v.strip() for v in clean.values()):
            continue
        yield Record(position(), clean)


def read_xlsx(path: Path, header_rows: int = 1) -> Iterator[Record]:
    """Read the first sheet; the first row holds column names (codes)."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if not header:
            raise ReadError(f"{path}: empty sheet")
        names = [str(h).strip() if h is not None else "" for h in header]
        for _ in range(header_rows - 1):
            next(rows, None)
        line = header_rows
        for values in rows:
            line += 1
            row = {n: _cell_text(v) for n, v in zip(names, values, strict=False) if n}
            if any(row.values()):
                yield Record(line, row)
    finally:
        wb.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "date") and hasattr(value, "hour"):
        return str(value.date().isoformat())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_jsonl(path: Path) -> Iterator[Record]:
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
            except json.JSONDecodeError as exc:
                doc = {"__invalid_json__": f"not valid JSON: {exc.msg} at column {exc.colno}"}
            if not isinstance(doc, dict):
                doc = {"__invalid_json__": "a line must hold one JSON object"}
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
                self._csv = csv.DictWriter(self._fh, fieldnames=self._columns)
                self._csv.writeheader()
        return self

    def write(self, doc: Mapping[str, Any]) -> None:
        self.count += 1
        if self.fmt is FileFormat.JSONL:
            assert self._fh is not None
            self._fh.write(dump_document(doc) + "\n")
            return
        for row in document_to_flat(doc):
            if self._csv is not None:
                self._csv.writerow(row)
            else:
                self._ws.append([row[c] for c in self._columns])

    def __exit__(self, *exc: object) -> None:
        if self._wb is not None:
            self._wb.save(self.path)
        if self._fh is not None:
            self._fh.close()
