"""Issue 15 finding 10: ``money links`` takes only suspects' phones, as pseudonyms unless asked, in one audit event."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.registry_helpers import csv_rows, write_cases
from tipsom.cli.main import app
from tipsom.exchange.importer import import_file
from tipsom.money.links import IdentifierKind, accounts_to_cases, read_links
from tipsom.store import audit
from tipsom.store.db import Store

pytestmark = pytest.mark.usefixtures("data_key")
runner = CliRunner()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = write_cases(tmp_path / "cases.csv", 40)
    store = Store.init()
    import_file(store, path, actor="tester")
    store.dispose()
    return path


def _link_events() -> list[dict[str, object]]:
    store = Store.init()
    with store.engine.connect() as conn:
        found = [e for e in audit.events(conn) if e["actor"] != "tester"]
    store.dispose()
    return found


def _phones(source: Path, roles: set[str]) -> dict[tuple[str, str], str]:
    return {(r["case_id"], r["person_id"]): r["phone"] for r in csv_rows(source) if r["phone"] and r["role"] in roles}


def test_by_default_only_suspects_are_linked_and_no_phone_number_is_written(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "links.csv"
    result = runner.invoke(app, ["money", "links", "-o", str(out)])
    assert result.exit_code == 0, result.output
    suspects, everyone = _phones(source, {"Suspect"}), _phones(source, {"Victim", "PresumedVictim", "Suspect",
                                                                       "SmuggledMigrant", "Witness", "Other"})
    assert suspects
    assert len(everyone) > len(suspects)
    links = read_links(out)
    assert {(link.case_id, link.person_id) for link in links} == set(suspects)
    assert {link.kind for link in links} == {IdentifierKind.PHONE_PSEUDONYM}
    written = out.read_text(encoding="utf-8")
    assert not [phone for phone in everyone.values() if phone in written]
    events = _link_events()
    assert len(events) == 1
    detail = json.loads(str(events[0]["detail"]))
    assert detail == {"fields": ["pseudo_phone"], "rows": len(suspects), "roles": ["Suspect"], "decrypted": False,
                      "via": "money links"}


def test_pseudonymous_links_still_reach_the_suspects_accounts(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "links.csv"
    assert runner.invoke(app, ["money", "links", "-o", str(out)]).exit_code == 0
    suspects = _phones(source, {"Suspect"})
    (case_person, phone), *_ = suspects.items()
    matched = accounts_to_cases(read_links(out), {phone, "ACC-unrelated"})
    assert matched == {phone: {pair for pair, p in suspects.items() if p == phone}}
    assert case_person in matched[phone]


def test_phone_numbers_only_with_include_personal_and_a_purpose(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "links.csv"
    refused = runner.invoke(app, ["money", "links", "-o", str(out), "--include-personal"])
    assert refused.exit_code == 2
    assert "--purpose" in refused.output
    assert not out.exists()
    assert _link_events() == []
    result = runner.invoke(app, ["money", "links", "-o", str(out), "--include-personal", "--role", "Suspect",
                                 "--role", "Witness", "--purpose", "production order 17/2026"])
    assert result.exit_code == 0, result.output
    wanted = _phones(source, {"Suspect", "Witness"})
    assert {(link.case_id, link.person_id): link.identifier for link in read_links(out)} == wanted
    events = _link_events()
    assert len(events) == 1
    assert events[0]["purpose"] == "production order 17/2026"
    assert json.loads(str(events[0]["detail"]))["fields"] == ["phone"]
    assert json.loads(str(events[0]["detail"]))["rows"] == len(wanted)


def test_an_unknown_role_is_refused(source: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["money", "links", "-o", str(tmp_path / "l.csv"), "--role", "Suspcet"])
    assert result.exit_code == 2
    assert _link_events() == []
