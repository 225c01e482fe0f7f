"""A small casework world on each backend: organisations A, B and C, their workers, and cases of A.

Organisations and accounts are made through the web layer's own functions
(tests may use any layer), cases through the importer from synthetic files.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select, update

from tests.registry_helpers import write_cases
from tipsom.casework.access import Actor
from tipsom.exchange.importer import import_file
from tipsom.store.db import Store
from tipsom.store.tables import REGISTRY
from tipsom.web import organisations
from tipsom.web.accounts import Role, create_user

PASSWORD = "correct horse battery staple 42"
CASES = REGISTRY["case"]


@dataclass
class World:
    store: Store
    a: Actor
    a_super: Actor
    b: Actor
    c: Actor
    case: str
    other_case: str


def build_world(url: str, tmp_path: Path) -> World:
    store = Store.open(url)
    import_file(store, write_cases(tmp_path / "cases.jsonl", 2, seed=11), actor="test")
    with store.begin() as conn:
        for code in ("A", "B", "C"):
            organisations.register(conn, code=f"ORG{code}", name=f"Organisation {code}", org_type="NGO",
                                   jurisdiction="GBR", actor="test")
        case_ids = [r for (r,) in conn.execute(select(CASES.c.id).order_by(CASES.c.id))]
        for cid in case_ids:
            conn.execute(update(CASES).where(CASES.c.id == cid).values(reporting_org="Organisation A",
                                                                       jurisdiction="GBR"))
    for name, org, role in (("a.worker", "A", Role.CASEWORKER), ("a.super", "A", Role.ADMIN),
                            ("b.worker", "B", Role.CASEWORKER), ("c.worker", "C", Role.CASEWORKER)):
        create_user(store, username=name, password=PASSWORD, organisation=f"Organisation {org}", role=role,
                    actor="test")
    return World(store, Actor("a.worker", "ORGA"), Actor("a.super", "ORGA", supervisor=True),
                 Actor("b.worker", "ORGB"), Actor("c.worker", "ORGC"), case_ids[0], case_ids[1])


@pytest.fixture
def world(db_url: str, data_key: str, tmp_path: Path) -> Iterator[World]:
    w = build_world(db_url, tmp_path)
    yield w
    w.store.dispose()
