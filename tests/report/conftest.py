"""A small synthetic store, its documents, and one report built from it (once per session).

The report module's tests share one build: the statistics, suppression and
rendering are deterministic for a seed, and building once keeps the whole
directory inside its time budget.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

N_CASES = 300
SEED = 11


@dataclass
class Built:
    store: Any
    documents: list[dict[str, Any]]
    out: Path
    data: Any


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    from tipsom.exchange.importer import import_records
    from tipsom.exchange.native import Record
    from tipsom.report.build import build_report
    from tipsom.settings import Settings
    from tipsom.store.db import Store
    from tipsom.synth.cases import CaseGenerator

    home = tmp_path_factory.mktemp("report_home")
    settings = Settings(home=home, key=base64.urlsafe_b64encode(os.urandom(32)).decode(), db_url="")
    store = Store.init(settings.database_url, settings=settings)
    documents = list(CaseGenerator(SEED).cases(N_CASES))
    import_records(store, (Record(i, {}, d) for i, d in enumerate(documents, start=1)),
                   source="test", actor="test", purpose="report tests")
    out = home / "report"
    result = build_report(store, out)
    yield Built(store, documents, out, result.data)
    store.dispose()
