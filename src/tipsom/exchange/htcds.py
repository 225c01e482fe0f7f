"""HTCDS v2.0: the layout of IOM's Excel template, in both directions.

The template holds one row per victim, with HTCDS column codes in the first
row and human labels in the second. tipsom writes the same layout plus four
columns of its own (case and person identifiers, case type, role) so that a
round trip keeps identities; files without them still import, with case keys
derived from the row content. Multi-select values are separated by ";".
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tipsom.core.cells import restore_all, text_cell
from tipsom.exchange.crosswalk import load_crosswalk
from tipsom.exchange.native import (
    CUT_UNTERMINATED,
    ReadError,
    Record,
    _cell_text,
    ends_inside_record,
    last_line,
    refuse_repeated_columns,
    short_row,
    workbook_rows,
)
from tipsom.schema.document import PERSONS, DocumentValidator
from tipsom.schema.enums import PersonRole
from tipsom.schema.model import get_model
from tipsom.schema.values import to_text
from tipsom.store.db import Store
from tipsom.store.tables import REGISTRY, pseudonym_column
from tipsom.store.writer import text

#: Pseudonym kinds a row without ids is matched on (besides its organisation).
NAME_KIND, BIRTH_KIND = "name", "birth_date"

FIRST_ID = "first_identification"
#: Case ids made up for rows without tipsom's own columns start with this.
DERIVED_PREFIX = "HTCDS-"
TEMPLATE_SHEET = "Sheet1"


def write_htcds(docs: Iterable[Mapping[str, Any]], out: Path,
                progress: Callable[[int], None] | None = None) -> int:
    """Write victims (identified and presumed) in the template layout; returns cases written."""
    from openpyxl import Workbook

    cw = load_crosswalk("htcds")
    model = get_model()
    sep = cw["multi_separator"]
    columns: dict[str, Any] = {**cw["columns"], **cw["extension_columns"]}
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(TEMPLATE_SHEET)
    codes = list(columns)
    labels: dict[str, str] = cw["labels"]
    ws.append([text_cell(ws, v) for v in ["", *codes]])
    ws.append([text_cell(ws, v) for v in ["", *[labels.get(c, c) for c in codes]]])
    n_cases, line = 0, 0
    for doc in docs:
        n_cases += 1
        for person in doc.get(PERSONS, []):
            if not PersonRole(person["role"]).is_victim:
                continue
            line += 1
            ident = (person.get("identifications") or [{}])[0]
            sources = {"case": doc, "person": person, FIRST_ID: ident}
            row: list[str] = [str(line)]
            for target in columns.values():
                if target is None:
                    row.append("")
                    continue
                entity, name = target
                value = sources[entity].get(name)
                f = model["identification" if entity == FIRST_ID else entity].fields[name]
                if f.multi and value:
                    ext = cw["extension_to_htcds"].get(name, {})
                    value = sorted({ext.get(v, v) for v in value})
                row.append(to_text(f, value, sep))
            ws.append([text_cell(ws, v) for v in row])
        if progress and n_cases % 1000 == 0:
            progress(n_cases)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return n_cases


def read_htcds(path: Path) -> Iterator[Record]:
    """Read an HTCDS template workbook (or its CSV export) as documents."""
    cw = load_crosswalk("htcds")
    sep = cw["multi_separator"]
    rows = _rows(path)
    header = next(rows, None)
    if header is None:
        raise ReadError("empty file", file=path)
    names = [h.strip() for h in header[1]]
    if "cas_CaseOwner" not in names:
        raise ReadError("row 1 has no HTCDS column codes (expected e.g. cas_CaseOwner)", file=path)
    refuse_repeated_columns(names, path)
    cut_line = last_line(path) if path.suffix.lower() == ".csv" and ends_inside_record(path) else None
    labels: dict[str, str] = cw["labels"]
    seen: Counter[str] = Counter()
    for line, values in rows:
        raw = {n: v for n, v in zip(names, values, strict=False) if n}
        if raw.get("cas_CaseOwner") == labels["cas_CaseOwner"] or not any(v.strip() for v in raw.values()):
            continue  # the template's label row, or an empty row
        original = {k: v for k, v in raw.items() if v}
        defect = short_row(values, len(names)) if path.suffix.lower() == ".csv" else None
        if line == cut_line:
            defect = CUT_UNTERMINATED
        if defect is not None:
            yield Record(line, original, {}, defect=defect)
            continue
        case = victim_document(raw, lambda value: value.split(sep))
        if "case_id" not in case:
            digest = hashlib.sha256(repr(sorted(original.items())).encode()).hexdigest()[:16]
            seen[digest] += 1
            case["case_id"] = f"{DERIVED_PREFIX}{digest}-{seen[digest]}"
        yield Record(line, original, case)


def victim_document(values: Mapping[str, str], split: Callable[[str], list[str]]) -> dict[str, Any]:
    """One victim's values, keyed by HTCDS column code, as a case document.

    Template columns tipsom does not keep are left out; a code HTCDS does not
    have is kept as ``htcds:CODE`` so that validation refuses it by name
    rather than dropping it. Multi-select values are cut by ``split`` (the
    template separates them with ";", ODK with spaces). The document has no
    case id unless the values hold tipsom's own; the caller gives it one.
    """
    cw = load_crosswalk("htcds")
    columns: dict[str, Any] = {**cw["columns"], **cw["extension_columns"]}
    model = get_model()
    case: dict[str, Any] = {}
    person: dict[str, Any] = {}
    ident: dict[str, Any] = {}
    targets = {"case": case, "person": person, FIRST_ID: ident}
    for code, value in values.items():
        if not value:
            continue
        if code not in columns:
            case[f"htcds:{code}"] = value
            continue
        target = columns[code]
        if target is None:
            continue
        entity, name = target
        f = model["identification" if entity == FIRST_ID else entity].fields[name]
        targets[entity][name] = split(value) if f.multi else value
    person.setdefault("person_id", "P1")
    case.setdefault("case_type", "TIP")
    status = person.get("trafficking_status", "")
    person.setdefault("role", cw["role_from_status"].get(status, "PresumedVictim"))
    if ident:
        person["identifications"] = [ident]
    case[PERSONS] = [person]
    return case


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    if path.suffix.lower() == ".csv":
        import csv

        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            try:
                for values in reader:
                    yield reader.line_num, restore_all(values)
            except csv.Error as exc:
                raise ReadError(str(exc), file=path, row=reader.line_num + 1) from None
        return
    for i, values in workbook_rows(path, TEMPLATE_SHEET):
        yield i, [_cell_text(v) for v in values]


def match_stored(store: Store, records: Iterable[Record]) -> Iterator[Record]:
    """Give rows without tipsom ids the ids of the stored person they describe.

    A row's made-up case id hashes the row's content, so an edited row would
    become a new victim. Instead, a row without ids whose reporting
    organisation, given and family name and birth date (compared by their
    keyed pseudonyms, never in clear) match exactly one stored person takes
    that person's case and person id, and updates it. Matching several stored
    persons, it is refused as a possible duplicate. A row without a name or a
    birth date cannot be matched and keeps its content-derived id.
    """
    validator = DocumentValidator()
    cipher = store.cipher
    names = [f.name for f in validator.person.fields.values() if f.pseudonym == NAME_KIND]
    persons, cases = REGISTRY["person"], REGISTRY["case"]
    with store.engine.connect() as conn:
        for record in records:
            doc = record.document
            if not doc or not str(doc.get("case_id", "")).startswith(DERIVED_PREFIX) or "tipsom_case_id" in \
                    record.original:
                yield record
                continue
            typed, problems = validator.validate(doc, record.row)
            person = typed[PERSONS][0] if typed.get(PERSONS) else {}
            name = " ".join(text(person[n]) for n in names if person.get(n) is not None)
            born, org = person.get("birth_date"), typed.get("reporting_org")
            if problems or not name or born is None or org is None:
                yield record
                continue
            q = (select(persons.c.case_id, persons.c.person_id).join(cases, cases.c.id == persons.c.case_id)
                 .where(persons.c[pseudonym_column(NAME_KIND)] == cipher.pseudonym(NAME_KIND, name),
                        persons.c[pseudonym_column(BIRTH_KIND)] == cipher.pseudonym(BIRTH_KIND, text(born)),
                        cases.c.reporting_org == org))
            found = conn.execute(q.limit(2)).all()
            if len(found) > 1:
                yield Record(record.row, record.original, {}, defect=(
                    "possible duplicate: several stored persons of this organisation have this name and birth "
                    f"date (cases {found[0][0]}, {found[1][0]}); add tipsom_case_id and tipsom_person_id"))
            elif found:
                (cid, pid), = found
                doc = {**doc, "case_id": cid, PERSONS: [{**doc[PERSONS][0], "person_id": pid}]}
                yield Record(record.row, record.original, doc)
            else:
                yield record
