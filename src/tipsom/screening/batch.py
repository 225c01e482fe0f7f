"""Screening batches: persons as columns, built from documents or from the store.

Both builders produce the registry's own shape (one row per person with its
case's fields; multi-valued fields as ``|``-joined text; repeated records in
child frames pointing at their person's row), so a case typed into the web
form, a JSON file and a million stored cases are screened by exactly the same
compiled rules. Only the columns the rules use are built.

A batch answers the four questions a condition may ask of a field (is it
recorded, is one of its values in a code list, what is its number, which
values does one person have); :class:`~tipsom.screening.rows.DocumentRows`
answers the same questions for one case without pandas.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from tipsom.screening.fields import FieldSpec, Kind, batch_schema

if TYPE_CHECKING:
    from tipsom.store.db import Store

Mask = npt.NDArray[np.bool_]

#: Columns every batch carries, whatever the rules use (identity and grouping).
ID_COLUMNS = ("case_id", "person_id", "jurisdiction", "year", "role")
ROW = "_row"


def _recorded(values: pd.Series) -> Mask:
    """Values that are recorded: not missing, and not empty text."""
    mask = values.notna().to_numpy().copy()
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        mask &= (values != "").to_numpy()
    return np.asarray(mask, dtype=bool)


@dataclass
class Batch:
    """One row per person; ``children[table]`` rows point at persons through ``_row``."""

    frame: pd.DataFrame
    children: dict[str, pd.DataFrame]
    _exploded: dict[str, tuple[npt.NDArray[np.int64], pd.Series]] = field(default_factory=dict, repr=False)
    _columns: dict[str, pd.Series] = field(default_factory=dict, repr=False)

    def column(self, name: str) -> pd.Series:
        """One person-row column (looked up once: frame indexing is costly on small batches)."""
        hit = self._columns.get(name)
        if hit is None:
            hit = self._columns[name] = self.frame[name]
        return hit

    @property
    def n(self) -> int:
        return len(self.frame)

    def rows_mask(self, rows: npt.NDArray[Any]) -> Mask:
        out = np.zeros(self.n, dtype=bool)
        out[rows] = True
        return out

    def exploded(self, column: str) -> tuple[npt.NDArray[np.int64], pd.Series]:
        """A multi-valued column as (row, value) pairs, split once per batch."""
        hit = self._exploded.get(column)
        if hit is None:
            col = self.column(column)
            parts = col[col.notna() & (col != "")].str.split("|").explode()
            hit = self._exploded[column] = (parts.index.to_numpy(dtype=np.int64), parts.reset_index(drop=True))
        return hit

    def present(self, spec: FieldSpec) -> Mask:
        """Persons with the field recorded (for a repeated table: with at least one record)."""
        if spec.table is None:
            return _recorded(self.column(spec.column))
        child = self.children[spec.table]
        rows = child[ROW].to_numpy()
        if spec.kind is Kind.TABLE:
            return self.rows_mask(rows)
        return self.rows_mask(rows[_recorded(child[spec.column])])

    def member(self, spec: FieldSpec, codes: list[str]) -> Mask:
        """Persons with a value of the field in ``codes`` (any value of a multi-valued field or table)."""
        if spec.table is None:
            if spec.kind is Kind.CODES:
                rows, values = self.exploded(spec.column)
                return self.rows_mask(rows[values.isin(codes).to_numpy()])
            return np.asarray(self.column(spec.column).isin(codes).to_numpy(), dtype=bool)
        child = self.children[spec.table]
        rows = child[ROW].to_numpy()
        col = child[spec.column]
        if spec.kind is Kind.CODES:
            exploded = col.str.split("|").explode()
            sel = exploded.isin(codes).to_numpy()
            return self.rows_mask(rows[exploded.index.to_numpy()[sel]])
        return self.rows_mask(rows[col.isin(codes).to_numpy()])

    def numbers(self, spec: FieldSpec) -> npt.NDArray[np.float64]:
        """A number or yes/no field of the person row as floats (NaN: unknown)."""
        return np.asarray(self.column(spec.column).to_numpy(dtype=float, na_value=np.nan), dtype=np.float64)

    def has_field(self, spec: FieldSpec) -> bool:
        """Whether the batch was built with this field's column."""
        return spec.column in (self.children[spec.table] if spec.table else self.frame)

    def records_at(self, table: str, row: int) -> int:
        return int((self.children[table][ROW] == row).sum())

    def identity(self, row: int) -> tuple[str, str]:
        """(case id, person id) of one row."""
        return str(self.frame["case_id"].iat[row]), str(self.frame["person_id"].iat[row])

    def values_at(self, spec: FieldSpec, row: int) -> list[Any]:
        """The values of one field for one person (to explain an alert)."""
        if spec.table is not None:
            child = self.children[spec.table]
            raw = child.loc[child[ROW] == row, spec.column].dropna().tolist()
        else:
            value = self.frame[spec.column].iat[row]
            raw = [] if value is None or (isinstance(value, float) and np.isnan(value)) else [value]
        return shown_values(spec, raw)

    def subset(self, rows: npt.NDArray[np.int64]) -> Batch:
        """The batch restricted to ``rows`` (renumbered from 0)."""
        remap = np.full(self.n, -1, dtype=np.int64)
        remap[rows] = np.arange(len(rows))
        children = {}
        for table, child in self.children.items():
            new = remap[child[ROW].to_numpy()]
            keep = new >= 0
            part = child.loc[keep].copy()
            part[ROW] = new[keep]
            children[table] = part.reset_index(drop=True)
        return Batch(self.frame.iloc[rows].reset_index(drop=True), children)


def shown_values(spec: FieldSpec, raw: list[Any]) -> list[Any]:
    """Recorded values as an alert shows them: code sets split, yes/no spelled out."""
    out: list[Any] = []
    for v in raw:
        if spec.kind is Kind.CODES:
            out.extend(x for x in str(v).split("|") if x)
        elif spec.kind is Kind.BOOL:
            out.append("yes" if v else "no")
        else:
            out.append(v)
    return out


def _numeric(name: str) -> bool:
    spec = batch_schema().spec(name)
    return spec is not None and spec.table is None and spec.kind in (Kind.BOOL, Kind.NUMBER)


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Booleans and numbers to float (NaN = unknown), whatever the source gave (SQL, parquet)."""
    for name in frame.columns:
        if _numeric(name) and frame[name].dtype != np.float64:
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    return frame


def _cell(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return "|".join(str(v) for v in value) if value else None
    return value


def _number(value: Any) -> float:
    """A document value as a float; anything not a number (None, text) is unknown (NaN)."""
    if isinstance(value, bool | int | float):
        return float(value)
    return np.nan


def _split(columns: Collection[str]) -> tuple[list[str], dict[str, list[str]]]:
    """Person-row columns and child columns (by table) needed for ``columns``."""
    schema = batch_schema()
    person: list[str] = list(ID_COLUMNS)
    child: dict[str, list[str]] = {t: [] for t in schema.child_columns}
    for path in columns:
        spec = schema.spec(path)
        if spec is None:
            raise KeyError(f"{path!r} is not a screenable field")
        if spec.table is None:
            if path not in person:
                person.append(path)
        elif spec.kind is not Kind.TABLE and spec.column not in child[spec.table]:
            child[spec.table].append(spec.column)
    return person, child


@dataclass
class Collected:
    """Document values in batch order: person-row columns, and child records by table.

    Both batch builders for documents start here, so a case is normalised the
    same way whether it is screened alone or with a hundred thousand others.
    """

    columns: list[str]
    data: dict[str, list[Any]]
    kids: dict[str, dict[str, list[Any]]]


def collect(docs: Iterable[Mapping[str, Any]], columns: Collection[str]) -> Collected:
    """Person rows (numbers and yes/no as floats, NaN unknown) and child records of ``docs``."""
    person_cols, child_cols = _split(columns)
    schema = batch_schema()
    case_cols = [c for c in person_cols if c in schema.case_columns]
    own_cols = [c for c in person_cols if c not in schema.case_columns]
    numeric = {c for c in person_cols if _numeric(c)}
    data: dict[str, list[Any]] = {c: [] for c in person_cols}
    kids: dict[str, dict[str, list[Any]]] = {t: {ROW: [], **{c: [] for c in cols}} for t, cols in child_cols.items()}
    row = 0
    for doc in docs:
        case_values = [_number(doc.get(c)) if c in numeric else _cell(doc.get(c)) for c in case_cols]
        for person in doc.get("persons") or ():
            for c, v in zip(case_cols, case_values, strict=True):
                data[c].append(v)
            for c in own_cols:
                data[c].append(_number(person.get(c)) if c in numeric else _cell(person.get(c)))
            for table, cols in child_cols.items():
                items = person.get(table) or ()
                target = kids[table]
                for item in items:
                    target[ROW].append(row)
                    for c in cols:
                        target[c].append(_cell(item.get(c)))
            row += 1
    return Collected(person_cols, data, kids)


def batch_from_documents(docs: Iterable[Mapping[str, Any]], columns: Collection[str]) -> Batch:
    """Build a batch from case documents (typed or as read from JSON)."""
    got = collect(docs, columns)
    columns_data: dict[str, Any] = {
        c: np.asarray(values, dtype=np.float64) if _numeric(c) else values for c, values in got.data.items()
    }
    frame = pd.DataFrame(columns_data, columns=got.columns)
    children = {t: pd.DataFrame(v).astype({ROW: "int64"}) for t, v in got.kids.items()}
    return Batch(frame, children)


def batches_from_store(store: Store, columns: Collection[str], chunk: int = 200_000) -> Iterator[Batch]:
    """Stream the whole store as batches of about ``chunk`` persons, in one pass.

    The store's :func:`~tipsom.store.view.person_chunks` reads persons in key
    order and each chunk's repeated records by key range; screening reads no
    personal field, so no audit event is written.
    """
    from tipsom.store.view import person_chunks

    person_cols, child_cols = _split(columns)
    # ``case_id`` is the person's own column as well (the key its case is joined on): read it from the person
    from_case = set(batch_schema().case_columns) - {"case_id"}
    for part in person_chunks(store, person_cols, from_case=from_case, children=child_cols, chunk=chunk):
        frame = pd.DataFrame(part.rows, columns=person_cols)
        keys = pd.Index(part.keys)
        children = {}
        for table, cols in child_cols.items():
            child = pd.DataFrame(part.children[table], columns=["person_key", *cols])
            child.insert(0, ROW, keys.get_indexer(child.pop("person_key")).astype("int64"))
            children[table] = child[child[ROW] >= 0].reset_index(drop=True)
        yield Batch(_normalise(frame), children)
