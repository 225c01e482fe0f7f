"""Count cubes with hierarchical dimensions: the shape every published table has.

A published statistic is a set of cells, each a count for one combination of
dimension values (year, sex, age group...). Dimensions are trees: ``Total`` at
the root, groups (``Child``) and leaves (``12-14``) below. Because a parent
cell equals the sum of its children, any table that shows both leaks through
its margins; disclosure control therefore works on the cube and the linear
*lines* (parent = sum of children) between its published cells, not on
isolated numbers.

A cube publishes only the cells of its *views* (per dimension, which nodes are
shown), so one cube can feed a detailed national table and the coarser SDG
series while its margins stay consistent between them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

TOTAL = "Total"

Key = tuple[str, ...]
#: A line: the parent cell and the cells that sum to it.
Line = tuple[Key, tuple[Key, ...]]


@dataclass(frozen=True)
class Dim:
    """One dimension: a tree of codes with ``root`` at the top (or flat, without a root)."""

    name: str
    label: str
    #: Every node except the root -> its parent.
    parents: Mapping[str, str]
    #: Every node in display order (root first).
    order: tuple[str, ...]
    labels: Mapping[str, str] = field(default_factory=dict)
    root: str | None = TOTAL

    @classmethod
    def flat(cls, name: str, label: str, codes: Sequence[str], labels: Mapping[str, str] | None = None,
             total: bool = True) -> Dim:
        """Leaves directly under ``Total`` (or, with ``total=False``, unrelated categories)."""
        root = TOTAL if total else None
        parents = dict.fromkeys(codes, TOTAL) if total else {}
        order = ((TOTAL,) if total else ()) + tuple(codes)
        return cls(name, label, parents, order, dict(labels or {}), root)

    @classmethod
    def tree(cls, name: str, label: str, groups: Mapping[str, Sequence[str]],
             labels: Mapping[str, str] | None = None) -> Dim:
        """Groups under ``Total`` with leaves under each group; an empty group is a leaf."""
        parents: dict[str, str] = {}
        order: list[str] = [TOTAL]
        for group, leaves in groups.items():
            parents[group] = TOTAL
            order.append(group)
            for leaf in leaves:
                parents[leaf] = group
                order.append(leaf)
        return cls(name, label, parents, tuple(order), dict(labels or {}), TOTAL)

    def __post_init__(self) -> None:
        if len(set(self.order)) != len(self.order):
            raise ValueError(f"dimension {self.name}: node codes must be unique")

    @cached_property
    def _children(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, list[str]] = {}
        for c in self.order:
            if c in self.parents:
                out.setdefault(self.parents[c], []).append(c)
        return {k: tuple(v) for k, v in out.items()}

    def children(self, node: str) -> tuple[str, ...]:
        return self._children.get(node, ())

    @property
    def leaves(self) -> tuple[str, ...]:
        return tuple(c for c in self.order if c not in self._children and c != self.root)

    def ancestors(self, node: str) -> list[str]:
        """``node`` and every node above it."""
        out = [node]
        while out[-1] in self.parents:
            out.append(self.parents[out[-1]])
        return out

    def label_of(self, node: str) -> str:
        return self.labels.get(node, node)


#: Per dimension name, the nodes a view shows (a dimension left out shows every node).
View = Mapping[str, frozenset[str]]


@dataclass
class Cube:
    """Counts for every published cell of a set of views over hierarchical dimensions."""

    name: str
    title: str
    unit: str
    dims: tuple[Dim, ...]
    views: tuple[View, ...]
    #: Non-zero counts of published cells; every other published cell is zero.
    values: dict[Key, float]
    #: Linear relations beyond the hierarchies (e.g. domestic = sum of the diagonal).
    extra_lines: tuple[Line, ...] = ()
    _extra_index: dict[Key, list[Line]] = field(default_factory=dict, init=False, repr=False)
    _lines: dict[Key, list[Line]] = field(default_factory=dict, init=False, repr=False)
    _published: dict[Key, bool] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for line in self.extra_lines:
            for key in (line[0], *line[1]):
                self._extra_index.setdefault(key, []).append(line)

    @classmethod
    def from_leaves(cls, name: str, title: str, unit: str, dims: Sequence[Dim], leaves: pd.DataFrame,
                    views: Sequence[View] = ({},), extra_lines: Sequence[Line] = ()) -> Cube:
        """Roll leaf counts (one column per dimension plus ``n``) up every hierarchy.

        A leaf value not in its dimension is an error: it would otherwise vanish
        from the totals without a trace.
        """
        import pandas as pd

        frame = leaves[[d.name for d in dims] + ["n"]]
        for d in dims:
            unknown = set(frame[d.name].unique()) - set(d.order)
            if unknown:
                raise ValueError(f"cube {name}: values {sorted(map(str, unknown))} are not in dimension {d.name}")
        names = [d.name for d in dims]
        cube = cls(name, title, unit, tuple(dims), tuple(views), {}, tuple(extra_lines))
        for view in cube.views:
            # Each view rolls up only to the nodes it shows, so no unpublished margin is computed.
            rolled = frame
            for i, d in enumerate(dims):
                pairs = [(leaf, up) for leaf in d.order for up in d.ancestors(leaf) if cube._shown(view, i, up)]
                mapping = pd.DataFrame(pairs, columns=[d.name, "_up"])
                rolled = rolled.merge(mapping, on=d.name).drop(columns=d.name).rename(columns={"_up": d.name})
                rolled = rolled.groupby(names, as_index=False, sort=False)["n"].sum()
            for row in rolled[[*names, "n"]].itertuples(index=False, name=None):
                if row[-1]:
                    cube.values[tuple(map(str, row[:-1]))] = float(row[-1])
        return cube

    def value(self, key: Key) -> float:
        return self.values.get(key, 0.0)

    def _shown(self, view: View, i: int, node: str) -> bool:
        allowed = view.get(self.dims[i].name)
        return allowed is None or node in allowed

    @cached_property
    def _view_axes(self) -> tuple[tuple[frozenset[str] | None, ...], ...]:
        """Per view, per dimension, the nodes it shows (None: every node), read once."""
        return tuple(tuple(v.get(d.name) for d in self.dims) for v in self.views)

    def is_published(self, key: Key) -> bool:
        # Asked for every member of every line the suppression walks: memoised, as
        # the answer is fixed by the views and the same cells recur across lines.
        found = self._published.get(key)
        if found is None:
            found = self._published[key] = any(
                all(allowed is None or node in allowed for allowed, node in zip(axes, key, strict=True))
                for axes in self._view_axes)
        return found

    def cells(self) -> Iterator[Key]:
        """Every published cell (zeros included), each once, in display order."""
        seen: set[Key] = set()
        for view in self.views:
            axes = [[n for n in d.order if self._shown(view, i, n)] for i, d in enumerate(self.dims)]
            for key in itertools.product(*axes):
                if key not in seen:
                    seen.add(key)
                    yield key

    def lines_of(self, key: Key) -> list[Line]:
        """Every line (parent = sum of children, all published) that ``key`` belongs to.

        Suppression asks this for every cell it touches, so it works per dimension:
        the views that show ``key``'s other coordinates decide which nodes of that
        dimension are published, without building and testing each member's key.
        """
        cached = self._lines.get(key)
        if cached is not None:
            return cached
        lines: list[Line] = []
        # Per view, the dimensions where it does not show ``key``'s node: a view missing
        # two or more shows nothing on any line through ``key``.
        misses = [(axes, [j for j, a in enumerate(axes) if a is not None and key[j] not in a])
                  for axes in self._view_axes]
        for i, d in enumerate(self.dims):
            others = [axes[i] for axes, missed in misses if not missed or missed == [i]]
            if not others:
                continue
            # The nodes of dimension ``i`` published beside ``key``'s other coordinates (None: all).
            shown = None if None in others else frozenset().union(*(a for a in others if a is not None))
            node = key[i]
            for parent_node in (node, d.parents.get(node)):
                if parent_node is None:
                    continue
                kids = d.children(parent_node)
                if kids and (shown is None or (parent_node in shown and shown.issuperset(kids))):
                    lines.append(((*key[:i], parent_node, *key[i + 1 :]),
                                  tuple((*key[:i], k, *key[i + 1 :]) for k in kids)))
        lines.extend(self._extra_index.get(key, ()))
        self._lines[key] = lines
        return lines

    def label(self, key: Key) -> str:
        return ", ".join(f"{d.label}={d.label_of(n)}" for d, n in zip(self.dims, key, strict=True))
