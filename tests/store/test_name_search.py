"""Partial, accent-insensitive name search on keyed tokens: found, kept current, never in clear."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from tests.registry_helpers import csv_rows, write_cases, write_rows
from tipsom.exchange.importer import import_file
from tipsom.store import audit
from tipsom.store.db import Store
from tipsom.store.search import cases_matching_name, refresh_name_index
from tipsom.store.tables import REGISTRY, name_search_person, name_search_token

pytestmark = pytest.mark.usefixtures("data_key")

NAMES = [("José", "Martínez"), ("María", "Núñez"), ("Mario", "Rossi")]


def _write(path: Path, names: list[tuple[str, str]]) -> tuple[Path, list[str]]:
    """Three one-person cases with the given names (the generator's other values kept)."""
    rows = csv_rows(write_cases(path, 12))
    firsts: dict[str, dict[str, str]] = {}
    for r in rows:
        firsts.setdefault(r["case_id"], r)
    chosen = list(firsts.values())[: len(names)]
    for row, (given, family) in zip(chosen, names, strict=True):
        row["given_name"], row["family_name"] = given, family
    write_rows(path, chosen)
    return path, [r["case_id"] for r in chosen]


def _found(store: Store, query: str) -> set[str]:
    refresh_name_index(store, actor="searcher")
    selected = cases_matching_name(store.cipher, query)
    assert selected is not None
    with store.engine.connect() as conn:
        return set(conn.scalars(selected))


@pytest.fixture
def named(tmp_path: Path) -> tuple[Store, list[str], Path]:
    store = Store.init()
    path, ids = _write(tmp_path / "named.csv", NAMES)
    import_file(store, path, actor="loader")
    return store, ids, path


def test_word_beginnings_match_whatever_the_accents_and_capitals(named: tuple[Store, list[str], Path]) -> None:
    store, (jose, maria, mario), _path = named
    assert _found(store, "jose") == {jose}
    assert _found(store, "mar") == {jose, maria, mario}  # Martínez, María, Mario
    assert _found(store, "MARIA nunez") == {maria}
    assert _found(store, "nún") == {maria}
    assert _found(store, "martinez josé") == {jose}
    assert _found(store, "mari ross") == {mario}
    assert _found(store, "jo") == set()  # two letters are too common to index as a beginning
    assert cases_matching_name(store.cipher, "  -  ") is None
    store.dispose()


def test_no_name_or_fragment_is_stored_in_clear(named: tuple[Store, list[str], Path]) -> None:
    store, _ids, _path = named
    refresh_name_index(store, actor="searcher")
    with store.engine.connect() as conn:
        tokens = set(conn.scalars(select(name_search_token.c.token)))
    fragments = {w[:n] for given, family in NAMES for w in (given, family) for n in range(3, len(w) + 1)}
    folded = {f.casefold() for f in fragments} | {"jose", "maria", "nunez", "martinez"}
    assert tokens
    assert all(len(t) == 32 for t in tokens)
    assert not tokens & (fragments | folded)
    database = Path(store.url.removeprefix("sqlite:///")).read_bytes()
    for fragment in folded | fragments:
        assert fragment.encode() not in database
    store.dispose()


def test_the_index_follows_renames_and_removals_and_is_audited(named: tuple[Store, list[str], Path],
                                                              tmp_path: Path) -> None:
    store, (jose, maria, _mario), path = named
    assert refresh_name_index(store, actor="searcher") == len(NAMES)
    assert refresh_name_index(store, actor="searcher") == 0  # nothing changed: nothing decrypted again
    rows = csv_rows(path)
    rows[0]["given_name"] = "Ana"
    import_file(store, write_rows(tmp_path / "renamed.csv", rows), actor="loader")
    assert _found(store, "jose") == set()
    assert _found(store, "ana martinez") == {jose}
    persons = REGISTRY["person"]
    with store.begin() as conn:
        conn.execute(delete(persons).where(persons.c.case_id == maria))
    assert _found(store, "maria") == set()
    with store.engine.connect() as conn:
        indexed = set(conn.scalars(select(name_search_person.c.person_key)))
        events = [e for e in audit.events(conn) if e["purpose"] == "name search index"]
    assert not any(k.startswith(f"{maria}/") for k in indexed)
    assert [json.loads(str(e["detail"]))["persons_indexed"] for e in sorted(events, key=lambda e: int(e["id"]))] \
        == [3, 1]  # the removal decrypted nothing
    assert all(e["actor"] == "searcher" for e in events)
    assert not any(word in str(e["detail"]) for e in events for word in ("José", "Ana", "Mart"))
    store.dispose()


def test_names_emptied_without_a_new_row_hash_leave_no_token(named: tuple[Store, list[str], Path]) -> None:
    store, (jose, _maria, _mario), _path = named
    assert _found(store, "jose") == {jose}
    persons = REGISTRY["person"]
    with store.begin() as conn:  # an erasure that empties the personal columns and nothing else
        conn.execute(update(persons).where(persons.c.case_id == jose).values(given_name_enc=None,
                                                                              family_name_enc=None))
    assert _found(store, "jose") == set()
    with store.engine.connect() as conn:
        left = conn.scalars(select(name_search_token.c.token).where(name_search_token.c.person_key.startswith(jose)))
        assert list(left) == []
    assert refresh_name_index(store, actor="searcher") == 0  # a nameless person is not indexed again and again
    store.dispose()
