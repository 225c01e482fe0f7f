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
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, update

from tipsom.core.cells import neutral
from tipsom.core.errors import ConfigError, InputError
from tipsom.exchange.flat import FlatPreparer, add_prepared
from tipsom.exchange.formats import CaseFormat, Direction, case_format, chunks
from tipsom.exchange.native import CsvChunk, Record
from tipsom.schema.document import PERSONS, DocumentValidator, FlatLayout, Problem
from tipsom.schema.model import get_model
from tipsom.store import audit
from tipsom.store.crypto import FieldCipher
from tipsom.store.db import Store
from tipsom.store.tables import audit_log
from tipsom.store.writer import BatchWriter, CaseConflict, PreparedBatch, RowPreparer, WriteCounts, person_key

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
    #: Records the format's reader left out because the store already holds them (ODK submissions).
    already_imported: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "sha256": self.sha256, "read": self.read, "accepted": self.accepted,
            "rejected": self.rejected, "problems": self.problem_count, "committed": self.committed,
            "cases_created": self.written.cases_created, "cases_updated": self.written.cases_updated,
            "persons_created": self.written.persons_created, "persons_updated": self.written.persons_updated,
            "unchanged": self.written.unchanged, "already_imported": self.already_imported,
            "rejects_file": self.rejects_file,
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
            self._csv.writerow({name: neutral(name) for name in row})  # a column name is text from the input too
        self._csv.writerow({k: neutral(str(v)) for k, v in row.items()})

    def close(self) -> None:
        self._fh.close()


#: Where accepted records are: (row, case id, person keys), so repeats across chunks can be found.
Located = tuple[int, str, tuple[str, ...]]


@dataclass
class _StageResult:
    count: int
    refused: list[tuple[Record, list[Problem]]]
    batch: PreparedBatch
    located: list[Located] = field(default_factory=list)


def repeat_problem(row: int, column: str, value: str, first: int) -> Problem:
    """The problem of a case or person that an earlier record of the same file already holds."""
    return Problem(row, column, value, f"repeats row {first}: a file holds each case and person once")


class _Stage:
    """Validation and row preparation for one unit of work.

    Repeats inside the unit are refused here (the later record), so a batch
    holds each case and person once; repeats across units are found by the
    importer, which sees every unit's :attr:`_StageResult.located`.
    """

    def __init__(self, master_key: bytes, event_id: int, now: dt.datetime, sqlite: bool,
                 whole_cases: bool = False) -> None:
        model = get_model()
        self.validator = DocumentValidator(model)
        self.layout = FlatLayout(model)
        self.preparer = RowPreparer(model, FieldCipher(master_key), event_id=event_id, now=now, sqlite=sqlite)
        self.whole_cases = whole_cases
        self._flat: dict[tuple[str, ...], FlatPreparer] = {}

    def _flat_preparer(self, header: tuple[str, ...]) -> FlatPreparer:
        flat = self._flat.get(header)
        if flat is None:
            flat = self._flat[header] = FlatPreparer(header, self.validator, self.layout, self.preparer)
        return flat

    def run(self, work: Work) -> _StageResult:
        items = self._flat_preparer(work.header).run(work) if isinstance(work, CsvChunk) else work
        result = _StageResult(len(items), [], PreparedBatch())
        firsts: dict[str, int] = {}
        for item in items:
            if isinstance(item, Record):
                self._record(item, result, firsts)
                continue
            line, values, prepared = item
            cid, key = prepared[0], prepared[2]
            first = firsts.setdefault(key, line)
            if first != line:
                assert isinstance(work, CsvChunk)
                pid = key.removeprefix(f"{cid}/")
                result.refused.append((Record(line, work.named(values)),
                                       [repeat_problem(line, "person_id", pid, first)]))
                continue
            add_prepared(result.batch, prepared, self.preparer)
            result.located.append((line, cid, (key,)))
        return result

    def _record(self, item: Record, result: _StageResult, firsts: dict[str, int]) -> None:
        if item.defect is not None:
            result.refused.append((item, [Problem(item.row, "(record)", "", item.defect)]))
            return
        raw = item.document if item.document is not None else self.layout.to_document(item.original)
        doc, problems = self.validator.validate(raw, item.row)
        keys = tuple(person_key(doc.get("case_id", ""), p.get("person_id", "")) for p in doc[PERSONS])
        if not problems:
            problems = self._repeats(item.row, doc, keys, firsts)
        if problems:
            result.refused.append((item, problems))
            return
        self.preparer.prepare([doc], result.batch)
        result.located.append((item.row, doc["case_id"], keys))

    def _repeats(self, row: int, doc: dict[str, Any], keys: tuple[str, ...],
                 firsts: dict[str, int]) -> list[Problem]:
        """Problems of a valid record whose case (for whole-case records) or persons came earlier in the unit."""
        cid = doc["case_id"]
        named = [(case_mark(cid), "case_id", cid)] if self.whole_cases else []
        named += [(key, "person_id", p["person_id"]) for key, p in zip(keys, doc[PERSONS], strict=True)]
        problems = [repeat_problem(row, column, value, firsts[mark]) for mark, column, value in named
                    if mark in firsts]
        if not problems:
            for mark, _, _ in named:
                firsts[mark] = row
        return problems[:1]


def case_mark(case_id: str) -> str:
    """The key a whole case is tracked under beside person keys (``/`` never starts a person key)."""
    return f"/{case_id}"


_WORKER_STAGE: _Stage | None = None


def _worker_init(master_key: bytes, event_id: int, now: dt.datetime, sqlite: bool, whole_cases: bool) -> None:
    global _WORKER_STAGE  # noqa: PLW0603  (one stage per worker process, built once)
    _WORKER_STAGE = _Stage(master_key, event_id, now, sqlite, whole_cases)
    # A chunk allocates hundreds of thousands of short-lived tuples and no cycles worth chasing:
    # collect the youngest generation less often, and never scan what the import set up.
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


def _worker_run(work: Work) -> _StageResult:
    assert _WORKER_STAGE is not None
    return _WORKER_STAGE.run(work)


def _staged(work: Iterable[Work], stage_args: tuple[bytes, int, dt.datetime, bool, bool],
            workers: int) -> Iterator[tuple[Work, _StageResult]]:
    """Each unit with its stage result, in input order, in-process or from a bounded worker pool."""
    if workers <= 0:
        stage = _Stage(*stage_args)
        for unit in work:
            yield unit, stage.run(unit)
        return
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers, initializer=_worker_init, initargs=stage_args) as pool:
        pending: deque[tuple[Work, Any]] = deque()
        for unit in work:
            pending.append((unit, pool.apply_async(_worker_run, (unit,))))
            if len(pending) > workers * 2:
                done, running = pending.popleft()
                yield done, running.get()
        while pending:
            done, running = pending.popleft()
            yield done, running.get()


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
    whole_cases: bool = False,
    replace: bool = True,
    holds_all_persons: bool = False,
    event: tuple[audit.AuditAction, str] | None = None,
    sealed_persons: frozenset[str] = frozenset(),
) -> ImportReport:
    """Validate and write ``records`` in one transaction; see the module docstring.

    ``whole_cases`` says each record is a whole case (JSON Lines), so a case
    met twice is a repeat; in flat files a case spans its persons' rows. The
    defaults suit callers that write records someone edited (the web form):
    their repeated records replace the stored ones and persons they leave out
    are kept. File imports (:func:`import_file`) refuse both unless asked.

    ``event`` names the audit action and case id when the records are one case
    entered by hand (web form, API), so the log says "create case X", not an
    anonymous import.

    ``sealed_persons`` names stored persons (by person key) whose personal
    fields the records leave empty because their editor never saw them: their
    stored ciphertexts and pseudonyms are kept in the same transaction
    (:class:`BatchWriter`), so a failed save cannot lose them.
    """
    run = _Run(store, source=source, skip_invalid=skip_invalid, rejects_path=rejects_path, actor=actor,
               purpose=purpose, on_problem=on_problem, progress=progress, sha256=sha256, replace=replace,
               holds_all_persons=holds_all_persons, event=event, sealed_persons=sealed_persons)
    return run.execute(chunks(records), workers, whole_cases)


class _Run:
    """One import: the report, the rejects file and what the file held so far, across units of work."""

    def __init__(self, store: Store, *, source: str, skip_invalid: bool, rejects_path: Path | None, actor: str,
                 purpose: str, on_problem: Callable[[Problem], None] | None,
                 progress: Callable[[int], None] | None, sha256: str, replace: bool,
                 holds_all_persons: bool, event: tuple[audit.AuditAction, str] | None = None,
                 sealed_persons: frozenset[str] = frozenset()) -> None:
        self.store, self.source, self.skip_invalid = store, source, skip_invalid
        #: Whether the file holds every person of its cases (native files), so one left out was dropped.
        self.holds_all_persons = holds_all_persons
        self.rejects_path = rejects_path or Path(f"{source}.rejects")
        self.actor, self.purpose, self.replace = actor, purpose, replace
        self.on_problem, self.progress = on_problem, progress
        self.report = ImportReport(source=source, sha256=sha256)
        self.rejects: _Rejects | None = None
        #: Row each case (``case_mark``) and person key was first met on; the persons the file holds.
        self.firsts: dict[str, int] = {}
        #: Row each case was first met on (to place problems about the case as a whole).
        self.case_rows: dict[str, int] = {}
        self.writing = True
        #: The audit action and case id of a case entered by hand; a file import is one anonymous IMPORT.
        self.event = event
        self.sealed_persons = sealed_persons
        #: How many records the reader left out as already stored (read once the units are consumed).
        self.already_imported: Callable[[], int] | None = None

    def problem(self, p: Problem) -> None:
        self.report.add(p)
        if self.on_problem:
            self.on_problem(p)

    def refuse(self, record: Record, problems: list[Problem]) -> None:
        self.report.rejected += 1
        for p in problems:
            self.problem(p)
        if not self.skip_invalid:
            self.writing = False
            return
        if self.rejects is None:
            self.rejects = _Rejects(self.rejects_path, jsonl=self.source.endswith((".jsonl", ".json")))
            self.report.rejects_file = str(self.rejects_path)
        self.rejects.write(record, problems)

    def execute(self, work: Iterable[Work], workers: int, whole_cases: bool) -> ImportReport:
        report = self.report
        master_key = self.store.data_key.material
        with self.store.engine.connect() as conn, _page_cache(conn):
            trans = conn.begin()
            try:
                action, entity_id = self.event or (audit.AuditAction.IMPORT, None)
                event_id = audit.record(conn, actor=self.actor, action=action, entity="case", entity_id=entity_id,
                                        purpose=self.purpose, detail={"source": self.source, "sha256": report.sha256})
                writer = BatchWriter(conn, self.store.model, actor=self.actor, purpose=self.purpose,
                                     event_id=event_id, replace=self.replace, sealed=self.sealed_persons)
                stage_args = (master_key, event_id, audit.now(), self.store.is_sqlite, whole_cases)
                for unit, result in _staged(work, stage_args, workers):
                    report.read += result.count
                    report.accepted += result.count - len(result.refused)
                    for rec, problems in result.refused:
                        self.refuse(rec, problems)
                    self._repeats(unit, result, whole_cases)
                    if self.writing:
                        self._apply(writer, result.batch)
                    if self.progress:
                        self.progress(report.read)
                if self.holds_all_persons:
                    self._dropped(writer)
                if not self.writing:
                    raise ImportFailed(report)
                report.written = writer.counts
                report.already_imported = self.already_imported() if self.already_imported else 0
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
                if self.rejects is not None:
                    self.rejects.close()

    def _repeats(self, unit: Work, result: _StageResult, whole_cases: bool) -> None:
        """Refuse records whose case or persons an earlier unit of the file already held."""
        for row, cid, keys in result.located:
            self.case_rows.setdefault(cid, row)
            marks = [(case_mark(cid), "case_id", cid)] if whole_cases else []
            marks += [(key, "person_id", key.removeprefix(f"{cid}/")) for key in keys]
            earlier = next(((m, c, v) for m, c, v in marks if m in self.firsts), None)
            if earlier is None:
                for mark, _, _ in marks:
                    self.firsts[mark] = row
                continue
            mark, column, value = earlier
            self.report.accepted -= 1
            result.batch.drop(cid if whole_cases else None, keys)
            self.refuse(_record_at(unit, row), [repeat_problem(row, column, value, self.firsts[mark])])

    def _apply(self, writer: BatchWriter, batch: PreparedBatch) -> None:
        try:
            writer.apply(batch)
        except CaseConflict as exc:
            self.report.rejected += 1
            self.report.add(Problem(self.report.read, "case_id", "", str(exc)))
            raise ImportFailed(self.report) from exc
        for removal in writer.take_removals():
            self.report.rejected += 1
            self.problem(Problem(self.firsts.get(removal.person_key, 0), removal.table, "", removal.reason))
            self.writing = False

    def _dropped(self, writer: BatchWriter) -> None:
        """Stored persons of the file's cases that the file leaves out: removed with ``replace``, else refused."""
        for cid, key in writer.dropped_persons(self.firsts):
            pid = key.removeprefix(f"{cid}/")
            self.report.rejected += 1
            self.problem(Problem(self.case_rows.get(cid, 0), "person_id", pid,
                                 f"stored person {pid} of case {cid} is not in this file (a file holds whole "
                                 "cases): add its row, or import with --replace to remove it"))
            self.writing = False


def _record_at(unit: Work, row: int) -> Record:
    """The record of ``unit`` at ``row`` (read again: only refused repeats need it)."""
    records = unit.records() if isinstance(unit, CsvChunk) else iter(unit)
    return next(r for r in records if r.row == row)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_output(out: Path, *, inputs: Iterable[Path] = (), force: bool = False) -> None:
    """Refuse an output path that is one of the inputs (same file), a folder, or (unless ``force``) a file.

    Opening an output for writing truncates it, so a rejects file pointed at
    the input would destroy the data being read; an existing file may be a
    good earlier export or someone else's work.
    """
    if not out.parent.is_dir():
        raise ConfigError(f"{out}: the folder {out.parent} does not exist")
    if not out.exists():
        return
    if out.is_dir():
        raise ConfigError(f"{out}: is a folder; name a file to write")
    for source in inputs:
        if source.exists() and os.path.samefile(out, source):
            raise ConfigError(f"{out}: is the input file {source}; name another output file")
    if not force:
        raise ConfigError(f"{out}: exists; give --force to overwrite it")


def import_file(
    store: Store,
    path: Path,
    *,
    fmt: CaseFormat | str = "native",
    skip_invalid: bool = False,
    rejects_path: Path | None = None,
    force: bool = False,
    replace: bool = False,
    actor: str,
    purpose: str = "data import",
    on_problem: Callable[[Problem], None] | None = None,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> ImportReport:
    """Import a file in one of the :data:`~tipsom.exchange.formats.CASE_FORMATS` that can be read.

    ``workers=None`` uses one worker process per core for files over 4 MiB on
    machines with more than one core; 0 keeps everything in this process.
    With ``skip_invalid`` the rejects file (``rejects_path``, by default FILE.rejects)
    must not exist unless ``force``, and is never the input. ``replace`` lets
    the file remove stored records (persons, route legs, identifications,
    charges) of the cases it holds; without it such an import is refused.
    """
    if not path.is_file():
        raise InputError("no such file" if not path.exists() else "not a regular file", file=path)
    layout = case_format(fmt, Direction.IMPORT)
    rejects = rejects_path or Path(f"{path}.rejects")
    if skip_invalid:
        check_output(rejects, inputs=[path], force=force)
    elif rejects_path is not None:
        check_output(rejects_path, inputs=[path], force=True)
    reading = layout.open(store, path)
    if workers is None:
        cores = os.cpu_count() or 1
        workers = cores if cores > 1 and path.stat().st_size > PARALLEL_BYTES else 0
    run = _Run(store, source=str(path), skip_invalid=skip_invalid, rejects_path=rejects, actor=actor,
               purpose=purpose, on_problem=on_problem, progress=progress, sha256=_sha256(path), replace=replace,
               holds_all_persons=reading.holds_all_persons)
    run.already_imported = reading.already_imported
    try:
        return run.execute(reading.units, workers, reading.whole_cases)
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start} of a block cannot be decoded); save the file as "
                         "UTF-8", file=path) from None
