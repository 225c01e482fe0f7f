"""Model averaging over decomposable graphs: coverage on populations of known size, refusals, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tipsom.cli.main import app
from tipsom.estimate.dga import DgaError, PriorN, decomposable_graphs, dga
from tipsom.estimate.simulate import simulate
from tipsom.estimate.table import CaptureTable, CaptureTableError, read_table

runner = CliRunner()
POPULATION = 2000


def test_graph_counts_match_the_known_numbers_of_decomposable_graphs() -> None:
    # labelled chordal graphs on 3, 4 and 5 vertices (OEIS A058862)
    assert [len(decomposable_graphs(n)) for n in (3, 4, 5)] == [8, 61, 822]


def _heterogeneous(sim: int) -> CaptureTable:
    """Four lists; each population gets its own one or two dependent pairs, positive (referrals) or negative."""
    rng = np.random.default_rng(1000 + sim)
    capture = rng.uniform(0.1, 0.3, size=4)
    pairs = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    chosen = rng.choice(len(pairs), size=int(rng.integers(1, 3)), replace=False)
    effects = {pairs[int(k)]: float(rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 1.2)) for k in chosen}
    return simulate(POPULATION, capture, effects, seed=sim)


def test_interval_covers_the_true_population_in_at_least_17_of_20() -> None:
    covered = 0
    for sim in range(20):
        post = dga(_heterogeneous(sim))
        covered += post.interval.low <= POPULATION <= post.interval.high
    assert covered >= 17, f"covered {covered} of 20"


def test_three_lists_sharing_no_one_are_refused() -> None:
    table = CaptureTable.from_histories(("A", "B", "C"), [((1, 0, 0), 300), ((0, 1, 0), 400), ((0, 0, 1), 254)])
    with pytest.raises(CaptureTableError, match="no one is on more than one list"):
        dga(table)


def test_limits_on_the_number_of_lists(reference: Path) -> None:
    with pytest.raises(CaptureTableError, match=r"at most 5"):
        dga(read_table(reference / "mse" / "UKdat.csv"))
    with pytest.raises(DgaError, match="at least 3 lists"):
        dga(CaptureTable.from_histories(("A", "B"), [((1, 0), 30), ((0, 1), 20), ((1, 1), 5)]))


def test_ukdat5_sits_with_the_other_methods(reference: Path) -> None:
    """Stepwise 11,313 and BIC-order-3 25,311 bracket the model-averaged posterior; its top graph carries weight."""
    table = read_table(reference / "mse" / "UKdat_5.csv")
    post = dga(table)
    assert 11_313 < post.total < 25_311
    assert post.interval.low > table.observed
    assert abs(sum(float(p) for p in post.probabilities) - 1.0) < 1e-9
    assert 0 < post.models[0].probability < 1
    flat = dga(table, prior_n=PriorN.UNIFORM)
    assert flat.total > post.total  # a flat prior on N puts more weight on large totals than 1/N


def test_cli_json_and_bad_options(reference: Path) -> None:
    path = str(reference / "mse" / "UKdat_5.csv")
    res = runner.invoke(app, ["estimate", "dga", path, "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["selection"] == "dga"
    assert out["models_averaged"] == 822
    assert out["interval"]["low"] <= out["estimate"] <= out["interval"]["high"]
    for option in (["--prior-n", "magic"], ["--prior-delta", "nan"], ["--prior-delta", "-1"]):
        bad = runner.invoke(app, ["estimate", "dga", path, *option])
        assert bad.exit_code == 2, (option, bad.output)
        assert len(bad.stderr.strip().splitlines()) == 1
