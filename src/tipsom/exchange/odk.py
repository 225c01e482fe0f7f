"""Submissions collected offline with ODK Collect or KoboCollect, as ODK Central or KoboToolbox export them.

Either form may have been used: tipsom's own (:mod:`tipsom.exchange.xlsform`,
whose questions are the standard's field names) or the XLSForm HTCDS ships
(HTCDS column codes, read through the HTCDS crosswalk). A file is CSV or
JSON; the layouts differ only in how a question's group path is written:

- ODK Central CSV: ``case-case_type``, ``meta-instanceID``, ``KEY``;
- KoboToolbox CSV (often ``;``-separated): ``case/case_type``, ``_uuid``,
  and, for a select_multiple, one more 0/1 column per choice
  (``person/.../exploitation_forms/ForcedLabour``), which is left aside;
- KoboToolbox JSON: a list (or ``{"results": [...]}``) of flat objects keyed
  like its CSV; ODK Central's OData JSON: ``{"value": [...]}`` of nested
  objects, flattened here to the same paths.

A question is known by the last part of its path, so moving questions into
groups on the server changes nothing. Server bookkeeping (submitter, review
state, attachments, ``_``-prefixed Kobo columns, the form's ``meta`` group) is
not case data and is left aside; any other question that is not a field of
the standard is kept under its own name so that validation refuses the file
naming it, rather than dropping what a worker recorded.

The submission id is the source key: ``KEY`` (ODK Central) or ``__id``
(OData), else ``meta/rootUuid``, ``_uuid``, ``meta/instanceID`` or
``instanceID``, without its ``uuid:`` prefix. The case id is made of it, and a
submission whose case the store already holds is left out
(:class:`NewSubmissions`): servers export every submission each time, and
once a case is in tipsom caseworkers add to it and correct it there, so an
older copy from the server must neither overwrite their work nor be refused
for lacking the records they added. A second import of the same export adds
nothing and says how many submissions were already imported.
"""

from __future__ import annotations

import csv
import enum
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tipsom.exchange.crosswalk import load_crosswalk
from tipsom.exchange.htcds import victim_document
from tipsom.exchange.native import (
    CUT_UNTERMINATED,
    ReadError,
    Record,
    ends_inside_record,
    last_line,
    refuse_repeated_columns,
    short_row,
)
from tipsom.schema.document import PERSONS
from tipsom.schema.model import FieldType, get_model
from tipsom.store.db import Store
from tipsom.store.tables import REGISTRY

__all__ = ["CASE_PREFIX", "SOURCE", "FormKind", "NewSubmissions", "read_odk", "submission_case_id"]

#: Case ids made from submission ids start with this.
CASE_PREFIX = "ODK-"
#: The provenance a case collected offline carries (unless the form answered it).
SOURCE = "ODK/KoboToolbox submission"
#: Where the submission id is, best first: a stable id before the id of the latest edit.
ID_COLUMNS = ("KEY", "__id", "meta/rootUuid", "_uuid", "meta/instanceID", "instanceID")
#: ODK Central's own CSV columns, and the metadata questions a form may add; none is case data.
SERVER_COLUMNS = frozenset({
    "SubmissionDate", "KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected",
    "Status", "ReviewState", "DeviceID", "Edits", "FormVersion", "instanceID",
    "start", "end", "today", "deviceid", "username", "phonenumber", "simserial", "subscriberid", "audit",
    "starttime", "endtime",
})
#: Groups that hold the server's and the form's metadata.
META_GROUPS = frozenset({"meta", "formhub", "__system"})
#: Question names of HTCDS's XLSForm that differ from its template's column codes
#: (the template misspells "Trafficking"); the others differ only in underscores and case.
HTCDS_FORM_NAMES = {"vic_TraffickingStatusDecisionMakingOrg": "vic_TraffickinStatusDecisionMakingOrg"}
#: Group separators: ODK Central "-", KoboToolbox "/" (or "." if so chosen on export).
_PATH_SEP = re.compile(r"[/.-]")


class FormKind(enum.StrEnum):
    """The form a file's submissions were made with."""

    TIPSOM = "tipsom"
    HTCDS = "htcds"


def submission_case_id(submission_id: str) -> str:
    """The case id of a submission (the same from ODK Central's ``uuid:…`` and Kobo's bare uuid)."""
    return CASE_PREFIX + submission_id.strip().removeprefix("uuid:")


def _htcds_codes() -> dict[str, str]:
    """HTCDS codes by their folded spelling (no underscores, lower case)."""
    cw = load_crosswalk("htcds")
    codes = {_fold(code): code for code in (*cw["columns"], *cw["extension_columns"])}
    codes.update({_fold(name): code for name, code in HTCDS_FORM_NAMES.items()})
    return codes


def _fold(name: str) -> str:
    return name.replace("_", "").lower()


class _Layout:
    """What each column of a file is: a question (by name), a submission id, or bookkeeping."""

    def __init__(self, headers: list[str]) -> None:
        paths = [tuple(p for p in _PATH_SEP.split(h) if p) for h in headers]
        whole = set(paths)
        model = get_model()
        self.case_fields, self.person_fields = model["case"].fields, model["person"].fields
        htcds = _htcds_codes()
        self.questions: dict[str, str] = {}
        self.id_columns = [h for name in ID_COLUMNS for h, p in zip(headers, paths, strict=True)
                           if "/".join(p) == name]
        for header, path in zip(headers, paths, strict=True):
            if not path or path[0] in META_GROUPS or path[-1] in SERVER_COLUMNS or header.startswith("_"):
                continue
            if len(path) > 1 and path[:-1] in whole:
                continue  # Kobo's 0/1 column for one choice of a select_multiple
            self.questions[header] = path[-1]
        names = set(self.questions.values())
        standard = set(self.case_fields) | set(self.person_fields)
        # A file of HTCDS's form has HTCDS questions and none named like the standard's fields.
        htcds_form = any(_fold(n) in htcds for n in names) and not names & standard
        self.kind = FormKind.HTCDS if htcds_form else FormKind.TIPSOM
        if self.kind is FormKind.HTCDS:
            self.questions = {h: htcds.get(_fold(n), h) for h, n in self.questions.items()}

    def submission_id(self, values: Mapping[str, str]) -> str:
        return next((values[h] for h in self.id_columns if values.get(h, "").strip()), "")

    def document(self, values: Mapping[str, str]) -> dict[str, Any]:
        answers = {name: values.get(header, "").strip() for header, name in self.questions.items()}
        if self.kind is FormKind.HTCDS:
            doc = victim_document(_alpha_3_citizenship(answers), str.split)
        else:
            doc = self._tipsom(answers)
        doc.setdefault("source", SOURCE)
        sid = self.submission_id(values)
        if sid:
            doc["case_id"] = submission_case_id(sid)
        return doc

    def _tipsom(self, answers: Mapping[str, str]) -> dict[str, Any]:
        case: dict[str, Any] = {}
        person: dict[str, Any] = {"person_id": "P1"}
        for name, value in answers.items():
            if not value:
                continue
            f = self.case_fields.get(name) or self.person_fields.get(name)
            target = person if name in self.person_fields else case
            if f is not None and f.type is FieldType.LANGUAGES:
                target[name] = value.replace(",", " ").split()
            else:
                target[name] = value.split() if f is not None and f.multi else value
        case[PERSONS] = [person]
        return case


class NewSubmissions:
    """Filters records down to submissions the store does not hold yet, and counts the others."""

    #: Case ids looked up in one query.
    BATCH = 500

    def __init__(self, store: Store) -> None:
        self.store = store
        self.skipped = 0

    def count(self) -> int:
        return self.skipped

    def __call__(self, records: Iterable[Record]) -> Iterator[Record]:
        batch: list[Record] = []
        for record in records:
            batch.append(record)
            if len(batch) == self.BATCH:
                yield from self._new(batch)
                batch = []
        yield from self._new(batch)

    def _new(self, batch: list[Record]) -> Iterator[Record]:
        ids = [r.document["case_id"] for r in batch if r.document and r.defect is None and "case_id" in r.document]
        cases = REGISTRY["case"]
        with self.store.engine.connect() as conn:
            stored = set(conn.execute(select(cases.c.id).where(cases.c.id.in_(ids))).scalars()) if ids else set()
        for record in batch:
            if record.document and record.document.get("case_id") in stored:
                self.skipped += 1
            else:
                yield record


def _alpha_3_citizenship(answers: dict[str, str]) -> dict[str, str]:
    """HTCDS's form lists citizenship by ISO alpha-2 code; the standard keeps alpha-3."""
    import pycountry

    value = answers.get("prs_Citizenship", "")
    if not value:
        return answers
    codes = []
    for code in value.split():
        country = pycountry.countries.get(alpha_2=code.upper()) if len(code) == 2 else None
        codes.append(country.alpha_3 if country is not None else ("XKX" if code.upper() == "XK" else code))
    return {**answers, "prs_Citizenship": " ".join(codes)}


def read_odk(path: Path) -> Iterator[Record]:
    """Submissions in ``path`` (CSV or JSON export of ODK Central or KoboToolbox) as case documents."""
    if path.suffix.lower() == ".json":
        yield from _read_json(path)
    else:
        yield from _read_csv(path)


def _record(layout: _Layout, row: int, values: dict[str, str]) -> Record:
    original = {k: v for k, v in values.items() if v}
    if not layout.submission_id(values):
        return Record(row, original, {}, defect=f"no submission id (none of {', '.join(ID_COLUMNS)})")
    return Record(row, original, layout.document(values))


def _read_csv(path: Path) -> Iterator[Record]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        first = fh.readline()
        if not first.strip():
            raise ReadError("empty file", file=path)
        # KoboToolbox writes ";" by default, ODK Central ","; a header has no other punctuation in it.
        delimiter = ";" if first.count(";") > first.count(",") else ","
        fh.seek(0)
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            headers = [h.strip() for h in next(reader)]
            refuse_repeated_columns(headers, path)
            layout = _Layout(headers)
            if not layout.id_columns:
                raise ReadError(f"row 1 has no submission id column (expected one of {', '.join(ID_COLUMNS)}); "
                                "is this an ODK Central or KoboToolbox export?", file=path)
            cut_line = last_line(path) if ends_inside_record(path) else None
            for values in reader:
                line = reader.line_num
                if not any(v.strip() for v in values):
                    continue
                named = dict(zip(headers, values, strict=False))
                defect = CUT_UNTERMINATED if line == cut_line else short_row(values, len(headers))
                if defect is not None:
                    yield Record(line, {k: v for k, v in named.items() if v}, {}, defect=defect)
                    continue
                yield _record(layout, line, named)
        except csv.Error as exc:
            raise ReadError(str(exc), file=path, row=reader.line_num + 1) from None


def _flatten(obj: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in obj.items():
        if "@" in key:
            continue  # OData annotations (links to repeat tables)
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{name}/"))
        elif value is None:
            out[name] = ""
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, str):
            out[name] = value
        else:
            out[name] = json.dumps(value, ensure_ascii=False) if isinstance(value, list) else str(value)
    return out


def _read_json(path: Path) -> Iterator[Record]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise ReadError(f"not JSON: {exc.msg}", file=path, row=exc.lineno) from None
    if isinstance(data, Mapping):
        data = data.get("results", data.get("value"))
    if not isinstance(data, list):
        raise ReadError("expected a list of submissions (KoboToolbox) or {\"value\": [...]} (ODK Central)",
                        file=path)
    submissions = [_flatten(s) if isinstance(s, Mapping) else None for s in data]
    headers = list(dict.fromkeys(k for s in submissions if s is not None for k in s))
    layout = _Layout(headers)
    for i, values in enumerate(submissions, start=1):
        if values is None:
            yield Record(i, {}, {}, defect="not a JSON object")
        else:
            yield _record(layout, i, values)
