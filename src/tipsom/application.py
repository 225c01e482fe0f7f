"""The application: the modules that own tables, and where each keeps its migrations.

Each module defines its tables in its own ``tables`` module (on the store's one
``metadata``) and its Alembic revisions in ``<module>/migrations/``; the store
knows neither, so the bottom layer never imports the layers above it. This
module, above every analysis and the web, is the one place that names them all:
for schema checks (migrations equal the table definitions), for Alembic's
autogenerate, and for contributors looking for where a table lives.

The store finds the migration directories by that same convention
(:func:`tipsom.store.db.version_locations`); ``tests/store`` checks that both
agree, so a module with migrations but no entry here (or the reverse) fails.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import MetaData

from tipsom.store.base import metadata as store_metadata
from tipsom.store.db import STORE_VERSIONS

__all__ = ["TABLE_MODULES", "TableModule", "metadata", "migration_locations"]

_ROOT = Path(__file__).resolve().parent


@dataclass(frozen=True)
class TableModule:
    """One module that owns tables: its package, its table definitions and its migration directory."""

    package: str
    tables: str

    @property
    def migrations(self) -> Path:
        """Where this module's Alembic revisions live (the store's own are under ``versions``)."""
        if self.package == "store":
            return STORE_VERSIONS
        return _ROOT / self.package / "migrations"


#: Every module with tables, the store's registry first (every other branch starts at its ``0001``).
TABLE_MODULES = (
    TableModule("store", "tipsom.store.tables"),
    TableModule("evidence", "tipsom.evidence.tables"),
    TableModule("context", "tipsom.context.db"),
    TableModule("web", "tipsom.web.tables"),
    TableModule("casework", "tipsom.casework.tables"),
)


def metadata() -> MetaData:
    """The store's metadata with every module's tables registered on it."""
    for module in TABLE_MODULES:
        importlib.import_module(module.tables)
    return store_metadata


def migration_locations() -> list[Path]:
    """Every module's migration directory, in the order of :data:`TABLE_MODULES`."""
    return [module.migrations for module in TABLE_MODULES]
