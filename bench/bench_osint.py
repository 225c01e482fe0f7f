"""OSINT benchmark: scan plus cluster throughput and F1, against TF-IDF + cosine.

Targets (issue 8): scan plus cluster of 1,000,000 generated ads end to end at
>= 2,000 ads/s on this machine (InfoShield reported ~140 documents/s on a
laptop); pairwise F1 >= 0.9 on generated data. Peer in the same run: a plain
TF-IDF + cosine near-duplicate clustering of a 50,000-ad subset.

Each measured step runs as a child process (``bench/common.py``), so its
wall time and peak memory are its own; its CPU seconds (the child and its
workers) are recorded too, because the machine is shared and wall time depends
on what else runs (the load average is recorded around every step). After the
100,000-ad run, the largest of 1,000,000 / 500,000 / 200,000 ads whose
projected time fits the bench budget is run as well; if none fits, that is
said. A per-stage CPU profile at 20,000 ads is stored beside the old one.
"""

from __future__ import annotations

import json
import os
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
#: Larger scales tried after the 100,000-ad run, largest first, if their projected time fits.
LARGER_SCALES = (1_000_000, 500_000, 200_000)
#: Wall-clock budget of the whole benchmark (seconds).
BUDGET = 15 * 60
PROFILE_SCALE = 20_000
MACHINE_GIB = 24
#: CPU seconds per stage at 20,000 ads (scan in one process) of the code before the throughput work
#: (commit adcff7e), measured with :func:`stages` on this machine on 2026-11-29, twice, mean.
STAGES_BEFORE = {"read": 0.26, "scan": 24.6, "link input": 1.25, "link": 2.56, "profile": 2.09, "write": 0.56,
                 "scan-out": 0.73}
#: The previous result (bench/results/osint.md before this change), for the comparison table.
PREVIOUS = "372 ads/s at 100,000 ads (load not recorded), peak RSS 2,009 MB; F1 0.9302 (precision 0.8696)"


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


def _load() -> float:
    return os.getloadavg()[0]


def _cpu_of_children() -> float:
    times = os.times()
    return times.children_user + times.children_system


def _tipsom(ads: Path, truth: Path) -> tuple[Measurement, dict[str, float]]:
    from tipsom.osint.evaluate import evaluate_files

    clusters = ads.with_suffix(".clusters.csv")
    load_before, cpu_before = _load(), _cpu_of_children()
    m = measure([sys.executable, "-m", "tipsom.cli.main", "osint", "cluster", str(ads), "-o", str(clusters),
                 "--scan-out", str(ads.with_suffix(".scan.jsonl")), "-q"])
    cpu = _cpu_of_children() - cpu_before
    if m.returncode != 0:
        raise RuntimeError(f"tipsom osint cluster failed on {ads}")
    scores = evaluate_files(clusters, truth)
    return m, {"precision": scores.precision, "recall": scores.recall, "f1": scores.f1,
               "merged": scores.merged_operations, "cpu": cpu, "load": (load_before + _load()) / 2}


def stages(ads_path: Path) -> dict[str, float]:
    """CPU seconds per stage, scanning in this one process so each stage's cost is attributable."""
    import tempfile

    from tipsom.osint.linkage import LinkInput, link
    from tipsom.osint.pipeline import (
        ScanOptions,
        load_ads,
        scan_all,
        write_clusters_csv,
        write_profiles_json,
        write_scans,
    )
    from tipsom.osint.profile import profile_clusters

    spent: dict[str, float] = {}
    clock = [time.process_time()]

    def lap(name: str) -> None:
        now = time.process_time()
        spent[name] = round(now - clock[0], 2)
        clock[0] = now

    out = Path(tempfile.mkdtemp(prefix="osint-stages-"))
    ads, _ = load_ads(ads_path)
    lap("read")
    scans, signatures = scan_all(ads, ScanOptions(workers=1))
    lap("scan")
    data = LinkInput.build(scans, signatures)
    lap("link input")
    clustering = link(data)
    lap("link")
    profiles = profile_clusters(clustering, scans, workers=1)
    lap("profile")
    write_clusters_csv(out / "clusters.csv", clustering)
    write_profiles_json(out / "clusters.json", profiles, {})
    lap("write")
    write_scans(out / "scan.jsonl", scans)
    lap("scan-out")
    return spent


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


def _row(name: str, n: int, m: Measurement, s: dict[str, float]) -> str:
    cpu = f"{s['cpu']:.0f}" if "cpu" in s else "–"
    load = f"{s['load']:.1f}" if "load" in s else "–"
    return (f"| {name} | {n:,} | {m.seconds:.1f} | {n / m.seconds:,.0f} | {cpu} | {load} | {m.peak_rss_mb:,.0f} | "
            f"{m.tree_peak_mb:,.0f} | {s['precision']:.4f} | {s['recall']:.4f} | {s['f1']:.4f} | {int(s['merged'])} |")


def main() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    load_start = _load()
    profile_ads, _ = _generate(PROFILE_SCALE)
    staged = measure([sys.executable, __file__, "stages", str(profile_ads)])
    if staged.returncode != 0:
        raise RuntimeError("stage profile failed")
    stage_cpu: dict[str, float] = json.loads(staged.stdout.strip().splitlines()[-1])
    peer_ads, peer_truth = _generate(PEER_SCALE)
    big_ads, big_truth = _generate(LARGEST_SCALE)
    ours_small, ours_small_scores = _tipsom(peer_ads, peer_truth)
    ours_big, ours_big_scores = _tipsom(big_ads, big_truth)
    peer_load = _load()
    peer = measure([sys.executable, __file__, "baseline", str(peer_ads), str(peer_truth)])
    if peer.returncode != 0:
        raise RuntimeError("baseline failed")
    peer_scores = json.loads(peer.stdout.strip().splitlines()[-1]) | {"load": (peer_load + _load()) / 2}

    rows = [("tipsom scan + cluster (DuckDB)", PEER_SCALE, ours_small, ours_small_scores),
            ("tipsom scan + cluster (DuckDB)", LARGEST_SCALE, ours_big, ours_big_scores)]
    rate_big = LARGEST_SCALE / ours_big.seconds
    # A larger scale runs only if generating and clustering it (at the 100k rate, +40%) fits the budget.
    remaining = BUDGET - (time.perf_counter() - started)
    larger = next((n for n in LARGER_SCALES if 1.4 * n / rate_big <= remaining), None)
    largest, largest_m, largest_scores = LARGEST_SCALE, ours_big, ours_big_scores
    if larger is not None:
        more_ads, more_truth = _generate(larger)
        largest_m, largest_scores = _tipsom(more_ads, more_truth)
        largest = larger
        rows.append(("tipsom scan + cluster (DuckDB)", larger, largest_m, largest_scores))
    rows.append((f"TF-IDF + cosine (best threshold {peer_scores['threshold']})", PEER_SCALE, peer, peer_scores))
    table = "\n".join(_row(*row) for row in rows)

    rate = largest / largest_m.seconds
    cpu_rate = largest / largest_scores["cpu"]
    projected_minutes = largest_m.seconds * TARGET_SCALE / largest / 60
    idle_minutes = largest_scores["cpu"] / 2 * TARGET_SCALE / largest / 60
    memory_at_target = largest_m.peak_rss_mb * TARGET_SCALE / largest / 1024
    fits = "within" if memory_at_target < MACHINE_GIB else "more than"
    f1_low = min(s["f1"] for _, _, _, s in rows[:-1])
    peer_rate = PEER_SCALE / peer.seconds
    if larger == TARGET_SCALE:
        scale_note = "1,000,000 ads measured"
    else:
        scale_note = (f"largest scale measured {largest:,} (1,000,000 would take about {projected_minutes:.0f} min "
                      f"at this load, beyond the {BUDGET // 60}-min bench budget; not run)")
    targets = "\n".join([
        f"| scan + cluster 1,000,000 ads at ≥ {TARGET_RATE:,.0f} ads/s | {rate:,.0f} ads/s wall at {largest:,} ads "
        f"(load {largest_scores['load']:.1f}); {cpu_rate:,.0f} ads per CPU-second, i.e. at most "
        f"{2 * cpu_rate:,.0f} ads/s on 2 idle cores; {scale_note} | {_status(rate >= TARGET_RATE)} |",
        f"| pairwise F1 ≥ {TARGET_F1} on generated data | "
        + "; ".join(f"{s['f1']:.4f} at {n:,}" for _, n, _, s in rows[:-1]) + f" | {_status(f1_low >= TARGET_F1)} |",
        f"| better than the TF-IDF + cosine peer on {PEER_SCALE:,} ads | F1 {ours_small_scores['f1']:.4f} vs "
        f"{peer_scores['f1']:.4f}; {PEER_SCALE / ours_small.seconds:,.0f} vs {peer_rate:,.0f} ads/s | "
        f"{_status(ours_small_scores['f1'] > peer_scores['f1'])} |",
    ])
    stage_rows = "\n".join(
        f"| {name} | {before:.2f} | {stage_cpu[name]:.2f} | {before / max(stage_cpu[name], 0.01):.1f}× |"
        for name, before in STAGES_BEFORE.items())
    before_total, after_total = sum(STAGES_BEFORE.values()), sum(stage_cpu.values())
    markdown = f"""## OSINT: scan, link and cluster generated ads (issue 8)

Generated with `tipsom synth ads --seed {SEED}` (organised operations with rotating phones, templates,
movement and two languages; look-alike independent posters). tipsom runs
`tipsom osint cluster FILE --scan-out ...` end to end in a child process: read, normalise, detect
language, extract identifiers, match indicators, MinHash LSH with exact verification, identifier graph,
connected components, profiles and templates, CSV and JSON written. The peer is a plain TF-IDF + cosine
clustering of raw text (scikit-learn, blocked sparse products, components above a cosine threshold,
best of {", ".join(map(str, BASELINE_THRESHOLDS))}) on the same {PEER_SCALE:,}-ad subset.

**The machine was shared**: other engineers' test suites, Spark sessions and benchmarks ran at the same
time (load average {load_start:.1f} at the start, {_load():.1f} at the end, on 2 cores), so wall times
are far above what the same code does alone. CPU seconds (the command and its worker processes) do not
depend on the load; "ads per CPU-second" × 2 bounds what 2 idle cores can do.

| system | ads | seconds | ads/s | CPU s | load | peak RSS MB | tree peak MB | precision | recall | F1 | merged ops |
|---|---|---|---|---|---|---|---|---|---|---|---|
{table}

| target | measured | status |
|---|---|---|
{targets}

Memory: the parent process peaked at {largest_m.peak_rss_mb:,.0f} MB at {largest:,} ads (the
process tree at {largest_m.tree_peak_mb:,.0f} MB, a sum that counts the pages the forked scan workers
share with the parent twice). Growth is linear in the number of ads (ads, scans and linkage tables are
held in memory), so 1,000,000 ads need about {memory_at_target:.0f} GB in the parent, {fits} this
machine's {MACHINE_GIB} GiB. On 2 idle cores the {largest:,}-ad CPU time projects 1,000,000 ads to
about {idle_minutes:.0f} min.

The stage table's "link input" and "link" at {PROFILE_SCALE:,} ads are dominated by one-off imports
(this environment sets `PYTHONDONTWRITEBYTECODE`, so ibis, sqlglot and scipy are compiled at every
start); at 100,000 ads the link stage went from 20.5 to 14.1 CPU seconds on the same linkage input.

Per-stage CPU seconds at {PROFILE_SCALE:,} ads, scanning in one process (`python bench/bench_osint.py
stages FILE`), before the throughput work (commit adcff7e) and now:

| stage | before | now | speed-up |
|---|---|---|---|
{stage_rows}
| total | {before_total:.1f} | {after_total:.1f} | {before_total / after_total:.1f}× |

Previous result of this benchmark: {PREVIOUS}. Precision at 100,000 ads rose because groups held
together by text alone must now share one template (see docs/osint.md, Linkage). InfoShield's
published figure (~140 documents/s on a laptop) is given in the issue for scale; it was not re-run
here. Generated data is easier than real ads (see docs/osint.md, Limits). Whole benchmark:
{(time.perf_counter() - started) / 60:.1f} min.
"""
    write_result("osint", markdown)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "baseline":
        print(json.dumps(baseline(Path(sys.argv[2]), Path(sys.argv[3]))))
    elif len(sys.argv) == 3 and sys.argv[1] == "stages":
        print(json.dumps(stages(Path(sys.argv[2]))))
    else:
        main()
