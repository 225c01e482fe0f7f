"""Temporal cycles: the numpy search against brute force and against the Ibis (Spark) expression."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest

from tipsom.core.engines import Engine, connect
from tipsom.core.errors import ConfigError
from tipsom.money.config import ScanConfig, read_config
from tipsom.money.cycles import cycle_evidence, find_cycles, temporal_cycles
from tipsom.money.model import AmountRule, Typology
from tipsom.money.scan import SCAN_COLUMNS, cached_table
from tipsom.money.typologies import SPECS, ScanInputs, summarise

HOUR = 3600


def _arrays(edges: list[tuple[int, int, int, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    src, dst, t, amount = zip(*edges, strict=True)
    return (
        np.array(src, np.int64),
        np.array(dst, np.int64),
        np.array(t, np.int64),
        np.array(amount, np.float64),
    )


def _found(edges: list[tuple[int, int, int, float]], **kwargs: object) -> set[frozenset[int]]:
    cycles = temporal_cycles(*_arrays(edges), **kwargs)  # type: ignore[arg-type]
    return {frozenset(int(p) for p in row if p >= 0) for row in cycles.payments}


def _brute_force(
    edges: list[tuple[int, int, int, float]], max_length: int, window: int, ratio: tuple[float, float] | None
) -> set[frozenset[int]]:
    """Every ordered choice of 2..max_length payments, checked against the definition directly."""
    out = set()
    for k in range(2, max_length + 1):
        for combo in itertools.permutations(range(len(edges)), k):
            pays = [edges[i] for i in combo]
            times = [p[2] for p in pays]
            chained = all(a[1] == b[0] for a, b in itertools.pairwise(pays)) and pays[-1][1] == pays[0][0]
            simple = len({p[0] for p in pays}) == k
            in_time = all(a < b for a, b in itertools.pairwise(times)) and times[-1] - times[0] <= window
            similar = ratio is None or all(
                b[3] >= a[3] * ratio[0] and b[3] <= a[3] * ratio[1] for a, b in itertools.pairwise(pays)
            )
            if chained and simple and in_time and similar:
                out.add(frozenset(combo))
    return out


def test_the_definition_on_hand_made_cycles() -> None:
    three = [(1, 2, 1, 100.0), (2, 3, 2, 95.0), (3, 1, 3, 90.0)]
    assert _found(three, max_length=5, window=10) == {frozenset({0, 1, 2})}
    # equal times do not make an order, and time must increase around the cycle
    assert _found([(1, 2, 1, 1.0), (2, 1, 1, 1.0)], max_length=5, window=10) == set()
    assert _found([(1, 2, 3, 1.0), (2, 3, 2, 1.0), (3, 1, 1, 1.0)], max_length=5, window=10) == set()
    # the window bounds last minus first payment, inclusive
    assert _found([(1, 2, 0, 1.0), (2, 3, 5, 1.0), (3, 1, 10, 1.0)], max_length=5, window=10)
    assert not _found([(1, 2, 0, 1.0), (2, 3, 5, 1.0), (3, 1, 11, 1.0)], max_length=5, window=10)
    # too long, and a revisit of an account is not a simple cycle
    six = [(i, i + 1, i, 1.0) for i in range(1, 6)] + [(6, 1, 6, 1.0)]
    assert _found(six, max_length=5, window=10) == set()
    assert _found(six, max_length=6, window=10) == {frozenset(range(6))}
    figure_eight = [(1, 2, 1, 1.0), (2, 1, 2, 1.0), (1, 3, 3, 1.0), (3, 1, 4, 1.0)]
    assert _found(figure_eight, max_length=5, window=10) == {frozenset({0, 1}), frozenset({2, 3})}
    # amounts: a hop carrying half the money is not the same money moving on
    halves = [(1, 2, 1, 100.0), (2, 1, 2, 50.0)]
    assert _found(halves, max_length=5, window=10, hop_ratio=(0.7, 1.05)) == set()
    assert _found(halves, max_length=5, window=10) == {frozenset({0, 1})}
    # only a cycle's first payment must reach the minimum amount
    assert _found(three, max_length=5, window=10, min_amount=100.0)
    assert not _found(three, max_length=5, window=10, min_amount=101.0)


@pytest.mark.parametrize("seed", range(6))
def test_random_graphs_match_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_edges = 18
    edges = [
        (int(a), int(b), int(t), float(m))
        for a, b, t, m in zip(
            rng.integers(0, 5, n_edges),
            rng.integers(0, 5, n_edges),
            rng.integers(0, 12, n_edges),
            rng.choice([90.0, 100.0, 104.0, 200.0], n_edges),
            strict=True,
        )
    ]
    for ratio in (None, (0.7, 1.05)):
        expected = _brute_force(edges, 4, 6, ratio)
        assert _found(edges, max_length=4, window=6, hop_ratio=ratio) == expected


def _relational(tx: pd.DataFrame, cfg: ScanConfig) -> pd.DataFrame:
    con = connect(Engine.DUCKDB)
    with cached_table(con, tx[list(SCAN_COLUMNS)]) as table:
        return con.to_pandas(summarise(SPECS[Typology.CYCLE].detector(ScanInputs(table, cfg))))


def _vectorised(tx: pd.DataFrame, cfg: ScanConfig) -> pd.DataFrame:
    return ibis.duckdb.connect().to_pandas(summarise(ibis.memtable(cycle_evidence(tx, cfg))))


def _canonical(frame: pd.DataFrame) -> list[tuple[object, ...]]:
    return sorted(
        (r.account, int(r.metric), tuple(r.tx_ids), tuple(r.cps), round(float(r.amount), 2))
        for r in frame.itertuples(index=False)
    )


@pytest.mark.parametrize(("amounts", "minimum"), [(AmountRule.SIMILAR, 1_000.0), (AmountRule.ANY, 0.0)])
def test_numpy_search_equals_the_ibis_expression(synth_tx: pd.DataFrame, amounts: AmountRule, minimum: float) -> None:
    cfg = replace(ScanConfig(), cycle_amounts=amounts, cycle_min_amount=minimum, cycle_max_length=4)
    vectorised = _canonical(_vectorised(synth_tx, cfg))
    assert vectorised, "no cycles: the comparison would prove nothing"
    assert vectorised == _canonical(_relational(synth_tx, cfg))


def test_similar_amount_cycles_are_among_the_any_amount_ones(synth_tx: pd.DataFrame) -> None:
    def cycles(rule: AmountRule) -> set[frozenset[int]]:
        found = find_cycles(synth_tx, replace(ScanConfig(), cycle_amounts=rule, cycle_min_amount=0.0))
        return {frozenset(int(p) for p in row if p >= 0) for row in found.payments}

    similar = cycles(AmountRule.SIMILAR)
    assert similar
    assert similar < cycles(AmountRule.ANY)


def test_cycle_amount_rule_is_read_from_settings(tmp_path: Path) -> None:
    path = tmp_path / "cfg.yaml"
    path.write_text("cycle_amounts: any\ncycle_window_hours: 240\n", encoding="utf-8")
    cfg = read_config(path)
    assert cfg.cycle_amounts is AmountRule.ANY
    assert cfg.cycle_window_hours == 240
    path.write_text("cycle_amounts: some\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"cfg.yaml: cycle_amounts: Input should be 'similar' or 'any' "
                                          r"\(got 'some'\)"):
        read_config(path)
