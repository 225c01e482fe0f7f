"""The audit log: who did what to which record, when, and why.

Every create, update and delete, and every read of personal data, leaves a row.
Bulk imports log one event per run; each created record points back to it
(``created_by_event``), so a record's origin is always answerable.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, insert, select

from tipsom.store.tables import audit_log


class AuditAction(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    READ = "read"
    IMPORT = "import"
    EXPORT = "export"
    DENIED = "denied"
    LOGIN = "login"


def now() -> dt.datetime:
    """UTC now without tzinfo (portable across SQLite and PostgreSQL columns)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def record(
    conn: Connection,
    *,
    actor: str,
    action: AuditAction,
    entity: str,
    purpose: str,
    entity_id: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> int:
    """Append one audit event inside the caller's transaction; returns its id."""
    if not purpose.strip():
        raise ValueError("an audit event needs a stated purpose")
    result = conn.execute(
        insert(audit_log).values(
            at=now(), actor=actor, action=str(action), entity=entity, entity_id=entity_id,
            purpose=purpose, detail=json.dumps(dict(detail), default=str, sort_keys=True) if detail else None,
        )
    )
    pk = result.inserted_primary_key
    assert pk is not None
    return int(pk[0])


def events(conn: Connection, *, entity_id: str | None = None, actor: str | None = None,
           action: AuditAction | None = None, limit: int = 1000) -> list[dict[str, Any]]:
    """Recent events, newest first, optionally filtered."""
    q = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if entity_id is not None:
        q = q.where(audit_log.c.entity_id == entity_id)
    if actor is not None:
        q = q.where(audit_log.c.actor == actor)
    if action is not None:
        q = q.where(audit_log.c.action == str(action))
    return [dict(r._mapping) for r in conn.execute(q)]
