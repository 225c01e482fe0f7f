"""Benchmark: vulnerability index plus a 1,000-run uncertainty analysis, 250 units x 30 indicators.

Target (issue 9): under 30 s on the reference machine, against a naive pandas
loop measured in the same run. tipsom is measured end to end through the CLI
(`tipsom context index`, which also writes the tables, the map and the report);
the baseline recomputes the same Monte Carlo runs with pandas, one run and one
indicator at a time, as an analyst's first script would, and writes only the
ranks; it is measured on its first ``NAIVE_RUNS`` runs and extrapolated. Both
must give the same nominal ranking.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import measure, python_cmd, write_result  # noqa: E402  (bench/ is not a package)

UNITS, INDICATORS, DIMENSIONS, RUNS, SEED = 250, 30, 5, 1000, 11
#: Runs the naive loop actually computes (it is extrapolated linearly to the full count: it costs the
#: same for every run, and all runs would take many minutes on a loaded 2-core machine).
NAIVE_RUNS = 65
TARGET_SECONDS = 30.0


def make_inputs(folder: Path) -> Path:
    """A seeded synthetic data set (lognormal, 3% missing) and its index configuration."""
    rng = np.random.default_rng(SEED)
    values = pd.DataFrame(rng.lognormal(0.0, 1.0, (UNITS, INDICATORS)),
                          index=[f"U{i:03d}" for i in range(UNITS)],
                          columns=[f"i{j:02d}" for j in range(INDICATORS)])
    values = values.mask(rng.random(values.shape) < 0.03)
    values.index.name = "unit"
    values.to_csv(folder / "values.csv")
    config = {
        "name": "Benchmark index", "year": 2024, "data": "values.csv",
        "uncertainty": {"runs": RUNS, "seed": SEED, "weight_spread": 0.25},
        "dimensions": [{"code": f"d{k}"} for k in range(DIMENSIONS)],
        "indicators": [{"code": f"i{j:02d}", "dimension": f"d{j % DIMENSIONS}", "category": f"c{j % 10}",
                        "direction": "negative" if j % 4 == 0 else "positive", "source": "synthetic"}
                       for j in range(INDICATORS)],
    }
    path = folder / "index.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def naive(config_path: Path, out: Path, limit: int) -> None:
    """The baseline: the same choices and sample, recomputed with pandas, run by run (first ``limit``)."""
    from SALib.sample import sobol

    from tipsom.context.index import skew_kurtosis
    from tipsom.context.spec import load_spec
    from tipsom.context.uncertainty import SWITCHES, base_samples

    spec = load_spec(config_path)
    assert spec.data is not None
    data = pd.read_csv(spec.data, index_col="unit")
    meta = pd.DataFrame([i.__dict__ for i in spec.indicators]).set_index("code")

    def treated(column: pd.Series) -> pd.Series:
        x = column.dropna().to_numpy()
        sk = skew_kurtosis(x)
        if sk is None or not (abs(sk[0]) > 2 and sk[1] > 3.5):
            return column
        out = column.copy()
        for _ in range(spec.outliers.winsorise_max):
            order = out.dropna().sort_values()
            if skew_kurtosis(order.to_numpy())[0] >= 0:  # type: ignore[index]
                out[order.index[-1]] = order.iloc[-2]
            else:
                out[order.index[0]] = order.iloc[1]
            sk = skew_kurtosis(out.dropna().to_numpy())
            if sk is not None and not (abs(sk[0]) > 2 and sk[1] > 3.5):
                return out
        if skew_kurtosis(x)[0] < 0:  # type: ignore[index]
            return -np.log(column.max() - column + 1)
        return np.log(column - column.min() + 1)

    def score(row: np.ndarray) -> pd.Series:
        m, d = len(meta), len(spec.dimensions)
        ind_w = meta["weight"] * row[:m]
        dim_w = pd.Series([x.weight for x in spec.dimensions], index=[x.code for x in spec.dimensions])
        dim_w = dim_w * row[m:m + d]
        frame = pd.DataFrame(index=data.index)
        for code in meta.index:
            col = treated(data[code]) if row[m + d] < 0.5 else data[code]
            if row[m + d + 1] < 0.5:
                norm = 10 * (col - col.min()) / (col.max() - col.min())
            else:
                norm = 10 * (col.rank(method="average") - 1) / (col.notna().sum() - 1)
            frame[code] = 10 - norm if meta.loc[code, "direction"] == "negative" else norm
        cats = {}
        for cat, group in meta.groupby("category"):
            w = ind_w[group.index]
            present = frame[group.index].notna()
            cats[cat] = (frame[group.index].fillna(0) * w).sum(axis=1) / (present * w).sum(axis=1)
        dims = {}
        for dim, group in meta.groupby("dimension"):
            dims[dim] = pd.DataFrame({c: cats[c] for c in group["category"].unique()}).mean(axis=1)
        dims_frame = pd.DataFrame(dims)[dim_w.index]
        share = dim_w / dim_w.sum()
        if row[m + d + 2] < 0.5:
            return np.exp((np.log(dims_frame) * share).sum(axis=1, min_count=len(share)))
        return (dims_frame * share).sum(axis=1, min_count=len(share))

    groups = [f"g{i}" for i in range(len(meta) + len(spec.dimensions))]
    problem = {"num_vars": len(groups) + len(SWITCHES), "names": groups + list(SWITCHES),
               "groups": [f"weights: {meta.loc[c, 'dimension']}" for c in meta.index]
               + [f"weights: {d.code}" for d in spec.dimensions] + list(SWITCHES),
               "bounds": [[0.75, 1.25]] * len(groups) + [[0.0, 1.0]] * len(SWITCHES)}
    n_groups = len(set(problem["groups"]))
    sample = sobol.sample(problem, base_samples(spec.uncertainty.runs, n_groups), calc_second_order=False,
                          seed=spec.uncertainty.seed)
    nominal = np.concatenate([np.ones(len(groups)), np.zeros(len(SWITCHES))])
    ranks = [score(row).rank(ascending=False, method="min") for row in np.vstack([nominal, sample])[:limit]]
    pd.DataFrame({"unit": data.index, "rank": ranks[0].to_numpy(),
                  "rank_min": pd.concat(ranks, axis=1).min(axis=1).to_numpy()}).to_csv(out, index=False)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = make_inputs(folder)
        env = {"TIPSOM_HOME": str(folder / "home")}
        core = measure(python_cmd(
            "from pathlib import Path; from tipsom.context.spec import load_spec; "
            "from tipsom.context.assemble import read_values_csv; "
            "from tipsom.context.index import compute_index; from tipsom.context.uncertainty import analyse; "
            f"spec = load_spec(Path({str(config)!r})); assert spec.data is not None; "
            "result = compute_index(spec, read_values_csv(spec.data, spec)); "
            f"print(analyse(result, {RUNS}, {SEED}).runs)"
        ), env=env)
        tipsom = measure([sys.executable, "-m", "tipsom.cli.main", "context", "index", "--config", str(config),
                          "--runs", str(RUNS), "--seed", str(SEED), "-o", str(folder / "out"), "-q"], env=env)
        baseline = measure(python_cmd(
            f"import sys; sys.path.insert(0, {str(HERE)!r}); from pathlib import Path; "
            f"from bench_context import naive; "
            f"naive(Path({str(config)!r}), Path({str(folder / 'naive.csv')!r}), {NAIVE_RUNS})"
        ), env=env)
        if core.returncode or tipsom.returncode or baseline.returncode:
            raise RuntimeError(f"a run failed: library {core.returncode}, CLI {tipsom.returncode}, "
                               f"baseline {baseline.returncode}")
        ours = pd.read_csv(folder / "out" / "index.csv").set_index("unit")
        theirs = pd.read_csv(folder / "naive.csv").set_index("unit")
        groups = len(pd.read_csv(folder / "out" / "sobol.csv"))
        same = bool((ours.loc[theirs.index, "rank"].fillna(-1) == theirs["rank"].fillna(-1)).all())
    from tipsom.context.uncertainty import base_samples

    done = base_samples(RUNS, groups) * (groups + 2) + 1
    naive_full = baseline.seconds * done / NAIVE_RUNS
    load = os.getloadavg()[0]
    machine_note = (": other jobs shared the machine, so both wall times are longer than on an idle one"
                    if load > (os.cpu_count() or 1) else "")
    core_label = "tipsom library: index plus uncertainty analysis (child process, imports included)"
    ours_label = "tipsom `tipsom context index` (CLI end to end: index, analysis, CSVs, map, HTML report)"
    naive_label = "naive pandas loop, same sample (ranks only, no report)"
    verdict = "met" if core.seconds < TARGET_SECONDS else "NOT met"
    cli_verdict = "met" if tipsom.seconds < TARGET_SECONDS else "NOT met"
    write_result("context", f"""## Context: vulnerability index with uncertainty analysis (issue 9)

{UNITS} units x {INDICATORS} indicators in {DIMENSIONS} dimensions (seeded synthetic data, 3% missing),
nominal index plus a Monte Carlo / Sobol analysis asked for {RUNS:,} runs; {done:,} were run (the Saltelli
base sample is rounded up to a power of two, plus the nominal run), over {groups} groups of choices.

| what | wall time | peak memory |
|---|---|---|
| {core_label} | {core.seconds:.1f} s | {core.peak_rss_mb:.0f} MB |
| {ours_label} | {tipsom.seconds:.1f} s | {tipsom.peak_rss_mb:.0f} MB |
| {naive_label}: {NAIVE_RUNS} runs measured | {baseline.seconds:.1f} s | {baseline.peak_rss_mb:.0f} MB |
| the same, extrapolated to {done:,} runs | about {naive_full:.0f} s | |

- Target: index plus 1,000-run uncertainty analysis under {TARGET_SECONDS:.0f} s: **{verdict}**
  ({core.seconds:.1f} s; about {naive_full / core.seconds:.0f}x faster than the naive loop, which computes
  the same thing).
- The whole command, which also draws the map and charts and writes the report, against the same
  {TARGET_SECONDS:.0f} s: **{cli_verdict}** ({tipsom.seconds:.1f} s).
- Same nominal ranking as the naive loop: {'yes' if same else 'NO'}.
- 1-minute load average {load:.1f} on {os.cpu_count()} cores{machine_note}.
""")
    print(f"library {core.seconds:.1f}s, CLI {tipsom.seconds:.1f}s, naive {baseline.seconds:.1f}s, same ranks: {same}")


if __name__ == "__main__":
    main()
