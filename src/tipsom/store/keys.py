"""Which data key a store is encrypted under, and moving it to a new one.

Personal data sealed under one key cannot be read under another, and a store
holding rows under two keys is unreadable as a whole. So the store records a
*key check value* (:func:`tipsom.store.crypto.key_id`, never the key) and every
use of the key is verified against it before a single personal value is read
or written.

Rotation re-encrypts every sealed column, pseudonym and keyed row hash in one
transaction and records the new check value in that same transaction. The new
key is written to a *pending* key file before the transaction starts and moved
over the key file only after the commit, so a crash at any instant leaves a
key that opens every row: the old key file before the commit, the pending file
after it. Running rotate again recognises both states and completes the work.
"""

from __future__ import annotations

import enum
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from sqlalchemy import Column, Connection, Engine, LargeBinary, MetaData, Table, bindparam, select
from sqlalchemy.exc import IntegrityError as DuplicateRow

from tipsom.core.files import sync_directory
from tipsom.schema.document import PERSONS
from tipsom.schema.model import Model
from tipsom.settings import Settings
from tipsom.store import audit
from tipsom.store.crypto import (
    DataKey,
    DataKeyError,
    FieldCipher,
    KeySource,
    create_key_file,
    encode_key,
    find_data_key,
    read_key_file,
    write_key_file,
)
from tipsom.store.reader import iter_documents
from tipsom.store.tables import PERSON_KEY, REGISTRY, ROW_HASH, pseudonym_column, store_meta

#: Name of the store metadata row holding the data key's check value.
KEY_CHECK = "key_check"
#: Rows read and rewritten per statement while rotating (bounded memory on any store size).
ROTATE_CHUNK = 2000
#: Suffix of the column holding a sealed personal value; the rest of the name is the field it seals.
SEALED = "_enc"


class KeyMismatch(DataKeyError):
    """The configured key is not the key this store's personal data is encrypted under."""


def pending_key_path(settings: Settings) -> Path:
    """Where rotate keeps the new key between writing it and committing the re-encryption."""
    return settings.key_path.with_name(f"{settings.key_path.name}.new")


def recorded_key_id(conn: Connection) -> str | None:
    return conn.scalar(select(store_meta.c.value).where(store_meta.c.name == KEY_CHECK))


def _record_key_id(conn: Connection, kid: str) -> None:
    if conn.execute(store_meta.update().where(store_meta.c.name == KEY_CHECK)
                    .values(value=kid, updated_at=audit.now())).rowcount == 0:
        conn.execute(store_meta.insert().values(name=KEY_CHECK, value=kid, updated_at=audit.now()))


def sealed_columns(conn: Connection) -> Iterator[tuple[Table, Column[Any], list[Column[Any]]]]:
    """Every table with sealed personal values: its primary key and its ``*_enc`` columns.

    Read from the database itself rather than listed or imported, so a module
    that adds a sealed column (web TOTP secrets, say) is rotated without being
    named here, and no table the store holds is missed because its module was
    not imported (the store sits below every module that owns tables).
    """
    found = MetaData()
    found.reflect(bind=conn)
    for table in sorted(found.tables.values(), key=lambda t: t.name):
        sealed = [c for c in table.columns if c.name.endswith(SEALED) and isinstance(c.type, LargeBinary)]
        if sealed:
            (pk,) = table.primary_key.columns
            yield table, pk, sealed


def _first_sealed(conn: Connection) -> tuple[str, bytes] | None:
    for _table, _pk, sealed in sealed_columns(conn):
        for col in sealed:
            blob = conn.scalar(select(col).where(col.is_not(None)).limit(1))
            if blob is not None:
                return col.name.removesuffix(SEALED), bytes(blob)
    return None


def _opens(key: DataKey, sample: tuple[str, bytes]) -> bool:
    try:
        FieldCipher(key.material).open(*sample)
    except (InvalidTag, ValueError):
        return False
    return True


def _mismatch(key: DataKey, recorded: str, settings: Settings) -> KeyMismatch:
    advice = "use the key this store was created with (see docs/settings.md, key backup)"
    pending = pending_key_path(settings)
    try:
        waiting = read_key_file(pending)
    except DataKeyError:
        waiting = None
    if waiting is not None and waiting.id == recorded:
        advice = f"a key rotation was committed but not finished: run `tipsom key rotate` to install {pending}"
    return KeyMismatch(f"the data key does not match this store: the store is encrypted under key {recorded}, "
                       f"but {key.describe()}; {advice}")


def verify_data_key(engine: Engine, key: DataKey, settings: Settings) -> DataKey:
    """``key`` if this store is encrypted under it; otherwise refuse before anything is read or written.

    A store without a check value (created before tipsom recorded one, or not
    yet used) adopts the key, but only when a sealed value it already holds
    opens under it.
    """
    with engine.connect() as conn:
        recorded = recorded_key_id(conn)
        if recorded == key.id:
            return key
        if recorded is not None:
            raise _mismatch(key, recorded, settings)
        sample = _first_sealed(conn)
    if sample is not None and not _opens(key, sample):
        raise KeyMismatch(f"the data key does not match this store: its personal data does not open under "
                          f"{key.describe()}; use the key this store was created with")
    try:
        with engine.begin() as conn:
            conn.execute(store_meta.insert().values(name=KEY_CHECK, value=key.id, updated_at=audit.now()))
    except DuplicateRow:  # another process recorded a key first: it must be the same one
        with engine.connect() as conn:
            recorded = recorded_key_id(conn)
        if recorded != key.id:
            raise _mismatch(key, recorded or "?", settings) from None
    return key


def store_holds_encrypted_data(engine: Engine) -> str | None:
    """Why this store needs its existing key (a recorded key id or sealed data), or None for a blank store."""
    with engine.connect() as conn:
        recorded = recorded_key_id(conn)
        if recorded is not None:
            return f"this store is encrypted under key {recorded}"
        if _first_sealed(conn) is not None:
            return "this store already holds encrypted personal data"
    return None


class RotationStage(enum.Enum):
    """What a run of ``key rotate`` had to do."""

    #: Every sealed value was re-encrypted and the new key installed.
    REENCRYPTED = "re-encrypted"
    #: An earlier run had committed; only installing the new key file was left.
    FINISHED = "finished an interrupted rotation"


@dataclass
class RotationReport:
    old_id: str
    new_id: str
    stage: RotationStage
    rows: dict[str, int] = field(default_factory=dict)
    #: Where the old key was kept (key file deployments).
    backup: Path | None = None
    #: The new key file (installed, or still pending when the key comes from ``TIPSOM_KEY``).
    key_file: Path | None = None
    #: The new key in base64 when the user must copy it into ``TIPSOM_KEY``.
    new_key_text: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"old_key": self.old_id, "new_key": self.new_id, "stage": self.stage.value, "rows": self.rows,
                "backup": str(self.backup) if self.backup else None,
                "key_file": str(self.key_file) if self.key_file else None}


Progress = Callable[[str, int], None]


def _reseal_table(conn: Connection, table: Table, pk: Column[Any], sealed: list[Column[Any]], old: FieldCipher,
                  new: FieldCipher, model: Model, progress: Progress | None) -> int:
    pseudonyms = ([(f.name, f.pseudonym) for f in model["person"].fields.values() if f.pseudonym]
                  if table.name == REGISTRY["person"].name else [])
    targets: dict[str, Any] = {c.name: bindparam(f"new_{c.name}") for c in sealed}
    targets |= {pseudonym_column(kind): bindparam(f"new_{pseudonym_column(kind)}") for _, kind in pseudonyms}
    statement = table.update().where(pk == bindparam("old_pk")).values(targets)
    done, last = 0, None
    while True:
        query = select(pk, *sealed).where(*([pk > last] if last is not None else [])).order_by(pk)
        rows = conn.execute(query.limit(ROTATE_CHUNK)).all()
        if not rows:
            return done
        updates = []
        for row in rows:
            m = row._mapping
            plain = {c.name.removesuffix(SEALED): old.open(c.name.removesuffix(SEALED), m[c.name])
                     for c in sealed if m[c.name] is not None}
            values: dict[str, Any] = {"old_pk": m[pk.name]}
            for c in sealed:
                name = c.name.removesuffix(SEALED)
                values[f"new_{c.name}"] = new.seal(name, plain[name]) if name in plain else None
            parts: dict[str, list[str]] = {}
            for name, kind in pseudonyms:
                if name in plain:
                    parts.setdefault(kind, []).append(plain[name])
            for _, kind in pseudonyms:
                values[f"new_{pseudonym_column(kind)}"] = (new.pseudonym(kind, " ".join(parts[kind]))
                                                           if kind in parts else None)
            updates.append(values)
        conn.execute(statement, updates)
        done += len(rows)
        last = rows[-1][0]
        if progress:
            progress(table.name, done)


def _hashed_form(record: dict[str, Any], order_by: dict[str, str | None]) -> dict[str, Any]:
    """A stored record as the CSV importer hashed it, so an unchanged re-import stays "unchanged".

    Absent values are left out rather than None; repeated entities are kept
    even when empty, their items in field order with the ordering field
    (``seq``) last, where the CSV reader adds it. Documents imported from JSONL
    in another key order hash differently and are rewritten, unchanged, on
    their next re-import (the row hash depending on the input format is issue
    14, section 3).
    """
    out: dict[str, Any] = {}
    for name, value in record.items():
        if name in order_by:
            last = order_by[name]
            out[name] = [{**{k: v for k, v in item.items() if v is not None and k != last},
                          **({last: item[last]} if last and item.get(last) is not None else {})} for item in value]
        elif value is not None:
            out[name] = value
    return out


def _rehash(conn: Connection, model: Model, new: FieldCipher, progress: Progress | None) -> int:
    # Local import: the writer imports the crypto module this module builds on.
    from tipsom.store.writer import canonical, person_key

    cases, persons = REGISTRY["case"], REGISTRY["person"]
    case_update = cases.update().where(cases.c.id == bindparam("old_pk")).values({ROW_HASH: bindparam("new_hash")})
    person_update = (persons.update().where(persons.c[PERSON_KEY] == bindparam("old_pk"))
                     .values({ROW_HASH: bindparam("new_hash")}))
    order_by = {child.table: child.order_by for child in model.children("person")}
    done = 0
    case_rows: list[dict[str, Any]] = []
    person_rows: list[dict[str, Any]] = []
    for doc in iter_documents(conn, model, cipher=new, chunk=ROTATE_CHUNK):
        case_fields = _hashed_form({k: v for k, v in doc.items() if k != PERSONS}, {})
        case_rows.append({"old_pk": doc["case_id"], "new_hash": new.row_hash(canonical(case_fields))})
        for person in doc[PERSONS]:
            person_rows.append({"old_pk": person_key(doc["case_id"], person["person_id"]),
                                "new_hash": new.row_hash(canonical(_hashed_form(person, order_by)))})
        if len(case_rows) >= ROTATE_CHUNK:
            done += _write_hashes(conn, case_update, case_rows, person_update, person_rows)
            case_rows, person_rows = [], []
            if progress:
                progress("row hashes", done)
    return done + _write_hashes(conn, case_update, case_rows, person_update, person_rows)


def _write_hashes(conn: Connection, case_update: Any, case_rows: list[dict[str, Any]], person_update: Any,
                  person_rows: list[dict[str, Any]]) -> int:
    for statement, rows in ((case_update, case_rows), (person_update, person_rows)):
        if rows:
            conn.execute(statement, rows)
    return len(case_rows)


def reencrypt(conn: Connection, model: Model, old: FieldCipher, new: FieldCipher,
              progress: Progress | None = None) -> dict[str, int]:
    """Re-seal every sealed value and recompute every keyed value under ``new`` (caller owns the transaction)."""
    rows = {table.name: _reseal_table(conn, table, pk, sealed, old, new, model, progress)
            for table, pk, sealed in sealed_columns(conn)}
    rows[ROW_HASH] = _rehash(conn, model, new, progress)
    return rows


def _install(current: DataKey, pending: DataKey, settings: Settings, report: RotationReport) -> None:
    """Put the committed new key where the next command will find it, keeping the old key file."""
    pending_path = pending_key_path(settings)
    key_path = settings.key_path
    on_disk = read_key_file(key_path)
    if on_disk is not None and on_disk.id != pending.id:
        backup = key_path.with_name(f"{key_path.name}.old-{on_disk.id}")
        if not backup.exists():
            write_key_file(backup, on_disk.material)
        report.backup = backup
    if on_disk is not None or current.source is KeySource.FILE:
        os.replace(pending_path, key_path)
        sync_directory(key_path.parent)
        report.key_file = key_path
    else:
        # The key lives only in the environment: the pending file stays as the one durable copy
        # until the operator has moved the new key into TIPSOM_KEY.
        report.key_file = pending_path
    if current.source is KeySource.ENVIRONMENT:
        report.new_key_text = encode_key(pending.material)


def rotate_data_key(engine: Engine, model: Model, settings: Settings, *, actor: str, purpose: str,
                    progress: Progress | None = None) -> RotationReport:
    """Move the store to a fresh data key, or finish a rotation a crash interrupted."""
    current = find_data_key(settings)
    if current is None:
        raise DataKeyError(f"no data key: set TIPSOM_KEY or restore {settings.key_path}")
    pending_path = pending_key_path(settings)
    pending = read_key_file(pending_path)
    with engine.connect() as conn:
        recorded = recorded_key_id(conn)
    if pending is not None and recorded == pending.id and current.id != pending.id:
        report = RotationReport(current.id, pending.id, RotationStage.FINISHED)
        _install(current, pending, settings, report)
        return report
    verify_data_key(engine, current, settings)
    if pending is None or pending.id == current.id:
        write_key_file(pending_path, secrets.token_bytes(32))
        pending = read_key_file(pending_path)
        assert pending is not None  # just written
    report = RotationReport(current.id, pending.id, RotationStage.REENCRYPTED)
    with engine.begin() as conn:
        report.rows = reencrypt(conn, model, FieldCipher(current.material), FieldCipher(pending.material),
                                progress)
        _record_key_id(conn, pending.id)
        audit.record(conn, actor=actor, action=audit.AuditAction.UPDATE, entity="data_key", purpose=purpose,
                     detail={"old_key": current.id, "new_key": pending.id, "rows": report.rows})
    _install(current, pending, settings, report)
    return report


def provide_data_key(engine: Engine, settings: Settings) -> tuple[DataKey, bool]:
    """The store's data key for ``tipsom init``, creating a key file only for a store that has no key yet.

    A missing key file over a store that already holds encrypted data means the
    key was lost or moved, not that the store is new: a fresh key would start a
    second, incompatible encryption of the same store, so that is refused.
    """
    created = False
    if find_data_key(settings) is None:
        reason = store_holds_encrypted_data(engine)
        if reason is not None:
            raise DataKeyError(f"{reason}, but no data key is configured ({settings.key_path} is missing): "
                               "restore the key file from its backup or set TIPSOM_KEY; refusing to create "
                               "a new key that could not read it")
        created = create_key_file(settings.key_path)
    key = find_data_key(settings)
    if key is None:
        raise DataKeyError(f"no data key at {settings.key_path}")
    return verify_data_key(engine, key, settings), created
