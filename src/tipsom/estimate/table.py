"""Capture-history tables: one 0/1 column per list plus a ``count`` column.

This is the exchange format of the R packages SparseMSE, Rcapture and
MultipleSystemsEstimation, so tables published with them load unchanged, and
the tables tipsom builds from its registry can be checked in R. Input is
validated strictly: a capture table with a stray ``2`` or a negative count
would silently change a published prevalence figure, so every problem is
reported with file, row, field and reason.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tipsom.core.errors import InputError

COUNT = "count"
BINARY = {"0": 0, "1": 1, "0.0": 0, "1.0": 1}
#: Strata columns that :func:`tipsom.estimate.histories` can produce.
KNOWN_STRATA = ("sex", "age_group", "region", "year")

IntArray = npt.NDArray[np.int64]

#: Largest count one capture history may hold. Far above any country's number of people (and so above any
#: plausible list), yet far enough below 2**63 that sums over every cell stay exact in 64-bit integers.
MAX_COUNT = 10**12


class CaptureTableError(InputError):
    """A capture table that cannot be used, with the place and reason."""


def _where(source: str, row: int | None, column: str | None) -> str:
    parts = [source]
    if row is not None:
        parts.append(f"row {row}")
    if column is not None:
        parts.append(f"field '{column}'")
    return ": ".join(parts)


def _fail(source: str, row: int | None, column: str | None, reason: str) -> CaptureTableError:
    return CaptureTableError(f"{_where(source, row, column)}: {reason}")


@dataclass(frozen=True)
class CaptureTable:
    """Counts of people per capture history across ``lists``.

    ``histories[k, i]`` is 1 when the people counted in ``counts[k]`` are on
    list ``i``. Rows are unique; the unobservable all-zero history is never
    present (its size is what the estimators estimate).
    """

    lists: tuple[str, ...]
    histories: npt.NDArray[np.int8]
    counts: IntArray
    source: str = "<memory>"
    stratum: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        if len(self.lists) < 2:
            raise _fail(self.source, None, None, f"needs at least two lists, got {len(self.lists)}: "
                        "capture-recapture estimation compares lists with each other")
        if len(set(self.lists)) != len(self.lists):
            raise _fail(self.source, None, None, f"duplicate list names {list(self.lists)}")
        if self.histories.shape != (len(self.counts), len(self.lists)):
            raise _fail(self.source, None, None, "histories and counts have different shapes")
        if int(self.counts.sum()) <= 0:
            raise _fail(self.source, None, COUNT, "no one is observed on any list (all counts are 0)")

    @property
    def n_lists(self) -> int:
        return len(self.lists)

    @property
    def observed(self) -> int:
        """Number of distinct people seen on at least one list."""
        return int(self.counts.sum())

    def codes(self) -> IntArray:
        """Each row's history as an integer whose bit ``i`` is list ``i``."""
        weights = (1 << np.arange(self.n_lists)).astype(np.int64)
        return np.asarray(self.histories.astype(np.int64) @ weights, dtype=np.int64)

    def cell_counts(self) -> IntArray:
        """Counts over all ``2**t - 1`` observable cells, indexed by ``code - 1``."""
        full = np.zeros((1 << self.n_lists) - 1, dtype=np.int64)
        np.add.at(full, self.codes() - 1, self.counts)
        return full

    def list_totals(self) -> dict[str, int]:
        return {name: int(self.counts[self.histories[:, i] == 1].sum()) for i, name in enumerate(self.lists)}

    def overlap_matrix(self) -> IntArray:
        """People on both list ``i`` and list ``j`` (diagonal: list sizes)."""
        h = self.histories.astype(np.int64)
        return np.asarray((h * self.counts[:, None]).T @ h, dtype=np.int64)

    def with_counts(self, counts: IntArray) -> CaptureTable:
        """The same histories with new counts (used by resampling)."""
        return CaptureTable(self.lists, self.histories, counts, self.source, self.stratum)

    def to_rows(self) -> list[dict[str, int]]:
        rows = []
        for hist, cnt in zip(self.histories, self.counts, strict=True):
            row = {name: int(v) for name, v in zip(self.lists, hist, strict=True)}
            row[COUNT] = int(cnt)
            rows.append(row)
        return rows

    def write_csv(self, path: Path) -> Path:
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=[*self.lists, COUNT])
            writer.writeheader()
            writer.writerows(self.to_rows())
        return path

    @classmethod
    def from_histories(
        cls,
        lists: Sequence[str],
        rows: Iterable[tuple[Sequence[int], int]],
        source: str = "<memory>",
        stratum: tuple[tuple[str, str], ...] = (),
    ) -> CaptureTable:
        """Build a table from ``(history, count)`` pairs, merging repeated histories (kept at their first row)."""
        merged: dict[tuple[int, ...], int] = {}
        for k, (hist, cnt) in enumerate(rows, start=1):
            key = tuple(int(v) for v in hist)
            if len(key) != len(lists):
                raise _fail(source, k, None, f"history has {len(key)} lists, expected {len(lists)}")
            if any(v not in (0, 1) for v in key):
                raise _fail(source, k, None, "list indicators must be 0 or 1")
            if cnt < 0:
                raise _fail(source, k, COUNT, f"negative count {cnt}")
            if not any(key):
                if cnt > 0:
                    raise _fail(source, k, None, "a history on no list cannot be observed; "
                                "its size is what the estimate is for")
                continue
            merged[key] = merged.get(key, 0) + int(cnt)
        # Rows stay in the order first given: R's bootstrap draws its multinomial over the rows in input
        # order, so sorting here would give another interval than R for the same file and seed.
        keys = list(merged)
        matrix = np.array(keys, dtype=np.int8).reshape(len(keys), len(lists))
        counts = np.array([merged[k] for k in keys], dtype=np.int64)
        return cls(tuple(lists), matrix, counts, source, stratum)


def refuse_disjoint(table: CaptureTable, method: str) -> None:
    """Refuse lists that share no one: without a single overlap nothing measures how many were missed.

    Any model then returns whatever its prior or starting point implies (an
    LCMCR chain "converges" to a number near the observed total), so the only
    honest answer is no estimate.
    """
    if int(table.counts[table.histories.sum(axis=1) > 1].sum()) == 0:
        raise _fail(table.source, None, None, f"no one is on more than one list, so {method} has no overlap to "
                    "estimate the unseen from; link the lists again or add a list that overlaps")


def _parse_int(source: str, row: int, column: str, text: str) -> int:
    value = text.strip()
    try:
        number = float(value)
    except ValueError:
        raise _fail(source, row, column, f"'{value}' is not a number") from None
    if not math.isfinite(number) or not number.is_integer():
        raise _fail(source, row, column, f"'{value}' is not a whole number")
    if abs(number) > MAX_COUNT:
        raise _fail(source, row, column, f"'{value}' is larger than {MAX_COUNT:,}, the most one history may hold")
    return int(number)


def require_lists(table: CaptureTable, method: str, most: int) -> None:
    """Refuse a table with more lists than ``method`` supports, before it allocates anything.

    Each method's work grows with the ``2**t - 1`` possible histories of ``t``
    lists (the log-linear existence check solves a linear programme over all of
    them), so an unchecked table of 20 lists asks for terabytes; the limit is
    named so the user can merge lists (``--groups``) instead of waiting for a crash.
    """
    if table.n_lists > most:
        raise _fail(table.source, None, None, f"{table.n_lists} lists is more than {method} supports (at most "
                    f"{most}); merge lists, for example by agency type")


def read_csv(path: Path, strata: Sequence[str] = ()) -> dict[tuple[tuple[str, str], ...], CaptureTable]:
    """Read a capture-history CSV, split by the ``strata`` columns.

    Every column other than ``count`` and the strata is a list. Returns one
    table per stratum (a single table keyed by ``()`` when there are no
    strata). Raises :class:`CaptureTableError` naming the row and field of the
    first problem found.
    """
    source = str(path)
    try:
        fh = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise _fail(source, None, None, f"cannot open: {exc.strerror}") from None
    try:
        with fh:
            return _read_rows(source, csv.reader(fh), strata)
    except UnicodeDecodeError as exc:
        raise _fail(source, None, None, f"is not UTF-8 text (byte {exc.start}: {exc.reason}); save it as "
                    "UTF-8 CSV") from None
    except csv.Error as exc:
        raise _fail(source, None, None, f"is not a readable CSV file: {exc}") from None


def _read_rows(
    source: str, reader: Iterator[list[str]], strata: Sequence[str]
) -> dict[tuple[tuple[str, str], ...], CaptureTable]:
    header = next(reader, None)
    if not header:
        raise _fail(source, None, None,
                    "the file is empty; expected a header row with list names and 'count'")
    header = [h.strip() for h in header]
    if COUNT not in header:
        raise _fail(source, 1, None, f"no '{COUNT}' column; columns are {header}")
    missing = [s for s in strata if s not in header]
    if missing:
        raise _fail(source, 1, None, f"strata columns {missing} not found; columns are {header}")
    lists = [h for h in header if h != COUNT and h not in strata]
    if len(lists) < 2:
        raise _fail(source, 1, None, f"needs at least two list columns, found {lists}")
    index = {h: i for i, h in enumerate(header)}
    grouped: dict[tuple[tuple[str, str], ...], list[tuple[list[int], int]]] = {}
    for rownum, raw in enumerate(reader, start=2):
        if not raw or all(not c.strip() for c in raw):
            continue
        if len(raw) != len(header):
            raise _fail(source, rownum, None, f"has {len(raw)} fields, the header has {len(header)}")
        hist = []
        for name in lists:
            text = raw[index[name]].strip()
            if text not in BINARY:
                hint = "" if text.lstrip("-").replace(".", "", 1).isdigit() else \
                    " (if this column is a stratum, name it in --strata)"
                raise _fail(source, rownum, name, f"list indicator must be 0 or 1, got '{text}'{hint}")
            hist.append(BINARY[text])
        count = _parse_int(source, rownum, COUNT, raw[index[COUNT]])
        if count < 0:
            raise _fail(source, rownum, COUNT, f"negative count {count}")
        if not any(hist) and count > 0:
            raise _fail(source, rownum, None, "a history on no list cannot be observed; "
                        "remove the row (its size is what the estimate is for)")
        key = tuple((s, raw[index[s]].strip()) for s in strata)
        grouped.setdefault(key, []).append((hist, count))
    if not grouped:
        raise _fail(source, None, None, "no data rows")
    return {key: CaptureTable.from_histories(lists, rows, source, key) for key, rows in grouped.items()}


def read_table(path: Path) -> CaptureTable:
    """Read an unstratified capture-history CSV."""
    return read_csv(path)[()]


def stratum_label(stratum: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{k}={v}" for k, v in stratum) or "all"


def read_population(path: Path, strata: Sequence[str]) -> Mapping[tuple[tuple[str, str], ...], float]:
    """Population per stratum from a CSV with the strata columns and ``population``."""
    source = str(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            return _read_population_rows(source, csv.DictReader(fh), strata)
    except UnicodeDecodeError as exc:
        raise _fail(source, None, None, f"is not UTF-8 text (byte {exc.start}: {exc.reason}); save it as "
                    "UTF-8 CSV") from None
    except csv.Error as exc:
        raise _fail(source, None, None, f"is not a readable CSV file: {exc}") from None


def parse_population(text: str, source: str, row: int | None = None) -> float:
    """A population size: a positive, finite number (``nan`` or ``inf`` would print as a bare NaN rate)."""
    try:
        pop = float(text)
    except ValueError:
        raise _fail(source, row, "population", f"'{text}' is not a number") from None
    if not math.isfinite(pop) or pop <= 0:
        raise _fail(source, row, "population", f"must be a positive finite number, got '{text}'")
    return pop


def _read_population_rows(
    source: str, reader: csv.DictReader[str], strata: Sequence[str]
) -> Mapping[tuple[tuple[str, str], ...], float]:
    fields = reader.fieldnames or []
    for col in (*strata, "population"):
        if col not in fields:
            raise _fail(source, 1, col, f"missing column; columns are {list(fields)}")
    out: dict[tuple[tuple[str, str], ...], float] = {}
    for rownum, row in enumerate(reader, start=2):
        if any(row.get(col) is None for col in (*strata, "population")):
            raise _fail(source, rownum, None, "has fewer fields than the header")
        out[tuple((s, row[s].strip()) for s in strata)] = parse_population(row["population"].strip(), source,
                                                                           rownum)
    return out
