"""The store's read API: the rows asked for, only the named fields decrypted, one audit event."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.registry_helpers import csv_rows, write_cases
from tipsom.core.errors import InputError
from tipsom.exchange.importer import import_file
from tipsom.schema.enums import PersonRole
from tipsom.store import audit
from tipsom.store.db import Store
from tipsom.store.view import PersonRead, persons_frame, read_persons

pytestmark = pytest.mark.usefixtures("data_key")


def _events(store: Store, actor: str) -> list[dict[str, object]]:
    with store.engine.connect() as conn:
        return [e for e in audit.events(conn) if e["actor"] == actor]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store.init()
    import_file(opened, write_cases(tmp_path / "cases.csv", 30), actor="loader")
    return opened


def test_one_event_names_the_fields_the_purpose_and_the_rows(store: Store, tmp_path: Path) -> None:
    victims = [r for r in csv_rows(tmp_path / "cases.csv") if PersonRole(r["role"]).is_victim]
    request = PersonRead(columns=("case_id", "person_id", "pseudo_phone"), decrypt=("given_name",),
                         roles=[r for r in PersonRole if r.is_victim])
    rows = read_persons(store, request, actor="analyst", purpose="check a referral")
    assert len(rows) == len(victims)
    by_key = {(r["case_id"], r["person_id"]): r for r in victims}
    for row in rows:
        assert set(row) == {"case_id", "person_id", "pseudo_phone", "given_name"}
        assert row["given_name"] == (by_key[(row["case_id"], row["person_id"])]["given_name"] or None)
    (event,) = _events(store, "analyst")
    assert event["action"] == "read"
    assert event["purpose"] == "check a referral"
    assert json.loads(str(event["detail"])) == {"fields": ["given_name", "pseudo_phone"], "rows": len(rows)}
    store.dispose()


def test_plain_columns_alone_write_no_event_unless_an_action_is_named(store: Store) -> None:
    frame = persons_frame(store, PersonRead(columns=("sex",), case_columns=("year",)), actor="analyst",
                          purpose="count")
    assert list(frame.columns) == ["sex", "case_year"]
    assert len(frame) > 0
    assert _events(store, "analyst") == []
    read_persons(store, PersonRead(columns=("pseudo_phone",), present=("pseudo_phone",)), actor="analyst",
                 purpose="hand selectors over", action=audit.AuditAction.EXPORT)
    (event,) = _events(store, "analyst")
    assert event["action"] == "export"
    store.dispose()


def test_an_unknown_column_is_refused_before_anything_is_read(store: Store) -> None:
    with pytest.raises(InputError, match="no sealed personal field 'shoe_size'"):
        read_persons(store, PersonRead(decrypt=("shoe_size",)), actor="analyst", purpose="curiosity")
    assert _events(store, "analyst") == []
    store.dispose()


def test_read_personal_goes_through_the_same_door(store: Store, tmp_path: Path) -> None:
    row = next(r for r in csv_rows(tmp_path / "cases.csv") if r["given_name"])
    key = f"{row['case_id']}/{row['person_id']}"
    assert store.read_personal(key, actor="caseworker", purpose="follow-up")["given_name"] == row["given_name"]
    with pytest.raises(LookupError):
        store.read_personal("NO/SUCH", actor="caseworker", purpose="follow-up")
    events = _events(store, "caseworker")
    assert [e["entity_id"] for e in events] == ["NO/SUCH", key]  # newest first; the miss is on record too
    store.dispose()
