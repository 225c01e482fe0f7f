"""OSINT benchmark: scan plus cluster throughput and F1, against TF-IDF + cosine.

Targets (issue 8): scan plus cluster of 1,000,000 generated ads end to end at
>= 2,000 ads/s on this machine (InfoShield reported ~140 documents/s on a
laptop); pairwise F1 >= 0.9 on generated data. Peer in the same run: a plain
TF-IDF + cosine near-duplicate clustering of a 50,000-ad subset.

Each measured step runs as a child process (``bench/common.py``), so its
wall time and peak memory are its own. If the full million does not fit the
bench time budget, the largest measured scale is reported and the million is
extrapolated linearly, saying so.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, Measurement, measure, write_result

WORK = ROOT / "bench" / "work" / "osint"
SEED = 2026
#: The peer's subset, and tipsom on the same subset for a like-for-like F1.
PEER_SCALE = 50_000
#: The largest scale measured end to end within the bench time budget (the target is 1,000,000).
LARGEST_SCALE = 100_000
TARGET_SCALE = 1_000_000
TARGET_RATE = 2_000.0
TARGET_F1 = 0.9
#: Cosine thresholds tried for the baseline; its best F1 is reported (in its favour).
BASELINE_THRESHOLDS = (0.5, 0.7, 0.9)


def _generate(n: int) -> tuple[Path, Path]:
    ads = WORK / f"ads-{n}.jsonl"
    truth = WORK / f"ads-{n}.truth.csv"
    if not ads.exists() or not truth.exists():
        from tipsom.synth.ads import write_synthetic_ads

        partial_ads, partial_truth = ads.with_suffix(".partial"), truth.with_suffix(".partial")
        write_synthetic_ads(partial_ads, n, SEED, partial_truth)
        partial_truth.replace(truth)
        partial_ads.replace(ads)  # only complete files are reused by the next run
    return ads, truth


def _tipsom(ads: Path, truth: Path) -> tuple[Measurement, dict[str, float]]:
    from tipsom.osint.evaluate import evaluate_files

    clusters = ads.with_suffix(".clusters.csv")
    m = measure([sys.executable, "-m", "tipsom.cli.main", "osint", "cluster", str(ads), "-o", str(clusters),
                 "--scan-out", str(ads.with_suffix(".scan.jsonl")), "-q"])
    if m.returncode != 0:
        raise RuntimeError(f"tipsom osint cluster failed on {ads}")
    scores = evaluate_files(clusters, truth)
    return m, {"precision": scores.precision, "recall": scores.recall, "f1": scores.f1,
               "merged": scores.merged_operations}


def baseline(ads_path: Path, truth_path: Path) -> dict[str, float]:
    """TF-IDF + cosine on raw text, linked above a threshold, components as clusters (child process)."""
    import csv

    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from sklearn.feature_extraction.text import TfidfVectorizer

    from tipsom.osint.evaluate import pairwise_scores

    ids, texts = [], []
    with ads_path.open(encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            ids.append(record["id"])
            texts.append(f"{record.get('title', '')} {record['text']}")
    with truth_path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    truth = {r["ad_id"]: r["operation_id"] for r in rows}
    organised = {r["operation_id"] for r in rows if r["kind"] == "organised"}
    matrix = TfidfVectorizer(max_df=0.5, min_df=2, sublinear_tf=True).fit_transform(texts).tocsr()
    n = matrix.shape[0]
    low = min(BASELINE_THRESHOLDS)
    rows_i: list[np.ndarray] = []
    cols_i: list[np.ndarray] = []
    sims: list[np.ndarray] = []
    block = 2000
    for start in range(0, n, block):
        product = (matrix[start : start + block] @ matrix.T).tocoo()
        keep = (product.data >= low) & (product.row + start < product.col)
        rows_i.append(product.row[keep] + start)
        cols_i.append(product.col[keep])
        sims.append(product.data[keep])
    r, c, s = np.concatenate(rows_i), np.concatenate(cols_i), np.concatenate(sims)
    best: dict[str, float] = {}
    for threshold in BASELINE_THRESHOLDS:
        keep = s >= threshold
        graph = coo_matrix((np.ones(int(keep.sum())), (r[keep], c[keep])), shape=(n, n))
        _, labels = connected_components(graph, directed=False)
        predicted = {ad: f"c{label}" for ad, label in zip(ids, labels.tolist(), strict=True)}
        scores = pairwise_scores(predicted, truth, organised)
        if scores.f1 > best.get("f1", -1.0):
            best = {"threshold": threshold, "precision": scores.precision, "recall": scores.recall,
                    "f1": scores.f1, "merged": scores.merged_operations}
    return best


def _status(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    peer_ads, peer_truth = _generate(PEER_SCALE)
    big_ads, big_truth = _generate(LARGEST_SCALE)
    ours_small, ours_small_scores = _tipsom(peer_ads, peer_truth)
    ours_big, ours_big_scores = _tipsom(big_ads, big_truth)
    peer = measure([sys.executable, __file__, "baseline", str(peer_ads), str(peer_truth)])
    if peer.returncode != 0:
        raise RuntimeError("baseline failed")
    peer_scores = json.loads(peer.stdout.strip().splitlines()[-1])

    rate_small = PEER_SCALE / ours_small.seconds
    rate_big = LARGEST_SCALE / ours_big.seconds
    projected_seconds = ours_big.seconds * TARGET_SCALE / LARGEST_SCALE
    peer_rate = PEER_SCALE / peer.seconds
    rows = [
        ("tipsom scan + cluster (DuckDB)", PEER_SCALE, ours_small, ours_small_scores),
        ("tipsom scan + cluster (DuckDB)", LARGEST_SCALE, ours_big, ours_big_scores),
        (f"TF-IDF + cosine (best threshold {peer_scores['threshold']})", PEER_SCALE, peer, peer_scores),
    ]
    table = "\n".join(
        f"| {name} | {n:,} | {m.seconds:.1f} | {n / m.seconds:,.0f} | {m.peak_rss_mb:,.0f} | "
        f"{s['precision']:.4f} | {s['recall']:.4f} | {s['f1']:.4f} | {int(s['merged'])} |"
        for name, n, m, s in rows
    )
    f1_low = min(ours_big_scores["f1"], ours_small_scores["f1"])
    targets = "\n".join([
        f"| scan + cluster 1,000,000 ads at ≥ {TARGET_RATE:,.0f} ads/s | {rate_big:,.0f} ads/s at "
        f"{LARGEST_SCALE:,} ads (largest scale measured; 1,000,000 extrapolated linearly: about "
        f"{projected_seconds / 60:.0f} min) | {_status(rate_big >= TARGET_RATE)} |",
        f"| pairwise F1 ≥ {TARGET_F1} on generated data | {ours_big_scores['f1']:.4f} at {LARGEST_SCALE:,}; "
        f"{ours_small_scores['f1']:.4f} at {PEER_SCALE:,} | {_status(f1_low >= TARGET_F1)} |",
        f"| better than the TF-IDF + cosine peer on {PEER_SCALE:,} ads | F1 {ours_small_scores['f1']:.4f} vs "
        f"{peer_scores['f1']:.4f}; {rate_small:,.0f} vs {peer_rate:,.0f} ads/s | "
        f"{_status(ours_small_scores['f1'] > peer_scores['f1'])} |",
    ])
    markdown = f"""## OSINT: scan, link and cluster generated ads (issue 8)

Generated with `tipsom synth ads --seed {SEED}` (organised operations with rotating phones, templates,
movement and two languages; look-alike independent posters). tipsom runs
`tipsom osint cluster FILE --scan-out ...` end to end in a child process: read, normalise, detect
language, extract identifiers, match indicators, MinHash LSH with exact verification, identifier graph,
connected components, profiles and templates, CSV and JSON written. The peer is a plain TF-IDF + cosine
clustering of raw text (scikit-learn, blocked sparse products, components above a cosine threshold,
best of {", ".join(map(str, BASELINE_THRESHOLDS))}) on the same {PEER_SCALE:,}-ad subset.

| system | ads | seconds | ads/s | peak RSS (MB) | precision | recall | pairwise F1 | clusters merging operations |
|---|---|---|---|---|---|---|---|---|
{table}

| target | measured | status |
|---|---|---|
{targets}

Honest notes: the million-ad run was not made because at the measured rate it would take about
{projected_seconds / 60:.0f} minutes, beyond this benchmark's time budget; the figure is a linear
extrapolation (scanning is linear, linkage near-linear). The machine is shared with other benchmarks
and test runs, so wall times vary between runs. InfoShield's published figure (~140 documents/s on a
laptop) is given in the issue for scale; it was not re-run here. Generated data is easier than real
ads (see docs/osint.md, Limits). Whole benchmark: {(time.perf_counter() - started) / 60:.1f} min.
"""
    write_result("osint", markdown)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "baseline":
        print(json.dumps(baseline(Path(sys.argv[2]), Path(sys.argv[3]))))
    else:
        main()
