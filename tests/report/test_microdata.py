"""Anonymised microdata: k-anonymity checked by pycanon, and DP synthetic records."""

from __future__ import annotations

import json

import pandas as pd
from pycanon import anonymity

from tests.report.conftest import Built
from tipsom.report.microdata import QUASI_IDENTIFIERS, anonymise, export_microdata, victim_records
from tipsom.store import audit


def test_microdata_is_11_anonymous_by_pycanon(built: Built, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "victims.csv"
    meta = export_microdata(built.store, out, k=11, actor="tester", purpose="test release")
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    qis = [q.column for q in QUASI_IDENTIFIERS]
    assert anonymity.k_anonymity(frame, qis) >= 11
    report = meta["k_anonymity"]
    assert report["records_in"] == report["records_out"] + report["suppressed"]
    assert report["suppressed"] <= 0.02 * report["records_in"]
    assert json.loads(out.with_name(out.name + ".metadata.json").read_text())["k_anonymity"]["k"] == 11
    assert "given_name" not in frame.columns
    with built.store.begin() as conn:
        assert audit.events(conn, actor="tester", action=audit.AuditAction.EXPORT)


def test_generalisation_is_the_least_needed() -> None:
    rows = [{"yearOfRegistration": "2020", "gender": "Female", "ageBroad": "18--20", "citizenship": "NPL",
             "countryOfExploitation": "IND"}] * 12
    frame, report = anonymise(pd.DataFrame(rows), k=11)
    assert report.levels == dict.fromkeys(report.quasi_identifiers, 0)
    assert len(frame) == 12


def test_dp_synthetic_records_record_epsilon(built: Built, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "synthetic.csv"
    meta = export_microdata(built.store, out, epsilon=0.5, seed=3, actor="tester", purpose="test")
    saved = json.loads(out.with_name(out.name + ".metadata.json").read_text())
    assert saved["differential_privacy"]["epsilon"] == 0.5
    frame = pd.read_csv(out)
    assert len(frame) == meta["differential_privacy"]["records_out"] > 0
    assert abs(len(frame) - len(victim_records(built.store))) < 0.5 * len(frame)
