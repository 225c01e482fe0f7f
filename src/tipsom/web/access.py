"""Need-to-know: which cases a user may see and do what with, on top of what their role allows.

A role says what kind of work a user does; need-to-know says on which cases.
A user sees the cases their organisation reports and the cases another
organisation shared with it, within the share's scope and until it ends or
is revoked; nothing else, whatever the role. A viewer sees aggregates only.

A case the user may not see answers exactly like a case that does not exist,
so no one can probe which identifiers other organisations hold; the refusal
is still written to the audit log, so probing leaves a trace.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, and_, insert, or_, select, update

from tipsom.core.errors import InputError
from tipsom.store import audit
from tipsom.store.db import Store
from tipsom.store.tables import REGISTRY
from tipsom.web import organisations
from tipsom.web.accounts import Permission, User
from tipsom.web.tables import case_shares

CASES = REGISTRY["case"]


class CaseAccess(enum.Enum):
    ALLOWED = "allowed"
    #: No such case, or one of another organisation that was not shared: the caller cannot tell which.
    NOT_FOUND = "not_found"
    #: The case is visible (own or shared) but the share's scope does not allow this.
    FORBIDDEN = "forbidden"
    #: The user's role gives no access to individual cases at all.
    ROLE_FORBIDS = "role_forbids"


class ShareScope(enum.StrEnum):
    """How far a share lets the receiving organisation in."""

    #: Read the case, persons pseudonymised; personal data is never revealed.
    SUMMARY = "summary"
    #: Also reveal persons' personal data, one person at a time with a stated purpose.
    PERSONAL = "personal"
    #: Also change the case (never remove its owner's shares or share it onwards).
    EDIT = "edit"

    def allows(self, need: Permission) -> bool:
        granted = {ShareScope.SUMMARY: {Permission.VIEW_CASES},
                   ShareScope.PERSONAL: {Permission.VIEW_CASES, Permission.VIEW_PERSONAL},
                   ShareScope.EDIT: {Permission.VIEW_CASES, Permission.VIEW_PERSONAL, Permission.EDIT_CASES}}
        return need in granted[self]


def _active_share() -> ColumnElement[bool]:
    today = dt.date.today()
    return and_(case_shares.c.revoked_at.is_(None),
                or_(case_shares.c.ends_on.is_(None), case_shares.c.ends_on >= today))


def visible_to(user: User) -> ColumnElement[bool]:
    """SQL condition on ``cases`` selecting the cases ``user`` may see."""
    shared = select(case_shares.c.case_id).where(case_shares.c.organisation == user.organisation, _active_share())
    return or_(CASES.c.reporting_org == user.organisation, CASES.c.id.in_(shared))


def _decide(conn: Connection, user: User, case_id: str, need: Permission) -> tuple[CaseAccess, str]:
    """The decision and its true reason (for the audit log, never for the caller)."""
    if not user.can(need):
        return CaseAccess.ROLE_FORBIDS, "role"
    owner = conn.scalar(select(CASES.c.reporting_org).where(CASES.c.id == case_id))
    if owner is None:
        return CaseAccess.NOT_FOUND, "no such case"
    if owner == user.organisation:
        return CaseAccess.ALLOWED, ""
    scope = conn.scalar(select(case_shares.c.scope).where(
        case_shares.c.case_id == case_id, case_shares.c.organisation == user.organisation, _active_share()))
    if scope is None:
        return CaseAccess.NOT_FOUND, "another organisation's case, not shared"
    if ShareScope(scope).allows(need):
        return CaseAccess.ALLOWED, ""
    return CaseAccess.FORBIDDEN, f"share scope {scope}"


def decide(conn: Connection, user: User, case_id: str, need: Permission) -> CaseAccess:
    """The decision alone, not audited: for showing or hiding a page's controls."""
    return _decide(conn, user, case_id, need)[0]


def case_access(conn: Connection, user: User, case_id: str, *, need: Permission = Permission.VIEW_CASES,
                purpose: str = "open case") -> CaseAccess:
    """Decide access to one case; every refusal is audited on ``conn`` (with its true reason)."""
    decision, reason = _decide(conn, user, case_id, need)
    if decision is not CaseAccess.ALLOWED:
        audit.record(conn, actor=user.username, action=audit.AuditAction.DENIED, entity="case", entity_id=case_id,
                     purpose=purpose, detail={"reason": reason, "answer": decision.value,
                                              "organisation": user.organisation, "permission": str(need)})
    return decision


def check_case(store: Store, user: User, case_id: str, *, need: Permission = Permission.VIEW_CASES,
               purpose: str = "open case") -> CaseAccess:
    """:func:`case_access` in its own transaction (so the refusal is committed)."""
    with store.begin() as conn:
        return case_access(conn, user, case_id, need=need, purpose=purpose)


@dataclass(frozen=True)
class Share:
    organisation: str
    scope: ShareScope
    ends_on: dt.date | None
    shared_by: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None and (self.ends_on is None or self.ends_on >= dt.date.today())


def shares_of(conn: Connection, case_id: str) -> list[Share]:
    """Every share of a case, revoked and ended ones included (the owner's record of who had access)."""
    q = select(case_shares).where(case_shares.c.case_id == case_id).order_by(case_shares.c.organisation)
    return [Share(r.organisation, ShareScope(r.scope), r.ends_on, r.shared_by, r.created_at, r.revoked_at)
            for r in conn.execute(q)]


def _audit_share(conn: Connection, user: User, case_id: str, step: str, recipient: str, **detail: object) -> None:
    """One event for each side: the owner's record and the recipient's (both name the case)."""
    for side, organisation in (("owner", user.organisation), ("recipient", recipient)):
        audit.record(conn, actor=user.username, action=audit.AuditAction.UPDATE, entity="case_share",
                     entity_id=case_id, purpose=f"{step} case share",
                     detail={"side": side, "organisation": organisation, "owner": user.organisation,
                             "recipient": recipient, **detail})


def share_case(store: Store, user: User, case_id: str, recipient_code: str, scope: ShareScope,
               ends_on: dt.date | None = None) -> Share:
    """Share a case with a registered organisation (or change an existing share's scope or end date).

    Only the owning organisation shares, and only with an organisation in the
    registry, so a typo or an invented name cannot receive a victim's file.
    """
    if ends_on is not None and ends_on < dt.date.today():
        raise InputError("the end date is in the past", field="ends_on")
    with store.begin() as conn:
        if case_access(conn, user, case_id, need=Permission.SHARE_CASES, purpose="share case") \
                is not CaseAccess.ALLOWED or conn.scalar(select(CASES.c.reporting_org)
                                                         .where(CASES.c.id == case_id)) != user.organisation:
            raise PermissionError("only the owning organisation shares a case")
        recipient = organisations.find(conn, code=recipient_code.strip().upper())
        if recipient is None:
            raise InputError("not a registered organisation", field="organisation")
        if recipient.name == user.organisation:
            raise InputError("the case already belongs to this organisation", field="organisation")
        at = audit.now()
        values = {"scope": str(scope), "ends_on": ends_on, "revoked_at": None, "revoked_by": None,
                  "shared_by": user.username, "created_at": at}
        existing = conn.scalar(select(case_shares.c.id).where(case_shares.c.case_id == case_id,
                                                              case_shares.c.organisation == recipient.name))
        if existing is None:
            conn.execute(insert(case_shares).values(case_id=case_id, organisation=recipient.name, **values))
        else:
            conn.execute(update(case_shares).where(case_shares.c.id == existing).values(**values))
        _audit_share(conn, user, case_id, "grant", recipient.name, scope=str(scope),
                     ends_on=ends_on.isoformat() if ends_on else None)
    return Share(recipient.name, scope, ends_on, user.username, at, None)


def revoke_share(store: Store, user: User, case_id: str, recipient_code: str) -> bool:
    """End a share at once; the row is kept so the owner can still see who had access and until when."""
    with store.begin() as conn:
        owner = conn.scalar(select(CASES.c.reporting_org).where(CASES.c.id == case_id))
        if owner != user.organisation or not user.can(Permission.SHARE_CASES):
            raise PermissionError("only the owning organisation revokes a share")
        recipient = organisations.find(conn, code=recipient_code.strip().upper())
        if recipient is None:
            return False
        done = conn.execute(update(case_shares).where(
            case_shares.c.case_id == case_id, case_shares.c.organisation == recipient.name,
            case_shares.c.revoked_at.is_(None)).values(revoked_at=audit.now(), revoked_by=user.username)).rowcount
        if done:
            _audit_share(conn, user, case_id, "revoke", recipient.name)
    return bool(done)
