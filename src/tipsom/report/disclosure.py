"""Statistical disclosure control for published count cubes.

*Primary suppression*: a cell counting 1 to ``threshold - 1`` persons is
published as ``"<5"`` (GLOTIP's rule), read as "between 0 and 4".

*Secondary suppression*: hiding a small cell is useless if the margins give it
back (total 12, other cells 7 and 3, so the hidden one is 2). Complementary
cells are hidden as ``"x"`` in two steps, the way the constraint-based
heuristic of R ``sdcTable`` (``SIMPLEHEURISTIC``) and tau-argus's modular
method work on large tables:

1. *Lines first, by cost.* Every line (parent = sum of children) holding exactly
   one hidden cell would give it back by subtraction, so the cheapest shown cell
   of that line is hidden too, and so on for the cells this adds. Cost follows
   what readers lose: a detailed cell before a subtotal, a small count before a
   large one; a *headline* (the grand total, a yearly total) is never chosen.
2. *The attacker as audit.* An attacker who knows every published number, every
   line and the bounds (``"<5"`` is 0..4, ``"x"`` is any count) is played by
   linear programming over the whole table at once. Small cells the audit cannot
   prove spread over the *protection range* get one more complement each, and the
   table is audited again, a bounded number of rounds. When the bounds alone pin
   a small cell (a shown 8 made of two ``"<5"`` cells) and nothing is left to hide,
   the small cell is shown as ``"x"``.

Tables that publish the same cell are protected together (:func:`protect_all`):
a cell is never shown in one table and hidden in another.

Zeros are published as 0: they reveal nothing about a person.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tipsom.core.errors import TipsomError
from tipsom.report.cube import Cube, Key, Line

#: What an "x" tells the attacker: any non-negative count.
UNBOUNDED = math.inf

#: Audit rounds before giving up; each round hides at least one more cell, and real tables settle in a few.
MAX_ROUNDS = 40

#: Most cells an audit round settles with exact LPs (two per cell); beyond, all get complements.
EXACT_CHECKS = 20

#: Dimensions whose one-way totals are headlines (never hidden to protect another cell).
HEADLINE_DIMS = frozenset({"year"})

#: A cell of one table in a set of tables: (table name, cell key).
TableCell = tuple[str, Key]


class CellStatus(enum.StrEnum):
    """How a published cell is shown."""

    SHOWN = "shown"
    #: Below the threshold: shown as "<threshold".
    PRIMARY = "primary"
    #: Hidden only to protect another cell: shown as "x".
    SECONDARY = "secondary"


class CellRole(enum.IntEnum):
    """What readers lose when a cell is hidden: the first term of a complement's cost."""

    DETAIL = 0
    #: A subtotal: at least one dimension at its root.
    MARGIN = 1
    #: The grand total or a yearly total: never a complement.
    HEADLINE = 2


SECONDARY_MARK = "x"


class SuppressionError(TipsomError):
    """No set of complementary cells protects a cell (a cube with too few published cells)."""


@dataclass(frozen=True)
class DisclosurePolicy:
    """The publication rule: threshold and protection range, both configurable."""

    threshold: int = 5
    #: Minimum width of every hidden cell's interval for the attacker; default ``threshold - 2``.
    protection: int | None = None

    def __post_init__(self) -> None:
        if self.threshold < 2:
            raise ValueError(f"suppression threshold must be at least 2, got {self.threshold}")
        if not 1 <= self.protection_range <= self.threshold - 1:
            raise ValueError(
                f"protection range must be between 1 and threshold - 1 = {self.threshold - 1} "
                f"(a '<{self.threshold}' cell is known to lie in 0..{self.threshold - 1}), "
                f"got {self.protection_range}")

    @property
    def protection_range(self) -> int:
        return self.threshold - 2 if self.protection is None else self.protection

    @property
    def primary_mark(self) -> str:
        return f"<{self.threshold}"

    def bounds(self, status: CellStatus) -> tuple[float, float]:
        """What the attacker knows about a hidden cell from its mark alone."""
        if status is CellStatus.PRIMARY:
            return 0.0, float(self.threshold - 1)
        return 0.0, UNBOUNDED


@dataclass
class Protected:
    """A cube with the status of each of its published cells."""

    cube: Cube
    policy: DisclosurePolicy
    hidden: dict[Key, CellStatus] = field(default_factory=dict)

    def status(self, key: Key) -> CellStatus:
        return self.hidden.get(key, CellStatus.SHOWN)

    def shown_value(self, key: Key) -> float | None:
        """The number a reader sees, or None when the cell is hidden."""
        return None if key in self.hidden else self.cube.value(key)

    def display(self, key: Key) -> str:
        status = self.status(key)
        if status is CellStatus.PRIMARY:
            return self.policy.primary_mark
        if status is CellStatus.SECONDARY:
            return SECONDARY_MARK
        return f"{self.cube.value(key):g}"

    def count(self, status: CellStatus) -> int:
        return sum(1 for s in self.hidden.values() if s == status)


def role(cube: Cube, key: Key) -> CellRole:
    """A cell's place in the table: headline, margin or detail."""
    specific = [i for i, node in enumerate(key) if node != cube.dims[i].root]
    if not specific or (len(specific) == 1 and cube.dims[specific[0]].name in HEADLINE_DIMS):
        return CellRole.HEADLINE
    return CellRole.MARGIN if len(specific) < len(key) else CellRole.DETAIL


class _Audit:
    """The attacker's equations for every hidden cell of a table at once.

    Variables are the hidden cells; each line touching one is an equation whose
    right-hand side comes from shown cells. Unlinked groups of hidden cells are
    independent blocks of one sparse system, so one LP solve explores them all.
    """

    def __init__(self, cube: Cube, hidden: Mapping[Key, CellStatus], policy: DisclosurePolicy) -> None:
        import numpy as np
        from scipy.sparse import csr_array

        self.cells = sorted(hidden)
        self.index = {k: i for i, k in enumerate(self.cells)}
        lines: dict[Line, None] = {}
        for key in self.cells:
            lines.update(dict.fromkeys(cube.lines_of(key)))
        data: list[float] = []
        cols: list[int] = []
        row_ids: list[int] = []
        rhs: list[float] = []
        for parent, children in lines:
            known = 0.0
            for member, coef in ((parent, 1.0), *((c, -1.0) for c in children)):
                if member in self.index:
                    data.append(coef)
                    cols.append(self.index[member])
                    row_ids.append(len(rhs))
                else:
                    known += coef * cube.value(member)
            rhs.append(-known)
        self.a_eq = csr_array((data, (row_ids, cols)), shape=(len(rhs), len(self.cells)))
        self.b_eq = np.array(rhs)
        self.truth = np.array([cube.value(k) for k in self.cells])
        need = float(policy.protection_range)
        marks = [policy.bounds(hidden[k]) for k in self.cells]
        # An upper bound on "x" cells only shrinks what the search explores, so every
        # point it finds is still consistent with the publication (a sound proof).
        self.capped = [(lo, hi if hi != UNBOUNDED else 2.0 * float(v) + 4.0 * need + policy.threshold)
                       for (lo, hi), v in zip(marks, self.truth, strict=True)]
        self.exact = [(lo, None if hi == UNBOUNDED else hi) for lo, hi in marks]
        self.name = cube.name

    def _vertex(self, objective: Any) -> Any:
        from scipy.optimize import linprog

        res = linprog(objective, A_eq=self.a_eq, b_eq=self.b_eq, bounds=self.capped, method="highs")
        if res.status != 0:
            raise SuppressionError(f"cube {self.name}: the attacker's system has no solution ({res.message})")
        return res.x

    def exact_width(self, i: int) -> float:
        """The attacker's exact interval width for cell number ``i`` (two LPs, true bounds)."""
        import numpy as np
        from scipy.optimize import linprog

        c = np.zeros(len(self.cells))
        c[i] = 1.0
        low = linprog(c, A_eq=self.a_eq, b_eq=self.b_eq, bounds=self.exact, method="highs")
        high = linprog(-c, A_eq=self.a_eq, b_eq=self.b_eq, bounds=self.exact, method="highs")
        if high.status == 3:
            return UNBOUNDED
        if low.status != 0 or high.status != 0:
            raise SuppressionError(f"cube {self.name}: attacker LP failed ({low.message}; {high.message})")
        return float(-high.fun - low.fun)

    def unproven(self, targets: Collection[Key], need: float, tolerance: float = 1e-6) -> list[Key]:
        """Targets for which no two consistent tables were found that differ by ``need``.

        The true table is one consistent table; vertices for random and then
        targeted objectives are others. A cell that already spans ``need``
        between them is proven safe. The targeted search pushes every unproven
        target towards the side it has not reached, until nothing moves; what is
        left is (nearly always) truly pinned by the margins. The number of LP
        solves depends on how the hidden cells are linked, not on how many there are.
        """
        import numpy as np

        n = len(self.cells)
        lo, hi = self.truth.copy(), self.truth.copy()
        rng = np.random.default_rng(n)
        for _ in range(4):
            x = self._vertex(rng.choice([-1.0, 1.0], size=n))
            lo, hi = np.minimum(lo, x), np.maximum(hi, x)
        wanted = np.array(sorted(self.index[k] for k in targets), dtype=int)
        left = wanted[hi[wanted] - lo[wanted] < need - tolerance]
        # Each target is pushed to the side it has explored least; a target whose
        # interval did not grow is pushed the other way next time (a "<5" cell at 4
        # can only go down), until two pushes in a row prove nothing new.
        toward = np.zeros(n)
        toward[left] = np.where(hi[left] - self.truth[left] <= self.truth[left] - lo[left], -1.0, 1.0)
        stalled = 0
        while left.size and stalled < 2:
            before = hi[left] - lo[left]
            c = np.zeros(n)
            c[left] = toward[left]
            x = self._vertex(c)
            lo, hi = np.minimum(lo, x), np.maximum(hi, x)
            grew = hi[left] - lo[left] > before + tolerance
            toward[left[~grew]] *= -1.0
            still = left[hi[left] - lo[left] < need - tolerance]
            stalled = stalled + 1 if still.size == left.size else 0
            left = still
        if left.size <= EXACT_CHECKS:
            # A few cells the search could not spread are settled exactly, two LPs each;
            # many are (nearly all) truly pinned, and get complements without the cost.
            left = np.array([i for i in left if self.exact_width(i) < need - tolerance], dtype=int)
        return [self.cells[i] for i in left]


class _Choice(enum.IntEnum):
    """How far the search for a complement may go, cheapest first."""

    #: A shown non-zero cell that is not a headline.
    ORDINARY = 0
    #: A shown zero too (hiding zeros cascades through empty categories, so only when needed).
    ZERO = 1
    #: A headline too: only a small headline cell (a yearly total of 3) can need another.
    HEADLINE = 2


class _Chooser:
    """Complements for one table, cheapest first, with each cell's cost computed once."""

    def __init__(self, cube: Cube, hidden: dict[Key, CellStatus], keep: Collection[Key] = ()) -> None:
        self.cube = cube
        self.hidden = hidden
        #: Cells another publication already shows: hiding them would protect nothing.
        self.keep = frozenset(keep)
        self._costs: dict[Key, tuple[CellRole, int, float]] = {}

    def cost(self, key: Key) -> tuple[CellRole, int, float]:
        """What hiding ``key`` costs readers: its role, how aggregated it is, then its count
        (a small count carries the least information, the weight ``sdcTable`` uses by default)."""
        found = self._costs.get(key)
        if found is None:
            aggregated = sum(1 for i, n in enumerate(key) if n == self.cube.dims[i].root)
            found = self._costs[key] = (role(self.cube, key), aggregated, self.cube.value(key))
        return found

    def allowed(self, key: Key, reach: _Choice) -> bool:
        if key in self.hidden or key in self.keep:
            return False
        r, _, value = self.cost(key)
        if r is CellRole.HEADLINE and reach < _Choice.HEADLINE:
            return False
        return value > 0 or reach >= _Choice.ZERO

    def cheapest(self, lines: Iterable[Line], reach: _Choice = _Choice.ORDINARY) -> Key | None:
        """The cheapest cell of ``lines`` that ``reach`` allows to hide, or None."""
        found = {m for parent, children in lines for m in (parent, *children) if self.allowed(m, reach)}
        return min(found, key=lambda k: (self.cost(k), k)) if found else None

    def hide(self, key: Key) -> None:
        """Hide ``key`` and close every line it leaves with a single hidden cell."""
        self.hidden[key] = CellStatus.SECONDARY
        self.close([key])

    def close(self, start: Iterable[Key]) -> None:
        """Hide a complement in every line with exactly one hidden cell (subtraction would reveal it)."""
        todo = list(start)
        while todo:
            key = todo.pop()
            for line in self.cube.lines_of(key):
                if sum(1 for m in (line[0], *line[1]) if m in self.hidden) != 1:
                    continue
                pick = next((p for reach in _Choice if (p := self.cheapest([line], reach)) is not None), None)
                if pick is not None:
                    self.hidden[pick] = CellStatus.SECONDARY
                    todo.append(pick)


def protect(cube: Cube, policy: DisclosurePolicy | None = None, force: Collection[Key] = (),
            keep: Collection[Key] = ()) -> Protected:
    """Primary and secondary suppression of ``cube`` under ``policy``.

    ``force`` lists cells another table hides (see :func:`protect_all`), ``keep``
    cells another publication shows (never chosen as complements: hidden here,
    they would still be known, and the audit would count on a secret that is not one). The lines
    are closed, then the whole table is audited once per round; beside every small
    cell the audit cannot prove safe a complement is hidden. Hiding more only
    widens intervals, so the rounds end; :data:`MAX_ROUNDS` bounds them.
    """
    policy = policy or DisclosurePolicy()
    # In key order, not in the order the query returned the counts: the complements chosen
    # follow the order cells are closed in, and a warehouse's row order is not stable
    # (``report sdg`` and ``report build`` of one store must hide the same cells).
    hidden: dict[Key, CellStatus] = {
        k: CellStatus.PRIMARY for k, v in sorted(cube.values.items()) if 0 < v < policy.threshold
    }
    hidden.update((k, CellStatus.SECONDARY) for k in force if k not in hidden)
    chooser = _Chooser(cube, hidden, keep)
    chooser.close(list(hidden))
    need = float(policy.protection_range)
    for _ in range(MAX_ROUNDS):
        small = [k for k in hidden if 0 < cube.value(k) < policy.threshold]
        weak = _Audit(cube, hidden, policy).unproven(small, need) if small else []
        if not weak:
            return Protected(cube, policy, hidden)
        _widen(chooser, weak)
    raise SuppressionError(f"cube {cube.name}: the audit still narrows a small cell after {MAX_ROUNDS} rounds")


def _widen(chooser: _Chooser, weak: Sequence[Key]) -> None:
    """One repair round: complements around each small cell the audit could not clear.

    A cell moves only if every line through it can absorb the move, so each of
    its lines gets one more hidden cell (the hypercube idea: a pattern spanning
    every dimension of the cell). The complement comes from the line itself, else
    from the lines of the hidden cells it links to, reaching further (zeros, then
    headlines) only when nothing cheaper is left.
    """
    cube, hidden = chooser.cube, chooser.hidden
    touched: set[Line] = set()
    for key in weak:
        changed = False
        for line in cube.lines_of(key):
            if line in touched:
                continue
            members = (line[0], *line[1])
            linked = [ln for m in members if m in hidden and m != key for ln in cube.lines_of(m) if ln != line]
            pick = next((p for reach in _Choice for near in ([line], linked)
                         if (p := chooser.cheapest(near, reach)) is not None), None)
            if pick is not None:
                chooser.hide(pick)
                touched.add(line)
                touched.update(cube.lines_of(pick))
                changed = True
        if changed:
            continue
        if hidden[key] is CellStatus.PRIMARY:
            # Pinned by the "<5" bounds of its neighbours (8 = "<5" + "<5") with nothing left
            # to hide: shown as "x", it no longer tells the attacker it is small.
            hidden[key] = CellStatus.SECONDARY
        elif not any(line in touched for line in cube.lines_of(key)):
            raise SuppressionError(f"cube {cube.name}: no complementary cell can protect {cube.label(key)}")


def protect_all(cubes: Mapping[str, Cube], policy: DisclosurePolicy,
                shared: Sequence[Sequence[TableCell]] = ()) -> dict[str, Protected]:
    """Protect a set of tables whose ``shared`` groups of cells count the same people.

    A cell hidden in one table and shown in another would be given back by the
    other; so when a group is split, the tables showing it are protected again
    with the cell hidden, until every group is shown or hidden everywhere.
    """
    out = {name: protect(cube, policy) for name, cube in cubes.items()}
    force: dict[str, set[Key]] = {name: set() for name in cubes}
    for _ in range(sum(len(g) for g in shared) + 1):
        again: set[str] = set()
        for group in shared:
            if len({out[name].status(key) is CellStatus.SHOWN for name, key in group}) > 1:
                for name, key in group:
                    if out[name].status(key) is CellStatus.SHOWN:
                        force[name].add(key)
                        again.add(name)
        if not again:
            return out
        for name in again:
            out[name] = protect(cubes[name], policy, force[name])
    raise SuppressionError("tables sharing cells could not be protected consistently")
