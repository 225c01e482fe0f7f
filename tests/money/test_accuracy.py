"""Accuracy on planted patterns, and non-regression on IBM's AMLSim fan-in sample."""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.engines import over_engines
from tipsom.cli.main import app
from tipsom.core.engines import Engine
from tipsom.money.config import AMLSIM_FAN_IN
from tipsom.money.evaluate import evaluate, read_truth
from tipsom.money.model import Finding, InputFormat, Typology
from tipsom.money.readers import load_transactions
from tipsom.money.scan import scan, write_findings_csv
from tipsom.synth.transactions import SynthFiles

#: Recorded in docs/benchmarks.md (bench/bench_money.py); a drop below is a regression.
AMLSIM_FAN_IN_PRECISION = 1.0
AMLSIM_FAN_IN_RECALL = 0.5482


def test_every_typology_meets_recall_and_precision(synth: SynthFiles, synth_tx: pd.DataFrame, tmp_path: Path) -> None:
    findings_csv = write_findings_csv(scan(synth_tx), tmp_path / "findings.csv")
    result = CliRunner().invoke(app, ["money", "evaluate", str(findings_csv), str(synth.truth)])
    assert result.exit_code == 0, result.output
    table = {}
    for line in result.output.splitlines()[1:]:
        typology, level, precision, recall, *_ = line.split()
        table[(typology, level)] = (float(precision), float(recall))
    for typ in Typology:
        precision, recall = table[(typ.value, "transaction")]
        assert recall >= 0.9, f"{typ}: recall {recall}"
        assert precision >= 0.8, f"{typ}: precision {precision}"


def test_amlworld_file_gives_the_same_ids_as_the_truth_file(synth: SynthFiles) -> None:
    from tipsom.money.readers import Rates

    tx = load_transactions(synth.amlworld, InputFormat.AMLWORLD, Rates.load(synth.rates)).transactions
    truth = read_truth(synth.truth)
    assert truth.transactions["all"] <= set(tx["tx_id"])
    scores = {(s.typology, s.level): s for s in evaluate(scan(tx), truth)}
    # AMLworld rows carry no countries, so only the corridor typology is blind here.
    assert scores[("fan_in", "transaction")].recall >= 0.9
    assert scores[("high_risk_corridor", "transaction")].recall == 0.0


@pytest.mark.slow
def test_amlsim_fan_in_does_not_regress(reference: Path, tmp_path: Path) -> None:
    with tarfile.open(reference / "finance" / "20K_fanin200.tgz") as archive:
        archive.extractall(tmp_path, filter="data")
    folder = tmp_path / "20K_fanin200"
    tx = load_transactions(folder / "transactions.csv", InputFormat.AMLSIM).transactions
    assert len(tx) == 118_250
    findings = scan(tx, AMLSIM_FAN_IN, typologies=[Typology.FAN_IN])
    (account,) = [s for s in evaluate(findings, read_truth(folder / "nodes.csv")) if s.typology == "all"]
    assert account.level == "account"
    assert account.precision >= AMLSIM_FAN_IN_PRECISION - 1e-4
    assert account.recall >= AMLSIM_FAN_IN_RECALL - 1e-4


@pytest.fixture(scope="module")
def on_duckdb(synth_tx: pd.DataFrame) -> tuple[list[Finding], pd.DataFrame]:
    """The reference: findings and corridors of the 10,000 synthetic transactions on DuckDB."""
    from tipsom.money.corridors import corridors

    assert len(synth_tx) == 10_000
    findings = scan(synth_tx)
    assert findings, "no findings: the comparison would prove nothing"
    return findings, corridors(synth_tx, flagged_accounts={f.account for f in findings})


@over_engines
@pytest.mark.slow
def test_every_engine_gives_the_reference_findings(synth_tx: pd.DataFrame, engine: Engine, engine_session: Any,
                                                   on_duckdb: tuple[list[Finding], pd.DataFrame]) -> None:
    """Spark gives DuckDB's findings and corridors; DuckDB, which may reorder rows, gives them again."""
    from tipsom.money.corridors import corridors

    findings, flows = on_duckdb
    assert scan(synth_tx, engine=engine, spark=engine_session) == findings
    flagged = {f.account for f in findings}
    pd.testing.assert_frame_equal(
        corridors(synth_tx, flagged_accounts=flagged, engine=engine, spark=engine_session), flows)
