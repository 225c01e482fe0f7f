"""Fixtures for the web tests: one seeded store and app per session, clients, a live server.

Building a store (migrations, synthetic cases, accounts) takes seconds, so it
is done once; tests that change state use their own users or cases.
"""

from __future__ import annotations

import base64
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from tipsom.settings import Settings
from tipsom.store.db import Store
from tipsom.store.tables import REGISTRY
from tipsom.synth.demo import load_demo
from tipsom.web.accounts import DEMO_OTHER_ORG_USER, DEMO_PASSWORD, ensure_demo_accounts, get_user
from tipsom.web.app import create_app
from tipsom.web.organisations import register_reporting_organisations

BASE = "https://testserver"


@dataclass
class WebEnv:
    store: Store
    app: FastAPI
    org_a: str
    org_b: str
    case_a: str
    case_b: str


def make_settings(home: Path, *, secure_cookies: bool = True) -> Settings:
    home.mkdir(parents=True, exist_ok=True)
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    return Settings(home=home, db_url="", key=key, web_cookie_secure=secure_cookies)


def seeded_store(home: Path, *, secure_cookies: bool = True) -> Store:
    store = Store.open(settings=make_settings(home, secure_cookies=secure_cookies))
    load_demo(store, n=40, seed=5)
    register_reporting_organisations(store, actor="demo")
    ensure_demo_accounts(store)
    return store


def env_for(store: Store) -> WebEnv:
    cases = REGISTRY["case"]
    with store.engine.connect() as conn:
        org_a = get_user(conn, username="demo.admin").organisation  # type: ignore[union-attr]
        org_b = get_user(conn, username=DEMO_OTHER_ORG_USER).organisation  # type: ignore[union-attr]
        case_a = conn.scalar(select(cases.c.id).where(cases.c.reporting_org == org_a).order_by(cases.c.id))
        case_b = conn.scalar(select(cases.c.id).where(cases.c.reporting_org == org_b).order_by(cases.c.id))
    return WebEnv(store, create_app(store), org_a, org_b, str(case_a), str(case_b))


@pytest.fixture(scope="session")
def web_env(tmp_path_factory: pytest.TempPathFactory) -> WebEnv:
    return env_for(seeded_store(tmp_path_factory.mktemp("web") / "var"))


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
