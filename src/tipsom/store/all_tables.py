"""Every module's tables on the one metadata, for Alembic and schema checks.

A module with tables adds its ``tables`` import here; the migration test then
fails until a migration creates them.
"""

from __future__ import annotations

import tipsom.store.tables
import tipsom.web.tables  # noqa: F401  (web accounts, sessions, API tokens, case shares)
from tipsom.store.base import metadata

__all__ = ["metadata"]
