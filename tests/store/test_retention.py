"""Retention on SQLite and PostgreSQL: exactly the persons past retention lose their personal fields, history too."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.exchange.helpers import contents
from tipsom.cli.main import app
from tipsom.exchange.importer import import_records
from tipsom.exchange.native import Record
from tipsom.store import audit, history
from tipsom.store.db import Store
from tipsom.store.reader import iter_documents
from tipsom.store.tables import record_versions

pytestmark = pytest.mark.usefixtures("data_key")

PAST, FUTURE = dt.date.today() - dt.timedelta(days=1), dt.date.today() + dt.timedelta(days=365)


def _person(pid: str, until: dt.date | None, name: str) -> dict[str, Any]:
    return {"person_id": pid, "role": "Victim", "given_name": name, "phone": "+441234567890", "sex": "Female",
            "retention_until": until.isoformat() if until else None, "exploitation_forms": ["ForcedLabour"]}


def _docs(form: str = "ForcedLabour") -> list[dict[str, Any]]:
    first = [_person("V1", PAST, "Ottilie"), _person("V2", PAST, "Brunhild"), _person("V3", None, "Kept")]
    first[0]["exploitation_forms"] = [form]
    return [{"case_id": "R-1", "case_type": "TIP", "reporting_org": "ORG-A", "persons": first},
            {"case_id": "R-2", "case_type": "TIP", "reporting_org": "ORG-A",
             "persons": [_person("V4", PAST, "Wendeline"), _person("V5", FUTURE, "Alsoke")]}]


def _store(db_url: str) -> Store:
    store = Store.init(db_url)
    import_records(store, [Record(i, {}, d) for i, d in enumerate(_docs(), 1)], source="t", actor="t")
    # an edit, so case R-1 has a history version holding V1's sealed name
    import_records(store, [Record(1, {}, _docs("SexualExploitation")[0])], source="t", actor="t")
    return store


def _names(store: Store) -> dict[str, Any]:
    """Each person's given name as an export with personal data reads it."""
    with store.begin() as conn:
        return {p["person_id"]: p["given_name"]
                for d in iter_documents(conn, store.model, cipher=store.cipher) for p in d["persons"]}


def _retention(db_url: str, *args: str) -> dict[str, int]:
    result = CliRunner().invoke(app, ["retention", "run", "--json", "--db", db_url, *args])
    assert result.exit_code == 0, result.output
    answer: dict[str, int] = json.loads(result.stdout)
    return answer


def test_retention_erases_exactly_the_persons_past_retention(db_url: str) -> None:
    store = _store(db_url)
    counts = store.counts()
    before = contents(store)
    assert _retention(db_url, "--dry-run") == {"persons_due": 3, "erased": 0}
    assert contents(store) == before, "a dry run changes nothing"

    assert _retention(db_url) == {"persons_due": 3, "erased": 3}
    assert _names(store) == {"V1": None, "V2": None, "V3": "Kept", "V4": None, "V5": "Alsoke"}
    assert store.counts() == counts
    with store.begin() as conn:
        forms = {p["person_id"]: p["exploitation_forms"] for d in iter_documents(conn, store.model)
                 for p in d["persons"]}
        erasures = audit.events(conn, action=audit.AuditAction.ERASE)
        snapshot = json.loads(conn.scalar(select(record_versions.c.snapshot)) or "{}")
    assert forms["V1"] == ["SexualExploitation"], "non-personal fields stay"
    assert sorted(e["entity_id"] for e in erasures) == ["R-1/V1", "R-1/V2", "R-2/V4"]
    kept = snapshot["persons"]
    assert kept["R-1/V1"]["given_name_enc"] is None, "the history loses the erased values too"
    assert kept["R-1/V3"]["given_name_enc"] is not None
    changed = {(c.record, c.field) for c in history.diff(store, "R-1", 1, actor="t", purpose="check")}
    assert ("V1", "exploitation_forms") in changed

    assert _retention(db_url) == {"persons_due": 0, "erased": 0}, "an erased person is not due again"


def test_retention_refuses_a_bad_date_as_a_configuration_error(tmp_path: Any) -> None:
    result = CliRunner().invoke(app, ["retention", "run", "--today", "soon", "--db", f"sqlite:///{tmp_path}/s.db"])
    assert result.exit_code == 2
    assert "--today" in result.stderr
