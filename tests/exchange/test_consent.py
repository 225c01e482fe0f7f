"""An export with personal data leaves out persons whose consent does not cover its purpose, and says so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tipsom.cli.main import app
from tipsom.exchange.importer import import_records
from tipsom.exchange.native import Record
from tipsom.schema.consent import ConsentRefusal, refusal
from tipsom.schema.enums import ConsentPurpose
from tipsom.store import audit
from tipsom.store.db import Store

pytestmark = pytest.mark.usefixtures("data_key")


def _person(pid: str, name: str, **consent: Any) -> dict[str, Any]:
    return {"person_id": pid, "role": "Victim", "given_name": name, **consent}


def _store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    persons = [_person("V1", "Agnetha", consent_given=True, consent_purposes=["Prosecution", "Assistance"]),
               _person("V2", "Berenike", consent_given=True, consent_purposes=["Assistance"]),
               _person("V3", "Cordula", consent_given=False),
               _person("V4", "Dagmara")]
    doc = {"case_id": "C-1", "case_type": "TIP", "reporting_org": "ORG-A", "persons": persons}
    import_records(Store.init(url), [Record(1, {}, doc)], source="t", actor="t")
    return url


def test_a_personal_export_leaves_out_persons_without_the_consent_purpose_and_says_so(tmp_path: Path) -> None:
    url = _store(tmp_path)
    out = tmp_path / "court.jsonl"
    result = CliRunner().invoke(app, ["export", "cases", "-o", str(out), "--format", "jsonl", "--include-personal",
                                      "--consent-purpose", "Prosecution", "--db", url])
    assert result.exit_code == 0, result.output
    [doc] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [p["person_id"] for p in doc["persons"]] == ["V1"]
    text = out.read_text(encoding="utf-8")
    assert "Agnetha" in text
    assert all(name not in text for name in ("Berenike", "Cordula", "Dagmara"))
    assert "3 person(s) left out" in result.stderr
    assert "2 without recorded consent, 1 with consent for other purposes" in result.stderr
    with Store.open(url).engine.connect() as conn:
        [event] = audit.events(conn, action=audit.AuditAction.EXPORT)
    assert json.loads(event["detail"])["consent"] == {"consent_purpose": "Prosecution", "left_out": 3,
                                                       "no_consent": 2, "purpose_not_covered": 1}

    plain = tmp_path / "stats.jsonl"
    result = CliRunner().invoke(app, ["export", "cases", "-o", str(plain), "--format", "jsonl", "--db", url])
    assert result.exit_code == 0, result.output
    assert len(json.loads(plain.read_text(encoding="utf-8"))["persons"]) == 4, "without personal data, everyone"
    assert "left out" not in result.stderr


@pytest.mark.parametrize(("person", "expected"), [
    ({"consent_given": True, "consent_purposes": "Research|Referral"}, None),
    ({"consent_given": True, "consent_purposes": ["Assistance"]}, ConsentRefusal.PURPOSE_NOT_COVERED),
    ({"consent_given": None, "consent_purposes": ["Research"]}, ConsentRefusal.NO_CONSENT),
])
def test_consent_reads_documents_and_stored_rows(person: dict[str, Any], expected: ConsentRefusal | None) -> None:
    assert refusal(person, ConsentPurpose.RESEARCH) is expected
