"""Importing case files into the store: validate everything, write all or nothing.

By default a file is one transaction: if any record is invalid, every problem
is reported (file, row, column, value, reason) and nothing is written. With
``skip_invalid`` the valid records are written and the rejected ones go to a
rejects file with their reasons, so nothing accepted or refused is lost.
A killed import leaves no trace (the transaction never commits); running it
again completes it, and re-running a finished import adds nothing.

Validation and row preparation (encryption, hashing, stored forms) run in
worker processes for large files while the main process writes, with a
bounded number of chunks in flight so memory stays flat. Native CSV files
travel to the workers as raw text chunks and are validated a column at a time
(:mod:`tipsom.exchange.flat`); every other source goes record by record.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import hashlib
import json
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, update

from tipsom.core.errors import InputError
from tipsom.exchange.flat import FlatPreparer, add_prepared
from tipsom.exchange.native import CHUNK_ROWS, CsvChunk, FileFormat, Record, read_csv_chunks, read_records
from tipsom.schema.document import DocumentValidator, FlatLayout, Problem
from tipsom.schema.model import get_model
from tipsom.store import audit
from tipsom.store.crypto import FieldCipher
from tipsom.store.db import Store
from tipsom.store.tables import audit_log
from tipsom.store.writer import BatchWriter, CaseConflict, PreparedBatch, RowPreparer, WriteCounts

#: Problems kept in the report object; all of them go to ``on_problem``.
KEEP_PROBLEMS = 10_000
#: Files larger than this are prepared in worker processes.
PARALLEL_BYTES = 4 << 20
#: SQLite page cache of the importing connection, in KiB.
IMPORT_CACHE_KIB = 256 * 1024
#: One unit of work for a stage: a list of records, or a chunk of raw CSV text.
Work = list[Record] | CsvChunk


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

    def add(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < KEEP_PROBLEMS:
            self.problems.append(problem)


class ImportFailed(InputError):
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


@dataclass
class _StageResult:
    count: int
    refused: list[tuple[Record, list[Problem]]]
    batch: PreparedBatch


class _Stage:
    """Validation and row preparation for one unit of work."""

    def __init__(self, master_key: bytes, event_id: int, now: dt.datetime, sqlite: bool) -> None:
        model = get_model()
        self.validator = DocumentValidator(model)
        self.layout = FlatLayout(model)
        self.preparer = RowPreparer(model, FieldCipher(master_key), event_id=event_id, now=now, sqlite=sqlite)
        self._flat: dict[tuple[str, ...], FlatPreparer] = {}

    def _flat_preparer(self, header: tuple[str, ...]) -> FlatPreparer:
        flat = self._flat.get(header)
        if flat is None:
            flat = self._flat[header] = FlatPreparer(header, self.validator, self.layout, self.preparer)
        return flat

    def run(self, work: Work) -> _StageResult:
        items = self._flat_preparer(work.header).run(work) if isinstance(work, CsvChunk) else work
        refused: list[tuple[Record, list[Problem]]] = []
        batch = PreparedBatch()
        for item in items:
            if not isinstance(item, Record):
                add_prepared(batch, item, self.preparer)
                continue
            raw = item.document if item.document is not None else self.layout.to_document(item.original)
            invalid = raw.get("__invalid_json__")
            if invalid is not None:
                refused.append((item, [Problem(item.row, "(line)", "", str(invalid))]))
                continue
            doc, problems = self.validator.validate(raw, item.row)
            if problems:
                refused.append((item, problems))
            else:
                self.preparer.prepare([doc], batch)
        return _StageResult(len(items), refused, batch)


_WORKER_STAGE: _Stage | None = None


def _worker_init(master_key: bytes, event_id: int, now: dt.datetime, sqlite: bool) -> None:
    global _WORKER_STAGE  # noqa: PLW0603  (one stage per worker process, built once)
    _WORKER_STAGE = _Stage(master_key, event_id, now, sqlite)
    # A chunk allocates hundreds of thousands of short-lived tuples and no cycles worth chasing:
    # collect the youngest generation less often, and never scan what the import set up.
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


def _worker_run(work: Work) -> _StageResult:
    assert _WORKER_STAGE is not None
    return _WORKER_STAGE.run(work)


def _chunks(records: Iterable[Record]) -> Iterator[list[Record]]:
    it = iter(records)
    while chunk := list(islice(it, CHUNK_ROWS)):
        yield chunk


def _staged(work: Iterable[Work], stage_args: tuple[bytes, int, dt.datetime, bool],
            workers: int) -> Iterator[_StageResult]:
    """Stage results in input order, in-process or from a bounded worker pool."""
    if workers <= 0:
        stage = _Stage(*stage_args)
        for unit in work:
            yield stage.run(unit)
        return
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers, initializer=_worker_init, initargs=stage_args) as pool:
        pending: deque[Any] = deque()
        for unit in work:
            pending.append(pool.apply_async(_worker_run, (unit,)))
            if len(pending) > workers * 2:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


@contextmanager
def _page_cache(conn: Connection) -> Iterator[None]:
    """A larger SQLite page cache while importing, the connection's own afterwards.

    Index pages of a million-person table stop fitting the default 2 MB long
    before the end; re-reading them from the OS cost the writer a fifth of its time.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}")
    conn.commit()
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(before or -2000)}")
        conn.commit()


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
    workers: int = 0,
    event: tuple[audit.AuditAction, str] | None = None,
) -> ImportReport:
    """Validate and write ``records`` in one transaction; see the module docstring.

    ``event`` names the audit action and case id when the records are one case
    entered by hand (web form, API), so the log says "create case X", not an
    anonymous import.
    """
    return _import(store, _chunks(records), source=source, skip_invalid=skip_invalid, rejects_path=rejects_path,
                   actor=actor, purpose=purpose, on_problem=on_problem, progress=progress, sha256=sha256,
                   workers=workers, event=event)


def _import(
    store: Store,
    work: Iterable[Work],
    *,
    source: str,
    skip_invalid: bool,
    rejects_path: Path | None,
    actor: str,
    purpose: str,
    on_problem: Callable[[Problem], None] | None,
    progress: Callable[[int], None] | None,
    sha256: str,
    workers: int,
    event: tuple[audit.AuditAction, str] | None = None,
) -> ImportReport:
    report = ImportReport(source=source, sha256=sha256)
    rejects: _Rejects | None = None
    master_key = store.data_key.material
    with store.engine.connect() as conn, _page_cache(conn):
        trans = conn.begin()
        try:
            action, entity_id = event or (audit.AuditAction.IMPORT, None)
            event_id = audit.record(conn, actor=actor, action=action, entity="case", entity_id=entity_id,
                                    purpose=purpose, detail={"source": source, "sha256": sha256})
            writer = BatchWriter(conn, store.model, actor=actor, purpose=purpose, event_id=event_id)
            writing = True
            stage_args = (master_key, event_id, audit.now(), store.is_sqlite)
            for result in _staged(work, stage_args, workers):
                report.read += result.count
                report.accepted += result.count - len(result.refused)
                for rec, problems in result.refused:
                    report.rejected += 1
                    for p in problems:
                        report.add(p)
                        if on_problem:
                            on_problem(p)
                    if skip_invalid:
                        if rejects is None:
                            path = rejects_path or Path(f"{source}.rejects")
                            rejects = _Rejects(path, jsonl=source.endswith((".jsonl", ".json")))
                            report.rejects_file = str(path)
                        rejects.write(rec, problems)
                    else:
                        writing = False
                if writing:
                    try:
                        writer.apply(result.batch)
                    except CaseConflict as exc:
                        report.rejected += 1
                        report.add(Problem(report.read, "case_id", "", str(exc)))
                        raise ImportFailed(report) from exc
                if progress:
                    progress(report.read)
            if not writing:
                raise ImportFailed(report)
            report.written = writer.counts
            report.committed = True
            conn.execute(update(audit_log).where(audit_log.c.id == event_id)
                         .values(detail=json.dumps(report.as_dict(), sort_keys=True)))
            trans.commit()
            return report
        except BaseException:
            report.committed = False
            if trans.is_active:
                trans.rollback()
            raise
        finally:
            if rejects is not None:
                rejects.close()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
    workers: int | None = None,
) -> ImportReport:
    """Import a file in the native, HTCDS or CTDC format.

    ``workers=None`` uses one worker process per core for files over 4 MiB on
    machines with more than one core; 0 keeps everything in this process.
    """
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    work: Iterable[Work]
    if fmt == "native":
        file_format = FileFormat.from_path(path)
        work = read_csv_chunks(path) if file_format is FileFormat.CSV else _chunks(read_records(path, file_format))
    elif fmt == "htcds":
        from tipsom.exchange.htcds import read_htcds

        work = _chunks(read_htcds(path))
    elif fmt == "ctdc":
        from tipsom.exchange.ctdc import read_ctdc

        work = _chunks(read_ctdc(path))
    else:
        raise ValueError(f"unknown import format {fmt!r}: use native, htcds or ctdc")
    if workers is None:
        cores = os.cpu_count() or 1
        workers = cores if cores > 1 and path.stat().st_size > PARALLEL_BYTES else 0
    return _import(store, work, source=str(path),
                   skip_invalid=skip_invalid, rejects_path=rejects_path, actor=actor, purpose=purpose,
                   on_problem=on_problem, progress=progress, sha256=_sha256(path), workers=workers)
