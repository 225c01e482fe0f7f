"""Exporting cases from the store to files.

Personal fields leave the store only when asked for, with a stated purpose,
and the export is written to the audit log either way.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from pathlib import Path

from tipsom.exchange.importer import check_output
from tipsom.exchange.native import DocumentSink, FileFormat
from tipsom.store import audit
from tipsom.store.db import Store
from tipsom.store.reader import iter_documents


class ExportFormat(enum.StrEnum):
    NATIVE = "native"
    JSONL = "jsonl"
    HTCDS = "htcds"


def export_cases(
    store: Store,
    out: Path,
    *,
    fmt: ExportFormat = ExportFormat.NATIVE,
    include_personal: bool = False,
    actor: str,
    purpose: str = "export",
    progress: Callable[[int], None] | None = None,
    force: bool = False,
) -> int:
    """Write every case to ``out``; returns the number of cases written.

    An existing ``out`` is refused unless ``force``. The file is written beside
    ``out`` and moved into place when complete, so a failed export never
    leaves a half-written file where a good one was.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    check_output(out, force=force)
    file_fmt = FileFormat.JSONL if fmt is ExportFormat.JSONL else (
        FileFormat.XLSX if fmt is ExportFormat.HTCDS else FileFormat.from_path(out))
    cipher = store.cipher if include_personal else None
    partial = out.with_name(f".{out.name}.partial")
    with store.begin() as conn:
        docs = iter_documents(conn, store.model, cipher=cipher)
        try:
            if fmt is ExportFormat.HTCDS:
                from tipsom.exchange.htcds import write_htcds

                count = write_htcds(docs, partial, progress=progress)
            else:
                with DocumentSink(partial, file_fmt) as sink:
                    for doc in docs:
                        sink.write(doc)
                        if progress and sink.count % 1000 == 0:
                            progress(sink.count)
                    count = sink.count
            partial.replace(out)
        finally:
            partial.unlink(missing_ok=True)
        audit.record(conn, actor=actor, action=audit.AuditAction.EXPORT, entity="case", purpose=purpose,
                     detail={"file": str(out), "format": str(fmt), "cases": count,
                             "personal_data": include_personal})
    return count
