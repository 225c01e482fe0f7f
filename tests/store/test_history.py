"""Record history on SQLite and PostgreSQL: an edit keeps the old values, sealed; restore is a new, audited version."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tipsom.core.errors import InputError
from tipsom.exchange.importer import import_records
from tipsom.exchange.native import Record
from tipsom.store import audit, history
from tipsom.store.db import Store
from tipsom.store.reader import iter_documents
from tipsom.store.tables import audit_log, record_versions

pytestmark = pytest.mark.usefixtures("data_key")

#: A name planted in the test; it must never reach the database file in clear.
PLANTED = "Zlatomira"


def _case(forms: list[str], **victim: Any) -> dict[str, Any]:
    return {"case_id": "H-1", "case_type": "TIP", "reporting_org": "ORG-A", "persons": [
        {"person_id": "V1", "role": "Victim", "given_name": PLANTED, "family_name": "Quenby",
         "exploitation_forms": forms, **victim},
        {"person_id": "S1", "role": "Suspect", "charges": [{"offence": "IllegalEntry", "stage": "Arrest"}]}]}


def _save(store: Store, doc: dict[str, Any], actor: str) -> None:
    import_records(store, [Record(1, {}, doc)], source="test", actor=actor, purpose="case entry")


def _victim(store: Store) -> dict[str, Any]:
    with store.begin() as conn:
        doc = next(iter_documents(conn, store.model, cipher=store.cipher, case_ids=["H-1"]))
    return next(p for p in doc["persons"] if p["person_id"] == "V1")


def test_an_edit_keeps_the_old_value_and_restore_is_a_new_audited_version(db_url: str) -> None:
    store = Store.init(db_url)
    _save(store, _case(["SexualExploitation"]), "amira")
    assert history.versions(store, "H-1") == []
    _save(store, _case(["ForcedLabour"], given_name="Zlatka"), "bruno")
    assert _victim(store)["exploitation_forms"] == ["ForcedLabour"]

    [first] = history.versions(store, "H-1")
    assert (first.number, first.actor, first.change) == (1, "bruno", history.Change.UPDATE)
    changed = {(c.record, c.field): c for c in first.changes}
    assert changed["V1", "exploitation_forms"].before == ["SexualExploitation"]
    assert changed["V1", "exploitation_forms"].after == ["ForcedLabour"]
    # without a purpose the changed name is listed, sealed, and no read is audited
    assert changed["V1", "given_name"].sealed
    assert changed["V1", "given_name"].before is None

    reads_before = _events(store, audit.AuditAction.READ)
    shown = {(c.record, c.field): c for c in history.diff(store, "H-1", 1, actor="carla", purpose="supervision")}
    assert (shown["V1", "given_name"].before, shown["V1", "given_name"].after) == (PLANTED, "Zlatka")
    assert "family_name" not in {f for _, f in shown}  # same value, sealed afresh: not a change
    assert _events(store, audit.AuditAction.READ) == reads_before + 1

    number = history.restore(store, "H-1", 1, by="carla", purpose="restore mistaken edit")
    assert number == 2
    restored = _victim(store)
    assert (restored["exploitation_forms"], restored["given_name"]) == (["SexualExploitation"], PLANTED)
    assert [v.change for v in history.versions(store, "H-1")] == [history.Change.UPDATE, history.Change.RESTORE]
    with pytest.raises(InputError, match="no version 7"):
        history.restore(store, "H-1", 7, by="carla", purpose="restore")
    assert len(history.versions(store, "H-1")) == 2, "a refused restore keeps no version"
    with store.engine.connect() as conn:
        event = conn.execute(select(audit_log).where(audit_log.c.action == str(audit.AuditAction.RESTORE))).one()
    assert (event.actor, event.entity_id, event.purpose) == ("carla", "H-1", "restore mistaken edit")
    # the repeated records came back with the restore
    with store.begin() as conn:
        doc = next(iter_documents(conn, store.model, case_ids=["H-1"]))
    assert [c["offence"] for p in doc["persons"] for c in p["charges"]] == ["IllegalEntry"]


def test_no_personal_value_is_in_clear_in_the_database_file(tmp_path: Any) -> None:
    path = tmp_path / "store.db"
    store = Store.init(f"sqlite:///{path}")
    _save(store, _case(["SexualExploitation"]), "amira")
    _save(store, _case(["ForcedLabour"], given_name="Zlatka"), "bruno")
    history.restore(store, "H-1", 1, by="carla", purpose="restore mistaken edit")
    with store.engine.connect() as conn:
        assert conn.scalar(select(record_versions.c.snapshot).where(record_versions.c.version == 1)) is not None
    store.dispose()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("store.db"))
    assert PLANTED.encode() not in raw
    assert b"Zlatka" not in raw
    assert b"Quenby" not in raw
    assert b"SexualExploitation" in raw  # the non-personal values are there, so the search is not vacuous


def _events(store: Store, action: audit.AuditAction) -> int:
    with store.engine.connect() as conn:
        return len(conn.execute(select(audit_log.c.id).where(audit_log.c.action == str(action))).all())
