"""Need-to-know: which cases a user may see, on top of what their role allows.

A role says what kind of work a user does; need-to-know says on which cases.
A user sees the cases their organisation reports and the cases another
organisation shared with it; nothing else, whatever the role. A viewer sees
aggregates only. Every refusal of a case is written to the audit log, so
probing for other organisations' cases leaves a trace.
"""

from __future__ import annotations

import enum

from sqlalchemy import ColumnElement, Connection, insert, or_, select

from tipsom.store import audit
from tipsom.store.db import Store
from tipsom.store.tables import REGISTRY
from tipsom.web.accounts import Permission, User
from tipsom.web.tables import case_shares

CASES = REGISTRY["case"]


class CaseAccess(enum.Enum):
    ALLOWED = "allowed"
    NOT_FOUND = "not_found"
    #: The case exists but belongs to another organisation and was not shared.
    FORBIDDEN = "forbidden"
    #: The user's role gives no access to individual cases at all.
    ROLE_FORBIDS = "role_forbids"


def visible_to(user: User) -> ColumnElement[bool]:
    """SQL condition on ``cases`` selecting the cases ``user`` may see."""
    shared = select(case_shares.c.case_id).where(case_shares.c.organisation == user.organisation)
    return or_(CASES.c.reporting_org == user.organisation, CASES.c.id.in_(shared))


def case_access(conn: Connection, user: User, case_id: str, *, need: Permission = Permission.VIEW_CASES,
                purpose: str = "open case") -> CaseAccess:
    """Decide access to one case; a refusal of an existing case is audited on ``conn``."""
    if not user.can(need):
        decision = CaseAccess.ROLE_FORBIDS
    else:
        row = conn.execute(select(CASES.c.id, CASES.c.reporting_org).where(CASES.c.id == case_id)).first()
        if row is None:
            return CaseAccess.NOT_FOUND
        if row.reporting_org == user.organisation:
            return CaseAccess.ALLOWED
        shared = conn.execute(select(case_shares.c.id).where(
            case_shares.c.case_id == case_id, case_shares.c.organisation == user.organisation)).first()
        if shared is not None:
            return CaseAccess.ALLOWED
        decision = CaseAccess.FORBIDDEN
    audit.record(conn, actor=user.username, action=audit.AuditAction.DENIED, entity="case", entity_id=case_id,
                 purpose=purpose, detail={"reason": decision.value, "organisation": user.organisation,
                                          "permission": str(need)})
    return decision


def check_case(store: Store, user: User, case_id: str, *, need: Permission = Permission.VIEW_CASES,
               purpose: str = "open case") -> CaseAccess:
    """:func:`case_access` in its own transaction (so the refusal is committed)."""
    with store.begin() as conn:
        return case_access(conn, user, case_id, need=need, purpose=purpose)


def shares_of(conn: Connection, case_id: str) -> list[str]:
    q = select(case_shares.c.organisation).where(case_shares.c.case_id == case_id).order_by(
        case_shares.c.organisation)
    return [r[0] for r in conn.execute(q)]


def share_case(store: Store, user: User, case_id: str, organisation: str) -> bool:
    """Share a case with another organisation; only its owner organisation may share it."""
    organisation = organisation.strip()
    if not organisation or not user.can(Permission.SHARE_CASES):
        return False
    with store.begin() as conn:
        owner = conn.scalar(select(CASES.c.reporting_org).where(CASES.c.id == case_id))
        if owner != user.organisation or organisation == owner:
            return False
        if organisation in shares_of(conn, case_id):
            return True
        conn.execute(insert(case_shares).values(case_id=case_id, organisation=organisation,
                                                shared_by=user.username, created_at=audit.now()))
        audit.record(conn, actor=user.username, action=audit.AuditAction.UPDATE, entity="case",
                     entity_id=case_id, purpose="share case", detail={"shared_with": organisation})
    return True
