"""SQLAlchemy tables generated from the data standard, plus the audit log.

Tables follow the YAML: one column per field, personal fields stored only as
ciphertext (``<field>_enc``) with keyed pseudonyms (``pseudo_<kind>``) for exact
matching without decryption. Alembic migrations create them; a test checks
the migrated database against the standard.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeEngine

from tipsom.schema.model import Entity, Field, FieldType, Model, get_model
from tipsom.store.base import CASES_TABLE, metadata

#: Internal key of a person row: ``<case_id>/<person_id>``.
PERSON_KEY = "key"
#: Keyed hash of a record's content; re-imports skip records whose hash is unchanged.
ROW_HASH = "row_hash"


def column_type(f: Field) -> TypeEngine[Any]:
    t = f.type
    types: dict[FieldType, TypeEngine[Any]] = {
        FieldType.ID: String(64),
        FieldType.INTEGER: Integer(),
        FieldType.DECIMAL: Float(),
        FieldType.DATE: Date(),
        FieldType.BOOLEAN: Boolean(),
        FieldType.CODE: String(64),
        FieldType.CODES: Text(),
        FieldType.COUNTRY: String(3),
        FieldType.COUNTRIES: String(200),
        FieldType.CURRENCY: String(3),
        FieldType.LANGUAGES: String(200),
    }
    if t is FieldType.TEXT:
        return String(f.max_length) if f.max_length and f.max_length <= 500 else Text()
    return types[t]


def field_columns(entity: Entity) -> list[Column[Any]]:
    """Columns for the fields of ``entity`` (personal ones as ciphertext)."""
    cols: list[Column[Any]] = []
    for f in entity.fields.values():
        if f.name == entity.key:
            continue
        if f.personal:
            cols.append(Column(f"{f.name}_enc", LargeBinary, nullable=True))
        else:
            cols.append(Column(f.name, column_type(f), nullable=True))
    return cols


def pseudonym_column(kind: str) -> str:
    return f"pseudo_{kind}"


def _audit_stamp() -> list[Column[Any]]:
    return [
        Column(ROW_HASH, String(64), nullable=False),
        Column("created_at", DateTime, nullable=False),
        Column("updated_at", DateTime, nullable=False),
        Column("created_by_event", Integer, nullable=True),
    ]


def build_tables(model: Model) -> dict[str, Table]:
    """Define the registry tables on the shared metadata (idempotent)."""
    if CASES_TABLE in metadata.tables:
        return {e.name: metadata.tables[e.table] for e in model.entities.values()}
    case, person = model["case"], model["person"]
    tables = {
        "case": Table(
            case.table, metadata,
            Column("id", String(64), primary_key=True),
            *field_columns(case), *_audit_stamp(),
        ),
    }
    pseudo = [Column(pseudonym_column(k), String(32), nullable=True) for k in model.pseudonym_kinds]
    tables["person"] = Table(
        person.table, metadata,
        Column(PERSON_KEY, String(130), primary_key=True),
        Column("case_id", String(64), ForeignKey(f"{case.table}.id", ondelete="CASCADE"), nullable=False,
               index=True),
        Column("person_id", String(64), nullable=False),
        *field_columns(person), *pseudo, *_audit_stamp(),
        Index(f"ix_{person.table}_pseudo_name", "pseudo_name"),
        Index(f"ix_{person.table}_pseudo_phone", "pseudo_phone"),
        # For possible duplicates (store migration search_0001).
        Index(f"ix_{person.table}_pseudo_birth_date", "pseudo_birth_date"),
        Index(f"ix_{person.table}_pseudo_id_number", "pseudo_id_number"),
    )
    for child in model.children("person"):
        tables[child.name] = Table(
            child.table, metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("person_key", String(130), ForeignKey(f"{person.table}.{PERSON_KEY}", ondelete="CASCADE"),
                   nullable=False, index=True),
            *field_columns(child),
        )
    return tables


REGISTRY = build_tables(get_model())

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False, index=True),
    Column("actor", String(120), nullable=False, index=True),
    Column("action", String(20), nullable=False),
    Column("entity", String(40), nullable=False),
    Column("entity_id", String(160), nullable=True, index=True),
    Column("purpose", String(500), nullable=False),
    Column("detail", Text, nullable=True),
    # The hash chain (see tipsom.store.audit): position, previous event's hash, this event's hash.
    Column("seq", Integer, nullable=True, unique=True),
    Column("prev_hash", String(64), nullable=True),
    Column("hash", String(64), nullable=True),
)

#: Facts about the store itself, one value per name (e.g. which data key it is encrypted under).
store_meta = Table(
    "store_meta", metadata,
    Column("name", String(40), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

#: Earlier states of a case: one row per change, holding the case, its persons and their repeated
#: records as stored *before* the change (personal values still sealed). See :mod:`tipsom.store.history`.
#: No foreign key to ``cases``: a case's history outlives the case.
record_versions = Table(
    "record_versions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(64), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("at", DateTime, nullable=False),
    Column("actor", String(120), nullable=False),
    Column("purpose", String(500), nullable=False),
    Column("change", String(20), nullable=False),
    Column("event_id", Integer, nullable=True),
    Column("snapshot", Text, nullable=False),
    UniqueConstraint("case_id", "version", name="uq_record_versions_case_version"),
)

#: Keyed hashes of a person's normalised name words and their prefixes (see :mod:`tipsom.store.search`).
name_search_token = Table(
    "name_search_token", metadata,
    Column("person_key", String(130), primary_key=True),
    Column("token", String(32), primary_key=True, index=True),
)

#: Which version of each person row (its row hash) the name tokens were built from.
name_search_person = Table(
    "name_search_person", metadata,
    Column("person_key", String(130), primary_key=True),
    Column("row_hash", String(64), nullable=False),
    #: Whether the person had a name when indexed: an erasure that empties the names is noticed even if
    #: it leaves the row hash as it was.
    Column("named", Boolean, nullable=False),
)
