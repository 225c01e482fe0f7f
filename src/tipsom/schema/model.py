"""The tipsom data standard, loaded from YAML.

The standard is data, not code: entities, fields and code lists live in YAML
files beside this module, and this small typed loader turns them into a
:class:`Model` that the store, the importers, the web forms and the data
dictionary all read. Adding a field to the YAML adds it everywhere.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from tipsom.core.config import read_file
from tipsom.core.errors import ConfigError

SCHEMA_DIR = Path(__file__).resolve().parent


class FieldType(enum.StrEnum):
    """The value types a field can have."""

    ID = "id"
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    BOOLEAN = "boolean"
    CODE = "code"
    CODES = "codes"
    COUNTRY = "country"
    COUNTRIES = "countries"
    CURRENCY = "currency"
    LANGUAGES = "languages"

    @property
    def multi(self) -> bool:
        """Multi-valued types hold a list (``|``-separated in flat files)."""
        return self in (FieldType.CODES, FieldType.COUNTRIES, FieldType.LANGUAGES)


class TextFormat(enum.StrEnum):
    """Shapes a text value must have; a value of another shape is refused on import."""

    EMAIL = "email"
    PHONE = "phone"


class SchemaError(ConfigError):
    """The YAML standard itself is malformed."""


@dataclass(frozen=True)
class Code:
    code: str
    label: str
    extension: bool = False
    note: str = ""


@dataclass(frozen=True)
class CodeList:
    name: str
    label: str
    source: str
    values: tuple[Code, ...]

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(v.code for v in self.values)

    def label_of(self, code: str) -> str:
        for value in self.values:
            if value.code == code:
                return value.label
        raise KeyError(code)


@dataclass(frozen=True)
class Field:
    name: str
    entity: str
    type: FieldType
    label: str
    description: str = ""
    required: bool = False
    codelist: CodeList | None = None
    personal: bool = False
    pseudonym: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    htcds: str | None = None
    group: str = ""
    #: A date that may lie ahead (a retention limit); every other date must not be after today.
    future: bool = False
    #: An integer that is a calendar year, so it must not be after the current year.
    calendar_year: bool = False
    #: A text format checked on import (:class:`TextFormat`), for values whose shape is known.
    format: TextFormat | None = None

    @property
    def multi(self) -> bool:
        return self.type.multi


@dataclass(frozen=True)
class Entity:
    name: str
    label: str
    plural: str
    table: str
    description: str
    fields: dict[str, Field]
    key: str | None = None
    parent: str | None = None
    repeated: bool = False
    order_by: str | None = None
    #: Column prefix of a repeated entity in flat files (``leg_origin``).
    prefix: str | None = None

    @property
    def personal_fields(self) -> list[Field]:
        return [f for f in self.fields.values() if f.personal]

    @property
    def groups(self) -> list[str]:
        """Field groups in declaration order (form sections in the web app)."""
        seen: dict[str, None] = {}
        for f in self.fields.values():
            if f.group:
                seen.setdefault(f.group, None)
        return list(seen)


@dataclass(frozen=True)
class Model:
    """All entities and code lists of the standard."""

    entities: dict[str, Entity]
    codelists: dict[str, CodeList]
    version: str = field(default="1.0")

    def __getitem__(self, name: str) -> Entity:
        return self.entities[name]

    def children(self, parent: str) -> list[Entity]:
        return [e for e in self.entities.values() if e.parent == parent]

    @property
    def pseudonym_kinds(self) -> list[str]:
        kinds: dict[str, None] = {}
        for entity in self.entities.values():
            for f in entity.fields.values():
                if f.pseudonym:
                    kinds.setdefault(f.pseudonym, None)
        return list(kinds)


def _codelist(name: str, raw: dict[str, Any]) -> CodeList:
    try:
        values = tuple(
            Code(str(v["code"]), str(v["label"]), bool(v.get("extension", False)), str(v.get("note", "")))
            for v in raw["values"]
        )
        codes = [v.code for v in values]
        if len(set(codes)) != len(codes):
            raise SchemaError(f"code list {name!r} repeats a code")
        return CodeList(name, str(raw["label"]), str(raw.get("source", "")), values)
    except KeyError as exc:
        raise SchemaError(f"code list {name!r} lacks {exc}") from exc


def _field(entity: str, name: str, raw: dict[str, Any], codelists: dict[str, CodeList]) -> Field:
    where = f"{entity}.{name}"
    try:
        ftype = FieldType(raw["type"])
    except (KeyError, ValueError) as exc:
        raise SchemaError(f"field {where}: unknown or missing type {raw.get('type')!r}") from exc
    codelist = None
    if ftype in (FieldType.CODE, FieldType.CODES):
        cl_name = raw.get("codelist")
        if cl_name not in codelists:
            raise SchemaError(f"field {where}: code list {cl_name!r} is not defined")
        codelist = codelists[cl_name]
    known = {"type", "codelist", "required", "label", "description", "personal", "pseudonym", "min",
             "max", "max_length", "htcds", "group", "future", "calendar_year", "format"}
    unknown = set(raw) - known
    if unknown:
        raise SchemaError(f"field {where}: unknown attributes {sorted(unknown)}")
    return Field(
        name=name, entity=entity, type=ftype, label=str(raw.get("label", name)),
        description=str(raw.get("description", "")), required=bool(raw.get("required", False)),
        codelist=codelist, personal=bool(raw.get("personal", False)), pseudonym=raw.get("pseudonym"),
        minimum=raw.get("min"), maximum=raw.get("max"), max_length=raw.get("max_length"),
        htcds=raw.get("htcds"), group=str(raw.get("group", "")), future=bool(raw.get("future", False)),
        calendar_year=bool(raw.get("calendar_year", False)),
        format=TextFormat(raw["format"]) if raw.get("format") else None,
    )


def load_model(directory: Path = SCHEMA_DIR) -> Model:
    """Read ``codelists.yaml`` and ``entities/*.yaml`` under ``directory``."""
    raw_lists = read_file(directory / "codelists.yaml")
    codelists = {name: _codelist(name, raw) for name, raw in raw_lists.items()}
    entities: dict[str, Entity] = {}
    for path in sorted((directory / "entities").glob("*.yaml")):
        for name, raw in read_file(path).items():
            fields = {fname: _field(name, fname, fraw, codelists) for fname, fraw in raw["fields"].items()}
            entities[name] = Entity(
                name=name, label=raw["label"], plural=raw.get("plural", raw["label"]), table=raw["table"],
                description=" ".join(str(raw.get("description", "")).split()), fields=fields,
                key=raw.get("key"), parent=raw.get("parent"), repeated=bool(raw.get("repeated", False)),
                order_by=raw.get("order_by"), prefix=raw.get("prefix"),
            )
    for entity in entities.values():
        if entity.parent and entity.parent not in entities:
            raise SchemaError(f"entity {entity.name}: parent {entity.parent!r} is not defined")
    return Model(entities=entities, codelists=codelists)


@cache
def get_model() -> Model:
    """The standard shipped with tipsom (loaded once per process)."""
    return load_model()
