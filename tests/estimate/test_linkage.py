"""Linking a synthetic registry with known truth: typos and transliterations still link."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import secrets
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.engines import over_engines
from tipsom.core.engines import Engine
from tipsom.estimate.histories import capture_histories
from tipsom.estimate.linkage import LinkDecision, fold, link, pairwise_quality, skeleton
from tipsom.estimate.store_histories import Linkage, histories_from_store, link_registry
from tipsom.estimate.table import CaptureTable
from tipsom.store.db import Store
from tipsom.synth.linkage import LinkageRecord, generate


def _frame(records: list[LinkageRecord]) -> pd.DataFrame:
    return pd.DataFrame([dataclasses.asdict(r) for r in records])


def test_transliterations_share_a_skeleton() -> None:
    assert {skeleton(n) for n in ("Olena", "Elena", "Yelena", "Alena")} == {"ln"}
    assert {skeleton(n) for n in ("Mohammed", "Muhammad", "Mohamed")} == {"mhmd"}
    assert {skeleton(n) for n in ("Aleksandr", "Alexander", "Oleksandr")} == {"lksndr"}
    assert fold("Ševčenko") == "sevcenko"


@over_engines
def test_records_link_with_precision_and_recall_above_095(engine: Engine, engine_session: Any) -> None:
    """Splink on DuckDB, and on Spark for lists beyond one machine: same model, same quality bar."""
    frame = _frame(generate(persons=1500, lists=4, seed=11))
    result = link(frame.drop(columns=["person_id"]), engine=engine, spark=engine_session)
    precision, recall = pairwise_quality(result.persons, frame.set_index("record_id")["person_id"])
    assert precision >= 0.95, (precision, recall)
    assert recall >= 0.95, (precision, recall)
    queue = result.review_queue()
    assert set(queue["decision"]) <= {LinkDecision.REVIEW.value}
    assert (queue["match_probability"] < 0.8).all()


def test_histories_from_linked_records_are_a_valid_capture_table() -> None:
    frame = _frame(generate(persons=400, lists=3, seed=3))
    truth = pd.Series(frame["person_id"].to_numpy(), index=frame["record_id"])
    table = capture_histories(frame, truth, ["sex"])
    assert list(table.columns) == ["labour_inspection", "ngo_shelter", "police", "sex", "count"]
    assert int(table["count"].sum()) == frame["person_id"].nunique()
    rows = [(tuple(r[["labour_inspection", "ngo_shelter", "police"]]), r["count"]) for _, r in table.iterrows()]
    assert CaptureTable.from_histories(("labour_inspection", "ngo_shelter", "police"), rows).observed > 0


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> pd.DataFrame:
    """A registry where every synthetic identification was filed as its own case."""
    from tipsom.exchange.importer import import_records
    from tipsom.exchange.native import Record
    from tipsom.store.db import Store

    monkeypatch.setenv("TIPSOM_KEY", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    frame = _frame(generate(persons=700, lists=4, seed=5))
    docs = []
    for i, r in enumerate(frame.itertuples(index=False), start=1):
        person = {"person_id": "P1", "role": "Victim", "given_name": r.given_name, "family_name": r.family_name,
                  "sex": "Female" if r.sex == "F" else "Male",
                  "identifications": [{"agency": r.list_name, "identified_on": dt.date(r.year, 6, 1)}]}
        if isinstance(r.birth_date, str):
            person["birth_date"] = dt.date.fromisoformat(r.birth_date)
        if r.age == r.age and r.age is not None:
            person["age"] = int(r.age)
        if isinstance(r.citizenship, str):
            person["citizenship"] = [r.citizenship]
        docs.append(Record(i, {}, {"case_id": r.record_id, "case_type": "TIP", "status": "Active",
                                   "reporting_org": r.list_name, "year": r.year, "persons": [person]}))
    store = Store.init()
    import_records(store, docs, source="synthetic linkage registry", actor="test")
    store.dispose()
    return frame


def test_registry_histories_reach_095_precision_and_recall(registry: pd.DataFrame) -> None:
    store = Store.init()
    _rows, result = link_registry(store, Linkage.PROBABILISTIC, actor="test")
    case_of = {f"{cid}/P1": cid for cid in registry["record_id"]}
    truth = registry.set_index("record_id")["person_id"]
    persons = result.persons.rename(index=case_of)
    precision, recall = pairwise_quality(persons, truth)
    assert precision >= 0.95, (precision, recall)
    assert recall >= 0.95, (precision, recall)
    table = histories_from_store(store, ["sex"], linkage=Linkage.EXACT, actor="test")
    store.dispose()
    assert int(table["count"].sum()) >= registry["person_id"].nunique()  # exact links miss typos, never merge


def test_exact_pseudonym_links_need_no_decryption() -> None:
    frame = pd.DataFrame({
        "record_id": ["a", "b", "c"], "list_name": ["police", "ngo", "ngo"],
        "given_name": ["", "", ""], "family_name": ["", "", ""],
        "pseudonym": ["k1", "k1", "k2"],
    })
    result = link(frame, probabilistic=False)
    assert result.persons["a"] == result.persons["b"] != result.persons["c"]


def test_bad_records_are_reported(tmp_path: Path) -> None:
    from tipsom.estimate.linkage import LinkageInputError

    frame = pd.DataFrame({"record_id": ["a", "a"], "list_name": ["x", "y"], "given_name": ["A", "B"],
                          "family_name": ["C", "D"]})
    with pytest.raises(LinkageInputError, match="row 2: field 'record_id': duplicate id 'a'"):
        link(frame)
    frame = pd.DataFrame({"record_id": ["a"], "list_name": ["x"], "given_name": ["A"], "family_name": ["C"],
                          "birth_date": ["31/12/1990"]})
    with pytest.raises(LinkageInputError, match="row 1: field 'birth_date'"):
        link(frame)

