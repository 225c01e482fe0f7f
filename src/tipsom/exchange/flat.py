"""Validating and preparing native CSV rows a column at a time.

The row-wise path (flat row to document, :class:`DocumentValidator`,
:class:`RowPreparer`) defines what an import accepts and what it stores. This
path reaches the same verdicts and the same rows for ordinary rows, several
times faster: each column's values go through the *same* converters, once per
distinct value (a million rows hold few distinct codes, dates or numbers),
and rows are assembled from the per-column results.

Any row it is not certain about (a value a converter refuses, a missing
required field, dates out of order, a value in an unknown column, a ragged or
case-only row, a problem in a repeated record) is handed whole to the
row-wise path, so every problem report is the row-wise one by construction.
The row hash covers the same canonical text: ``repr((name, value))`` pieces
joined as the list ``repr`` that :func:`tipsom.store.writer.canonical` makes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

from tipsom.exchange.native import CsvChunk, Record
from tipsom.schema.document import (
    CASE_ORDER,
    CASE_PERSON_ORDER,
    CHILD_ORDER,
    PERSON_ORDER,
    PERSONS,
    DocumentValidator,
    FlatLayout,
    Problem,
    check_order,
    child_items,
)
from tipsom.schema.model import Entity, Field
from tipsom.schema.values import INNER_SEP, MULTI_SEP, Converter, converter
from tipsom.store.tables import PERSON_KEY, pseudonym_column
from tipsom.store.writer import PreparedBatch, Row, RowPreparer, canonical_value, person_key, text

#: A column's memo is emptied when it grows past this many distinct values (free text).
MEMO_LIMIT = 50_000
#: (typed value, stored value, hash piece) of one cell; all None for an empty cell.
Entry = tuple[Any, Any, str | None]
#: One row ready to write: (case id, case row, person key, person row, child rows by entity).
Prepared = tuple[str, Row, str, Row, dict[str, list[Row]]]
#: A prepared row with the line it ends on and its values as read (to refuse it whole if need be).
Located = tuple[int, list[str], Prepared]
#: One row's typed records of a repeated entity, and its table row (no person key yet) when built here.
_Kids = tuple[list[dict[str, Any]], list[Any] | None]
_EMPTY: Entry = (None, None, None)
_MISS: Any = object()


class _Column:
    """One header column holding a field, with what its values became.

    A column of a repeated entity (``inner``) is judged here only for rows with
    one record of it: an empty cell then means no value, and a multi-valued
    cell splits on ``;`` as :func:`child_items` splits it.
    """

    __slots__ = ("at", "bad", "conv", "f", "inner", "memo", "personal")

    def __init__(self, at: int, f: Field, inner: bool = False) -> None:
        self.at, self.f, self.inner = at, f, inner
        convert = converter(f)
        self.conv: Converter = (lambda v: convert(v.split(INNER_SEP))) if inner and f.multi else convert
        self.personal = f.personal
        self.memo: dict[str, Entry] = {}
        #: Values the row-wise path must judge (kept apart so a lookup can never mistake them).
        self.bad: set[str] = set()


class _Repeated:
    """A repeated entity's columns in the header (route legs, identifications, charges)."""

    def __init__(self, child: Entity, columns: list[_Column]) -> None:
        self.child, self.columns = child, columns
        names = {c.f.name for c in columns}
        self.required = [f.name for f in child.fields.values() if f.required and f.name != child.order_by]
        # Column-wise conversion when the file leaves the order field to numbering (as the
        # standard layout does) and holds every required field; otherwise always row by row.
        self.by_column = (child.order_by is None or child.order_by not in names) and set(self.required) <= names


@dataclass
class _Level:
    """The columns of one entity (case or person) present in the header."""

    entity: Entity
    columns: list[_Column]

    def by_name(self) -> dict[str, _Column]:
        return {c.f.name: c for c in self.columns}


class FlatPreparer:
    """Prepares the rows of CSV chunks that share one header."""

    def __init__(self, header: Sequence[str], validator: DocumentValidator, layout: FlatLayout,
                 preparer: RowPreparer) -> None:
        self.validator, self.preparer = validator, preparer
        self.cipher = preparer.cipher
        model = validator.model
        self.width = len(header)
        self.case = _Level(model["case"], [])
        self.person = _Level(model["person"], [])
        self.unknown: list[int] = []
        child_cols: dict[str, list[_Column]] = {c.name: [] for c in layout.children}
        for at, name in enumerate(header):
            if name in layout.case_fields:
                self.case.columns.append(_Column(at, model["case"].fields[name]))
            elif name in layout.person_fields:
                self.person.columns.append(_Column(at, model["person"].fields[name]))
            elif name in layout.child_cols:
                child, f = layout.child_cols[name]
                child_cols[child.name].append(_Column(at, f, inner=True))
            else:
                self.unknown.append(at)
        self.repeated = [_Repeated(c, child_cols[c.name]) for c in layout.children]
        required = {(e.name, f.name) for e in (model["case"], model["person"]) for f in e.fields.values()
                    if f.required}
        present = {(lv.entity.name, c.f.name) for lv in (self.case, self.person) for c in lv.columns}
        # Repeated column names and a literal "persons" column change what the row-wise reader
        # builds; without a required column every row is refused. All go row-wise.
        keys = {("case", model["case"].key), ("person", model["person"].key)}
        self.eligible = (len(set(header)) == len(header) and PERSONS not in header
                         and (required | keys) <= present)
        self.children = layout.children
        child_names = {c.table for c in self.children}
        self.person_slots = sorted([*(c.f.name for c in self.person.columns), *child_names])
        self.case_slots = sorted(c.f.name for c in self.case.columns)

    # --- cells to typed values ---------------------------------------------------------

    def _entry(self, c: _Column, value: str) -> Entry | None:
        """The converted cell, or None if the row-wise path must judge it."""
        if not value:
            return None if c.f.required and not c.inner else _EMPTY
        try:
            typed = c.conv(value)
        except ValueError:
            return None
        if typed is None:
            return _EMPTY
        slot = self.preparer.slots[c.f.entity].get(c.f.name)  # keys have no slot: they are stored as given
        return typed, typed if slot is None else slot.stored(typed, self.cipher), repr((c.f.name, typed))

    def _entries(self, c: _Column, cells: Sequence[str]) -> tuple[list[Entry], list[int]]:
        """Each cell's entry, and the rows whose cell the row-wise path must judge."""
        if c.personal:  # never memoised: unique per person, and sealed with a fresh nonce each
            found = [self._entry(c, v) if v or c.f.required else _EMPTY for v in cells]
            refused = [j for j, e in enumerate(found) if e is None]
            return [_EMPTY if e is None else e for e in found], refused
        memo, bad = c.memo, c.bad
        distinct = set(cells)
        for v in distinct.difference(memo).difference(bad):
            entry = self._entry(c, v)
            if entry is None:
                bad.add(v)
            else:
                memo[v] = entry
        out = list(map(memo.get, cells, repeat(_EMPTY)))
        refused = [j for j, v in enumerate(cells) if v in bad] if not bad.isdisjoint(distinct) else []
        if len(memo) > MEMO_LIMIT:
            memo.clear()
        return out, refused

    def _records(self, child: Entity, row: Sequence[str], line: int, columns: Sequence[_Column]
                 ) -> list[dict[str, Any]] | None:
        """One row's typed records of ``child`` the row-wise way, or None if any has a problem."""
        lists = {c.f.name: row[c.at].split(MULTI_SEP) for c in columns if row[c.at]}
        problems: list[Problem] = []
        typed = []
        for item in child_items(child, lists):
            rec = self.validator.record(child, item, line, "", problems)
            check_order(rec, CHILD_ORDER, line, "", problems)
            typed.append(rec)
        return None if problems else typed

    def _repeated(self, rep: _Repeated, rows: list[list[str]], lines: list[int], cols: list[tuple[str, ...]],
                  bad: set[int]) -> list[_Kids | None]:
        """Each row's typed records of one repeated entity (None for rows already handed over).

        A row with one record of the entity, whose values all convert, with its
        required fields and dates in order, is converted from the column results
        (and its table row built from their stored values); any other row with
        values goes through :meth:`_records`.
        """
        child, columns = rep.child, rep.columns
        if not columns:
            return [None if j in bad else ([], None) for j in range(len(rows))]
        cells = [cols[c.at] for c in columns]
        entries: list[list[Entry]] = []
        judged: set[int] = set()
        if rep.by_column:
            for c, col in zip(columns, cells, strict=True):
                found, refused = self._entries(c, col)
                entries.append(found)
                judged.update(refused)
        layout = self.preparer.layouts[child.name]
        slots = self.preparer.slots[child.name]
        at = [slots[c.f.name].at for c in columns]
        numbered = (slots[child.order_by].at, slots[child.order_by].encode(1)) if child.order_by else None
        order = [(a, b) for a, b in CHILD_ORDER if a in child.fields and b in child.fields]
        out: list[_Kids | None] = []
        for j, row_cells in enumerate(zip(*cells, strict=True)):
            if j in bad:
                out.append(None)
                continue
            if not any(row_cells):
                out.append(([], None))
                continue
            if rep.by_column and j not in judged and not any(MULTI_SEP in v for v in row_cells):
                item, row = {}, layout.blank()
                for i, (e, v) in enumerate(zip(entries, row_cells, strict=True)):
                    if v and e[j][0] is not None:
                        item[columns[i].f.name] = e[j][0]
                        row[at[i]] = e[j][1]
                if numbered is not None and child.order_by:
                    item[child.order_by] = 1
                    row[numbered[0]] = numbered[1]
                if not any(name not in item for name in rep.required) and not any(
                        item.get(a) is not None and item.get(b) is not None and item[a] > item[b] for a, b in order):
                    out.append(([item], row))
                    continue
            records = self._records(child, rows[j], lines[j], columns)
            out.append(None if records is None else (records, None))
        return out

    # --- one chunk ------------------------------------------------------------------------

    def run(self, chunk: CsvChunk) -> list[Record | Located]:
        """Prepared rows (with their line and values) and row-wise leftovers (as records), in file order.

        A prepared row is ``(case id, case row, person key, person row, child rows)``.
        """
        order: list[Record | int] = []
        lines: list[int] = []
        rows: list[list[str]] = []
        parsed = list(chunk.rows())
        for i, (line, values) in enumerate(parsed, start=1):
            last = i == len(parsed)
            if self.eligible and len(values) == self.width and not (last and chunk.cut):
                if any(values) and "".join(values).strip():
                    order.append(len(rows))
                    rows.append(values)
                    lines.append(line)
                continue
            record = chunk.record(line, values, last)
            if record is not None:
                order.append(record)
        if not rows:
            return [o for o in order if isinstance(o, Record)]
        handed = self._prepare(rows, lines)
        out: list[Record | Located] = []
        for o in order:
            if isinstance(o, Record):
                out.append(o)
            else:
                done = handed[o]
                out.append((lines[o], rows[o], done) if done is not None
                           else Record(lines[o], chunk.named(rows[o])))
        return out

    def _prepare(self, rows: list[list[str]], lines: list[int]
                 ) -> list[Prepared | None]:
        n = len(rows)
        cols = list(zip(*rows, strict=True))
        bad: set[int] = set()
        for at in self.unknown:
            if any(cols[at]):
                bad.update(j for j, v in enumerate(cols[at]) if v.strip())
        ents: dict[str, list[Entry]] = {}
        for level in (self.case, self.person):
            for c in level.columns:
                ents[f"{level.entity.name}.{c.f.name}"], refused = self._entries(c, cols[c.at])
                bad.update(refused)
        for level, pairs in ((self.case, CASE_ORDER), (self.person, PERSON_ORDER)):
            for first, last in pairs:
                a, b = ents.get(f"{level.entity.name}.{first}"), ents.get(f"{level.entity.name}.{last}")
                if a is None or b is None:
                    continue
                for j, (x, y) in enumerate(zip(a, b, strict=True)):
                    if x[0] is not None and y[0] is not None and x[0] > y[0]:
                        bad.add(j)
        for case_field, person_field in CASE_PERSON_ORDER:
            a, b = ents.get(f"case.{case_field}"), ents.get(f"person.{person_field}")
            if a is not None and b is not None:
                bad.update(j for j, (x, y) in enumerate(zip(a, b, strict=True))
                           if x[0] is not None and y[0] is not None and y[0] > x[0])
        kids: list[dict[str, _Kids]] = [{} for _ in range(n)]
        for rep in self.repeated:
            for j, found in enumerate(self._repeated(rep, rows, lines, cols, bad)):
                if found is None:
                    bad.add(j)
                else:
                    kids[j][rep.child.table] = found
        good = [j for j in range(n) if j not in bad] if bad else range(n)
        if bad:
            ents = {k: [v[j] for j in good] for k, v in ents.items()}
            kids = [kids[j] for j in good]
        done = self._assemble(ents, kids)
        out: list[Prepared | None] = [None] * n
        for j, result in zip(good, done, strict=True):
            out[j] = result
        return out

    def _assemble(self, ents: dict[str, list[Any]], kids: Sequence[Any]
                  ) -> list[Prepared]:
        prep, cipher = self.preparer, self.cipher
        case_layout, person_layout = prep.layouts["case"], prep.layouts["person"]
        case_ids = [e[0] for e in ents["case.case_id"]]
        person_ids = [e[0] for e in ents[f"person.{self.person.entity.key}"]]
        keys = [person_key(c, p) for c, p in zip(case_ids, person_ids, strict=True)]

        case_hashes = [cipher.row_hash(("[" + ", ".join(filter(None, pieces)) + "]").encode())
                       for pieces in zip(*([e[2] for e in ents[f"case.{s}"]] for s in self.case_slots),
                                         strict=True)]
        piece_cols: list[Any] = []
        for slot in self.person_slots:
            if f"person.{slot}" in ents:
                piece_cols.append([e[2] for e in ents[f"person.{slot}"]])
            else:
                piece_cols.append([repr((slot, canonical_value(k[slot][0]))) for k in kids])
        person_hashes = [cipher.row_hash(("[" + ", ".join(filter(None, pieces)) + "]").encode())
                         for pieces in zip(*piece_cols, strict=True)]

        by_name = self.person.by_name()
        pseudo: dict[str, Any] = {}
        for kind in prep.kinds:
            typed = [[e[0] for e in ents[f"person.{name}"]] for name, k in prep.pseudonyms
                     if k == kind and name in by_name]
            texts = [" ".join(text(v) for v in values if v is not None) for values in zip(*typed, strict=True)]
            pseudo[pseudonym_column(kind)] = [cipher.pseudonym(kind, t) if t else None for t in texts] if typed \
                else repeat(None)

        stamp = prep.stamp
        case_cols: list[Any] = [repeat(None) for _ in case_layout.columns]
        for c in self.case.columns:
            if c.f.name != self.case.entity.key:
                case_cols[case_layout.index[c.f.name]] = [e[1] for e in ents[f"case.{c.f.name}"]]
        case_cols[case_layout.index["id"]] = case_ids
        case_cols[case_layout.hash_at] = case_hashes
        for name, value in stamp.items():
            case_cols[case_layout.index[name]] = repeat(value)
        person_cols: list[Any] = [repeat(None) for _ in person_layout.columns]
        for c in self.person.columns:
            if c.f.name != self.person.entity.key:
                column = f"{c.f.name}_enc" if c.personal else c.f.name
                person_cols[person_layout.index[column]] = [e[1] for e in ents[f"person.{c.f.name}"]]
        person_cols[person_layout.index[PERSON_KEY]] = keys
        person_cols[person_layout.index["case_id"]] = case_ids
        person_cols[person_layout.index["person_id"]] = person_ids
        person_cols[person_layout.hash_at] = person_hashes
        for column, values in pseudo.items():
            person_cols[person_layout.index[column]] = values
        for name, value in stamp.items():
            person_cols[person_layout.index[name]] = repeat(value)
        # Columns given as repeat() are constant; zip stops at the lists' length (the rows).
        case_rows = zip(*case_cols, strict=False)
        person_rows = zip(*person_cols, strict=False)
        children = self.children
        return [(cid, case_row, key, person_row, {c.name: self._child_rows(key, c, kid[c.table]) for c in children})
                for cid, case_row, key, person_row, kid in zip(case_ids, case_rows, keys, person_rows, kids,
                                                                strict=True)]

    def _child_rows(self, key: str, child: Entity, kids: _Kids) -> list[Row]:
        records, row = kids
        if row is None:
            return self.preparer.child_rows(key, child, records)
        row[self.preparer.key_at[child.name]] = key
        return [tuple(row)]


def add_prepared(batch: PreparedBatch, prepared: Prepared,
                 preparer: RowPreparer) -> None:
    """Add one row prepared here to a batch, as :meth:`RowPreparer.prepare` would."""
    cid, case_row, key, person_row, children = prepared
    batch.add_case(cid, case_row, preparer.layouts["case"].hash_at)
    batch.add_person(key, person_row, children, preparer.key_at)
