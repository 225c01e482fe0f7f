"""Every module's tables on the one metadata, for Alembic and schema checks.

A module with tables adds its ``tables`` import here and one migration (its own
branch after ``0001``); the migration test fails until both are done.
"""

from __future__ import annotations

# Imported for their side effect: each module registers its tables on the metadata.
import tipsom.casework.tables
import tipsom.context.db
import tipsom.evidence.tables
import tipsom.store.tables
import tipsom.web.tables  # noqa: F401  (each import binds `tipsom`; only the last is flagged)
from tipsom.store.base import metadata

__all__ = ["metadata"]
