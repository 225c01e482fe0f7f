"""Each module keeps its own migrations; stores made when they all lived in the store still open."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from tipsom.application import TABLE_MODULES, metadata, migration_locations
from tipsom.store.db import MIGRATIONS, Store, alembic_config, version_locations

pytestmark = pytest.mark.usefixtures("data_key")


def _heads(url: str) -> set[str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        heads = {str(v) for v in conn.execute(text("SELECT version_num FROM alembic_version")).scalars()}
    engine.dispose()
    return heads


def test_the_store_finds_exactly_the_migration_directories_the_application_lists() -> None:
    assert sorted(version_locations()) == sorted(migration_locations())
    for module in TABLE_MODULES:
        assert any(module.migrations.glob("*.py")), f"{module.package} lists no migrations"


def test_a_store_created_with_every_migration_in_the_store_upgrades_cleanly(tmp_path: Path) -> None:
    # The layout before each module owned its migrations: one script directory holding every revision.
    old = tmp_path / "old_migrations"
    shutil.copytree(MIGRATIONS, old, ignore=shutil.ignore_patterns("versions", "__pycache__"))
    (old / "versions").mkdir()
    for location in version_locations():
        for revision in location.glob("*.py"):
            shutil.copy(revision, old / "versions" / revision.name)
    url = f"sqlite:///{tmp_path / 'old.db'}"
    cfg = Config()
    cfg.set_main_option("script_location", str(old))
    cfg.set_main_option("sqlalchemy.url", url)
    command.upgrade(cfg, "heads")
    before = _heads(url)
    # the same revision ids: the old heads are the new layout's heads, so nothing is left to run
    assert before == set(ScriptDirectory.from_config(alembic_config(url)).get_heads())

    store = Store.init(url)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata())
    store.dispose()
    assert diff == []
    assert _heads(url) == before


def test_the_graph_opening_reads_from_the_files_is_alembics() -> None:
    from tipsom.store.opening import migration_graph

    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    graph = migration_graph()
    assert graph.known == {r.revision for r in scripts.walk_revisions()}
    assert graph.heads == set(scripts.get_heads())
    assert len(graph.heads) > 1  # several module branches: a graph read wrong would show one
