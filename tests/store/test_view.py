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


def test_person_chunks_stream_plain_columns_with_case_and_repeated_records_and_refuse_the_rest(
        store: Store, tmp_path: Path) -> None:
    from tipsom.store.view import person_chunks

    written = csv_rows(tmp_path / "cases.csv")
    chunks = list(person_chunks(store, ["case_id", "person_id", "sex", "year"], from_case={"year"},
                                children={"route_legs": ["origin"]}, chunk=7))
    assert all(len(c.rows) <= 7 for c in chunks)
    keys = [k for c in chunks for k in c.keys]
    assert keys == sorted(keys)
    assert len(keys) == len(written)
    assert {(r[0], r[1]) for c in chunks for r in c.rows} == {(r["case_id"], r["person_id"]) for r in written}
    for chunk in chunks:
        assert {k for k, _ in chunk.children["route_legs"]} <= set(chunk.keys)
    before = _event_count(store)
    for personal in (["given_name_enc"], ["pseudo_phone"], ["no_such_column"]):
        with pytest.raises(InputError):
            next(person_chunks(store, personal))
    with pytest.raises(InputError):
        next(person_chunks(store, ["sex"], children={"no_such_table": []}))
    assert _event_count(store) == before  # nothing personal is read, so nothing is audited
    store.dispose()


def _event_count(store: Store) -> int:
    with store.engine.connect() as conn:
        return len(audit.events(conn))
