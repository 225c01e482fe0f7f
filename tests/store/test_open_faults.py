"""Opening a store that cannot be one: exit 2, one line saying what is wrong and what to do, nothing written."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from tipsom.cli.main import app
from tipsom.store.base import engine_for
from tipsom.store.db import Store
from tipsom.store.opening import SQLITE_MAGIC

pytestmark = pytest.mark.usefixtures("data_key")
runner = CliRunner()


def _run(command_line: list[str], url: str) -> tuple[int, str]:
    result = runner.invoke(app, [*command_line, "--db", url])
    return result.exit_code, result.stderr


def _stats(url: str) -> tuple[int, str]:
    return _run(["stats"], url)


FILE_SCENARIO = pytest.mark.sqlite_only("a fault of the database file itself (folder, bytes, size, permissions)")


@pytest.fixture
def filled(tmp_path: Path) -> Path:
    """A SQLite store holding 60 synthetic cases, closed and checkpointed."""
    from tipsom.synth.demo import load_demo

    path = tmp_path / "filled.db"
    store = Store.init(f"sqlite:///{path}")
    load_demo(store, n=60, seed=3)
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.dispose()
    return path


def test_unknown_url_scheme(tmp_path: Path) -> None:
    code, err = _stats("nosuch://x")
    assert code == 2
    assert err.strip() == ("tipsom: nosuch://x: not a database URL tipsom can use; give sqlite:///PATH or "
                           "postgresql+psycopg://USER@HOST/NAME (--db or TIPSOM_DB_URL)")


@FILE_SCENARIO
def test_folder_as_database(tmp_path: Path) -> None:
    code, err = _stats(f"sqlite:///{tmp_path}")
    assert code == 2
    assert err.strip() == f"tipsom: {tmp_path}: is a folder, not a database file; give the path of the store's .db file"


@FILE_SCENARIO
@pytest.mark.parametrize("size", [50, 100, 20_000])
def test_random_bytes_as_database_are_left_alone(tmp_path: Path, size: int) -> None:
    path = tmp_path / "random.db"
    content = os.urandom(size)
    path.write_bytes(content)
    code, err = _stats(f"sqlite:///{path}")
    assert code == 2
    assert err.strip() == f"tipsom: {path}: not an SQLite database (not a tipsom store); check --db or TIPSOM_DB_URL"
    assert path.read_bytes() == content


@FILE_SCENARIO
@pytest.mark.parametrize("keep", [0.25, 0.75, 0.99])
def test_truncated_database_is_refused_and_left_as_it_was(filled: Path, keep: float) -> None:
    data = filled.read_bytes()
    cut = filled.with_name("cut.db")
    cut.write_bytes(data[: int(len(data) * keep)])
    before = cut.read_bytes()
    code, err = _stats(f"sqlite:///{cut}")
    assert code == 2
    assert err.strip() == (f"tipsom: {cut}: the database is damaged or cut short (fewer pages than its header "
                           "records); restore it from a backup")
    assert cut.read_bytes() == before
    assert _stats(f"sqlite:///{filled}") == (0, "")


@FILE_SCENARIO
def test_read_only_or_immutable_file(filled: Path) -> None:
    if os.geteuid() == 0:  # root ignores permission bits; the immutable flag binds it
        made = subprocess.run(["chattr", "+i", str(filled)], capture_output=True, check=False)
        if made.returncode != 0:
            pytest.skip("chattr +i is not available here")
    else:
        filled.chmod(0o444)
    try:
        code, err = _stats(f"sqlite:///{filled}")
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(filled)], check=True)
    assert code == 2
    assert err.strip() == (f"tipsom: {filled}: the store is read-only (permissions or an immutable flag); tipsom "
                           "writes its audit log and journal there: copy it somewhere writable or restore write "
                           "access")


def _tables(url: str) -> set[str]:
    engine = engine_for(url)  # a bare engine: the store's own open would refuse the damage under test
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize("damage", ["DROP TABLE alembic_version", "DELETE FROM alembic_version"])
def test_data_without_schema_record_is_refused_and_no_table_created(db_url: str, damage: str) -> None:
    Store.init(db_url).dispose()
    store = Store.open(db_url)
    with store.engine.begin() as conn:
        conn.execute(text(damage))
    store.dispose()
    before = _tables(db_url)
    code, err = _stats(db_url)
    assert code == 2
    assert "but no record of its schema version (alembic_version is missing or empty); tipsom will not create " \
           "tables over existing data: restore the store from a backup" in err
    assert len(err.strip().splitlines()) == 1
    assert _tables(db_url) == before


def test_store_from_a_newer_tipsom(db_url: str) -> None:
    Store.init(db_url).dispose()
    store = Store.open(db_url)
    with store.engine.begin() as conn:
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('future_0001')"))
    store.dispose()
    code, err = _stats(db_url)
    assert code == 2
    assert err.strip().endswith(": this store was written by a newer tipsom (schema revision 'future_0001' is "
                                "unknown here); upgrade tipsom before opening it")


def test_healthy_store_opens_and_an_empty_file_is_refused_until_init(filled: Path, tmp_path: Path) -> None:
    assert filled.read_bytes().startswith(SQLITE_MAGIC)
    code, _ = _stats(f"sqlite:///{filled}")
    assert code == 0
    empty = tmp_path / "empty.db"
    empty.touch()
    code, err = _stats(f"sqlite:///{empty}")
    assert code == 2
    assert err.strip() == (f"tipsom: {empty}: no tipsom store here; run 'tipsom init' to create it, or check "
                           "--db or TIPSOM_DB_URL")
    assert empty.read_bytes() == b""
    assert runner.invoke(app, ["init", "--db", f"sqlite:///{empty}"]).exit_code == 0
    assert _stats(f"sqlite:///{empty}")[0] == 0
    assert empty.read_bytes().startswith(SQLITE_MAGIC)


@FILE_SCENARIO
def test_missing_file_is_refused_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "tipsom.db"
    code, err = _stats(f"sqlite:///{missing}")
    assert code == 2
    assert "no tipsom store here; run 'tipsom init' to create it" in err
    assert not missing.parent.exists()


def _schema(url: str) -> tuple[set[str], set[str]]:
    """The table names and the recorded revisions, read with a bare engine."""
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            versions = ({str(v) for v in conn.execute(text("SELECT version_num FROM alembic_version")).scalars()}
                        if "alembic_version" in tables else set())
        return tables, versions
    finally:
        engine.dispose()


def test_database_without_tables_is_refused_until_init(db_url: str) -> None:
    engine = engine_for(db_url)
    with engine.connect():  # SQLite makes an empty file; PostgreSQL's database is there already
        pass
    engine.dispose()
    code, err = _stats(db_url)
    assert code == 2
    assert "run 'tipsom init' to create it, or check --db or TIPSOM_DB_URL" in err
    assert len(err.strip().splitlines()) == 1
    assert _schema(db_url) == (set(), set())


def test_older_store_is_refused_untouched_until_init_upgrades_it(db_url: str) -> None:
    from alembic import command

    from tipsom.store.db import alembic_config

    engine = engine_for(db_url)  # a store an older tipsom wrote: the store's first revision only
    with engine.begin() as conn:
        cfg = alembic_config(db_url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    engine.dispose()
    before = _schema(db_url)
    path = Path(db_url.removeprefix("sqlite:///")) if db_url.startswith("sqlite:///") else None
    content = path.read_bytes() if path else b""
    for command_line in (["stats"], ["audit", "verify"]):
        code, err = _run(command_line, db_url)
        assert code == 2, (command_line, err)
        assert err.strip().endswith(": the store was written by an older tipsom and its schema is not upgraded "
                                    "yet; back it up, then run 'tipsom init' to upgrade it"), err
    assert _schema(db_url) == before == (before[0], {"0001"})
    if path:
        assert path.read_bytes() == content
    assert runner.invoke(app, ["init", "--db", db_url]).exit_code == 0
    assert _stats(db_url)[0] == 0
    assert len(_schema(db_url)[1]) > 1
