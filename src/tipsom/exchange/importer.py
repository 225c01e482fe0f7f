"""Importing case files into the store: validate everything, write all or nothing.

By default a file is one transaction: if any record is invalid, every problem
is reported (file, row, column, value, reason) and nothing is written. With
``skip_invalid`` the valid records are written and the rejected ones go to a
rejects file with their reasons, so nothing accepted or refused is lost.
A killed import leaves no trace (the transaction never commits); running it
again completes it, and re-running a finished import adds nothing.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import update

from tipsom.exchange.native import FileFormat, Record, dump_document, read_records
from tipsom.schema.document import DocumentValidator, Problem
from tipsom.store import audit
from tipsom.store.db import Store
from tipsom.store.tables import audit_log
from tipsom.store.writer import CaseConflict, DocumentWriter, WriteCounts

BATCH = 2000
#: Problems kept in the report object; all of them go to ``on_problem``.
KEEP_PROBLEMS = 10_000

RecordSource = Callable[[Path], Iterator[Record]]


@dataclass
class ImportReport:
    source: str
    read: int = 0
    accepted: int = 0
    rejected: int = 0
    problem_count: int = 0
    problems: list[Problem] = field(default_factory=list)
    written: WriteCounts = field(default_factory=WriteCounts)
    committed: bool = False
    rejects_file: str | None = None
    sha256: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "sha256": self.sha256, "read": self.read, "accepted": self.accepted,
            "rejected": self.rejected, "problems": self.problem_count, "committed": self.committed,
            "cases_created": self.written.cases_created, "cases_updated": self.written.cases_updated,
            "persons_created": self.written.persons_created, "persons_updated": self.written.persons_updated,
            "unchanged": self.written.unchanged, "rejects_file": self.rejects_file,
        }


class ImportFailed(ValueError):
    """The file had invalid records and was not imported (store unchanged)."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(f"{report.source}: {report.problem_count} problem(s) in {report.rejected} record(s); "
                         "nothing was imported")
        self.report = report


class _Rejects:
    """Writes refused records beside their reasons, in the input's own form."""

    def __init__(self, path: Path, jsonl: bool) -> None:
        self.path, self.jsonl = path, jsonl
        self._fh = path.open("w", newline="", encoding="utf-8")
        self._csv: csv.DictWriter[str] | None = None

    def write(self, record: Record, problems: list[Problem]) -> None:
        reasons = "; ".join(f"{p.column}: {p.reason}" for p in problems)
        if self.jsonl:
            self._fh.write(json.dumps({"_row": record.row, "_errors": reasons, **record.original},
                                      ensure_ascii=False, default=str) + "\n")
            return
        row = {"_row": str(record.row), "_errors": reasons, **record.original}
        if self._csv is None:
            self._csv = csv.DictWriter(self._fh, fieldnames=list(row), extrasaction="ignore")
            self._csv.writeheader()
        self._csv.writerow(row)

    def close(self) -> None:
        self._fh.close()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def import_records(
    store: Store,
    records: Iterable[Record],
    *,
    source: str,
    skip_invalid: bool = False,
    rejects_path: Path | None = None,
    actor: str,
    purpose: str = "data import",
    on_problem: Callable[[Problem], None] | None = None,
    progress: Callable[[int], None] | None = None,
    sha256: str = "",
) -> ImportReport:
    """Validate and write ``records`` in one transaction; see the module docstring."""
    report = ImportReport(source=source, sha256=sha256)
    validator = DocumentValidator(store.model)
    rejects: _Rejects | None = None
    conn_ctx = store.engine.connect()
    conn = conn_ctx.__enter__()
    trans = conn.begin()
    try:
        event_id = audit.record(conn, actor=actor, action=audit.AuditAction.IMPORT, entity="case",
                                purpose=purpose, detail={"source": source, "sha256": sha256})
        writer = DocumentWriter(conn, store.model, store.cipher, actor=actor, purpose=purpose, event_id=event_id)
        batch: list[dict[str, Any]] = []
        writing = True
        for record in records:
            report.read += 1
            doc, problems = _validate(validator, record)
            if problems:
                report.rejected += 1
                report.problem_count += len(problems)
                for p in problems:
                    if len(report.problems) < KEEP_PROBLEMS:
                        report.problems.append(p)
                    if on_problem:
                        on_problem(p)
                if skip_invalid:
                    if rejects is None:
                        rejects_path = rejects_path or Path(f"{source}.rejects")
                        rejects = _Rejects(rejects_path, jsonl=source.endswith((".jsonl", ".json")))
                        report.rejects_file = str(rejects_path)
                    rejects.write(record, problems)
                else:
                    writing = False
                continue
            report.accepted += 1
            if writing:
                batch.append(doc)
                if len(batch) >= BATCH:
                    _flush(writer, batch, report, record)
                    batch = []
            if progress and report.read % 1000 == 0:
                progress(report.read)
        if writing and batch:
            _flush(writer, batch, report, None)
        if not writing:
            trans.rollback()
            raise ImportFailed(report)
        report.written = writer.counts
        conn.execute(update(audit_log).where(audit_log.c.id == event_id)
                     .values(detail=json.dumps(report.as_dict(), sort_keys=True)))
        trans.commit()
        report.committed = True
        return report
    except BaseException:
        if trans.is_active:
            trans.rollback()
        raise
    finally:
        if rejects is not None:
            rejects.close()
        conn_ctx.__exit__(None, None, None)


def _validate(validator: DocumentValidator, record: Record) -> tuple[dict[str, Any], list[Problem]]:
    invalid = record.document.get("__invalid_json__")
    if invalid is not None:
        return {}, [Problem(record.row, "(line)", "", str(invalid))]
    return validator.validate(record.document, record.row)


def _flush(writer: DocumentWriter, batch: list[dict[str, Any]], report: ImportReport,
           record: Record | None) -> None:
    try:
        writer.write(batch)
    except CaseConflict as exc:
        # A conflict is a data problem, not a crash: report it like any other.
        row = record.row if record else report.read
        raise ImportFailed(_with_problem(report, Problem(row, "case_id", "", str(exc)))) from exc


def _with_problem(report: ImportReport, problem: Problem) -> ImportReport:
    report.problems.append(problem)
    report.problem_count += 1
    return report


def import_file(
    store: Store,
    path: Path,
    *,
    fmt: str = "native",
    skip_invalid: bool = False,
    rejects_path: Path | None = None,
    actor: str,
    purpose: str = "data import",
    on_problem: Callable[[Problem], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a file in the native, HTCDS or CTDC format."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    records: Iterable[Record]
    if fmt == "native":
        records = read_records(path, FileFormat.from_path(path))
    elif fmt == "htcds":
        from tipsom.exchange.htcds import read_htcds

        records = read_htcds(path)
    elif fmt == "ctdc":
        from tipsom.exchange.ctdc import read_ctdc

        records = read_ctdc(path)
    else:
        raise ValueError(f"unknown import format {fmt!r}: use native, htcds or ctdc")
    return import_records(store, records, source=str(path), skip_invalid=skip_invalid, rejects_path=rejects_path,
                          actor=actor, purpose=purpose, on_problem=on_problem, progress=progress,
                          sha256=_sha256(path))


__all__ = ["ImportFailed", "ImportReport", "dump_document", "import_file", "import_records"]
