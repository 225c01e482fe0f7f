"""DP synthetic microdata (issue 17): OpenDP noise, no value outside the code lists or the store's range."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from tipsom.report import dpsynth
from tipsom.report.dpsynth import synthesise
from tipsom.report.microdata import victim_records
from tipsom.report.sdc import QUASI_IDENTIFIERS, generalise

EPSILON = 1.0


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pd.DataFrame]:
    from tipsom.exchange.importer import import_records
    from tipsom.exchange.native import Record
    from tipsom.settings import Settings
    from tipsom.store.db import Store
    from tipsom.synth.cases import CaseGenerator

    home = Path(tmp_path_factory.mktemp("dp_home"))
    settings = Settings(home=home, key=base64.urlsafe_b64encode(os.urandom(32)).decode(), db_url="")
    store = Store.init(settings.database_url, settings=settings)
    import_records(store, (Record(i, {}, d) for i, d in enumerate(CaseGenerator(11).cases(600), start=1)),
                   source="test", actor="test", purpose="dp tests")
    yield victim_records(store)
    store.dispose()


def test_synthetic_records_stay_inside_the_code_lists_and_the_stores_range(records: pd.DataFrame) -> None:
    synthetic, report = synthesise(records, EPSILON, seed=5)
    assert len(synthetic) == report.records_out > 0
    qis = [q for q in QUASI_IDENTIFIERS if q.column in dpsynth.SYNTH_LEVELS]
    real = generalise(records, qis, [dpsynth.SYNTH_LEVELS[q.column] for q in qis])
    assert set(synthetic["yearOfRegistration"]) <= set(real["yearOfRegistration"])
    assert set(synthetic["citizenship"]) <= set(real["citizenship"])
    assert not {"Antarctica", "Seven seas (open ocean)"} & set(synthetic["citizenship"])
    assert set(synthetic["gender"]) <= {"Female", "Male", "Unknown"}
    assert set(synthetic["ageBroad"]) <= {"0--17", "18+", "Unknown"}
    assert set(synthetic["mainForm"]) <= {"SexualExploit", "ForcedLabour", "ForcedMarriage", "OtherExploit",
                                          "Multiple", "NotRecorded"}
    errors = report.marginal_errors
    assert set(errors) == {"1-way", "2-way", "3-way"}
    assert 0.0 <= errors["1-way"] <= errors["3-way"] <= 2.0


def test_opendp_is_the_noise_source(records: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[float, float]] = []
    real = dpsynth._discrete_laplace

    def spy(scale: float, budget: float) -> object:
        calls.append((scale, budget))
        return real(scale, budget)

    monkeypatch.setattr(dpsynth, "_discrete_laplace", spy)
    _, report = synthesise(records, EPSILON, seed=5)
    assert calls == [(2.0 / EPSILON, EPSILON / 2)]
    assert "OpenDP" in report.mechanism
    mechanism = real(2.0 / EPSILON, EPSILON / 2)
    assert type(mechanism).__module__.startswith("opendp")
    assert mechanism.map(1) <= EPSILON / 2 + 1e-12
