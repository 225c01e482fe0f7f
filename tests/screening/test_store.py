"""Screening the whole store in one pass, a stored case, and monitoring figures."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from typer.testing import CliRunner

from tests.screening.conftest import case
from tipsom.cli.main import app
from tipsom.screening import screen_document, screen_documents, screen_store, screen_stored_case
from tipsom.screening.monitoring import monitoring_table
from tipsom.synth.cases import CaseGenerator


def test_whole_store_is_screened_in_one_pass_like_the_documents(demo_store: Any) -> None:
    seen: list[int] = []
    stored = screen_store(demo_store, chunk=64, progress=seen.append)
    direct = screen_documents(CaseGenerator(11).cases(200))
    assert stored.to_dict() == direct.to_dict()
    assert stored.cases == 200
    assert stored.persons == demo_store.counts()["persons"]
    assert seen == sorted(seen)
    assert seen[-1] == stored.persons
    assert {"TIP_INDICATED", "TIP_CHILD", "SOM_INDICATED", "CHILD_PROTECTION"} <= set(stored.alerts)


def test_bulk_counts_equal_one_by_one_screening() -> None:
    docs = list(CaseGenerator(5).cases(60))
    per_person: Counter[str] = Counter()
    for doc in docs:
        result = screen_document(doc, validate=False)
        for person_id in {a.person_id for a in result.alerts}:
            per_person.update(result.codes(person_id))
    assert screen_documents(docs, chunk=17).alerts == dict(per_person)


def test_stored_case_screens_like_its_document(demo_store: Any) -> None:
    doc = next(CaseGenerator(11).cases(1))
    stored = screen_stored_case(demo_store, doc["case_id"])
    assert stored.codes() == screen_document(doc, validate=False).codes()


def test_cli_screens_all_and_one_stored_case(demo_store: Any) -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["screen", "--all", "--json", "--quiet"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["screened"] == 200
    assert data["alerts"] == screen_store(demo_store).alerts
    one = runner.invoke(app, ["screen", "--case", "SYN-0000002", "--json"])
    assert one.exit_code == 0
    assert json.loads(one.stdout)["case_id"] == "SYN-0000002"
    missing = runner.invoke(app, ["screen", "--case", "NOPE"])
    assert missing.exit_code == 1
    assert "no case 'NOPE'" in missing.stderr


def _expected(docs: list[dict[str, Any]]) -> Counter[tuple[str, int, str, str]]:
    """The monitoring figures computed naively from the documents."""
    out: Counter[tuple[str, int, str, str]] = Counter()
    for d in docs:
        key = (d["jurisdiction"], d["year"])
        for p in d["persons"]:
            charges = p.get("charges", [])
            if p["role"] in ("Victim", "PresumedVictim"):
                out[(*key, "victims_identified", "")] += 1
                if charges:
                    out[(*key, "victims_charged", "")] += 1
                for offence in {c["offence"] for c in charges if c.get("outcome") == "Convicted"}:
                    out[(*key, "victims_convicted", offence)] += 1
            if p["role"] == "SmuggledMigrant" and any(
                    c["offence"] in ("IllegalEntry", "IllegalStay", "IllegalExit", "FalseDocuments")
                    and c["stage"] in ("Prosecution", "Trial", "Appeal") for c in charges):
                out[(*key, "migrants_prosecuted_for_being_smuggled", "")] += 1
            if p.get("age", 0) >= 18 and (p.get("age_min", 99) < 18 or p.get("age_appearance") in ("Child",
                                                                                              "Adolescent")):
                out[(*key, "children_recorded_as_adults", "")] += 1
    return out


def test_monitoring_table_matches_the_records(demo_store: Any) -> None:
    rows = monitoring_table(demo_store, chunk=50)
    got = Counter({(r["jurisdiction"], r["year"], r["measure"], r["offence"] or ""): r["count"] for r in rows})
    expected = _expected(list(CaseGenerator(11).cases(200)))
    for key, n in expected.items():
        assert got[key] == n, key
    assert sum(n for k, n in got.items() if k[2] == "victims_identified") == demo_store.counts()["victims"]
    assert any(k[2] == "victims_charged" and k[3] for k in got)  # broken down by offence


def test_monitoring_counts_a_child_recorded_as_adult(demo_store: Any) -> None:
    from tipsom.exchange.importer import import_records
    from tipsom.exchange.native import Record

    recorded_adult = case({"role": "Victim", "age": 18, "age_basis": "Estimated", "age_min": 16, "age_max": 20},
                          case_id="AGE-1", jurisdiction="ITA", year=2023)
    import_records(demo_store, [Record(1, {}, recorded_adult)], source="test", actor="test", purpose="test")
    rows = monitoring_table(demo_store)
    hit = [r for r in rows if r["measure"] == "children_recorded_as_adults" and r["jurisdiction"] == "ITA"
           and r["year"] == 2023]
    before = _expected(list(CaseGenerator(11).cases(200)))[("ITA", 2023, "children_recorded_as_adults", "")]
    assert hit
    assert hit[0]["count"] == before + 1
    assert "PRESUMED_MINOR" in screen_stored_case(demo_store, "AGE-1").codes()
