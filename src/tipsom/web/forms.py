"""Case forms generated from the schema YAML, parsed back into case documents.

No template names a field: the case form is the case entity's fields grouped
by ``Entity.groups``, then one block per person with its repeated records
(route legs, identifications and referrals, legal proceedings). A field added
to the YAML appears in the form, is parsed, validated and stored with no
change here. Input names encode where a value belongs in the document:
``c.case_type``, ``p0.age``, ``p0.route_legs.1.origin``.

Validation is the registry's own :class:`DocumentValidator`; its problems are
mapped back to input names and their reasons translated, so errors appear
next to the field that caused them.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tipsom.schema.document import PERSONS, Problem
from tipsom.schema.model import Entity, Field, FieldType, Model
from tipsom.schema.values import to_text
from tipsom.web.i18n import N_, _
from tipsom.web.labels import code_choices, entity_label, field_help, field_label, group_label

CASE_PREFIX = "c"
#: Hidden input that keeps an empty block in the form when it is re-rendered.
PRESENT = "__present"
#: Marks a person block whose personal fields were revealed (and audited) in this form.
REVEALED = "__revealed"
_LIST_SPLIT = re.compile(r"[|,;\s]+")


class Widget(enum.Enum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    SELECT = "select"
    CHECKBOXES = "checkboxes"
    YES_NO = "yes_no"
    COUNTRY = "country"
    CODE_LIST = "code_list"


def widget_for(f: Field) -> Widget:
    return {
        FieldType.INTEGER: Widget.NUMBER, FieldType.DECIMAL: Widget.NUMBER, FieldType.DATE: Widget.DATE,
        FieldType.CODE: Widget.SELECT, FieldType.CODES: Widget.CHECKBOXES, FieldType.BOOLEAN: Widget.YES_NO,
        FieldType.COUNTRY: Widget.COUNTRY, FieldType.COUNTRIES: Widget.CODE_LIST,
        FieldType.LANGUAGES: Widget.CODE_LIST, FieldType.CURRENCY: Widget.TEXT,
    }.get(f.type, Widget.TEXT)


@dataclass(frozen=True)
class FormField:
    name: str
    field: Field
    value: str
    values: tuple[str, ...]
    error: str
    readonly: bool = False
    #: A personal field of a person not revealed in this form: shown empty and disabled, never sent.
    masked: bool = False

    @property
    def widget(self) -> Widget:
        return widget_for(self.field)

    @property
    def label(self) -> str:
        return field_label(self.field)

    @property
    def help(self) -> str:
        return field_help(self.field)

    @property
    def choices(self) -> list[tuple[str, str]]:
        return code_choices(self.field) if self.field.codelist else []

    @property
    def dom_id(self) -> str:
        return "f-" + self.name.replace(".", "-")


#: The schema group of fields about children (unaccompanied, separated, ...): shown only when relevant.
CHILD_GROUP = "children"
#: Age from which a person is an adult (the child-only fields are then not relevant).
ADULT_AGE = 18


@dataclass(frozen=True)
class Section:
    title: str
    fields: list[FormField]

    @property
    def has_error(self) -> bool:
        return any(f.error for f in self.fields)

    @property
    def child_only(self) -> bool:
        return bool(self.fields) and all(f.field.group == CHILD_GROUP for f in self.fields)

    @property
    def filled(self) -> bool:
        return any(f.value or f.values for f in self.fields)


@dataclass(frozen=True)
class ChildBlock:
    entity: Entity
    prefix: str
    #: (block index, its fields) per record; indices need not be contiguous.
    items: list[tuple[int, list[FormField]]]

    @property
    def title(self) -> str:
        return entity_label(self.entity, plural=True)


@dataclass(frozen=True)
class PersonBlock:
    index: int
    prefix: str
    sections: list[Section]
    children: list[ChildBlock]
    person_id: str = ""
    #: The person is stored on the case: removing them needs a confirmation and deletes stored records.
    stored: bool = False
    #: The person's personal fields are hidden until revealed (with a purpose) in this form.
    masked: bool = False

    @property
    def known_adult(self) -> bool:
        """The recorded age, or the lowest estimate, is 18 or more: fields about children are not relevant."""
        ages = [f.value for s in self.sections for f in s.fields if f.field.name in ("age", "age_min")]
        return any(a.isdigit() and int(a) >= ADULT_AGE for a in ages)


@dataclass
class CaseForm:
    """Everything the case form template needs; ``errors`` maps input name to message."""

    sections: list[Section]
    persons: list[PersonBlock]
    errors: dict[str, str] = field(default_factory=dict)
    general_errors: list[str] = field(default_factory=list)


FormData = Mapping[str, Sequence[str]]


def _first(data: FormData, name: str) -> str:
    values = data.get(name) or ()
    return values[0] if values else ""


def _form_field(name: str, f: Field, data: FormData, errors: Mapping[str, str], readonly: bool,
                masked: bool = False) -> FormField:
    if masked:
        return FormField(name, f, "", (), errors.get(name, ""), readonly, masked=True)
    values = tuple(v for v in data.get(name) or () if v)
    return FormField(name, f, _first(data, name), values, errors.get(name, ""), readonly)


def _sections(entity: Entity, prefix: str, data: FormData, errors: Mapping[str, str],
              readonly: frozenset[str] = frozenset(), masked: bool = False) -> list[Section]:
    """One section per field group; ungrouped fields (the record's id) lead the first section."""
    ungrouped = [f for f in entity.fields.values() if not f.group]
    groups = [(group_label(g), [f for f in entity.fields.values() if f.group == g]) for g in entity.groups]
    if not groups:
        groups = [(entity_label(entity), [])]
    groups[0] = (groups[0][0], ungrouped + groups[0][1])
    return [Section(title, [_form_field(f"{prefix}.{f.name}", f, data, errors, f.name in readonly,
                                        masked and f.personal) for f in fields]) for title, fields in groups]


def _indices(data: FormData, pattern: re.Pattern[str]) -> list[int]:
    return sorted({int(m.group(1)) for key in data if (m := pattern.match(key))})


def person_indices(data: FormData) -> list[int]:
    return _indices(data, re.compile(r"^p(\d+)\."))


def child_indices(data: FormData, person_prefix: str, table: str) -> list[int]:
    return _indices(data, re.compile(rf"^{re.escape(person_prefix)}\.{table}\.(\d+)\."))


def build_form(model: Model, data: FormData, errors: Mapping[str, str] | None = None, *,
               readonly: frozenset[str] = frozenset(), stored_persons: frozenset[str] = frozenset()) -> CaseForm:
    """The form for ``data`` (input name -> values), one block per person present in it.

    A person in ``stored_persons`` keeps their id read-only: the store keys a
    person by case and id, so a changed id would add a second person. A stored
    person's personal fields stay masked unless the form data marks the person
    revealed (:func:`masked_persons`).
    """
    errors = dict(errors or {})
    persons = []
    for i in person_indices(data) or [0]:
        prefix = f"p{i}"
        person_id = _first(data, f"{prefix}.person_id").strip()
        stored = person_id in stored_persons
        children = []
        for child in model.children("person"):
            items = []
            for j in child_indices(data, prefix, child.table):
                cprefix = f"{prefix}.{child.table}.{j}"
                items.append((j, [_form_field(f"{cprefix}.{f.name}", f, data, errors, False)
                                  for f in child.fields.values() if f.name != child.order_by]))
            children.append(ChildBlock(child, f"{prefix}.{child.table}", items))
        locked = frozenset({"person_id"}) if stored else frozenset()
        masked = stored and not _first(data, f"{prefix}.{REVEALED}")
        persons.append(PersonBlock(i, prefix, _sections(model["person"], prefix, data, errors, locked, masked),
                                   children, person_id, stored, masked))
    return CaseForm(_sections(model["case"], CASE_PREFIX, data, errors, readonly), persons, errors)


def masked_persons(data: FormData, stored_persons: frozenset[str]) -> frozenset[str]:
    """Stored persons whose personal fields this form never revealed (so never sent)."""
    out = set()
    for i in person_indices(data):
        pid = _first(data, f"p{i}.person_id").strip()
        if pid in stored_persons and not _first(data, f"p{i}.{REVEALED}"):
            out.add(pid)
    return frozenset(out)


def reveal_person(model: Model, data: dict[str, list[str]], index: int, person: Mapping[str, Any]) -> None:
    """Put one person's decrypted personal fields into the form data and mark the block revealed."""
    prefix = f"p{index}"
    for f in model["person"].personal_fields:
        value = person.get(f.name)
        data[f"{prefix}.{f.name}"] = [] if value is None else (
            [str(v) for v in value] if f.type is FieldType.CODES else [to_text(f, value, " " if f.multi else "|")])
    data[f"{prefix}.{REVEALED}"] = ["1"]


def add_block(data: dict[str, list[str]], target: str) -> None:
    """Add an empty person (``persons``) or child record (``p0.route_legs``) to the form data."""
    if target == PERSONS:
        nxt = max(person_indices(data), default=-1) + 1
        data[f"p{nxt}.{PRESENT}"] = ["1"]
        return
    m = re.fullmatch(r"(p\d+)\.(\w+)", target)
    if m is None:
        raise ValueError(f"unknown form block {target!r}")
    nxt = max(child_indices(data, m.group(1), m.group(2)), default=-1) + 1
    data[f"{target}.{nxt}.{PRESENT}"] = ["1"]


def person_block(data: FormData, target: str) -> int:
    """The index of person block ``target`` (``p2``) in the form data; ValueError if there is none."""
    m = re.fullmatch(r"p(\d+)", target)
    if m is None or int(m.group(1)) not in person_indices(data):
        raise ValueError(f"unknown person block {target!r}")
    return int(m.group(1))


def drop_person(data: dict[str, list[str]], index: int) -> str:
    """Take person block ``index`` and its records out of the form data; returns the person's id."""
    prefix = f"p{index}."
    person_id = _first(data, f"{prefix}person_id").strip()
    for key in [k for k in data if k.startswith(prefix)]:
        del data[key]
    return person_id


# --- form data <-> document -----------------------------------------------------------


def _raw(f: Field, data: FormData, name: str) -> Any:
    if f.type is FieldType.CODES:
        return [v for v in data.get(name) or () if v] or None
    text = _first(data, name).strip()
    if f.multi:
        return [v for v in _LIST_SPLIT.split(text) if v] or None
    return text or None


def _record(entity: Entity, prefix: str, data: FormData) -> dict[str, Any]:
    out = {}
    for f in entity.fields.values():
        value = _raw(f, data, f"{prefix}.{f.name}")
        if value is not None:
            out[f.name] = value
    return out


@dataclass
class ParsedCase:
    """A raw document and, for each position in it, the form block it came from."""

    document: dict[str, Any]
    person_blocks: list[int]
    child_blocks: dict[tuple[int, str], list[int]]


def form_to_document(model: Model, data: FormData) -> ParsedCase:
    """Raw (unvalidated) case document from form data; empty blocks are left out."""
    doc = _record(model["case"], CASE_PREFIX, data)
    persons: list[dict[str, Any]] = []
    person_blocks: list[int] = []
    child_blocks: dict[tuple[int, str], list[int]] = {}
    for i in person_indices(data):
        prefix = f"p{i}"
        person = _record(model["person"], prefix, data)
        if not person:
            continue
        pos = len(persons)
        for child in model.children("person"):
            items: list[dict[str, Any]] = []
            blocks: list[int] = []
            for j in child_indices(data, prefix, child.table):
                item = _record(child, f"{prefix}.{child.table}.{j}", data)
                if item:
                    if child.order_by:
                        item[child.order_by] = len(items) + 1
                    items.append(item)
                    blocks.append(j)
            person[child.table] = items
            child_blocks[(pos, child.table)] = blocks
        persons.append(person)
        person_blocks.append(i)
    doc[PERSONS] = persons
    return ParsedCase(doc, person_blocks, child_blocks)


def document_to_form_data(model: Model, doc: Mapping[str, Any]) -> dict[str, list[str]]:
    """Form data showing a typed document (for the edit form)."""
    data: dict[str, list[str]] = {}

    def put(entity: Entity, prefix: str, rec: Mapping[str, Any]) -> None:
        for f in entity.fields.values():
            value = rec.get(f.name)
            if value is None:
                continue
            if f.type is FieldType.CODES:
                data[f"{prefix}.{f.name}"] = [str(v) for v in value]
            else:
                data[f"{prefix}.{f.name}"] = [to_text(f, value, " " if f.multi else "|")]

    put(model["case"], CASE_PREFIX, doc)
    for i, person in enumerate(doc.get(PERSONS) or []):
        put(model["person"], f"p{i}", person)
        data[f"p{i}.{PRESENT}"] = ["1"]
        for child in model.children("person"):
            for j, item in enumerate(person.get(child.table) or []):
                put(child, f"p{i}.{child.table}.{j}", item)
                data[f"p{i}.{child.table}.{j}.{PRESENT}"] = ["1"]
    return data


# --- problems -> inline errors ---------------------------------------------------------

_COLUMN = re.compile(r"^(?:persons\[(\d+)\]\.)?(?:(\w+)\[(\d+)\]\.)?(\w+)$")
_REASONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^required$"), N_("This field is required.")),
    (re.compile(r"^longer than (?P<n>\d+) characters$"), N_("At most %(n)s characters.")),
    (re.compile(r"^not a (finite )?number"), N_("Enter a number.")),
    (re.compile(r"^not a whole number$"), N_("Enter a whole number.")),
    (re.compile(r"^below the minimum (?P<n>\S+)$"), N_("The smallest allowed value is %(n)s.")),
    (re.compile(r"^above the maximum (?P<n>\S+)$"), N_("The largest allowed value is %(n)s.")),
    (re.compile(r"^not a date"), N_("Enter a date as YYYY-MM-DD.")),
    (re.compile(r"^not yes/no"), N_("Choose yes or no.")),
    (re.compile(r"is not in code list"), N_("Choose a value from the list.")),
    (re.compile(r"ISO 3166-1 alpha-3"), N_("Enter three-letter ISO country codes (for example NGA).")),
    (re.compile(r"ISO 4217"), N_("Enter a three-letter ISO currency code (for example EUR).")),
    (re.compile(r"ISO 639"), N_("Enter ISO language codes (for example en, ar).")),
    (re.compile(r"^earlier than (?P<n>\w+)"), N_("This date or number comes before %(n)s.")),
    (re.compile(r"^repeated within the case$"), N_("Another person in this case has the same ID.")),
    (re.compile(r"^not a field of the standard$"), N_("This is not a field of the standard.")),
    (re.compile(r"^must be (a list|an object)$"), N_("This part of the case could not be read. Enter it again.")),
    (re.compile(r"^already exists$"), N_("A case with this ID already exists.")),
    (re.compile(r"^not an identifier"),
     N_("Use 1 to 64 letters, digits and . _ : - starting with a letter or digit.")),
    (re.compile(r"^in the future$"), N_("This date is in the future.")),
    (re.compile(r"^after the case's (?P<n>\w+)"), N_("This date comes after %(n)s.")),
    (re.compile(r"^before \d{4}-\d{2}-\d{2}, not plausible$"), N_("This date is too early to be plausible.")),
    (re.compile(r"^must be text"), N_("Enter text here.")),
    (re.compile(r"^not an e-mail address"), N_("Enter an e-mail address (name@domain.example).")),
    (re.compile(r"^not a phone number"), N_("Enter a phone number: digits, spaces and + ( ) . / -.")),
    (re.compile(r"differ (between records of the same case|from an earlier record)"),
     N_("The case changed while you edited it. Reload it and enter your changes again.")),
]


def translate_reason(reason: str, model: Model) -> str:
    """The validator's reason as a sentence in the user's language."""
    for pattern, message in _REASONS:
        m = pattern.search(reason)
        if m:
            params = m.groupdict()
            if "n" in params and params["n"] and not params["n"][0].isdigit():
                params["n"] = _field_title(model, params["n"])
            return _(message) % params if params else _(message)
    return reason


def _field_title(model: Model, name: str) -> str:
    for entity in model.entities.values():
        if name in entity.fields:
            return field_label(entity.fields[name])
    return name


def problems_to_errors(model: Model, problems: Sequence[Problem], parsed: ParsedCase) -> tuple[
        dict[str, str], list[str]]:
    """Inline errors by input name, and errors that belong to no single input."""
    by_prefix = {c.prefix: c for c in model.children("person")}
    case_fields = set(model["case"].fields)
    errors: dict[str, str] = {}
    general: list[str] = []
    for p in problems:
        message = translate_reason(p.reason, model)
        m = _COLUMN.match(p.column)
        if m is None:
            general.append(f"{p.column}: {message}")
            continue
        person_pos, child_prefix, child_pos, name = m.groups()
        if person_pos is None and child_prefix is None and name in case_fields:
            errors.setdefault(f"{CASE_PREFIX}.{name}", message)
            continue
        pos = int(person_pos or 0)
        if pos >= len(parsed.person_blocks):
            general.append(message)
            continue
        prefix = f"p{parsed.person_blocks[pos]}"
        if child_prefix is not None and child_prefix in by_prefix:
            table = by_prefix[child_prefix].table
            blocks = parsed.child_blocks.get((pos, table), [])
            k = int(child_pos) - 1
            if 0 <= k < len(blocks):
                errors.setdefault(f"{prefix}.{table}.{blocks[k]}.{name}", message)
                continue
            general.append(message)
            continue
        errors.setdefault(f"{prefix}.{name}", message)
    return errors, general
