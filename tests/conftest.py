"""Fixtures shared by every module's tests.

Heavy services (Spark, Chromium, PostgreSQL) are started once per test session
and shared, so the whole suite stays inside its time budget.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tipsom.settings import get_settings

#: TIPSOM_REFERENCE_PATH, else ``shared/reference`` beside the checkout (see ``Settings.reference_dir``).
REFERENCE = get_settings().reference_dir


@pytest.fixture(scope="session")
def reference() -> Path:
    """The read-only public reference material in ``../shared/reference``."""
    assert REFERENCE.exists(), f"reference material not found at {REFERENCE}"
    return REFERENCE


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own TIPSOM_HOME, so no test touches ./var."""
    home = tmp_path / "var"
    home.mkdir()
    monkeypatch.setenv("TIPSOM_HOME", str(home))
    monkeypatch.delenv("TIPSOM_DB_URL", raising=False)
    monkeypatch.delenv("TIPSOM_KEY", raising=False)
    monkeypatch.delenv("TIPSOM_VAULT", raising=False)
    return home


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark session for the whole run (start-up costs 5-30 s)."""
    from tipsom.core.engines import local_spark

    session = local_spark()
    yield session
    session.stop()


@pytest.fixture
def engine_session(engine: Any, request: pytest.FixtureRequest) -> Any:
    """For a test run ``@over_engines`` (``tests/engines.py``): the shared Spark session on Spark, else None."""
    from tipsom.core.engines import Engine

    return request.getfixturevalue("spark") if engine is Engine.SPARK else None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright, with no network beyond loopback."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    profile = tempfile.mkdtemp(prefix="tipsom-chromium-")
    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=chromium,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()
    shutil.rmtree(profile, ignore_errors=True)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bindir() -> Path:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not candidates:
        raise RuntimeError("PostgreSQL binaries not found: run `make system-deps` (apt-get install postgresql-15)")
    return candidates[-1].parent


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL server on loopback, started from its binaries.

    initdb and postgres refuse to run as root, so as root the server runs as the
    ``postgres`` system user (created by Debian's package) in a directory it owns.
    Yields a SQLAlchemy URL of the maintenance database.
    """
    import subprocess

    bindir = _pg_bindir()
    base = Path(tempfile.mkdtemp(prefix="tipsom-pg-"))
    as_root = os.geteuid() == 0
    if as_root:
        shutil.chown(base, "postgres", "postgres")

    def run(*args: str) -> None:
        cmd = ["runuser", "-u", "postgres", "--", *args] if as_root else list(args)
        subprocess.run(cmd, check=True, capture_output=True, text=True)

    data = base / "data"
    run(str(bindir / "initdb"), "-D", str(data), "-U", "tipsom", "--auth=trust", "-E", "UTF8", "--no-sync")
    port = _free_port()
    opts = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"), "-o", opts, "-w", "start")
    try:
        yield f"postgresql+psycopg://tipsom@127.0.0.1:{port}/postgres"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(base, ignore_errors=True)


#: The two database backends a store or web test runs on; PostgreSQL runs carry the ``postgres`` mark.
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def skip_if_sqlite_only(request: pytest.FixtureRequest, backend: str) -> None:
    """Skip a PostgreSQL run of a test marked ``sqlite_only``, giving the mark's reason."""
    marker = request.node.get_closest_marker("sqlite_only")
    if backend != "sqlite" and marker is not None:
        pytest.skip(f"SQLite only: {marker.args[0] if marker.args else 'scenario about the SQLite file'}")


@contextmanager
def postgres_database(server: str, *, template: str = "") -> Iterator[str]:
    """A database of its own on the throwaway server, dropped afterwards (even with connections left open).

    With ``template`` the new database is a file-level copy of that one
    (``CREATE DATABASE … TEMPLATE``): a store migrated and seeded once is
    cloned for each test in a fraction of the time seeding takes.
    """
    import uuid

    from sqlalchemy import create_engine, text

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on each backend: the same test runs on both."""
    skip_if_sqlite_only(request, request.param)
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    with postgres_database(request.getfixturevalue("postgres_server")) as url:
        yield url


@pytest.fixture
def initialised_store(_isolated_home: Path) -> Path:
    """The store under this test's TIPSOM_HOME, created as ``tipsom init`` creates it (the schema; no data key).

    Commands refuse a store that ``tipsom init`` has not made, so a test that
    runs commands on a fresh home asks for this first. Returns the home.
    """
    from tipsom.store.db import Store

    Store.init().dispose()
    return _isolated_home


@pytest.fixture
def data_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh data key in TIPSOM_KEY."""
    import base64
    import secrets

    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    monkeypatch.setenv("TIPSOM_KEY", key)
    return key
