"""A small casework world on each backend: organisations A, B and C, their workers, and cases of A.

Organisations and accounts are made through the web layer's own functions
(tests may use any layer), cases through the importer from synthetic files.
"""

from __future__ import annotations

import base64
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text, update

from tests.registry_helpers import write_cases
from tipsom.casework.access import Actor
from tipsom.exchange.importer import import_file
from tipsom.store.db import Store
from tipsom.store.tables import REGISTRY
from tipsom.web import organisations
from tipsom.web.accounts import Role, create_user

PASSWORD = "correct horse battery staple 42"
ACTORS = (Actor("a.worker", "ORGA"), Actor("a.super", "ORGA", supervisor=True), Actor("b.worker", "ORGB"),
          Actor("c.worker", "ORGC"))
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
    store = Store.init(url)
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
    return World(store, *ACTORS, case_ids[0], case_ids[1])


def _template(url: str, base: Path) -> str:
    """Build the world at ``url`` under a fresh key; returns the key."""
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TIPSOM_KEY", key)
        mp.setenv("TIPSOM_HOME", str(base / "home"))
        build_world(url, base).store.dispose()
    return key


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One SQLite world built per session (migrations, import and password hashing take seconds);
    each test works on its own copy of the file."""
    base = tmp_path_factory.mktemp("casework-template")
    return base / "template.db", _template(f"sqlite:///{base / 'template.db'}", base)


@pytest.fixture(scope="session")
def postgres_template(postgres_server: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """The same on PostgreSQL: a template database each test's database is created from."""
    name = "casework_template"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    key = _template(postgres_server.rsplit("/", 1)[0] + f"/{name}", tmp_path_factory.mktemp("casework-pg"))
    return name, key


@pytest.fixture
def world(request: pytest.FixtureRequest, db_url: str, data_key: str, monkeypatch: pytest.MonkeyPatch
          ) -> Iterator[World]:
    if db_url.startswith("sqlite:///"):
        template, key = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, db_url.removeprefix("sqlite:///"))
    else:
        name, key = request.getfixturevalue("postgres_template")
        db_name = db_url.rsplit("/", 1)[1]
        admin = create_engine(request.getfixturevalue("postgres_server"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{db_name}"'))
            conn.execute(text(f'CREATE DATABASE "{db_name}" TEMPLATE "{name}"'))
        admin.dispose()
    monkeypatch.setenv("TIPSOM_KEY", key)
    store = Store.init(db_url)
    with store.engine.connect() as conn:
        first, second = (r for (r,) in conn.execute(select(CASES.c.id).order_by(CASES.c.id)))
    w = World(store, *ACTORS, first, second)
    yield w
    w.store.dispose()
