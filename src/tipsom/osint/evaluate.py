"""Pairwise precision, recall and F1 of a clustering against a truth file.

Pairwise scores count pairs of ads: a pair is a true positive when both
clusterings put the two ads together. They are computed from cluster sizes
(a contingency table), never by listing pairs, so a million ads cost seconds.
Also reported: how many predicted clusters join two or more organised
operations, the failure that sends investigators after the wrong network.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from tipsom.osint.records import AdInputError

#: The truth file's value of ``kind`` for ads of an organised operation.
ORGANISED = "organised"


@dataclass(frozen=True)
class PairwiseScores:
    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int
    shared_pairs: int
    ads: int
    #: Predicted clusters holding ads of two or more organised operations.
    merged_operations: int

    def summary(self) -> str:
        return (f"ads {self.ads}  precision {self.precision:.4f}  recall {self.recall:.4f}  F1 {self.f1:.4f}  "
                f"(pairs: true {self.true_pairs}, predicted {self.predicted_pairs}, shared {self.shared_pairs}; "
                f"clusters merging operations: {self.merged_operations})")


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise_scores(predicted: dict[str, str], truth: dict[str, str], organised: set[str]) -> PairwiseScores:
    """Scores over the ads present in both mappings (ad id to cluster / operation id)."""
    common = [ad for ad in predicted if ad in truth]
    joint = Counter((predicted[ad], truth[ad]) for ad in common)
    pred_sizes = Counter(predicted[ad] for ad in common)
    true_sizes = Counter(truth[ad] for ad in common)
    shared = sum(_pairs(c) for c in joint.values())
    pred_pairs = sum(_pairs(c) for c in pred_sizes.values())
    true_pairs = sum(_pairs(c) for c in true_sizes.values())
    precision = shared / pred_pairs if pred_pairs else 1.0
    recall = shared / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    ops_in: dict[str, set[str]] = defaultdict(set)
    for (cluster, operation), _ in joint.items():
        if operation in organised:
            ops_in[cluster].add(operation)
    merged = sum(1 for ops in ops_in.values() if len(ops) > 1)
    return PairwiseScores(precision, recall, f1, true_pairs, pred_pairs, shared, len(common), merged)


def _read_columns(path: Path, key: str, value: str) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in (key, value) if c not in (reader.fieldnames or [])]
        if missing:
            raise AdInputError(f"{path}: missing column(s) {missing}")
        rows = list(reader)
    for n, row in enumerate(rows, start=2):
        if not row[key] or not row[value]:
            field = key if not row[key] else value
            raise AdInputError(f"{path}: row {n}: field {field!r}: empty")
    return rows


def evaluate_files(clusters: Path, truth: Path) -> PairwiseScores:
    """Compare a clusters CSV (ad_id, cluster_id) with a truth CSV (ad_id, operation_id, kind)."""
    predicted = {r["ad_id"]: r["cluster_id"] for r in _read_columns(clusters, "ad_id", "cluster_id")}
    truth_rows = _read_columns(truth, "ad_id", "operation_id")
    labels = {r["ad_id"]: r["operation_id"] for r in truth_rows}
    organised = {r["operation_id"] for r in truth_rows if r.get("kind", ORGANISED) == ORGANISED}
    unknown = [ad for ad in predicted if ad not in labels]
    if unknown:
        raise AdInputError(f"{truth}: no truth for {len(unknown)} clustered ads, e.g. {unknown[0]!r}")
    return pairwise_scores(predicted, labels, organised)
