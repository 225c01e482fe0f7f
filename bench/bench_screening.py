"""Benchmark: screen 1,000,000 synthetic cases with rules compiled once (target: under 60 s).

Steps, each in its own process (``bench/common.measure``):

1. build, once: generate the cases with ``CaseGenerator`` and store them as a
   columnar batch (parquet under ``bench/work``, gitignored);
2. tipsom: load the batch, compile the rule sets, screen every person in
   vectorised passes (one per rule set: international, EU, GBR), count alerts;
3. baseline (per-case interpretation): screen cases one at a time, each as its
   own one-case batch through ``screen_document`` (what a naive loop over
   the save hook would do), on a sample, extrapolated to the full scale.

``TIPSOM_BENCH_SCREENING_N`` changes the scale (for a quick trial).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# bench/ is not a package: common.py is found through the path set above.
from common import ROOT, measure, python_cmd, write_result

N = int(os.environ.get("TIPSOM_BENCH_SCREENING_N", "1000000"))
SAMPLE = min(N, 500)
SEED = 2024
WORK = ROOT / "bench" / "work" / f"screening_{N}"
TARGET_S = 60.0

BUILD = f"""
import json, time
from pathlib import Path
from tipsom.screening.batch import batch_from_documents
from tipsom.screening.engine import Screener
from tipsom.synth.cases import CaseGenerator
work = Path({str(WORK)!r}); work.mkdir(parents=True, exist_ok=True)
t = time.perf_counter()
docs = list(CaseGenerator({SEED}).cases({N}))
gen = time.perf_counter() - t
t = time.perf_counter()
batch = batch_from_documents(docs, Screener().columns)
flat = time.perf_counter() - t
batch.frame.to_parquet(work / "persons.parquet")
for name, child in batch.children.items():
    child.to_parquet(work / f"{{name}}.parquet")
print(json.dumps({{"generate_s": gen, "columnar_s": flat, "persons": batch.n}}))
"""

SCREEN = f"""
import json, time
from pathlib import Path
import pandas as pd
from tipsom.screening.batch import Batch
from tipsom.screening.engine import Screener, alert_counts
work = Path({str(WORK)!r})
t = time.perf_counter()
frame = pd.read_parquet(work / "persons.parquet")
children = {{p.stem: pd.read_parquet(p) for p in work.glob("*.parquet") if p.stem != "persons"}}
batch = Batch(frame, children)
load = time.perf_counter() - t
t = time.perf_counter()
screener = Screener()
matrix = screener.code_matrix(batch)
screen = time.perf_counter() - t
print(json.dumps({{"load_s": load, "screen_s": screen, "persons": batch.n,
                  "cases": int(frame["case_id"].nunique()), "alerts": alert_counts(matrix)}}))
"""

BASELINE = f"""
import json, time
from tipsom.screening import screen_document
from tipsom.synth.cases import CaseGenerator
docs = list(CaseGenerator({SEED}).cases({SAMPLE}))
screen_document(docs[0], validate=False)  # compile outside the timing, as tipsom's run does not time it either
t = time.perf_counter()
for doc in docs:
    screen_document(doc, validate=False)
print(json.dumps({{"seconds": time.perf_counter() - t, "cases": len(docs)}}))
"""


def main() -> None:
    if not (WORK / "persons.parquet").exists():
        built = measure(python_cmd(BUILD), cwd=ROOT)
        if built.returncode != 0:
            raise RuntimeError("building the synthetic batch failed")
        build = json.loads(built.stdout)
        build_line = (f"Built once: generating {N:,} cases took {build['generate_s']:.0f} s and turning them "
                      f"into a columnar batch of {build['persons']:,} persons {build['columnar_s']:.0f} s "
                      f"(peak {built.peak_rss_mb:,.0f} MB); stored under `bench/work`.")
    else:
        build_line = "The columnar batch was built in an earlier run and reused from `bench/work`."
    run = measure(python_cmd(SCREEN), cwd=ROOT)
    if run.returncode != 0:
        raise RuntimeError("screening failed")
    res = json.loads(run.stdout)
    base_run = measure(python_cmd(BASELINE), cwd=ROOT)
    if base_run.returncode != 0:
        raise RuntimeError("baseline failed")
    base = json.loads(base_run.stdout)
    per_case = base["seconds"] / base["cases"]
    extrapolated = per_case * N
    met = "met" if run.seconds < TARGET_S else "NOT met"
    alerts = "\n".join(f"| {code} | {n:,} |" for code, n in res["alerts"].items())
    write_result("screening", f"""## Screening (issue 5)

Screen {N:,} synthetic cases ({res['persons']:,} persons; `CaseGenerator` seed {SEED}) against the
international rules and the EU and GBR layers, with rules compiled once and evaluated over a columnar batch.
{build_line}

| step | wall time | peak RSS |
|---|---|---|
| tipsom, whole process (load batch, compile, screen, count) | {run.seconds:.1f} s | {run.peak_rss_mb:,.0f} MB |
| of which loading the columnar batch | {res['load_s']:.1f} s | |
| of which compiling and screening | {res['screen_s']:.1f} s | |
| baseline: one case at a time through `screen_document` ({base['cases']:,} cases) | {base['seconds']:.1f} s \
| {base_run.peak_rss_mb:,.0f} MB |
| baseline extrapolated to {N:,} cases | {extrapolated:,.0f} s ({per_case * 1000:.1f} ms per case) | |

Target: screen {N:,} cases in under {TARGET_S:.0f} s with rules compiled once: **{met}** ({run.seconds:.1f} s
for the whole process). The compiled, vectorised pass is about {extrapolated / max(res['screen_s'], 1e-9):,.0f} times
faster than screening case by case. The per-case baseline also derives indicators for each case, which the
bulk pass does not; the bulk pass counts alerts and does not build explanations.

| alert | persons |
|---|---|
{alerts}
""")


if __name__ == "__main__":
    main()
