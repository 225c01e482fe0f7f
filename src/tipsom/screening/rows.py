"""What a condition reads, and the persons of one case answered without pandas.

Conditions ask four questions of a field: is it recorded, is one of its values
in a code list, what is its number, and which values does a given person
have. :class:`PersonRows` names those questions; the pandas
:class:`~tipsom.screening.batch.Batch` answers them for a million stored
persons at once, :class:`DocumentRows` for the handful of persons of one case.

Why two: a pandas frame costs tens of microseconds per operation whatever its
size, so screening one case through frames (the case page, the save hook) took
60-80 ms, nearly all of it building one-row frames for rules compiled for whole
stores. ``DocumentRows`` keeps the values as plain Python lists, built by the
same :func:`~tipsom.screening.batch.collect` as the document batch, and
answers each question with the same definitions (a value is recorded when it
is neither missing nor empty text; numbers and yes/no are floats, NaN unknown;
a multi-valued field matches when any value does). Rule semantics stay in the
compiled condition tree, shared by both; a test screens thousands of synthetic
cases both ways and compares every alert.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from tipsom.screening.batch import ROW, Mask, collect, shown_values
from tipsom.screening.fields import FieldSpec, Kind


class PersonRows(Protocol):
    """Persons to screen, one row each, as the compiled conditions read them."""

    @property
    def n(self) -> int: ...

    def present(self, spec: FieldSpec) -> Mask: ...

    def member(self, spec: FieldSpec, codes: list[str]) -> Mask: ...

    def numbers(self, spec: FieldSpec) -> npt.NDArray[np.float64]: ...

    def has_field(self, spec: FieldSpec) -> bool: ...

    def records_at(self, table: str, row: int) -> int: ...

    def identity(self, row: int) -> tuple[str, str]: ...

    def values_at(self, spec: FieldSpec, row: int) -> list[Any]: ...


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _recorded(value: Any) -> bool:
    """Neither missing nor empty text (the batch's definition, value by value)."""
    return not _missing(value) and not (isinstance(value, str) and value == "")


def _any_code(value: Any, codes: frozenset[str]) -> bool:
    """A ``|``-joined code set with at least one code in ``codes``."""
    return isinstance(value, str) and any(part in codes for part in value.split("|"))


@dataclass
class DocumentRows:
    """The persons of a few documents as plain values (``data``: person-row columns; ``kids``: child records)."""

    columns: list[str]
    data: dict[str, list[Any]]
    kids: dict[str, dict[str, list[Any]]]

    @property
    def n(self) -> int:
        return len(self.data["person_id"])

    def _mask(self, rows: Iterable[int]) -> Mask:
        out = np.zeros(self.n, dtype=bool)
        for row in rows:
            out[row] = True
        return out

    def present(self, spec: FieldSpec) -> Mask:
        if spec.table is None:
            return np.fromiter((_recorded(v) for v in self.data[spec.column]), dtype=bool, count=self.n)
        child = self.kids[spec.table]
        if spec.kind is Kind.TABLE:
            return self._mask(child[ROW])
        return self._mask(r for r, v in zip(child[ROW], child[spec.column], strict=True) if _recorded(v))

    def member(self, spec: FieldSpec, codes: list[str]) -> Mask:
        wanted = frozenset(codes)
        if spec.table is None:
            values = self.data[spec.column]
            if spec.kind is Kind.CODES:
                return np.fromiter((_any_code(v, wanted) for v in values), dtype=bool, count=self.n)
            return np.fromiter((not _missing(v) and v in wanted for v in values), dtype=bool, count=self.n)
        child = self.kids[spec.table]
        pairs = zip(child[ROW], child[spec.column], strict=True)
        if spec.kind is Kind.CODES:
            return self._mask(r for r, v in pairs if _any_code(v, wanted))
        return self._mask(r for r, v in pairs if not _missing(v) and v in wanted)

    def numbers(self, spec: FieldSpec) -> npt.NDArray[np.float64]:
        return np.asarray(self.data[spec.column], dtype=np.float64)

    def has_field(self, spec: FieldSpec) -> bool:
        return spec.column in (self.kids[spec.table] if spec.table else self.data)

    def records_at(self, table: str, row: int) -> int:
        return sum(1 for r in self.kids[table][ROW] if r == row)

    def identity(self, row: int) -> tuple[str, str]:
        return str(self.data["case_id"][row]), str(self.data["person_id"][row])

    def values_at(self, spec: FieldSpec, row: int) -> list[Any]:
        if spec.table is not None:
            child = self.kids[spec.table]
            raw = [v for r, v in zip(child[ROW], child[spec.column], strict=True) if r == row and not _missing(v)]
        else:
            value = self.data[spec.column][row]
            raw = [] if _missing(value) else [value]
        return shown_values(spec, raw)


def document_rows(docs: Iterable[Mapping[str, Any]], columns: Collection[str]) -> DocumentRows:
    """The persons of ``docs`` (one case, or a few) ready to screen without pandas."""
    got = collect(docs, columns)
    return DocumentRows(got.columns, got.data, got.kids)
