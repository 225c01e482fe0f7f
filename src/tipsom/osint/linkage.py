"""Linking ads into networks, written once in ibis for DuckDB and Spark.

Two kinds of evidence link ads:

* **shared identifiers**: ads and identifiers form a bipartite graph (an ad is
  joined to each phone, e-mail, handle and wallet it names), so a phone used by
  a thousand ads costs a thousand edges, not half a million pairs;
* **near-duplicate text**: ads that fall in the same MinHash LSH bucket are
  candidates (each ad is paired with its next ``window`` neighbours in the
  bucket, which bounds the work on huge buckets), and every candidate pair is
  verified with the exact Jaccard similarity of the two shingle sets.

Candidate pairs and their verification, the heavy part, are ibis expressions
that run on DuckDB (the default, in process) or on a Spark session. Connected
components of the union are then found in this process (the verified edges are
few next to the shingles), groups held together by text alone are split until
each shares one template, and look-alikes are attached; both engines give
identical clusters, each named after its first ad in input order.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from tipsom.core.engines import Engine, connect, local_spark
from tipsom.core.selectors import LINKING_KINDS
from tipsom.osint.scan import AdScan
from tipsom.osint.textsim import SignatureTable, jaccard


@dataclass(frozen=True)
class LinkageSettings:
    #: Exact Jaccard similarity (3-word shingles, identifiers masked) from which
    #: two ads count as the same template.
    jaccard_threshold: float = 0.6
    #: Each ad in an LSH bucket is paired with this many following ads.
    window: int = 4


@dataclass
class LinkInput:
    """Arrow tables for the engine, built from scans in input order."""

    ad_ids: list[str]
    #: Linking identifiers that occur in at least two ads, as ``kind:value``.
    identifiers: list[str]
    identifier_edges: pa.Table  # ad (int64), node (int64: len(ad_ids) + identifier index)
    bands: pa.Table  # ad, band
    shingles: pa.Table  # ad, shingle

    @classmethod
    def build(cls, scans: Sequence[AdScan], signatures: SignatureTable) -> LinkInput:
        ad_ids = [s.ad.ad_id for s in scans]
        holders: dict[str, set[int]] = defaultdict(set)
        for i, scan in enumerate(scans):
            for ident in scan.identifiers:
                if ident.kind in LINKING_KINDS:
                    holders[f"{ident.kind.value}:{ident.value}"].add(i)
        shared = sorted(k for k, ads in holders.items() if len(ads) > 1)
        n = len(ad_ids)
        pairs = [(ad, n + j) for j, key in enumerate(shared) for ad in sorted(holders[key])]
        ident_ads = np.array([p[0] for p in pairs], dtype=np.int64)
        ident_nodes = np.array([p[1] for p in pairs], dtype=np.int64)
        if len(signatures) != n:
            raise ValueError(f"{n} scans but {len(signatures)} signatures")
        return cls(
            ad_ids=ad_ids, identifiers=shared,
            identifier_edges=pa.table({"ad": ident_ads, "node": ident_nodes}),
            bands=pa.table({"ad": signatures.band_owners(), "band": signatures.bands}),
            shingles=pa.table({"ad": signatures.shingle_owners(), "shingle": signatures.shingles.astype(np.int64)}),
        )


@dataclass
class Clustering:
    """Which cluster each ad is in, and why."""

    ad_ids: list[str]
    #: For each ad, the index of the first ad of its cluster.
    root: list[int]
    #: Verified near-duplicate pairs (ad index, ad index, Jaccard).
    text_edges: list[tuple[int, int, float]]
    #: For each ad, the shared identifiers (``kind:value``) it names.
    shared_identifiers: dict[int, list[str]] = field(default_factory=dict)
    _partners: dict[int, list[tuple[float, int]]] | None = field(default=None, init=False, repr=False)

    def cluster_id(self, ad_index: int) -> str:
        return f"cl-{self.ad_ids[self.root[ad_index]]}"

    def members(self) -> dict[str, list[int]]:
        """Ad indexes per cluster id."""
        groups: dict[str, list[int]] = defaultdict(list)
        for i in range(len(self.ad_ids)):
            groups[self.cluster_id(i)].append(i)
        return dict(groups)

    def link_reasons(self, ad_index: int, max_text: int = 5) -> list[str]:
        """Identifiers shared with other ads, then the closest near-duplicates."""
        if self._partners is None:
            partners: dict[int, list[tuple[float, int]]] = defaultdict(list)
            for a, b, jac in self.text_edges:
                partners[a].append((jac, b))
                partners[b].append((jac, a))
            self._partners = dict(partners)
        reasons = list(self.shared_identifiers.get(ad_index, []))
        closest = sorted(self._partners.get(ad_index, []), key=lambda p: (-p[0], p[1]))[:max_text]
        reasons += [f"text:{self.ad_ids[other]}({jac:.2f})" for jac, other in closest]
        return reasons


class _Workspace:
    """The only engine-specific part: connecting, loading Arrow, materialising a result."""

    def __init__(self, engine: Engine, spark: Any = None) -> None:
        self.engine = engine
        self.prefix = f"osint_{uuid.uuid4().hex[:8]}"
        self._names: list[str] = []
        self.spark = (spark or local_spark()) if engine is Engine.SPARK else None
        self.con = connect(engine, self.spark)

    def _name(self, label: str) -> str:
        name = f"{self.prefix}_{label}_{len(self._names)}"
        self._names.append(name)
        return name

    def load(self, table: pa.Table, label: str) -> Any:
        """Register an all-int64 Arrow table with the engine."""
        name = self._name(label)
        if self.spark is not None:
            frame = self.spark.createDataFrame(table)  # Arrow goes to the JVM without a pandas copy
            frame.createOrReplaceTempView(name)
            return self.con.table(name)
        return self.con.create_table(name, table, temp=True)

    def materialise(self, expr: Any, label: str) -> Any:
        name = self._name(label)
        if self.spark is not None:
            frame = self.spark.sql(self.con.compile(expr)).localCheckpoint(eager=True)
            frame.createOrReplaceTempView(name)
            return self.con.table(name)
        return self.con.create_table(name, expr, temp=True)

    def close(self) -> None:
        if self.spark is not None:
            for name in self._names:
                self.spark.catalog.dropTempView(name)
        else:
            self.con.disconnect()


def _text_edges(ws: _Workspace, data: LinkInput, settings: LinkageSettings) -> Any:
    """Verified near-duplicate pairs (a < b) with their exact Jaccard similarity.

    Self-joins go through materialised tables and ``view()``, so each side of a
    join is a distinct relation on both backends.
    """
    import ibis

    bands = ws.load(data.bands, "bands")
    shingles = ws.load(data.shingles, "shingles")
    ranked = ws.materialise(
        bands.mutate(rn=ibis.row_number().over(group_by=bands.band, order_by=bands.ad)), "ranked")
    twin = ranked.view()
    other = twin.select(band2=twin.band, rn2=twin.rn, ad2=twin.ad)
    pairs = ranked.join(
        other, [ranked.band == other.band2, other.rn2 > ranked.rn, other.rn2 <= ranked.rn + settings.window]
    ).select(a=ibis.least(ranked.ad, other.ad2), b=ibis.greatest(ranked.ad, other.ad2)).distinct()
    pairs = ws.materialise(pairs, "candidates")
    left = pairs.join(shingles, pairs.a == shingles.ad).select(a=pairs.a, b=pairs.b, s=shingles.shingle)
    shingles_b = shingles.view()
    right = shingles_b.select(ad_b=shingles_b.ad, s_b=shingles_b.shingle)
    inter = ws.materialise(
        left.join(right, [left.b == right.ad_b, left.s == right.s_b]).group_by(["a", "b"])
        .aggregate(shared=ibis._.count()), "shared")
    sizes = ws.materialise(shingles.group_by(shingles.ad).aggregate(size=ibis._.count()), "sizes")
    sizes_b = sizes.view()
    size_a = sizes.select(ad_a=sizes.ad, size_a=sizes.size)
    size_b = sizes_b.select(ad_b=sizes_b.ad, size_b=sizes_b.size)
    scored = (inter.join(size_a, inter.a == size_a.ad_a).join(size_b, inter.b == size_b.ad_b)
              .select("a", "b", jaccard=inter.shared.cast("float64")
                      / (size_a.size_a + size_b.size_b - inter.shared).cast("float64")))
    return ws.materialise(scored.filter(scored.jaccard >= settings.jaccard_threshold), "text_edges")


def _components(a: np.ndarray, b: np.ndarray, nodes: int) -> np.ndarray:
    """The label of every node: the smallest node id of its connected component.

    The edges are already in this process (text edges are collected to attach
    look-alikes), so components are found here in linear time rather than in
    twenty or so materialised engine rounds; both engines give the same labels
    by construction.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(a.size, dtype=np.int8), (a, b)), shape=(nodes, nodes))
    count, component = connected_components(graph, directed=False)
    smallest = np.full(count, nodes, dtype=np.int64)
    np.minimum.at(smallest, component, np.arange(nodes, dtype=np.int64))
    labels: np.ndarray = smallest[component]
    return labels


class _ShingleSets:
    """Each ad's sorted shingle hashes, sliced out of the (ad-ordered) shingles table."""

    def __init__(self, shingles: pa.Table, n: int) -> None:
        owners = shingles.column("ad").to_numpy()
        self._values = shingles.column("shingle").to_numpy()
        ads = np.arange(n + 1, dtype=np.int64)
        self._bounds = np.searchsorted(owners, ads).tolist()

    def jaccard(self, a: int, b: int) -> float:
        return jaccard(self._values[self._bounds[a] : self._bounds[a + 1]],
                       self._values[self._bounds[b] : self._bounds[b + 1]])


def _cohesive_loose_groups(labels: np.ndarray, loose_edges: list[tuple[int, int, float]], sets: _ShingleSets,
                           threshold: float) -> np.ndarray:
    """Split groups held together by text alone until each one shares a single template.

    Connected components chain: A looks like B, B like C, and so on, so posters
    who merely draw on the same stock phrases (one city's job ads, one route's
    crossing offers) end up in one long chain whose ends have nothing in
    common. Without a shared identifier, text is the only evidence, so a group
    must be a set of near-duplicates of one ad: its centre (the member with
    the most verified near-duplicates in the group, first in input order on a
    tie) keeps every member whose exact Jaccard similarity to it reaches the
    threshold; the rest splits into its own components and is treated the
    same way. Each resulting group is labelled by its first ad.
    """
    neighbours: dict[int, dict[int, float]] = defaultdict(dict)
    for a, b, jac in loose_edges:
        neighbours[a][b] = jac
        neighbours[b][a] = jac
    members: dict[int, list[int]] = defaultdict(list)
    for node in sorted(neighbours):
        members[int(labels[node])].append(node)
    refined = labels.copy()
    pending = list(members.values())
    while pending:
        group = pending.pop()
        inside = set(group)
        centre = min(group, key=lambda m: (-sum(1 for x in neighbours[m] if x in inside), m))
        close = [m for m in group if m == centre or m in neighbours[centre]
                 or sets.jaccard(m, centre) >= threshold]
        refined[close] = min(close)
        rest = inside.difference(close)
        while rest:  # the remainder's own components, by breadth-first search over its edges
            start = min(rest)
            rest.discard(start)
            component, frontier = [start], [start]
            while frontier:
                node = frontier.pop()
                for other in neighbours[node]:
                    if other in rest:
                        rest.discard(other)
                        component.append(other)
                        frontier.append(other)
            if len(component) == 1:
                refined[start] = start
            else:
                pending.append(sorted(component))
    return refined


def _attach_loose_groups(labels: np.ndarray, anchored: np.ndarray,
                         cross: list[tuple[int, int, float]]) -> np.ndarray:
    """Final cluster root of every ad.

    ``labels`` are components of identifier links plus text links between ads of
    the same kind (both with, or both without, a shared identifier). A group of
    ads without any shared identifier then joins at most one identified network,
    the one it is most similar to: a look-alike poster copying two operations'
    templates must not merge the two operations.
    """
    best: dict[int, tuple[float, int]] = {}
    for a, b, jac in cross:
        loose, anchor = (a, b) if not anchored[a] else (b, a)
        group, target = int(labels[loose]), int(labels[anchor])
        current = best.get(group)
        if current is None or (jac, -target) > (current[0], -current[1]):
            best[group] = (jac, target)
    final = [best[label][1] if label in best else label for label in labels.tolist()]
    roots: dict[int, int] = {}
    for i, label in enumerate(final):
        roots.setdefault(label, i)  # ads are visited in input order, so the first is the smallest
    return np.array([roots[label] for label in final], dtype=np.int64)


def link(data: LinkInput, engine: Engine = Engine.DUCKDB, spark: Any = None,
         settings: LinkageSettings | None = None) -> Clustering:
    """Cluster the ads of ``data`` on ``engine``; identical results on both engines."""
    settings = settings or LinkageSettings()
    n = len(data.ad_ids)
    anchored = np.zeros(n, dtype=bool)
    ident_ads = data.identifier_edges.column("ad").to_numpy()
    anchored[ident_ads] = True
    ws = _Workspace(engine, spark)
    try:
        text_rows = _text_edges(ws, data, settings).to_pyarrow()
        ta = text_rows.column("a").to_numpy()
        tb = text_rows.column("b").to_numpy()
        tj = text_rows.column("jaccard").to_numpy()
    finally:
        ws.close()
    same = anchored[ta] == anchored[tb]
    ident_nodes = data.identifier_edges.column("node").to_numpy()
    labels = _components(np.concatenate([ident_ads, ta[same]]), np.concatenate([ident_nodes, tb[same]]),
                         n + len(data.identifiers))[:n]
    both_loose = same & ~anchored[ta]
    loose_edges = [(int(a), int(b), float(j)) for a, b, j in
                   zip(ta[both_loose], tb[both_loose], tj[both_loose], strict=True)]
    labels = _cohesive_loose_groups(labels, loose_edges, _ShingleSets(data.shingles, n), settings.jaccard_threshold)
    cross = [(int(a), int(b), float(j)) for a, b, j in zip(ta[~same], tb[~same], tj[~same], strict=True)]
    root = _attach_loose_groups(labels, anchored, cross)
    text_edges = sorted((int(a), int(b), round(float(j), 4)) for a, b, j in zip(ta, tb, tj, strict=True))
    shared: dict[int, list[str]] = defaultdict(list)
    for ad, node in zip(ident_ads.tolist(), data.identifier_edges.column("node").to_pylist(), strict=True):
        shared[ad].append(data.identifiers[node - n])
    return Clustering(data.ad_ids, root.tolist(), text_edges, dict(shared))
