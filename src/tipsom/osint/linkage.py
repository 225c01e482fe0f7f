"""Linking ads into networks, written once in ibis for DuckDB and Spark.

Two kinds of evidence link ads:

* **shared identifiers**: ads and identifiers form a bipartite graph (an ad is
  joined to each phone, e-mail, handle and wallet it names), so a phone used by
  a thousand ads costs a thousand edges, not half a million pairs;
* **near-duplicate text**: ads that fall in the same MinHash LSH bucket are
  candidates (each ad is paired with its next ``window`` neighbours in the
  bucket, which bounds the work on huge buckets), and every candidate pair is
  verified with the exact Jaccard similarity of the two shingle sets.

Connected components of the union are computed by iterative joins: every node
takes the smallest label among itself and its neighbours, then jumps to its
label's label (pointer jumping), until no label changes. Each round is
materialised, so the plan stays flat on both engines. The same ibis
expressions run on DuckDB (the default, in process) and on a Spark session, and
give identical clusters: each cluster is named after its first ad in input order.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from tipsom.osint.choices import LinkEngine
from tipsom.osint.identifiers import LINKING_KINDS
from tipsom.osint.scan import AdScan
from tipsom.osint.textsim import TextSignature


@dataclass(frozen=True)
class LinkageSettings:
    #: Exact Jaccard similarity (3-word shingles, identifiers masked) from which
    #: two ads count as the same template.
    jaccard_threshold: float = 0.6
    #: Each ad in an LSH bucket is paired with this many following ads.
    window: int = 4
    #: Safety bound on component rounds (pointer jumping needs O(log diameter)).
    max_rounds: int = 60


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
    def build(cls, scans: Sequence[AdScan], signatures: Sequence[TextSignature]) -> LinkInput:
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
        band_counts = np.array([s.bands.size for s in signatures], dtype=np.int64)
        shingle_counts = np.array([s.shingles.size for s in signatures], dtype=np.int64)
        index = np.arange(n, dtype=np.int64)
        bands = np.concatenate([s.bands for s in signatures]) if n else np.empty(0, np.int64)
        shingles = (np.concatenate([s.shingles for s in signatures]).astype(np.int64) if n
                    else np.empty(0, np.int64))
        return cls(
            ad_ids=ad_ids, identifiers=shared,
            identifier_edges=pa.table({"ad": ident_ads, "node": ident_nodes}),
            bands=pa.table({"ad": np.repeat(index, band_counts), "band": bands}),
            shingles=pa.table({"ad": np.repeat(index, shingle_counts), "shingle": shingles}),
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

    def __init__(self, engine: LinkEngine, spark: Any = None) -> None:
        import ibis

        self.engine = engine
        self.prefix = f"osint_{uuid.uuid4().hex[:8]}"
        self._names: list[str] = []
        if engine is LinkEngine.SPARK:
            if spark is None:
                from tipsom.sparkutil import local_spark

                spark = local_spark()
            self.spark = spark
            self.con = ibis.pyspark.connect(spark)
        else:
            self.spark = None
            self.con = ibis.duckdb.connect()

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


def _components(ws: _Workspace, edges: Any, settings: LinkageSettings) -> Any:
    """Component labels (the smallest node id of each component) of an edge table (a, b).

    Each round hooks every node to the smallest label around it, then jumps to
    the label of that label. Labels only decrease, so an unchanged sum
    of labels means no label changed: one aggregate per round checks convergence.
    """
    import ibis

    both = edges.select(src=edges.a, dst=edges.b).union(edges.select(src=edges.b, dst=edges.a))
    both = ws.materialise(both, "edges")
    labels = ws.materialise(both.select(node=both.src, label=both.src).distinct(), "labels")
    total = labels.label.sum().execute()
    for _ in range(settings.max_rounds):
        nearest = (both.join(labels, both.dst == labels.node)
                   .group_by(both.src).aggregate(smallest=labels.label.min()))
        hooked = labels.left_join(nearest, labels.node == nearest.src).select(
            node=labels.node, label=ibis.least(labels.label, nearest.smallest.fill_null(labels.label)))
        hooked = ws.materialise(hooked, "hooked")
        twin = hooked.view()  # a self-join needs a distinct relation
        parent = twin.select(p_node=twin.node, p_label=twin.label)
        jumped = hooked.join(parent, hooked.label == parent.p_node).select(
            node=hooked.node, label=ibis.least(hooked.label, parent.p_label))
        labels = ws.materialise(jumped, "labels")
        new_total = labels.label.sum().execute()
        if new_total == total:
            return labels
        total = new_total
    raise RuntimeError(f"connected components did not converge in {settings.max_rounds} rounds")


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


def link(data: LinkInput, engine: LinkEngine = LinkEngine.DUCKDB, spark: Any = None,
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
        same = anchored[ta] == anchored[tb]
        component_edges = pa.table({
            "a": np.concatenate([ident_ads, ta[same]]).astype(np.int64),
            "b": np.concatenate([data.identifier_edges.column("node").to_numpy(), tb[same]]).astype(np.int64),
        })
        labels_table = _components(ws, ws.load(component_edges, "component_edges"), settings)
        table = labels_table.filter(labels_table.node < n).to_pyarrow()
    finally:
        ws.close()
    labels = np.arange(n, dtype=np.int64)
    labels[table.column("node").to_numpy()] = table.column("label").to_numpy()
    cross = [(int(a), int(b), float(j)) for a, b, j in zip(ta[~same], tb[~same], tj[~same], strict=True)]
    root = _attach_loose_groups(labels, anchored, cross)
    text_edges = sorted((int(a), int(b), round(float(j), 4)) for a, b, j in zip(ta, tb, tj, strict=True))
    shared: dict[int, list[str]] = defaultdict(list)
    for ad, node in zip(ident_ads.tolist(), data.identifier_edges.column("node").to_pylist(), strict=True):
        shared[ad].append(data.identifiers[node - n])
    return Clustering(data.ad_ids, root.tolist(), text_edges, dict(shared))
