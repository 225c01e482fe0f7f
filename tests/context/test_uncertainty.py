"""Uncertainty and sensitivity analysis: reproducible by seed, intervals containing the nominal rank."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tipsom.context.index import compute_index
from tipsom.context.spec import parse_spec
from tipsom.context.uncertainty import analyse, base_samples


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(5)
    n, m = 40, 9
    spec = parse_spec({
        "dimensions": [{"code": f"d{k}"} for k in range(3)],
        "indicators": [{"code": f"i{j}", "dimension": f"d{j % 3}", "category": f"c{j % 6}",
                        "direction": "negative" if j == 4 else "positive", "source": "simulated"}
                       for j in range(m)],
    }, "simulated")
    values = pd.DataFrame(rng.lognormal(size=(n, m)), index=[f"U{i:02d}" for i in range(n)],
                          columns=[f"i{j}" for j in range(m)])
    return compute_index(spec, values.mask(rng.random((n, m)) < 0.05))


def test_same_seed_same_analysis(result) -> None:  # type: ignore[no-untyped-def]
    first, second = analyse(result, 200, seed=11), analyse(result, 200, seed=11)
    pd.testing.assert_frame_equal(first.ranks, second.ranks)
    pd.testing.assert_frame_equal(first.sobol, second.sobol)
    other = analyse(result, 200, seed=12)
    assert not other.ranks.equals(first.ranks)


def test_rank_intervals_contain_the_nominal_rank(result) -> None:  # type: ignore[no-untyped-def]
    analysis = analyse(result, 300, seed=3)
    ranks = analysis.ranks.merge(result.table[["unit", "rank"]], on="unit", suffixes=("", "_index"))
    assert (ranks["rank"] == ranks["rank_index"]).all()
    assert ((ranks["rank_min"] <= ranks["rank"]) & (ranks["rank"] <= ranks["rank_max"])).all()
    assert ((ranks["rank_p05"] <= ranks["rank_median"]) & (ranks["rank_median"] <= ranks["rank_p95"])).all()
    assert (ranks["rank_max"] > ranks["rank_min"]).any()  # the choices do move ranks
    assert analysis.runs >= 300


def test_sobol_indices_cover_every_choice(result) -> None:  # type: ignore[no-untyped-def]
    sobol = analyse(result, 300, seed=3).sobol
    assert set(sobol["choice"]) == {"weights: d0", "weights: d1", "weights: d2", "outliers",
                                    "normalisation", "aggregation"}
    assert sobol["ST"].max() > 0


def test_run_count_rounds_up_to_a_power_of_two() -> None:
    assert base_samples(1000, 8) == 128
    assert base_samples(1, 8) == 2
