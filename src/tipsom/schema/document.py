"""Case documents: the nested form of a case, its validation and its flat form.

A *document* is one case as JSON-like data: case fields at the top, a
``persons`` list, and under each person its repeated records keyed by table
name (``route_legs``, ``identifications``, ``charges``). JSON Lines files hold
documents as they are; CSV and XLSX hold them *flat*, one row per person, with
repeated records as aligned ``|``-separated lists in prefixed columns
(``leg_origin = "AFG|IRN"``, ``leg_destination = "IRN|TUR"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tipsom.schema.model import Entity, Field, Model, get_model
from tipsom.schema.values import INNER_SEP, MULTI_SEP, Converter, converter, memoised, to_text

PERSONS = "persons"


@dataclass(frozen=True)
class Problem:
    """One reason a record was refused: where (row, column), what, and why."""

    row: int
    column: str
    value: str
    reason: str

    def render(self, source: str) -> str:
        """One line: file, row, column, reason, and the value when there is one to show."""
        shown = f" (value {self.value!r})" if self.value else ""
        return f"{source}: row {self.row}: column {self.column}: {self.reason}{shown}"


#: Pairs of fields whose first must not come after the second, per level of a document.
CASE_ORDER = (("opened_on", "closed_on"),)
PERSON_ORDER = (("age_min", "age_max"), ("exploitation_start", "exploitation_end"))
CHILD_ORDER = (("departed_on", "arrived_on"),)
#: (case field, person field): a person's value must not come after the case's (no one is born
#: after their case was opened).
CASE_PERSON_ORDER = (("opened_on", "birth_date"),)


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class DocumentValidator:
    """Validates documents against the standard, with converters compiled once."""

    def __init__(self, model: Model | None = None) -> None:
        self.model = model or get_model()
        self.case = self.model["case"]
        self.person = self.model["person"]
        self.children = self.model.children("person")
        # Personal values are nearly all distinct (and best not kept), so only the others are memoised.
        self._conv: dict[str, dict[str, Converter]] = {
            name: {f.name: converter(f) if f.personal else memoised(converter(f)) for f in e.fields.values()}
            for name, e in self.model.entities.items()
        }
        self._required = {name: [f.name for f in e.fields.values() if f.required]
                          for name, e in self.model.entities.items()}

    def record(self, entity: Entity, raw: Mapping[str, Any], row: int, where: str,
               problems: list[Problem], skip: frozenset[str] = frozenset()) -> dict[str, Any]:
        """One record's typed values (None left out); problems are appended to ``problems``.

        Only the values present are converted (most fields of a record are empty);
        required fields are then checked for absence.
        """
        out: dict[str, Any] = {}
        conv = self._conv[entity.name]
        for name, value in raw.items():
            if name in skip:
                continue
            fn = conv.get(name)
            if fn is None:
                problems.append(Problem(row, f"{where}{name}", _short(value), "not a field of the standard"))
                continue
            try:
                typed = fn(value)
            except ValueError as exc:
                problems.append(Problem(row, f"{where}{name}", _short(value), str(exc)))
                continue
            if typed is not None:
                out[name] = typed
        for name in self._required[entity.name]:
            if name not in out and not any(p.column == f"{where}{name}" for p in problems):
                problems.append(Problem(row, f"{where}{name}", "", "required"))
        return out

    def validate(self, doc: Mapping[str, Any], row: int) -> tuple[dict[str, Any], list[Problem]]:
        """Return the typed document and every problem found (empty when valid)."""
        problems: list[Problem] = []
        child_tables = {c.table for c in self.children}
        case = self.record(self.case, doc, row, "", problems, frozenset({PERSONS}))
        check_order(case, CASE_ORDER, row, "", problems)
        persons_raw = doc.get(PERSONS) or []
        if not isinstance(persons_raw, list):
            problems.append(Problem(row, PERSONS, _short(persons_raw), "must be a list"))
            persons_raw = []
        persons: list[dict[str, Any]] = []
        seen: set[str] = set()
        for i, raw_person in enumerate(persons_raw):
            where = f"persons[{i}]." if len(persons_raw) > 1 else ""
            if not isinstance(raw_person, Mapping):
                problems.append(Problem(row, f"persons[{i}]", _short(raw_person), "must be an object"))
                continue
            person = self.record(self.person, raw_person, row, where, problems, frozenset(child_tables))
            pid = person.get("person_id")
            if pid in seen:
                problems.append(Problem(row, f"{where}person_id", str(pid), "repeated within the case"))
            seen.add(str(pid))
            check_order(person, PERSON_ORDER, row, where, problems)
            check_across(case, person, row, where, problems)
            for child in self.children:
                items = raw_person.get(child.table) or []
                if not isinstance(items, list):
                    problems.append(Problem(row, f"{where}{child.table}", _short(items), "must be a list"))
                    items = []
                records = []
                for j, item in enumerate(items):
                    cwhere = f"{where}{child.prefix}[{j + 1}]."
                    if not isinstance(item, Mapping):
                        problems.append(Problem(row, cwhere.rstrip("."), _short(item), "must be an object"))
                        continue
                    rec = self.record(child, item, row, cwhere, problems)
                    check_order(rec, CHILD_ORDER, row, cwhere, problems)
                    records.append(rec)
                person[child.table] = records
            persons.append(person)
        case[PERSONS] = persons
        return case, problems


def check_order(rec: Mapping[str, Any], pairs: tuple[tuple[str, str], ...], row: int, where: str,
                problems: list[Problem]) -> None:
    """Report each pair whose later field holds an earlier value than its first."""
    for first, last in pairs:
        a, b = rec.get(first), rec.get(last)
        if a is not None and b is not None and a > b:
            problems.append(Problem(row, f"{where}{last}", str(b), f"earlier than {first} ({a})"))


def check_across(case: Mapping[str, Any], person: Mapping[str, Any], row: int, where: str,
                 problems: list[Problem]) -> None:
    """Report a person's value that comes after the case value it must precede."""
    for case_field, person_field in CASE_PERSON_ORDER:
        a, b = case.get(case_field), person.get(person_field)
        if a is not None and b is not None and b > a:
            # The value itself is left out: a birth date is personal data and the report is not.
            problems.append(Problem(row, f"{where}{person_field}", "", f"after the case's {case_field} ({a})"))


# --- flat (one row per person) layout -------------------------------------------------


def _child_column(child: Entity, f: Field) -> str:
    return f"{child.prefix}_{f.name}"


def flat_columns(model: Model | None = None) -> list[str]:
    """Columns of the native CSV/XLSX layout, in order."""
    model = model or get_model()
    cols = list(model["case"].fields) + list(model["person"].fields)
    for child in model.children("person"):
        cols.extend(_child_column(child, f) for f in child.fields.values()
                    if f.name != child.order_by)
    return cols


class FlatLayout:
    """Where each flat column goes in a document, computed once per model."""

    def __init__(self, model: Model | None = None) -> None:
        model = model or get_model()
        self.case_fields = set(model["case"].fields)
        self.person_fields = set(model["person"].fields)
        self.children = model.children("person")
        self.child_cols: dict[str, tuple[Entity, Field]] = {
            _child_column(c, f): (c, f) for c in self.children for f in c.fields.values()
        }

    def to_document(self, row: Mapping[str, str]) -> dict[str, Any]:
        """One flat row to a raw (unvalidated) document with at most one person.

        Unknown columns are kept on the case so the validator names them.
        """
        doc: dict[str, Any] = {}
        person: dict[str, Any] = {}
        child_lists: dict[str, dict[str, list[str]]] = {}
        for k, v in row.items():
            if not v:
                continue
            if k in self.case_fields:
                doc[k] = v
            elif k in self.person_fields:
                person[k] = v
            elif k in self.child_cols:
                child, f = self.child_cols[k]
                child_lists.setdefault(child.name, {})[f.name] = v.split(MULTI_SEP)
            elif v.strip():
                doc[k] = v
        if not person:
            doc[PERSONS] = []
            return doc
        for child in self.children:
            person[child.table] = child_items(child, child_lists.get(child.name, {}))
        doc[PERSONS] = [person]
        return doc


_MULTI: dict[str, frozenset[str]] = {}


def _multi_fields(entity: Entity) -> frozenset[str]:
    found = _MULTI.get(entity.name)
    if found is None:
        found = _MULTI[entity.name] = frozenset(f.name for f in entity.fields.values() if f.multi)
    return found


def child_items(child: Entity, lists: Mapping[str, list[str]]) -> list[dict[str, Any]]:
    """Raw repeated records from a person's aligned ``|``-split cells (field name to values).

    Item ``j`` takes the ``j``-th value of each list; multi-valued fields split
    further on ``;``; the order field is numbered when the file leaves it out.
    """
    n = max((len(v) for v in lists.values()), default=0)
    multi = _multi_fields(child)
    items = []
    for j in range(n):
        item: dict[str, Any] = {}
        for name, values in lists.items():
            value = values[j] if j < len(values) else ""
            if value:
                item[name] = value.split(INNER_SEP) if name in multi else value
        if child.order_by and child.order_by not in item:
            item[child.order_by] = j + 1
        items.append(item)
    return items


def flat_to_document(row: Mapping[str, str], model: Model | None = None) -> dict[str, Any]:
    """One flat row to a raw document (see :class:`FlatLayout`)."""
    return FlatLayout(model).to_document(row)


def document_to_flat(doc: Mapping[str, Any], model: Model | None = None) -> list[dict[str, str]]:
    """A typed document to flat rows (one per person; one row if it has none)."""
    model = model or get_model()
    case_e, person_e = model["case"], model["person"]
    base = {name: to_text(f, doc.get(name)) for name, f in case_e.fields.items()}
    persons = doc.get(PERSONS) or [None]
    rows = []
    for person in persons:
        row = dict(base)
        for name, f in person_e.fields.items():
            row[name] = to_text(f, person.get(name)) if person else ""
        for child in model.children("person"):
            items = person.get(child.table, []) if person else []
            for f in child.fields.values():
                if f.name == child.order_by:
                    continue
                row[_child_column(child, f)] = (
                    MULTI_SEP.join(to_text(f, it.get(f.name), INNER_SEP) for it in items) if items else ""
                )
        rows.append(row)
    return rows
