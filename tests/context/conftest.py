"""Fixtures of the context tests: sample files made from published column layouts."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def mmp_file(reference: Path) -> Path:
    return reference / "context" / "iom_mmp_global_figures_beninbar.csv"


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A registry with 300 synthetic cases (never real people) under this test's TIPSOM_HOME."""
    import base64
    import os

    from tipsom.store.db import Store
    from tipsom.synth.demo import load_demo

    monkeypatch.setenv("TIPSOM_KEY", base64.urlsafe_b64encode(os.urandom(32)).decode())
    store = Store.init()
    load_demo(store, n=300, seed=3)
    yield store
    store.dispose()
