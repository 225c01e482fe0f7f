"""Tracing on hand-made graphs: exact paths, time order, window and attribution rules."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.money.conftest import write_native
from tipsom.cli.main import app
from tipsom.money.model import Attribution, Direction, InputFormat, MoneyInputError
from tipsom.money.readers import load_transactions
from tipsom.money.trace import TraceResult, trace


def _graph(tmp_path: Path, edges: list[tuple[str, str, float, float]]) -> Path:
    """Edges (from, to, hour, amount) on 2024-01-01, in USD."""
    start = pd.Timestamp("2024-01-01T00:00:00Z")
    return write_native(
        tmp_path / "graph.csv",
        [
            {
                "timestamp": (start + pd.Timedelta(hours=h)).isoformat(),
                "from_account": a,
                "to_account": b,
                "amount": f"{amount:.2f}",
                "currency": "USD",
            }
            for a, b, h, amount in edges
        ],
    )


def _paths(result: TraceResult) -> set[tuple[tuple[str, ...], float]]:
    return {(p.accounts, round(p.amount, 2)) for p in result.paths}


@pytest.fixture
def graph(tmp_path: Path) -> pd.DataFrame:
    path = _graph(
        tmp_path,
        [
            ("B", "X", 0.5, 30),  # before the money from A arrived: not part of its trail
            ("A", "B", 1, 100),
            ("B", "C", 2, 60),
            ("B", "D", 3, 40),
            ("C", "E", 4, 60),
            ("D", "E", 100, 40),  # 97 h after B->D: outside a 72 h window
        ],
    )
    return load_transactions(path, InputFormat.NATIVE).transactions


def test_forward_trace_returns_exactly_the_time_respecting_paths(graph: pd.DataFrame) -> None:
    result = trace(graph, "A", direction=Direction.FORWARD, hops=3, window_hours=72)
    assert _paths(result) == {(("A", "B", "C", "E"), 60.0), (("A", "B", "D"), 40.0)}
    for path in result.paths:
        times = [h.tx.t for h in path.hops]
        assert times == sorted(times)
        assert len(set(times)) == len(times)
    assert result.reached == {"B": 100.0, "C": 60.0, "E": 60.0, "D": 40.0}


def test_a_longer_window_and_fewer_hops_change_the_paths(graph: pd.DataFrame) -> None:
    wide = trace(graph, "A", direction=Direction.FORWARD, hops=3, window_hours=100)
    assert _paths(wide) == {(("A", "B", "C", "E"), 60.0), (("A", "B", "D", "E"), 40.0)}
    short = trace(graph, "A", direction=Direction.FORWARD, hops=2, window_hours=72)
    assert _paths(short) == {(("A", "B", "C"), 60.0), (("A", "B", "D"), 40.0)}


def test_backward_trace_finds_where_the_money_came_from(graph: pd.DataFrame) -> None:
    result = trace(graph, "E", direction=Direction.BACKWARD, hops=3, window_hours=72)
    assert _paths(result) == {(("A", "B", "C", "E"), 60.0), (("D", "E"), 40.0)}


def test_fifo_and_proportional_attribution_differ_as_documented(tmp_path: Path) -> None:
    tx = load_transactions(
        _graph(
            tmp_path,
            [
                ("A", "B", 1, 100),
                ("Y", "B", 1.5, 100),
                ("B", "C", 2, 100),
                ("B", "D", 3, 40),
            ],
        ),
        InputFormat.NATIVE,
    ).transactions
    fifo = trace(tx, "A", direction=Direction.FORWARD, attribution=Attribution.FIFO)
    assert _paths(fifo) == {(("A", "B", "C"), 100.0)}  # oldest money leaves first
    proportional = trace(tx, "A", direction=Direction.FORWARD, attribution=Attribution.PROPORTIONAL)
    assert _paths(proportional) == {(("A", "B", "C"), 50.0), (("A", "B", "D"), 20.0)}


def test_unknown_account_is_a_clear_error(graph: pd.DataFrame) -> None:
    with pytest.raises(MoneyInputError, match="has no outgoing payments"):
        trace(graph, "nobody")


def test_trace_command_prints_paths_and_writes_hops(tmp_path: Path, graph: pd.DataFrame) -> None:
    source = tmp_path / "graph.csv"
    out = tmp_path / "hops.csv"
    result = CliRunner().invoke(
        app,
        [
            "money",
            "trace",
            "A",
            "--in",
            str(source),
            "--hops",
            "3",
            "--window",
            "72",
            "--direction",
            "forward",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "A -> B -> C -> E  traced 60.00" in result.output
    hops = pd.read_csv(out)
    assert len(hops) == 5
    assert set(hops["path"]) == {1, 2}
