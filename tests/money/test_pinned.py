"""Pinned outputs: speed work on the reader and the detectors must not change a single result.

The digests below were recorded with the original (pre-optimisation) reader and
Ibis pipeline on a seeded 50,000-transaction sample, once finding amounts were
summed exactly (a float sum made them differ by a cent from run to run). A
deliberate change of a detector's semantics must update them, and say so in
docs/money.md.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from tests.money.conftest import write_native
from tipsom.money.model import Finding, InputFormat
from tipsom.money.readers import Rates, load_transactions
from tipsom.money.scan import scan
from tipsom.synth.transactions import SynthFiles, generate_transactions

NATIVE_TABLE_SHA256 = "942587c64149e8c40c196feb8e60d2bd189fe64c230298250631604195d6b7e5"
AMLWORLD_TABLE_SHA256 = "b70582f3af88824c7e787766a630e99f24b958c9cba5a83b13f1f02a4da39dca"
FINDINGS_SHA256 = "4f805413d48c151d35cbe4d82538c10802a966d3c23d8a7f776d35136eb58f91"
N_FINDINGS = 285


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SynthFiles:
    return generate_transactions(50_000, 7, tmp_path_factory.mktemp("pinned"))


@pytest.fixture(scope="module")
def sample_tx(sample: SynthFiles) -> pd.DataFrame:
    return load_transactions(sample.native, InputFormat.NATIVE, Rates.load(sample.rates)).transactions


def _table_digest(frame: pd.DataFrame) -> str:
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()


def findings_digest(findings: list[Finding]) -> str:
    """Every field of every finding, in (account, typology) order."""
    rows = sorted(
        (
            f.account,
            f.typology.value,
            f.score,
            f.tx_ids,
            f.amount,
            f.first_t,
            f.last_t,
            f.explanation,
            f.counterparties,
        )
        for f in findings
    )
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


@pytest.mark.slow
def test_native_reader_output_is_pinned(sample_tx: pd.DataFrame) -> None:
    assert len(sample_tx) == 50_000
    assert sample_tx.attrs["base_currency"] == "USD"
    assert _table_digest(sample_tx) == NATIVE_TABLE_SHA256


@pytest.mark.slow
def test_amlworld_reader_output_is_pinned(sample: SynthFiles) -> None:
    tx = load_transactions(sample.amlworld, InputFormat.AMLWORLD, Rates.load(sample.rates)).transactions
    assert _table_digest(tx) == AMLWORLD_TABLE_SHA256


@pytest.mark.slow
def test_scan_findings_are_pinned(sample_tx: pd.DataFrame) -> None:
    findings = scan(sample_tx)
    assert len(findings) == N_FINDINGS
    assert findings_digest(findings) == FINDINGS_SHA256


def test_repeated_rows_get_numbered_ids_in_file_order(tmp_path: Path) -> None:
    row = {"timestamp": "2024-03-01T10:00:00Z", "from_account": "A", "to_account": "B", "amount": "5"}
    row["currency"] = "EUR"
    other = {**row, "to_account": "C"}
    tx = load_transactions(write_native(tmp_path / "tx.csv", [row, other, row, row]), InputFormat.NATIVE).transactions
    ids = list(tx["tx_id"])
    assert ids[1] != ids[0]
    assert ids[2:] == [f"{ids[0]}-2", f"{ids[0]}-3"]
    assert all(len(i.split("-")[0]) == 16 for i in ids)
    assert list(tx["month"]) == ["2024-03"] * 4
