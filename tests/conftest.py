"""Fixtures shared by every module's tests.

Heavy services (Spark, Chromium, PostgreSQL) are started once per test session
and shared, so the whole suite stays inside its time budget.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
if not REFERENCE.exists():  # CI clones main beside a copy of shared/
    REFERENCE = Path(os.environ.get("TIPSOM_REFERENCE", "/work/shared/reference"))


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
    from tipsom.sparkutil import local_spark

    session = local_spark()
    yield session
    session.stop()


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
