"""Registry benchmark: import 1,000,000 synthetic cases; compare with a naive importer.

Target (issue 2): under 60 s with peak RSS under 1.5 GB, and at least 10 times
the throughput of a naive baseline (pandas read plus one ORM insert per row),
measured in the same run. The naive importer is measured on the first 20,000
rows of the same file, because at its speed the full file would take hours;
throughputs (rows per second) are compared.
"""

from __future__ import annotations

import json
import os
import shutil
import sys

from common import ROOT, Measurement, measure, write_result

WORK = ROOT / "bench" / "work" / "registry"
N_CASES = 1_000_000
NAIVE_ROWS = 20_000
TIPSOM = [sys.executable, "-m", "tipsom.cli.main"]


def _fresh_home(name: str) -> dict[str, str]:
    home = WORK / name
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    env = {"TIPSOM_HOME": str(home)}
    measure([*TIPSOM, "init"], env=env)
    return env


def _row(label: str, rows: int, m: Measurement) -> str:
    return (f"| {label} | {rows:,} | {m.seconds:,.1f} | {rows / m.seconds:,.0f} | {m.peak_rss_mb:,.0f} MB "
            f"| {m.tree_peak_mb:,.0f} MB |")


def main() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    src = WORK / f"cases-{N_CASES}.csv"
    if not src.exists():
        gen = measure([*TIPSOM, "synth", "cases", "--n", str(N_CASES), "--seed", "2026", "-o", str(src), "-q"])
        assert gen.returncode == 0, "synthesis failed"
    with src.open(encoding="utf-8") as fh:
        rows = sum(1 for _ in fh) - 1

    env = _fresh_home("tipsom")
    load_start = os.getloadavg()
    run = measure([*TIPSOM, "import", "cases", str(src), "-q"], env=env)
    assert run.returncode == 0, "import failed"
    report = json.loads(run.stdout)
    counts = json.loads(measure([*TIPSOM, "stats", "--json"], env=env).stdout)
    assert counts["cases"] == N_CASES, counts

    env_naive = _fresh_home("naive")
    naive = measure([sys.executable, str(ROOT / "bench" / "naive_import.py"), str(src), str(NAIVE_ROWS)],
                    env=env_naive)
    assert naive.returncode == 0, "naive import failed"
    load_end = os.getloadavg()

    ours_rps = rows / run.seconds
    naive_rps = NAIVE_ROWS / naive.seconds
    speedup = ours_rps / naive_rps
    met_time = run.seconds < 60
    met_mem = run.tree_peak_mb < 1536
    met_speed = speedup >= 10
    write_result("registry", f"""## Case registry import (issue 2)

Input: {N_CASES:,} synthetic cases ({rows:,} person rows, native CSV, {src.stat().st_size / 1e6:,.0f} MB),
imported with `tipsom import cases` into a fresh SQLite store (all-or-nothing transaction, personal
fields encrypted, pseudonyms and keyed hashes computed, route legs, identifications and charges written).

| | rows | seconds | rows/s | peak RSS (largest process) | peak RSS (process tree) |
|---|---:|---:|---:|---:|---:|
{_row("tipsom import", rows, run)}
{_row("naive baseline (pandas + one ORM insert per row)", NAIVE_ROWS, naive)}

Stored: {report['cases_created']:,} cases, {report['persons_created']:,} persons.

| target | measured | |
|---|---|---|
| 1,000,000 cases in under 60 s | {run.seconds:,.1f} s | {'met' if met_time else '**NOT met**'} |
| peak RSS under 1.5 GB | {run.tree_peak_mb:,.0f} MB (process tree) | {'met' if met_mem else '**NOT met**'} |
| at least 10x the naive baseline's throughput | {speedup:,.1f}x | {'met' if met_speed else '**NOT met**'} |

The naive baseline ran on the first {NAIVE_ROWS:,} rows of the same file (it writes only cases and persons);
its throughput is compared, not its total time.

Load average (1, 5, 15 min) before the import: {_load(load_start)}; after the baseline: {_load(load_end)}.
On this 2-core machine a load above 2 means other jobs shared the cores, so times are upper bounds.
""")


def _load(avg: tuple[float, float, float]) -> str:
    return ", ".join(f"{x:.2f}" for x in avg)


if __name__ == "__main__":
    main()
