"""Fixtures for evidence tests: a migrated store with cases, and an evidence locker on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tipsom.evidence.locker import EvidenceLocker
from tipsom.store import audit
from tipsom.store.db import Store
from tipsom.store.tables import REGISTRY

CASE_ID = "TIP-2025-0001"


def add_case(engine: Engine, case_id: str) -> None:
    """Insert the minimal registry row evidence needs (cases are the registry's business)."""
    now = audit.now()
    with engine.begin() as conn:
        conn.execute(REGISTRY["case"].insert().values(
            id=case_id, case_type="trafficking", status="open", row_hash="0" * 64,
            created_at=now, updated_at=now,
        ))


@pytest.fixture
def locker() -> Iterator[EvidenceLocker]:
    opened = EvidenceLocker.for_store(Store.init())
    add_case(opened.engine, CASE_ID)
    yield opened
    opened.store.dispose()


@pytest.fixture
def exhibit_files(tmp_path: Path) -> list[Path]:
    """Three small files standing in for a screenshot, a chat export and a receipt."""
    folder = tmp_path / "incoming"
    folder.mkdir()
    files = {
        "ad_screenshot.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
        "chat_export.txt": b"Recruiter: the job in the city pays well, send your passport.\n",
        "receipt.pdf": b"%PDF-1.4\n% transfer receipt\n",
    }
    paths = []
    for name, content in files.items():
        path = folder / name
        path.write_bytes(content)
        paths.append(path)
    return paths
