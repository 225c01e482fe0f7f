"""Case file formats as one registry: each format's name, file suffixes, reader and writer.

``import cases`` and ``export cases`` offer exactly the formats listed in
:data:`CASE_FORMATS` (the command line builds its choices and help from it),
and :func:`tipsom.exchange.importer.import_file` and
:func:`tipsom.exchange.export.export_cases` look formats up here. A national
case-management layout is added as one more :class:`CaseFormat`: a reader that
yields records and, if it can be exported to, a writer; nothing else names it.

The readers and writers import their libraries when called, so listing the
formats (as ``tipsom --help`` does) stays cheap.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tipsom.core.errors import ConfigError
from tipsom.exchange.native import CHUNK_ROWS

if TYPE_CHECKING:
    from tipsom.exchange.native import CsvChunk, Record
    from tipsom.store.db import Store

__all__ = ["CASE_FORMATS", "CaseFormat", "Direction", "Reading", "case_format", "chunks", "help_text", "names"]

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Reading:
    """A file as read for import: units of work and what they hold.

    ``whole_cases``: every record is a whole case (no case spans two records).
    ``holds_all_persons``: a case's persons in the file are all its persons, so
    stored persons it leaves out are removals (the native layouts); a partial
    layout (HTCDS victims only, CTDC) never removes anyone.
    ``already_imported``: how many records the reader left out because the
    store holds them already (a cumulative export of submissions), asked once
    the units are consumed, so the import summary can say so.
    """

    units: Iterable[list[Record] | CsvChunk]
    whole_cases: bool = False
    holds_all_persons: bool = False
    already_imported: Callable[[], int] | None = None


Reader = Callable[["Store", Path], Reading]
#: ``(documents, path to write, path the user named, progress) -> cases written``; the named path's
#: suffix chooses between layouts (CSV or Excel) where a format has several.
Writer = Callable[[Iterable[Mapping[str, Any]], Path, Path, Progress | None], int]


class Direction(enum.StrEnum):
    IMPORT = "import"
    EXPORT = "export"


@dataclass(frozen=True)
class CaseFormat:
    """One case file format: ``read`` for ``import cases``, ``write`` for ``export cases`` (either may be absent)."""

    name: str
    suffixes: tuple[str, ...]
    description: str
    read: Reader | None = None
    write: Writer | None = None

    def supports(self, direction: Direction) -> bool:
        return (self.read if direction is Direction.IMPORT else self.write) is not None

    def open(self, store: Store, path: Path) -> Reading:
        """``path`` read in this format, for import."""
        if self.read is None:
            raise ConfigError(f"cases cannot be imported from the {self.name} format")
        return self.read(store, path)

    def save(self, docs: Iterable[Mapping[str, Any]], path: Path, named: Path, progress: Progress | None) -> int:
        """``docs`` written to ``path`` in this format (``named`` is the file the user asked for)."""
        if self.write is None:
            raise ConfigError(f"cases cannot be exported in the {self.name} format")
        return self.write(docs, path, named, progress)


def chunks(records: Iterable[Record]) -> Iterator[list[Record]]:
    """Records in lists of :data:`CHUNK_ROWS`, the unit of work a worker validates."""
    it = iter(records)
    while chunk := list(islice(it, CHUNK_ROWS)):
        yield chunk


def _read_native(_store: Store, path: Path) -> Reading:
    from tipsom.exchange.native import FileFormat, read_csv_chunks, read_records

    layout = FileFormat.from_path(path)
    units = read_csv_chunks(path) if layout is FileFormat.CSV else chunks(read_records(path, layout))
    return Reading(units, whole_cases=layout is FileFormat.JSONL, holds_all_persons=True)


def _read_htcds(store: Store, path: Path) -> Reading:
    from tipsom.exchange.htcds import match_stored, read_htcds

    return Reading(chunks(match_stored(store, read_htcds(path))))


def _read_ctdc(_store: Store, path: Path) -> Reading:
    from tipsom.exchange.ctdc import read_ctdc

    return Reading(chunks(read_ctdc(path)))


def _read_odk(store: Store, path: Path) -> Reading:
    from tipsom.exchange.odk import NewSubmissions, read_odk

    new = NewSubmissions(store)
    return Reading(chunks(new(read_odk(path))), whole_cases=True, already_imported=new.count)


def _sink(layout: Callable[[Path], Any]) -> Writer:
    def write(docs: Iterable[Mapping[str, Any]], path: Path, named: Path, progress: Progress | None) -> int:
        from tipsom.exchange.native import DocumentSink

        with DocumentSink(path, layout(named)) as sink:
            for doc in docs:
                sink.write(doc)
                if progress and sink.count % 1000 == 0:
                    progress(sink.count)
            return sink.count

    return write


def _by_suffix(named: Path) -> Any:
    from tipsom.exchange.native import FileFormat

    return FileFormat.from_path(named)


def _jsonl(_named: Path) -> Any:
    from tipsom.exchange.native import FileFormat

    return FileFormat.JSONL


def _write_htcds(docs: Iterable[Mapping[str, Any]], path: Path, _named: Path, progress: Progress | None) -> int:
    from tipsom.exchange.htcds import write_htcds

    return write_htcds(docs, path, progress=progress)


#: Every case format, in the order the command line lists them.
CASE_FORMATS: tuple[CaseFormat, ...] = (
    CaseFormat("native", (".csv", ".xlsx", ".jsonl"), "tipsom's own layout (CSV or XLSX by extension, or JSONL)",
               read=_read_native, write=_sink(_by_suffix)),
    CaseFormat("htcds", (".xlsx",), "the HTCDS victim template (XLSX)", read=_read_htcds, write=_write_htcds),
    CaseFormat("ctdc", (".csv",), "CTDC's global victim data set (CSV)", read=_read_ctdc),
    CaseFormat("odk", (".csv", ".json"), "ODK Central or KoboToolbox submissions of tipsom's or the HTCDS "
               "XLSForm (CSV or JSON export)", read=_read_odk),
    CaseFormat("jsonl", (".jsonl",), "one case document per line", write=_sink(_jsonl)),
)


def names(direction: Direction) -> list[str]:
    """The formats usable in ``direction``, in registry order."""
    return [f.name for f in CASE_FORMATS if f.supports(direction)]


def _listed(options: list[str]) -> str:
    return options[0] if len(options) == 1 else f"{', '.join(options[:-1])} or {options[-1]}"


def case_format(name: str | CaseFormat, direction: Direction) -> CaseFormat:
    """The format called ``name``; a name unknown or not usable in ``direction`` is a configuration error."""
    if isinstance(name, CaseFormat):
        found: CaseFormat | None = name
    else:
        found = next((f for f in CASE_FORMATS if f.name == name), None)
    if found is None or not found.supports(direction):
        raise ConfigError(f"unknown {direction} format {str(name)!r}: use {_listed(names(direction))}")
    return found


def help_text(direction: Direction) -> str:
    """The ``--format`` help of a command: every usable format with its description."""
    return "; ".join(f"{f.name}: {f.description}" for f in CASE_FORMATS if f.supports(direction)) + "."
