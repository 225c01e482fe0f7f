"""Fixtures of the money tests: one small generated data set shared by the module."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tipsom.money.model import InputFormat
from tipsom.money.readers import Rates, load_transactions
from tipsom.synth.transactions import SynthFiles, generate_transactions


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> SynthFiles:
    """10,000 generated transactions with every typology planted (seed 11)."""
    return generate_transactions(10_000, 11, tmp_path_factory.mktemp("synth"))


@pytest.fixture(scope="session")
def synth_tx(synth: SynthFiles) -> pd.DataFrame:
    return load_transactions(synth.native, InputFormat.NATIVE, Rates.load(synth.rates)).transactions


def write_native(path: Path, rows: list[dict[str, str]]) -> Path:
    """A native CSV from partial rows (missing columns left empty)."""
    columns = [
        "timestamp",
        "from_account",
        "to_account",
        "amount",
        "currency",
        "channel",
        "from_country",
        "to_country",
        "from_institution",
        "to_institution",
        "reference",
    ]
    pd.DataFrame([{c: r.get(c, "") for c in columns} for r in rows], columns=columns).to_csv(path, index=False)
    return path
