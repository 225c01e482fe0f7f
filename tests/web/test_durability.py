"""Saved cases survive other processes reading the store while ``tipsom serve`` runs (issue 14, section 1).

The scenario is the one that lost data: the real server (a subprocess, as an
administrator starts it) draws the dashboard in the background, a caseworker
saves case A in the web form, ``tipsom user list`` runs in another process,
case B is saved. Both cases and their audit events must then be visible to
another process, and still there after the server is restarted. Before the
fix, the dashboard's DuckDB ``sqlite_scanner`` closed a second SQLite copy's
handle on the store, which dropped the server's locks; ``user list`` then
deleted the WAL the server kept writing into, and case B vanished.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import _free_port
from tests.web.conftest import csrf_of
from tipsom.store.db import Store
from tipsom.store.tables import REGISTRY, audit_log
from tipsom.synth.demo import load_demo
from tipsom.web.organisations import register_reporting_organisations
from tipsom.web.tables import chart_snapshots

PASSWORD = "a long test password"
TIPSOM = [sys.executable, "-m", "tipsom.cli.main"]
START_TIMEOUT = 180.0


def _environment(db_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(TIPSOM_DB_URL=db_url, TIPSOM_WEB_COOKIE_SECURE="false", TIPSOM_ACTOR="durability-test")
    return env


def _tipsom(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*TIPSOM, *args], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@contextmanager
def _server(env: dict[str, str], log: Path) -> Iterator[str]:
    """``tipsom serve`` on a free loopback port, stopped as an administrator would (SIGTERM)."""
    port = _free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen([*TIPSOM, "serve", "--port", str(port)], env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/login", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "tipsom serve did not start"
            time.sleep(0.2)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_for_dashboard(db_url: str) -> None:
    """Until the server's background drawing has kept its charts (it reads the whole store for them)."""
    deadline = time.monotonic() + START_TIMEOUT
    store = Store.open(db_url)
    try:
        while True:
            with store.engine.connect() as conn:
                if conn.scalar(select(func.count()).select_from(chart_snapshots)):
                    return
            assert time.monotonic() < deadline, "the dashboard was never drawn"
            time.sleep(0.2)
    finally:
        store.dispose()


def _signed_in(url: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=120, follow_redirects=True)
    page = client.get("/login")
    answer = client.post("/login", data={"username": username, "password": PASSWORD, "next": "/cases",
                                         "csrf_token": csrf_of(page.text)})
    assert answer.status_code == 200, answer.text[-500:]
    assert "/login" not in str(answer.url), "login refused"
    return client


def _save_case(client: httpx.Client) -> str:
    page = client.get("/cases/new")
    found = re.search(r'name="c.case_id" value="([^"]+)"', page.text)
    assert found, page.text[-500:]
    case_id = found.group(1)
    saved = client.post("/cases/new", data={
        "csrf_token": csrf_of(page.text), "action": "save", "c.case_id": case_id, "c.case_type": "SOM",
        "p0.__present": "1", "p0.person_id": "P1", "p0.role": "SmuggledMigrant", "p0.age": "30"})
    assert saved.status_code == 200, saved.text[-1000:]
    assert "The case was saved." in saved.text
    # the form proposes a local id; the store keeps it under the organisation's code (the case page's URL)
    stored = unquote(saved.url.path.rsplit("/", 1)[-1])
    assert stored.endswith(f".{case_id}"), saved.url
    return stored


def _stored(db_url: str, case_ids: list[str]) -> dict[str, str]:
    """Case id -> actor of the audit event that created it, for the cases another process (this one) finds."""
    cases = REGISTRY["case"]
    store = Store.open(db_url)
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(select(cases.c.id, audit_log.c.actor)
                                .join(audit_log, audit_log.c.id == cases.c.created_by_event, isouter=True)
                                .where(cases.c.id.in_(case_ids)))
            return {row.id: row.actor for row in rows}
    finally:
        store.dispose()


@pytest.mark.slow
def test_cases_saved_on_the_web_survive_other_processes_and_a_restart(
        db_url: str, data_key: str, tmp_path: Path) -> None:
    seeded = Store.init(db_url)
    load_demo(seeded, n=30, seed=5)
    register_reporting_organisations(seeded, actor="demo")
    seeded.dispose()  # this process holds no connection while the server runs, as in the report
    env = _environment(db_url)
    _tipsom(env, "user", "add", "durable.caseworker", "--org", "Shelter NGO", "--role", "caseworker",
            "--password", PASSWORD)
    log = tmp_path / "serve.log"

    with _server(env, log) as url:
        _wait_for_dashboard(db_url)
        client = _signed_in(url, "durable.caseworker")
        case_a = _save_case(client)
        assert "durable.caseworker" in _tipsom(env, "user", "list")
        case_b = _save_case(client)
        seen_live = _stored(db_url, [case_a, case_b])
    seen_stopped = _stored(db_url, [case_a, case_b])

    both_audited = {case_a: "durable.caseworker", case_b: "durable.caseworker"}
    assert seen_live == both_audited
    assert seen_stopped == both_audited
    with _server(env, log) as url:
        client = _signed_in(url, "durable.caseworker")
        for case_id in (case_a, case_b):
            page = client.get(f"/cases/{case_id}")
            assert page.status_code == 200
            assert case_id in page.text
