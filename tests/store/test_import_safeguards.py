"""The writer's safeguards on SQLite and PostgreSQL: format-independent hashes, removals only with replace."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.exchange.helpers import contents
from tests.registry_helpers import write_cases
from tipsom.exchange.importer import ImportFailed, import_file
from tipsom.store.db import Store
from tipsom.store.reader import iter_documents

pytestmark = pytest.mark.usefixtures("data_key")


def _documents(store: Store) -> dict[str, dict[str, Any]]:
    with store.begin() as conn:
        return {d["case_id"]: d for d in iter_documents(conn, store.model, cipher=store.cipher)}


def test_same_cases_in_three_formats_are_unchanged(db_url: str, tmp_path: Path) -> None:
    store = Store.init(db_url)
    first = import_file(store, write_cases(tmp_path / "c.csv", 25), actor="t")
    for suffix in ("jsonl", "xlsx"):
        again = import_file(store, write_cases(tmp_path / f"c.{suffix}", 25), actor="t")
        assert again.written.unchanged == first.written.persons_created
        assert (again.written.persons_updated, again.written.cases_updated) == (0, 0)


def test_removals_need_replace(db_url: str, tmp_path: Path) -> None:
    store = Store.init(db_url)
    src = write_cases(tmp_path / "c.jsonl", 30)
    import_file(store, src, actor="t")
    docs = [json.loads(line) for line in src.read_text(encoding="utf-8").splitlines()]
    person = next(p for d in docs for p in d["persons"] if len(p.get("identifications", [])) >= 1)
    person["identifications"] = []
    several = next(d for d in docs if len(d["persons"]) > 1)
    dropped = several["persons"].pop()
    edited = tmp_path / "edited.jsonl"
    edited.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    before = contents(store)
    with pytest.raises(ImportFailed) as info:
        import_file(store, edited, actor="t")
    assert {p.column for p in info.value.report.problems} == {"identifications", "person_id"}
    assert contents(store) == before
    import_file(store, edited, actor="t", replace=True)
    after = _documents(store)
    assert dropped["person_id"] not in {p["person_id"] for p in after[several["case_id"]]["persons"]}
    assert sum(len(p["identifications"]) for d in after.values() for p in d["persons"]) == sum(
        len(p.get("identifications", [])) for d in docs for p in d["persons"])
