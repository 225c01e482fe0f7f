"""Record history: every change to a case or a person keeps what was there before.

A caseworker who overwrites a victim's form by mistake, or a supervisor who
must answer "who changed this, and when", needs the earlier values; an
update that overwrote them for ever would lose them. Before the writer
changes a stored case (its row, a person, their repeated records), the
whole case as stored is copied into ``record_versions`` in the same
transaction: version *n* is the state that change *n* replaced, and says
who made that change, when and why. The copy is taken from the stored
columns, so personal values stay sealed under the same field encryption as
the live rows: keeping history never decrypts anything.

Reading a difference decrypts only when the reader states a purpose (and
that read is audited); restoring an earlier version is itself a change, so
the state it replaces becomes a new version and nothing is lost either way.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row, delete, func, insert, select, update

from tipsom.core.errors import InputError
from tipsom.schema.model import Field, Model
from tipsom.store import audit
from tipsom.store.crypto import FieldCipher
from tipsom.store.tables import PERSON_KEY, REGISTRY, pseudonym_column, record_versions

if TYPE_CHECKING:
    from tipsom.store.db import Store

#: Keys of a snapshot: the case row, and its persons by key, each with its repeated records.
CASE, PERSONS, CHILDREN = "case", "persons", "children"
_CHUNK = 2000


class Change(enum.StrEnum):
    """What kind of change replaced a version (the change recorded with it)."""

    UPDATE = "update"
    RESTORE = "restore"
    REMOVE_PERSON = "remove_person"
    ERASE = "erase"


def _encode(value: Any) -> Any:
    """A stored value in JSON: bytes (sealed values) and dates tagged so they come back as they were."""
    if isinstance(value, bytes):
        return {"$b": base64.b64encode(value).decode()}
    if isinstance(value, dt.datetime):
        return {"$t": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$d": value.isoformat()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "$b" in value:
            return base64.b64decode(value["$b"])
        if "$t" in value:
            return dt.datetime.fromisoformat(value["$t"])
        if "$d" in value:
            return dt.date.fromisoformat(value["$d"])
    return value


def _row(mapping: Mapping[Any, Any], skip: Iterable[str] = ()) -> dict[str, Any]:
    drop = set(skip)
    return {k: _encode(v) for k, v in mapping.items() if k not in drop}


def snapshots(conn: Connection, model: Model, case_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The stored state of each case in ``case_ids`` (absent cases left out), as JSON-ready dicts."""
    cases_t, persons_t = REGISTRY["case"], REGISTRY["person"]
    children = model.children("person")
    out: dict[str, dict[str, Any]] = {}
    for i in range(0, len(case_ids), _CHUNK):
        part = list(case_ids[i : i + _CHUNK])
        for r in conn.execute(select(cases_t).where(cases_t.c.id.in_(part))).mappings():
            out[r["id"]] = {CASE: _row(r), PERSONS: {}}
        keys: dict[str, str] = {}
        for r in conn.execute(select(persons_t).where(persons_t.c.case_id.in_(part))).mappings():
            if r["case_id"] in out:
                out[r["case_id"]][PERSONS][r[PERSON_KEY]] = {**_row(r), CHILDREN: {c.name: [] for c in children}}
                keys[r[PERSON_KEY]] = r["case_id"]
        for child in children:
            table = REGISTRY[child.name]
            key_list = list(keys)
            for j in range(0, len(key_list), _CHUNK):
                q = (select(table).where(table.c.person_key.in_(key_list[j : j + _CHUNK]))
                     .order_by(table.c.person_key, table.c.id))
                for r in conn.execute(q).mappings():
                    person = out[keys[r["person_key"]]][PERSONS][r["person_key"]]
                    person[CHILDREN][child.name].append(_row(r, skip=("id", "person_key")))
    return out


def keep(conn: Connection, model: Model, case_ids: Iterable[str], *, actor: str, purpose: str,
         change: Change, event_id: int | None) -> dict[str, int]:
    """Copy the stored state of ``case_ids`` into the history before ``change`` alters them.

    Call it in the transaction that makes the change, before making it.
    Returns the version number given to each case that was stored.
    """
    ids = sorted(set(case_ids))
    states = snapshots(conn, model, ids)
    if not states:
        return {}
    last: dict[str, int] = {}
    stored = sorted(states)
    for i in range(0, len(stored), _CHUNK):
        q = (select(record_versions.c.case_id, func.max(record_versions.c.version))
             .where(record_versions.c.case_id.in_(stored[i : i + _CHUNK])).group_by(record_versions.c.case_id))
        last.update({cid: int(v) for cid, v in conn.execute(q)})
    at = audit.now()
    numbers = {cid: last.get(cid, 0) + 1 for cid in stored}
    conn.execute(insert(record_versions), [
        {"case_id": cid, "version": numbers[cid], "at": at, "actor": actor, "purpose": purpose,
         "change": str(change), "event_id": event_id, "snapshot": json.dumps(states[cid], sort_keys=True)}
        for cid in stored])
    return numbers


@dataclass(frozen=True)
class FieldChange:
    """One field that differs between two states of a case.

    ``record`` is ``"case"`` or the person's id (with the repeated record's
    table and position for those). A sealed (personal) value is shown only
    when the difference was read with a purpose; otherwise ``sealed`` is true
    and ``before``/``after`` are ``None``: the stored ciphertexts differ, which
    means the value was changed or entered again.
    """

    #: The schema entity the field belongs to (``case``, ``person`` or a repeated record's).
    entity: str
    record: str
    field: str
    before: Any
    after: Any
    sealed: bool = False


@dataclass(frozen=True)
class Version:
    """Version ``number`` of a case: the state that a change by ``actor`` at ``at`` replaced."""

    number: int
    at: dt.datetime
    actor: str
    purpose: str
    change: Change
    #: The fields that change altered (personal ones sealed).
    changes: tuple[FieldChange, ...]


#: Columns that say when and by which import a row was written, not what it holds.
_BOOKKEEPING = frozenset({"row_hash", "created_at", "updated_at", "created_by_event", "case_id", "person_id",
                          PERSON_KEY, "id"})


def _personal(model: Model) -> dict[str, Field]:
    return {f"{f.name}_enc": f for f in model["person"].personal_fields}


def _pseudonyms(model: Model) -> frozenset[str]:
    return frozenset(pseudonym_column(k) for k in model.pseudonym_kinds)


def _compare(model: Model, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None,
             cipher: FieldCipher | None) -> list[FieldChange]:
    """Field changes between two snapshots (``None`` for a case that did not exist)."""
    personal, pseudo = _personal(model), _pseudonyms(model)
    changes: list[FieldChange] = []

    def typed(entity: str, column: str, value: Any) -> Any:
        value = _decode(value)
        f = model[entity].fields.get(column)
        return value.split("|") if f is not None and f.multi and isinstance(value, str) else value

    def values(rec: str, entity: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        for column in sorted(set(old) | set(new)):
            if column in _BOOKKEEPING or column in pseudo or column == CHILDREN:
                continue
            a, b = old.get(column), new.get(column)
            if a == b:
                continue
            f = personal.get(column)
            if f is None:
                changes.append(FieldChange(entity, rec, column, typed(entity, column, a), typed(entity, column, b)))
            elif cipher is None:
                changes.append(FieldChange(entity, rec, f.name, None, None, sealed=True))
            else:
                clear = [cipher.open(f.name, _decode(v)) if v is not None else None for v in (a, b)]
                if clear[0] != clear[1]:
                    changes.append(FieldChange(entity, rec, f.name, clear[0], clear[1]))

    old_state, new_state = before or {CASE: {}, PERSONS: {}}, after or {CASE: {}, PERSONS: {}}
    values("case", "case", old_state[CASE], new_state[CASE])
    for key in sorted(set(old_state[PERSONS]) | set(new_state[PERSONS])):
        old_p, new_p = old_state[PERSONS].get(key), new_state[PERSONS].get(key)
        pid = key.split("/", 1)[1] if "/" in key else key
        if old_p is None or new_p is None:
            changes.append(FieldChange("person", pid, "person", "absent" if old_p is None else "present",
                                       "absent" if new_p is None else "present"))
            continue
        values(pid, "person", old_p, new_p)
        for table in sorted(set(old_p[CHILDREN]) | set(new_p[CHILDREN])):
            a_rows, b_rows = old_p[CHILDREN].get(table, []), new_p[CHILDREN].get(table, [])
            for n in range(max(len(a_rows), len(b_rows))):
                values(f"{pid} {table} {n + 1}", table, a_rows[n] if n < len(a_rows) else {},
                       b_rows[n] if n < len(b_rows) else {})
    return changes


def _states(conn: Connection, case_id: str) -> list[Row[Any]]:
    q = select(record_versions).where(record_versions.c.case_id == case_id).order_by(record_versions.c.version)
    return list(conn.execute(q))


def versions(store: Store, case_id: str, *, actor: str | None = None, purpose: str = "") -> list[Version]:
    """The versions of a case, oldest first, each with who changed it, when, and which fields.

    Nothing is decrypted: a changed personal value is listed as sealed. Given
    an ``actor``, the consultation is audited (one event naming the case), for
    callers whose reading of the case is not audited already.
    """
    with store.begin() as conn:
        rows = _states(conn, case_id)
        current = snapshots(conn, store.model, [case_id]).get(case_id)
        if actor is not None:
            audit.record(conn, actor=actor, action=audit.AuditAction.READ, entity="case_history",
                         entity_id=case_id, purpose=purpose, detail={"versions": len(rows)})
    states = [json.loads(r.snapshot) for r in rows] + [current]
    return [Version(r.version, r.at, r.actor, r.purpose, Change(r.change),
                    tuple(_compare(store.model, states[i], states[i + 1], None)))
            for i, r in enumerate(rows)]


def _kept(conn: Connection, case_id: str, version: int) -> dict[str, Any]:
    """Version ``version`` of a case, as kept in the history."""
    q = select(record_versions.c.snapshot).where(record_versions.c.case_id == case_id,
                                                 record_versions.c.version == version)
    raw = conn.scalar(q)
    if raw is None:
        raise InputError(f"case {case_id} has no version {version}", field="version")
    state: dict[str, Any] = json.loads(raw)
    return state


def _state(conn: Connection, model: Model, case_id: str, version: int | None) -> dict[str, Any] | None:
    """Version ``version`` of a case (``None``: as stored now, absent if the case is not stored)."""
    return snapshots(conn, model, [case_id]).get(case_id) if version is None else _kept(conn, case_id, version)


def diff(store: Store, case_id: str, before: int, after: int | None = None, *, actor: str,
         purpose: str | None = None) -> list[FieldChange]:
    """The fields that differ between version ``before`` and ``after`` (default: the case as stored now).

    With a ``purpose`` the personal values are decrypted and the read is
    audited (one event naming the case and both versions); without one they
    are listed as sealed and nothing is decrypted.
    """
    cipher = store.cipher if purpose else None
    with store.begin() as conn:
        old, new = _state(conn, store.model, case_id, before), _state(conn, store.model, case_id, after)
        if purpose:
            audit.record(conn, actor=actor, action=audit.AuditAction.READ, entity="case_history",
                         entity_id=case_id, purpose=purpose,
                         detail={"versions": [before, "current" if after is None else after]})
    return _compare(store.model, old, new, cipher)


def restore(store: Store, case_id: str, version: int, *, by: str, purpose: str) -> int:
    """Make version ``version`` of a case the stored state again; returns the new version's number.

    The state the restore replaces is kept as a new version first, so a
    mistaken restore is itself undone by restoring that one. Persons added
    after the restored version leave the live case (they stay in the history);
    persons that were removed come back. One audit event records the restore.
    """
    if not purpose.strip():
        raise InputError("restoring a version needs a stated purpose", field="purpose")
    model = store.model
    with store.begin() as conn:
        state = _kept(conn, case_id, version)
        if snapshots(conn, model, [case_id]).get(case_id) is None:
            raise InputError(f"case {case_id} is not stored; it cannot be restored here", field="case_id")
        event = audit.record(conn, actor=by, action=audit.AuditAction.RESTORE, entity="case", entity_id=case_id,
                             purpose=purpose, detail={"restored_version": version})
        numbers = keep(conn, model, [case_id], actor=by, purpose=purpose, change=Change.RESTORE, event_id=event)
        _write(conn, model, case_id, state)
    return numbers[case_id]


def _write(conn: Connection, model: Model, case_id: str, state: Mapping[str, Any]) -> None:
    """Replace the stored case, its persons and their repeated records with ``state``."""
    cases_t, persons_t = REGISTRY["case"], REGISTRY["person"]
    case_row = {k: _decode(v) for k, v in state[CASE].items() if k != "id"}
    case_row["updated_at"] = audit.now()
    conn.execute(update(cases_t).where(cases_t.c.id == case_id).values(**case_row))
    stored_keys = [r[0] for r in conn.execute(select(persons_t.c[PERSON_KEY]).where(persons_t.c.case_id == case_id))]
    for child in model.children("person"):
        table = REGISTRY[child.name]
        if stored_keys:
            conn.execute(delete(table).where(table.c.person_key.in_(stored_keys)))
    conn.execute(delete(persons_t).where(persons_t.c.case_id == case_id))
    for key, person in state[PERSONS].items():
        conn.execute(insert(persons_t).values(**{k: _decode(v) for k, v in person.items() if k != CHILDREN}))
        for name, rows in person[CHILDREN].items():
            if rows:
                conn.execute(insert(REGISTRY[name]),
                             [{**{k: _decode(v) for k, v in r.items()}, "person_key": key} for r in rows])


def erase_personal(conn: Connection, model: Model, case_id: str, person_keys: Iterable[str]) -> int:
    """Blank the sealed values and pseudonyms of these persons in every version of their case.

    Retention erases a person's personal data from the history too, or the
    history would keep what the law says must go. Returns the number of
    versions rewritten.
    """
    keys = set(person_keys)
    erasable = set(_personal(model)) | _pseudonyms(model)
    rewritten = 0
    for r in _states(conn, case_id):
        state = json.loads(r.snapshot)
        touched = False
        for key in keys & set(state[PERSONS]):
            person = state[PERSONS][key]
            for column in erasable:
                if person.get(column) is not None:
                    person[column] = None
                    touched = True
        if touched:
            conn.execute(update(record_versions).where(record_versions.c.id == r.id)
                         .values(snapshot=json.dumps(state, sort_keys=True)))
            rewritten += 1
    return rewritten
