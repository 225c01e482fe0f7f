"""Statistical disclosure control for published count cubes.

*Primary suppression*: a cell counting 1 to ``threshold - 1`` persons is
published as ``"<5"`` (GLOTIP's rule), read as "between 0 and 4".

*Secondary suppression*: hiding a small cell is useless if the margins give it
back (total 12, other cells 7 and 3, so the hidden one is 2). Complementary
cells are hidden as ``"x"`` until an attacker who knows every published number,
every line of the cube (parent = sum of children) and the bounds (``"<5"`` is
0..4, ``"x"`` is any count) cannot pin any small cell to an interval narrower
than the *protection range*. The attacker is played by linear programming
(min and max of a hidden cell subject to everything published), the audit
statistical offices run with tau-argus; complements are chosen greedily until
the audit passes. When the bounds alone pin a small cell (a shown 8 made of two
``"<5"`` cells) and nothing is left to hide, the small cell is shown as ``"x"``.

Zeros are published as 0: they reveal nothing about a person.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tipsom.report.cube import TOTAL, Cube, Key, Line
from tipsom.report.disclosure import (  # the shared vocabulary; only the search below is the old one
    UNBOUNDED,
    CellStatus,
    DisclosurePolicy,
    Protected,
    SuppressionError,
)


class _System:
    """The attacker's equations for one connected group of hidden cells.

    Variables are the hidden cells linked to each other through lines; each line
    touching them is an equation whose right-hand side comes from shown cells.
    """

    def __init__(self, cube: Cube, hidden: Mapping[Key, CellStatus], policy: DisclosurePolicy,
                 start: Key) -> None:
        import numpy as np
        from scipy.sparse import csr_array

        self.cells, lines = _component(cube, hidden, start)
        index = {k: i for i, k in enumerate(self.cells)}
        data: list[float] = []
        cols: list[int] = []
        row_ids: list[int] = []
        rhs: list[float] = []
        for parent, children in lines:
            known = 0.0
            for member, coef in ((parent, 1.0), *((c, -1.0) for c in children)):
                if member in index:
                    data.append(coef)
                    cols.append(index[member])
                    row_ids.append(len(rhs))
                else:
                    known += coef * cube.value(member)
            rhs.append(-known)
        self.a_eq = csr_array((data, (row_ids, cols)), shape=(len(rhs), len(self.cells)))
        self.b_eq = np.array(rhs)
        self.truth = np.array([cube.value(k) for k in self.cells])
        need = float(policy.protection_range)
        # An upper bound on "x" cells only shrinks what the search explores, so every
        # point it finds is still consistent with the publication (a sound proof).
        self.bounds = [(lo, hi if hi != UNBOUNDED else 2.0 * float(v) + 4.0 * need + policy.threshold)
                       for (lo, hi), v in zip((policy.bounds(hidden[k]) for k in self.cells), self.truth,
                                              strict=True)]
        self.name = cube.name

    def _vertex(self, objective: Any) -> Any:
        from scipy.optimize import linprog

        res = linprog(objective, A_eq=self.a_eq, b_eq=self.b_eq, bounds=self.bounds, method="highs")
        if res.status != 0:
            raise SuppressionError(f"cube {self.name}: the attacker's system has no solution ({res.message})")
        return res.x

    def exact_width(self, key: Key, policy: DisclosurePolicy, hidden: Mapping[Key, CellStatus]) -> float:
        """The attacker's exact interval width for one cell (two LPs, true bounds)."""
        import numpy as np
        from scipy.optimize import linprog

        bounds = [(lo, None if hi == UNBOUNDED else hi) for lo, hi in (policy.bounds(hidden[k]) for k in self.cells)]
        c = np.zeros(len(self.cells))
        c[self.cells.index(key)] = 1.0
        low = linprog(c, A_eq=self.a_eq, b_eq=self.b_eq, bounds=bounds, method="highs")
        high = linprog(-c, A_eq=self.a_eq, b_eq=self.b_eq, bounds=bounds, method="highs")
        if high.status == 3:
            return UNBOUNDED
        if low.status != 0 or high.status != 0:
            raise SuppressionError(f"cube {self.name}: attacker LP failed ({low.message}; {high.message})")
        return float(-high.fun - low.fun)

    def unproven(self, need: float, tolerance: float = 1e-6) -> list[Key]:
        """Cells for which no two consistent tables differ by ``need``.

        The true table is one consistent table; vertices for random and then
        targeted objectives are others. A cell that already spans ``need``
        between them is proven safe. The targeted search pushes every unproven
        cell towards the side it has not reached, until nothing moves; what is
        left is (nearly always) truly pinned by the margins.
        """
        import numpy as np

        n = len(self.cells)
        lo, hi = self.truth.copy(), self.truth.copy()
        rng = np.random.default_rng(n)
        for _ in range(4):
            x = self._vertex(rng.choice([-1.0, 1.0], size=n))
            lo, hi = np.minimum(lo, x), np.maximum(hi, x)
        left = np.flatnonzero(hi - lo < need - tolerance)
        while left.size:
            c = np.zeros(n)
            c[left] = np.where(hi[left] - self.truth[left] <= self.truth[left] - lo[left], -1.0, 1.0)
            x = self._vertex(c)
            lo, hi = np.minimum(lo, x), np.maximum(hi, x)
            still = np.flatnonzero(hi - lo < need - tolerance)
            if still.size == left.size:
                break
            left = still
        return [self.cells[i] for i in left]


def _component(cube: Cube, hidden: Mapping[Key, CellStatus], start: Key) -> tuple[list[Key], list[Line]]:
    """Hidden cells linked to ``start`` through lines, and every line touching them."""
    seen, todo = {start}, [start]
    lines: dict[Line, None] = {}
    while todo:
        key = todo.pop()
        for line in cube.lines_of(key):
            lines[line] = None
            for member in (line[0], *line[1]):
                if member in hidden and member not in seen:
                    seen.add(member)
                    todo.append(member)
    return sorted(seen), list(lines)


def _cost(cube: Cube, key: Key, needed: float) -> tuple[int, int, float]:
    """Order complements: enough slack first, then the most detailed cell (hiding a
    margin such as the national total costs readers most), then the smallest count."""
    v = cube.value(key)
    return (0 if v >= needed else 1, sum(1 for n in key if n == TOTAL), v if v >= needed else -v)


def _candidates(cube: Cube, hidden: Mapping[Key, CellStatus], lines: Iterable[Line], needed: float) -> list[Key]:
    """Shown non-zero cells of ``lines``, cheapest complement first.

    Zeros are never hidden: a shown zero parent pins any hidden zero below it,
    and hiding zeros cascades through every empty category of the cube. The
    grand total is never hidden either: it is the one number every reader needs.
    """
    found = {m for parent, children in lines for m in (parent, *children)
             if m not in hidden and cube.value(m) > 0 and any(n != TOTAL for n in m)}
    return sorted(found, key=lambda k: (*_cost(cube, k, needed), k))


def _complement(cube: Cube, hidden: Mapping[Key, CellStatus], lines: Iterable[Line],
                needed: float) -> Key | None:
    found = _candidates(cube, hidden, lines, needed)
    return found[0] if found else None


def protect(cube: Cube, policy: DisclosurePolicy | None = None) -> Protected:
    """Primary and secondary suppression of ``cube`` under ``policy``.

    Each group of linked hidden cells is audited; beside every cell the audit
    cannot prove safe a complement is hidden, and the group is audited again.
    Hiding more only widens intervals, so the loop ends.
    """
    policy = policy or DisclosurePolicy()
    hidden: dict[Key, CellStatus] = {
        k: CellStatus.PRIMARY for k, v in cube.values.items() if 0 < v < policy.threshold
    }
    need = float(policy.protection_range)
    _close_singletons(cube, hidden, list(hidden), need)
    pending = set(hidden)
    proven: set[Key] = set()
    while pending:
        system = _System(cube, hidden, policy, min(pending))
        pending.difference_update(system.cells)
        weak = [k for k in system.unproven(need) if 0 < cube.value(k) < policy.threshold and k not in proven]
        touched: set[Line] = set()
        added = False
        nearby: list[Key] | None = None  # shown cells around the group, cheapest first
        for key in weak:
            lines = cube.lines_of(key)
            if touched.intersection(lines):
                continue  # a complement beside it was just added; the next audit decides
            pick = _complement(cube, hidden, lines, need)
            if pick is None:
                if nearby is None:
                    nearby = _candidates(cube, hidden, (ln for k in system.cells for ln in cube.lines_of(k)), need)
                pick = next((k for k in nearby if k not in hidden), None)
            if pick is None:
                # Nothing left to hide: only an exact audit can still clear the cell.
                if system.exact_width(key, policy, hidden) >= need - 1e-6:
                    proven.add(key)
                    continue
                if hidden[key] is CellStatus.PRIMARY:
                    # Pinned by the "<5" bounds of its neighbours (8 = "<5" + "<5"): shown as
                    # "x", it no longer tells the attacker it is small.
                    hidden[key] = CellStatus.SECONDARY
                    added = True
                    continue
                raise SuppressionError(f"cube {cube.name}: no complementary cell can protect {cube.label(key)}")
            hidden[pick] = CellStatus.SECONDARY
            touched.update(cube.lines_of(pick))
            pending.update([pick, *_close_singletons(cube, hidden, [pick], need)])
            added = True
        if added:
            pending.update(system.cells)
    return Protected(cube, policy, hidden)


def _close_singletons(cube: Cube, hidden: dict[Key, CellStatus], start: list[Key], need: float) -> list[Key]:
    """Hide a complement in every line with exactly one hidden cell (subtraction would reveal it)."""
    todo, added = list(start), []
    while todo:
        key = todo.pop()
        for line in cube.lines_of(key):
            members = (line[0], *line[1])
            if sum(1 for m in members if m in hidden) == 1:
                pick = _complement(cube, hidden, [line], need)
                if pick is None:
                    continue  # every cell of the line is hidden already
                hidden[pick] = CellStatus.SECONDARY
                todo.append(pick)
                added.append(pick)
    return added
