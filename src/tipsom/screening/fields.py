"""What a screening condition may refer to: the columns of a screening batch.

A batch has one row per person, carrying the person's fields and the fields
of the person's case; repeated records (route legs, charges, identifications)
are reached as ``table.field`` and read as "any record of that table". The
list is worked out from the data standard, so a rule naming a field or code
the standard lacks is refused when the rules load, not when a case is screened.
Personal fields are left out on purpose: they are stored encrypted, and
screening must never need to decrypt them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cache

from tipsom.schema.model import Entity, Field, FieldType, Model, get_model


class Kind(enum.StrEnum):
    CODE = "code"  # one value (code, country, currency, id, text)
    CODES = "codes"  # several values, stored "|"-joined
    BOOL = "bool"
    NUMBER = "number"
    DATE = "date"
    TABLE = "table"  # a repeated table as a whole: only "present" applies


@dataclass(frozen=True)
class FieldSpec:
    """One screenable column: where it lives and what may be asked of it."""

    path: str
    kind: Kind
    codes: frozenset[str] | None = None
    table: str | None = None  # repeated table (route_legs, charges...) or None for the person row

    @property
    def column(self) -> str:
        return self.path.rsplit(".", 1)[-1]


_KINDS: dict[FieldType, Kind] = {
    FieldType.ID: Kind.CODE, FieldType.TEXT: Kind.CODE, FieldType.CODE: Kind.CODE,
    FieldType.COUNTRY: Kind.CODE, FieldType.CURRENCY: Kind.CODE, FieldType.CODES: Kind.CODES,
    FieldType.COUNTRIES: Kind.CODES, FieldType.LANGUAGES: Kind.CODES, FieldType.BOOLEAN: Kind.BOOL,
    FieldType.INTEGER: Kind.NUMBER, FieldType.DECIMAL: Kind.NUMBER, FieldType.DATE: Kind.DATE,
}


def _spec(path: str, f: Field, table: str | None) -> FieldSpec:
    codes = f.codelist.codes if f.codelist is not None else None
    return FieldSpec(path, _KINDS[f.type], codes, table)


@dataclass(frozen=True)
class BatchSchema:
    """Every screenable path, plus the person-row columns a batch must carry."""

    fields: dict[str, FieldSpec]
    personal: frozenset[str]
    case_columns: tuple[str, ...]
    person_columns: tuple[str, ...]
    child_columns: dict[str, tuple[str, ...]]

    def spec(self, path: str) -> FieldSpec | None:
        return self.fields.get(path)


def _plain(entity: Entity) -> list[Field]:
    return [f for f in entity.fields.values() if not f.personal]


@cache
def batch_schema() -> BatchSchema:
    """The schema of the standard as loaded (computed once per process)."""
    model: Model = get_model()
    case, person = model["case"], model["person"]
    fields: dict[str, FieldSpec] = {}
    for f in _plain(case) + _plain(person):
        fields[f.name] = _spec(f.name, f, None)
    child_columns: dict[str, tuple[str, ...]] = {}
    for child in model.children("person"):
        fields[child.table] = FieldSpec(child.table, Kind.TABLE, table=child.table)
        plain = _plain(child)
        child_columns[child.table] = tuple(f.name for f in plain)
        for f in plain:
            fields[f"{child.table}.{f.name}"] = _spec(f"{child.table}.{f.name}", f, child.table)
    clash = {f.name for f in case.fields.values()} & {f.name for f in person.fields.values()}
    if clash:  # the batch puts both on one row, so names must not collide
        raise ValueError(f"case and person fields share names: {sorted(clash)}")
    return BatchSchema(
        fields=fields,
        personal=frozenset(f.name for f in person.personal_fields),
        case_columns=tuple(f.name for f in _plain(case)),
        person_columns=tuple(f.name for f in _plain(person)),
        child_columns=child_columns,
    )
