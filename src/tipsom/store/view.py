"""Reading the registry's persons through one door: the columns asked for, the named fields decrypted, one audit event.

Analyses used to query the person table themselves and each audited its own
way (one event per person in one place; one bulk event and then direct use
of the cipher in another). Here the rule is kept once: a caller names the
columns it needs, the personal fields it must see in clear (nothing else is
decrypted) and why; one audit event records the fields, the purpose and the
number of rows, inside the transaction that read them.

Pseudonyms (``pseudo_*``) and plain columns are read as stored. Decrypting is
always audited (``read``); reading only pseudonyms is audited when the caller
names an action, as an export of selectors is.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, select

from tipsom.core.errors import InputError
from tipsom.schema.enums import PersonRole
from tipsom.store import audit
from tipsom.store.tables import PERSON_KEY, REGISTRY, pseudonym_column

if TYPE_CHECKING:
    import pandas as pd

    from tipsom.store.db import Store

__all__ = ["CASE_PREFIX", "PersonChunk", "PersonRead", "person_chunks", "persons_frame", "read_persons"]

#: Columns of a person's case come back under this prefix (``case_year``), apart from the person's own.
CASE_PREFIX = "case_"
_SEALED = "_enc"


@dataclass(frozen=True)
class PersonRead:
    """What a caller asks of the registry's persons.

    ``columns`` are person columns read as stored (plain values and
    pseudonyms); ``decrypt`` are personal fields returned in clear under their
    own names; ``case_columns`` come from each person's case as
    ``case_<name>``. ``roles`` and ``keys`` narrow the persons; ``present``
    keeps only persons holding a value in each named column.
    """

    columns: tuple[str, ...] = ()
    decrypt: tuple[str, ...] = ()
    case_columns: tuple[str, ...] = ()
    roles: Collection[PersonRole] | None = None
    keys: Collection[str] | None = None
    present: tuple[str, ...] = ()

    def fields(self) -> list[str]:
        """What this read takes from a person, as the audit event names it: fields in clear, then pseudonyms."""
        pseudonyms = pseudonym_column("")
        return [*self.decrypt, *(c for c in self.columns if c.startswith(pseudonyms))]

    def query(self) -> Select[Any]:
        persons, cases = REGISTRY["person"], REGISTRY["case"]
        for name in (*self.columns, *self.present):
            if name not in persons.c:
                raise InputError(f"the person table has no column {name!r}", field=name)
        for name in self.decrypt:
            if f"{name}{_SEALED}" not in persons.c:
                raise InputError(f"the person table has no sealed personal field {name!r}", field=name)
        for name in self.case_columns:
            if name not in cases.c:
                raise InputError(f"the case table has no column {name!r}", field=name)
        selected: list[ColumnElement[Any]] = [persons.c[c] for c in self.columns]
        selected += [persons.c[f"{d}{_SEALED}"] for d in self.decrypt]
        selected += [cases.c[c].label(f"{CASE_PREFIX}{c}") for c in self.case_columns]
        query = select(*selected).select_from(persons)
        if self.case_columns:
            query = query.join(cases, cases.c.id == persons.c.case_id)
        if self.roles is not None:
            query = query.where(persons.c.role.in_(sorted(str(r) for r in self.roles)))
        if self.keys is not None:
            query = query.where(persons.c[PERSON_KEY].in_(sorted(self.keys)))
        for name in self.present:
            query = query.where(persons.c[name].is_not(None))
        return query.order_by(persons.c.case_id, persons.c.person_id)


def read_persons(store: Store, request: PersonRead, *, actor: str, purpose: str,
                 action: audit.AuditAction | None = None, entity_id: str | None = None,
                 detail: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """The persons ``request`` asks for, one dict per person, with one audit event when anything personal is read.

    The event is written when fields are decrypted (action ``read`` unless
    another is named) or when ``action`` is given; its detail holds
    ``fields`` and ``rows`` beside the caller's ``detail``. A purpose is
    required whenever an event is written, as :func:`tipsom.store.audit.record`
    demands.
    """
    if action is None and request.decrypt:
        action = audit.AuditAction.READ
    # the key is checked before the read, so a wrong key leaves no event claiming a read that did not happen
    cipher = store.cipher if request.decrypt else None
    with store.begin() as conn:
        rows = [dict(r) for r in conn.execute(request.query()).mappings()]
        if action is not None:
            audit.record(conn, actor=actor, action=action, entity="person", entity_id=entity_id,
                         purpose=purpose.strip(), detail={"fields": request.fields(), "rows": len(rows),
                                                          **(detail or {})})
    if cipher is not None:
        for row in rows:
            for name in request.decrypt:
                blob = row.pop(f"{name}{_SEALED}")
                row[name] = cipher.open(name, blob) if blob is not None else None
    return rows


def persons_frame(store: Store, request: PersonRead, *, actor: str, purpose: str,
                  action: audit.AuditAction | None = None,
                  detail: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """:func:`read_persons` as a frame, with every requested column even when no person matches."""
    import pandas as pd

    rows = read_persons(store, request, actor=actor, purpose=purpose, action=action, detail=detail)
    names: Sequence[str] = [*request.columns, *request.decrypt, *(f"{CASE_PREFIX}{c}" for c in request.case_columns)]
    return pd.DataFrame(rows, columns=list(names))


@dataclass(frozen=True)
class PersonChunk:
    """A run of persons in key order: their keys, their rows and the repeated records they hold.

    ``rows`` hold the columns asked for, in that order; ``children`` map a
    repeated-record table to ``(person_key, *columns)`` tuples.
    """

    keys: list[str]
    rows: list[tuple[Any, ...]]
    children: dict[str, list[tuple[Any, ...]]]


def person_chunks(store: Store, columns: Sequence[str], *, from_case: Collection[str] = (),
                  children: Mapping[str, Sequence[str]] | None = None,
                  chunk: int = 200_000) -> Iterator[PersonChunk]:
    """Every person's plain columns, with their case's and their repeated records', in one streamed pass.

    For analyses that read the whole registry but nothing personal (the
    screening batch): ``columns`` are read from the person, or from the
    person's case for the names in ``from_case``; ``children`` names, per
    repeated-record table, the columns read for each chunk by person-key
    range, which the ``person_key`` indexes serve directly. Sealed fields and
    pseudonyms are refused, so no audit event is due.
    """
    from sqlalchemy import select

    persons, cases = REGISTRY["person"], REGISTRY["case"]
    tables = {t.name: t for t in REGISTRY.values()}
    unknown = sorted(set(children or {}) - set(tables))
    if unknown:
        raise InputError(f"the registry has no table {unknown[0]!r}", field=unknown[0])
    sources = {name: cases if name in from_case else persons for name in columns}
    reads = [(tables[name], list(cols)) for name, cols in (children or {}).items()]
    for table, names in [*((sources[n], [n]) for n in columns), *reads]:
        for name in names:
            if name not in table.c or name.endswith(_SEALED) or name.startswith(pseudonym_column("")):
                raise InputError(f"the {table.name} table has no plain column {name!r}", field=name)
    query = (select(persons.c[PERSON_KEY], *(sources[name].c[name] for name in columns))
             .join_from(persons, cases, persons.c.case_id == cases.c.id)
             .order_by(persons.c[PERSON_KEY]))
    with store.engine.connect() as conn:
        result = conn.execution_options(stream_results=True).execute(query)
        while rows := result.fetchmany(chunk):
            keys = [row[0] for row in rows]
            held = {table.name: [tuple(r) for r in conn.execute(
                        select(table.c.person_key, *(table.c[c] for c in cols))
                        .where(table.c.person_key.between(keys[0], keys[-1])))]
                    for table, cols in reads}
            yield PersonChunk(keys, [tuple(row[1:]) for row in rows], held)
