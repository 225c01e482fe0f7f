"""Administration pages: the audit log, accounts and (for the installation) organisations.

Each organisation's administrator sees and manages its own organisation
only; the installation administrator registers organisations and their
administrators and reads security events stripped of case and person details.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import ColumnElement, and_, func, or_, select

from tipsom.core.errors import InputError
from tipsom.store import audit
from tipsom.store.tables import PERSON_KEY, REGISTRY, audit_log
from tipsom.web import accounts, casework, organisations
from tipsom.web.accounts import AccountError, Permission, Role, User
from tipsom.web.context import PageRefused, Refusal, check_csrf, render, require, state
from tipsom.web.i18n import Language
from tipsom.web.tables import users as users_t

CASES, PERSONS_T = REGISTRY["case"], REGISTRY["person"]
router = APIRouter(prefix="/admin", dependencies=[Depends(check_csrf)], include_in_schema=False)
AUDIT_PAGE = 50
#: Records about accounts, whose ids the installation administrator may see.
ACCOUNT_ENTITIES = ("web_user", "organisation", "api_token")
#: Records that are about accounts and access, not about cases or persons.
SECURITY_ENTITIES = (*ACCOUNT_ENTITIES, "page")


def _date(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def audit_scope(user: User) -> ColumnElement[bool]:
    """The audit events ``user`` may read.

    An organisation's administrator reads the events of its own accounts, the
    events on its own cases and their persons (so it sees who else read or
    probed them), and the share events that name its organisation. The
    installation administrator reads security events only.
    """
    if user.installation_admin:
        return or_(audit_log.c.entity.in_(SECURITY_ENTITIES), audit_log.c.action == str(audit.AuditAction.DENIED))
    own_accounts = select(users_t.c.username).where(users_t.c.organisation == user.organisation)
    own_cases = select(CASES.c.id).where(CASES.c.reporting_org == user.organisation)
    own_persons = select(PERSONS_T.c[PERSON_KEY]).where(PERSONS_T.c.case_id.in_(own_cases))
    mentioned = and_(audit_log.c.entity == "case_share",
                     audit_log.c.detail.contains(f'"organisation": {json.dumps(user.organisation)}',
                                                 autoescape=True))
    return or_(audit_log.c.actor.in_(own_accounts), mentioned,
               and_(audit_log.c.entity == "case", audit_log.c.entity_id.in_(own_cases)),
               and_(audit_log.c.entity == "person", audit_log.c.entity_id.in_(own_persons)))


def _shown(user: User, row: dict[str, Any]) -> dict[str, Any]:
    """An event as ``user`` may see it: the installation administrator sees refusals of cases and
    pages, but not which case, person or path (a path carries a case id)."""
    row["detail"] = json.loads(row["detail"]) if row["detail"] else {}
    if user.installation_admin and row["entity"] not in ACCOUNT_ENTITIES:
        row["entity_id"] = None
    return row


@router.get("/audit")
def audit_page(request: Request, actor: str = "", action: str = "", entity_id: str = "", since: str = "",
               until: str = "", page: Annotated[int, Query(ge=1, le=casework.MAX_PAGE)] = 1) -> Response:
    session = require(request, Permission.VIEW_AUDIT)
    conds = [audit_scope(session.user)]
    if actor:
        conds.append(audit_log.c.actor == actor.strip())
    if action in {str(a) for a in audit.AuditAction}:
        conds.append(audit_log.c.action == action)
    if entity_id:
        conds.append(audit_log.c.entity_id.startswith(entity_id.strip(), autoescape=True))
    if (start := _date(since)) is not None:
        conds.append(audit_log.c.at >= start)
    if (end := _date(until)) is not None:
        conds.append(audit_log.c.at < end + dt.timedelta(days=1))
    with state(request).store.engine.connect() as conn:
        total = conn.scalar(select(func.count()).select_from(audit_log).where(*conds)) or 0
        rows = [_shown(session.user, dict(r._mapping)) for r in conn.execute(
            select(audit_log).where(*conds).order_by(audit_log.c.id.desc()).limit(AUDIT_PAGE)
            .offset((page - 1) * AUDIT_PAGE))]
    return render(request, "audit.html", {
        "rows": rows, "total": total, "page": page, "pages": max(1, -(-total // AUDIT_PAGE)),
        "actions": [str(a) for a in audit.AuditAction],
        "flt": {"actor": actor, "action": action, "entity_id": entity_id, "since": since, "until": until}})


def _users_page(request: Request, *, error: str = "", status_code: int = 200) -> Response:
    session = require(request, Permission.MANAGE_USERS)
    me = session.user
    with state(request).store.engine.connect() as conn:
        users = accounts.list_users(conn, by=me)
        orgs = organisations.list_organisations(conn)
    if not me.installation_admin:
        orgs = [o for o in orgs if o.name == me.organisation]
    roles = [r for r in Role if me.administers(me.organisation, r)]
    # Least privilege first: the form's default is the role that can see least.
    roles.sort(key=lambda r: len(accounts.ROLE_PERMISSIONS[r]))
    return render(request, "users.html", {"users": users, "roles": roles, "languages": list(Language),
                                          "organisations": orgs, "error": error, "now": audit.now()},
                  status_code)


@router.get("/users")
def users_page(request: Request) -> Response:
    return _users_page(request)


def _done_or_error(request: Request, change: Any) -> Response:
    """Run an account change; an :class:`AccountError` is shown on the page (422)."""
    try:
        change()
    except AccountError as exc:
        return _users_page(request, error=str(exc), status_code=422)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/users")
def create_user(request: Request, username: Annotated[str, Form()], password: Annotated[str, Form()],
                role: Annotated[str, Form()], organisation: Annotated[str, Form()] = "",
                display_name: Annotated[str, Form()] = "", language: Annotated[str, Form()] = "en") -> Response:
    me = require(request, Permission.MANAGE_USERS).user
    try:
        chosen = Role(role)
    except ValueError:
        return _users_page(request, error=str(AccountError("unknown role", field="role")), status_code=422)
    return _done_or_error(request, lambda: accounts.create_user(
        state(request).store, username=username, password=password, organisation=organisation, role=chosen,
        display_name=display_name, language=language if language in {str(x) for x in Language} else "en",
        actor=me.username, by=me))


@router.post("/users/{username}/unlock")
def unlock(request: Request, username: str) -> Response:
    me = require(request, Permission.MANAGE_USERS).user

    def change() -> None:
        accounts.unlock(state(request).store, username, actor=me.username, by=me)
        state(request).throttle.forget(username)
    return _done_or_error(request, change)


@router.post("/users/{username}/password")
def reset_password(request: Request, username: str, password: Annotated[str, Form()]) -> Response:
    me = require(request, Permission.MANAGE_USERS).user
    return _done_or_error(request, lambda: accounts.set_password(state(request).store, username, password,
                                                                 actor=me.username, by=me))


@router.post("/users/{username}/active")
def set_active(request: Request, username: str, active: Annotated[str, Form()]) -> Response:
    me = require(request, Permission.MANAGE_USERS).user
    return _done_or_error(request, lambda: accounts.set_active(state(request).store, username, active == "1",
                                                               actor=me.username, by=me))


@router.post("/users/{username}/role")
def set_role(request: Request, username: str, role: Annotated[str, Form()]) -> Response:
    me = require(request, Permission.MANAGE_USERS).user
    try:
        chosen = Role(role)
    except ValueError:
        raise PageRefused(Refusal.NOT_FOUND) from None
    return _done_or_error(request, lambda: accounts.set_role(state(request).store, username, chosen,
                                                             actor=me.username, by=me))


def _organisations_page(request: Request, *, error: str = "", status_code: int = 200) -> Response:
    require(request, Permission.MANAGE_ORGANISATIONS)
    with state(request).store.engine.connect() as conn:
        orgs = organisations.list_organisations(conn)
    return render(request, "organisations.html", {"organisations": orgs, "error": error}, status_code)


@router.get("/organisations")
def organisations_page(request: Request) -> Response:
    return _organisations_page(request)


@router.post("/organisations")
def add_organisation(request: Request, code: Annotated[str, Form()], name: Annotated[str, Form()],
                     jurisdiction: Annotated[str, Form()], org_type: Annotated[str, Form()] = "",
                     contact: Annotated[str, Form()] = "") -> Response:
    me = require(request, Permission.MANAGE_ORGANISATIONS).user
    try:
        organisations.add_organisation(state(request).store, code=code, name=name, org_type=org_type,
                                       jurisdiction=jurisdiction, contact=contact, actor=me.username)
    except InputError as exc:
        return _organisations_page(request, error=str(exc), status_code=422)
    return RedirectResponse("/admin/organisations", status_code=303)
