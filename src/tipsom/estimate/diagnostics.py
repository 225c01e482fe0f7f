"""Diagnostics that tell an analyst how far to trust an estimate.

Sparse overlaps are the usual failure of multiple systems estimation on
trafficking data: when two lists share no one, any model with their
interaction has no finite estimate, and when lists barely overlap the dark
figure swings by thousands between reasonable models. These helpers surface
that before a number reaches a report.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tipsom.estimate.table import CaptureTable

#: Lists smaller than this carry little information about overlaps.
SMALL_LIST = 10
#: Pairwise overlaps below this are "sparse" (expected counts near zero).
SPARSE_OVERLAP = 5


def overlap_warnings(table: CaptureTable) -> Iterator[str]:
    """Plain-language warnings about small lists and empty or sparse overlaps."""
    m = table.overlap_matrix()
    names = table.lists
    for i, name in enumerate(names):
        if m[i, i] == 0:
            yield f"list {name} is empty; drop it, it cannot inform the estimate"
        elif m[i, i] < SMALL_LIST:
            yield f"list {name} has only {m[i, i]} people"
        others = [m[i, j] for j in range(len(names)) if j != i]
        if m[i, i] > 0 and not any(others):
            yield (f"list {name} shares no one with any other list; the estimate then rests entirely "
                   "on the model's assumptions about that list")
        if m[i, i] > 0 and m[i, i] == table.observed:
            yield f"list {name} contains everyone observed; it carries no information on overlaps"
    pairs = [(i, j) for i in range(len(names)) for j in range(i + 1, len(names))]
    empty = [(names[i], names[j]) for i, j in pairs if m[i, j] == 0]
    sparse = [(names[i], names[j], int(m[i, j])) for i, j in pairs if 0 < m[i, j] < SPARSE_OVERLAP]
    if empty:
        listed = ", ".join(f"{a}:{b}" for a, b in empty)
        yield (f"{len(empty)} pair(s) of lists share no one ({listed}); an interaction between them is "
               "fitted at minus infinity")
    if sparse:
        listed = ", ".join(f"{a}:{b} ({n})" for a, b, n in sparse)
        yield f"sparse overlaps (fewer than {SPARSE_OVERLAP} people): {listed}"


@dataclass(frozen=True)
class MethodRow:
    """One line of the comparison table: how a choice of method changes the estimate."""

    method: str
    model: tuple[str, ...]
    estimate: float
    low: float
    high: float
    interval: str
    note: str = ""
