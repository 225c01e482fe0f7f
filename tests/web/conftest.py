"""Fixtures for the web tests: a seeded store and app per test on each backend, clients, a live server.

Building a store (migrations, synthetic cases, accounts) takes seconds, so it
is done once per backend and each test gets a copy (a copied SQLite file, a
PostgreSQL database made from the seeded one as template): every test runs on
SQLite and on PostgreSQL and sees no other test's writes.
"""

from __future__ import annotations

import base64
import re
import secrets
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from tests.conftest import BACKENDS, postgres_database, skip_if_sqlite_only
from tipsom.settings import Settings
from tipsom.store.db import Store
from tipsom.store.tables import REGISTRY
from tipsom.synth.demo import load_demo
from tipsom.web.accounts import DEMO_OTHER_ORG_USER, DEMO_PASSWORD, ensure_demo_accounts, get_user
from tipsom.web.app import create_app
from tipsom.web.dashboard import ChartCache, Redraw
from tipsom.web.organisations import register_reporting_organisations
from tipsom.web.tables import chart_snapshots

BASE = "https://testserver"


@dataclass
class WebEnv:
    store: Store
    app: FastAPI
    org_a: str
    org_b: str
    case_a: str
    case_b: str


def make_settings(home: Path, *, secure_cookies: bool = True, key: str = "", db_url: str = "") -> Settings:
    """Settings with their own home and (unless given) a fresh data key.

    ``db_url`` is recorded too, so that anything the app opens from its
    settings reaches the same database as the store it was given.
    """
    home.mkdir(parents=True, exist_ok=True)
    key = key or base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    return Settings(home=home, db_url=db_url, key=key, web_cookie_secure=secure_cookies)


def seeded_store(home: Path, *, secure_cookies: bool = True, url: str = "") -> Store:
    """The demo's cases, organisations and accounts, with the unfiltered dashboard already drawn.

    Drawing the dashboard's protected charts takes tens of seconds on a small store (the
    suppression audit's linear programs are the cost), and every copy of this store would
    otherwise redraw it on its first dashboard view. The snapshot is valid in every copy (reads
    and logins leave the data version as it is); tests about drawing clear it first.
    """
    store = Store.init(settings=make_settings(home, secure_cookies=secure_cookies, db_url=url))
    load_demo(store, n=40, seed=5)
    register_reporting_organisations(store, actor="demo")
    ensure_demo_accounts(store)
    ChartCache(Redraw.ON_REQUEST).charts(store, None, None)
    return store


def without_chart_snapshots(store: Store) -> Store:
    """``store`` with no dashboard drawn yet, for tests that count or time drawings."""
    with store.engine.begin() as conn:
        conn.execute(delete(chart_snapshots))
    return store


def env_for(store: Store) -> WebEnv:
    cases = REGISTRY["case"]
    with store.engine.connect() as conn:
        org_a = get_user(conn, username="demo.admin").organisation  # type: ignore[union-attr]
        org_b = get_user(conn, username=DEMO_OTHER_ORG_USER).organisation  # type: ignore[union-attr]
        case_a = conn.scalar(select(cases.c.id).where(cases.c.reporting_org == org_a).order_by(cases.c.id))
        case_b = conn.scalar(select(cases.c.id).where(cases.c.reporting_org == org_b).order_by(cases.c.id))
    return WebEnv(store, create_app(store), org_a, org_b, str(case_a), str(case_b))


@dataclass(frozen=True)
class SeededStore:
    """A store seeded once per backend, left closed so that each test can copy it."""

    backend: str
    url: str
    key: str


@pytest.fixture(scope="session", params=BACKENDS)
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededStore]:
    home = tmp_path_factory.mktemp(f"web-{request.param}") / "var"
    with ExitStack() as cleanup:
        url = ""
        if request.param != "sqlite":
            url = cleanup.enter_context(postgres_database(request.getfixturevalue("postgres_server")))
        store = seeded_store(home, url=url)
        seed = SeededStore(request.param, store.url, store.settings.key)
        store.dispose()  # a template database must have no connections, a copied file no open WAL
        yield seed


@pytest.fixture
def seeded_copy(seeded: SeededStore, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """This test's own copy of the seeded store, on the backend ``seeded`` was built on."""
    skip_if_sqlite_only(request, seeded.backend)
    home = tmp_path / "var"
    with ExitStack() as cleanup:
        if seeded.backend == "sqlite":
            settings = make_settings(home, key=seeded.key)
            source = seeded.url.removeprefix("sqlite:///")
            for suffix in ("", "-wal"):  # a write-ahead log not yet folded in is part of the store
                if Path(source + suffix).exists():
                    shutil.copyfile(source + suffix, settings.home / f"tipsom.db{suffix}")
        else:
            template = seeded.url.rsplit("/", 1)[1]
            url = cleanup.enter_context(postgres_database(request.getfixturevalue("postgres_server"),
                                                          template=template))
            settings = make_settings(home, key=seeded.key, db_url=url)
        store = Store.open(settings=settings)
        cleanup.callback(store.dispose)
        yield store


@pytest.fixture
def web_env(seeded_copy: Store) -> WebEnv:
    return env_for(seeded_copy)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> Any:
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": password, "next": "/cases",
                                       "csrf_token": csrf_of(page.text)}, follow_redirects=False)


@pytest.fixture
def client(web_env: WebEnv) -> Iterator[TestClient]:
    with TestClient(web_env.app, base_url=BASE) as c:
        yield c


def signed_in(web_env: WebEnv, username: str) -> TestClient:
    c = TestClient(web_env.app, base_url=BASE)
    assert login(c, username).status_code == 303
    return c


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    env: WebEnv


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app on a loopback port, served by uvicorn in a thread, for the browser tests."""
    import uvicorn

    env = env_for(seeded_store(tmp_path_factory.mktemp("live") / "var"))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(env.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}", env)
    server.should_exit = True
    thread.join(timeout=10)
