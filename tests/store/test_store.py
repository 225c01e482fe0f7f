"""The store scenario, run on SQLite and on PostgreSQL (fixture ``db_url``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select

from tests.registry_helpers import csv_rows, write_cases, write_rows
from tipsom.application import metadata as all_tables
from tipsom.exchange.importer import ImportFailed, import_file
from tipsom.schema.model import get_model
from tipsom.store import audit
from tipsom.store.db import Store
from tipsom.store.reader import iter_documents
from tipsom.store.tables import REGISTRY, audit_log

pytestmark = pytest.mark.usefixtures("data_key")


def _rows(store: Store, table: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(REGISTRY[table])) or 0)


def test_migrated_tables_match_the_standard(db_url: str) -> None:
    store = Store.init(db_url)
    inspector = inspect(store.engine)
    model = get_model()
    for entity in model.entities.values():
        columns = {c["name"] for c in inspector.get_columns(entity.table)}
        for f in entity.fields.values():
            if f.name == entity.key:
                continue
            expected = f"{f.name}_enc" if f.personal else f.name
            assert expected in columns, f"{entity.table} lacks column {expected} for field {f.name}"
        extra = {c for c in columns if not c.startswith("pseudo_")} - {
            f"{f.name}_enc" if f.personal else f.name for f in entity.fields.values()
        } - {"id", "key", "case_id", "person_id", "person_key", "row_hash", "created_at", "updated_at",
             "created_by_event"}
        assert not extra, f"{entity.table} has columns the standard does not define: {extra}"
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), all_tables())
    assert diff == [], f"migrations are behind the table definitions: {diff}"
    store.dispose()


def test_import_is_idempotent_and_audited(db_url: str, tmp_path: Path) -> None:
    store = Store.init(db_url)
    src = write_cases(tmp_path / "cases.csv", 200)
    first = import_file(store, src, actor="tester", purpose="test import")
    assert first.written.cases_created == 200
    assert store.counts()["cases"] == 200
    persons = _rows(store, "person")
    legs = _rows(store, "route_leg")
    second = import_file(store, src, actor="tester", purpose="test import")
    assert second.written.cases_created == 0
    assert second.written.persons_created == 0
    assert second.written.unchanged == persons
    assert _rows(store, "person") == persons
    assert _rows(store, "route_leg") == legs
    with store.begin() as conn:
        imports = audit.events(conn, action=audit.AuditAction.IMPORT)
    assert len(imports) == 2
    assert all(e["actor"] == "tester" for e in imports)
    store.dispose()


def test_changed_record_is_updated_with_audit(db_url: str, tmp_path: Path) -> None:
    store = Store.init(db_url)
    src = write_cases(tmp_path / "cases.csv", 30)
    import_file(store, src, actor="tester")
    rows = csv_rows(src)
    rows[0]["exploitation_place"] = "Changed place"
    import_file(store, write_rows(tmp_path / "changed.csv", rows), actor="editor", purpose="correction")
    key = f"{rows[0]['case_id']}/{rows[0]['person_id']}"
    with store.begin() as conn:
        updates = audit.events(conn, entity_id=key, action=audit.AuditAction.UPDATE)
        doc = next(iter_documents(conn, store.model, case_ids=[rows[0]["case_id"]]))
    assert len(updates) == 1
    assert updates[0]["actor"] == "editor"
    assert doc["persons"][0]["exploitation_place"] == "Changed place"
    store.dispose()


def test_failed_import_leaves_store_unchanged(db_url: str, tmp_path: Path) -> None:
    store = Store.init(db_url)
    rows = csv_rows(write_cases(tmp_path / "cases.csv", 50))
    rows[10]["sex"] = "Femal"
    rows[20]["opened_on"] = "2020-13-45"
    bad = write_rows(tmp_path / "bad.csv", rows)
    with pytest.raises(ImportFailed) as info:
        import_file(store, bad, actor="tester")
    problems = info.value.report.problems
    assert [(p.row, p.column) for p in problems] == [(12, "sex"), (22, "opened_on")]
    assert "not in code list sex" in problems[0].reason
    assert store.counts() == {"cases": 0, "persons": 0, "victims": 0}
    with store.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(audit_log)) == 0
    store.dispose()


def test_personal_data_encrypted_and_reads_audited(db_url: str, tmp_path: Path) -> None:
    store = Store.init(db_url)
    src = write_cases(tmp_path / "cases.csv", 20)
    row = next(r for r in csv_rows(src) if r["given_name"] and r["phone"])
    import_file(store, src, actor="tester")
    key = f"{row['case_id']}/{row['person_id']}"
    with store.engine.connect() as conn:
        stored = conn.execute(select(REGISTRY["person"]).where(REGISTRY["person"].c.key == key)).one()._mapping
    assert row["given_name"].encode() not in stored["given_name_enc"]
    assert stored["pseudo_phone"]
    assert len(stored["pseudo_phone"]) == 32
    personal = store.read_personal(key, actor="caseworker", purpose="case follow-up")
    assert personal["given_name"] == row["given_name"]
    assert personal["phone"] == row["phone"]
    with store.begin() as conn:
        reads = audit.events(conn, entity_id=key, action=audit.AuditAction.READ)
    assert reads[0]["actor"] == "caseworker"
    assert reads[0]["purpose"] == "case follow-up"
    store.dispose()
