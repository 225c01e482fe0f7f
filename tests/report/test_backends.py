"""The same report numbers from a PostgreSQL store as from SQLite (the warehouse copies either)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from tests.report.conftest import Built


@pytest.mark.postgres
def test_postgresql_store_gives_the_same_published_tables(built: Built, postgres_server: str,
                                                          tmp_path: Path) -> None:
    import uuid

    from sqlalchemy import create_engine, text

    from tipsom.exchange.importer import import_records
    from tipsom.exchange.native import Record
    from tipsom.report.compute import compute_report
    from tipsom.settings import Settings
    from tipsom.store.db import Store

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = postgres_server.rsplit("/", 1)[0] + f"/{name}"
    settings = Settings(home=tmp_path, key=base64.urlsafe_b64encode(os.urandom(32)).decode(), db_url=url)
    store = Store.init(url, settings=settings)
    try:
        import_records(store, (Record(i, {}, d) for i, d in enumerate(built.documents, start=1)),
                       source="test", actor="test", purpose="report backend test")
        on_postgres = compute_report(store)
    finally:
        store.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    on_sqlite = built.data
    assert set(on_postgres.cubes) == set(on_sqlite.cubes)
    for table, protected in on_sqlite.cubes.items():
        other = on_postgres.cubes[table]
        cells = list(protected.cube.cells())
        assert cells == list(other.cube.cells()), table
        assert [protected.display(k) for k in cells] == [other.display(k) for k in cells], table
    assert on_postgres.sdg == on_sqlite.sdg
    assert on_postgres.fees == on_sqlite.fees
