"""Administration pages: the audit log (filterable) and local accounts."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from tipsom.store import audit
from tipsom.store.tables import audit_log
from tipsom.web import accounts
from tipsom.web.accounts import AccountError, Permission, Role
from tipsom.web.context import check_csrf, render, require, state
from tipsom.web.i18n import Language

router = APIRouter(prefix="/admin", dependencies=[Depends(check_csrf)], include_in_schema=False)
AUDIT_PAGE = 50


def _date(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


@router.get("/audit")
def audit_page(request: Request, actor: str = "", action: str = "", entity_id: str = "", since: str = "",
               until: str = "", page: int = 1) -> Response:
    require(request, Permission.VIEW_AUDIT)
    conds = []
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
    page = max(1, page)
    with state(request).store.engine.connect() as conn:
        total = conn.scalar(select(func.count()).select_from(audit_log).where(*conds)) or 0
        rows = [dict(r._mapping) for r in conn.execute(
            select(audit_log).where(*conds).order_by(audit_log.c.id.desc()).limit(AUDIT_PAGE)
            .offset((page - 1) * AUDIT_PAGE))]
    for r in rows:
        r["detail"] = json.loads(r["detail"]) if r["detail"] else {}
    return render(request, "audit.html", {
        "rows": rows, "total": total, "page": page, "pages": max(1, -(-total // AUDIT_PAGE)),
        "actions": [str(a) for a in audit.AuditAction],
        "flt": {"actor": actor, "action": action, "entity_id": entity_id, "since": since, "until": until}})


def _users_page(request: Request, *, message: str = "", error: str = "", status_code: int = 200) -> Response:
    with state(request).store.engine.connect() as conn:
        users = accounts.list_users(conn)
    return render(request, "users.html", {"users": users, "roles": list(Role), "languages": list(Language),
                                          "message": message, "error": error, "now": audit.now()},
                  status_code)


@router.get("/users")
def users_page(request: Request) -> Response:
    require(request, Permission.MANAGE_USERS)
    return _users_page(request)


@router.post("/users")
def create_user(request: Request, username: Annotated[str, Form()], password: Annotated[str, Form()],
                organisation: Annotated[str, Form()], role: Annotated[str, Form()],
                display_name: Annotated[str, Form()] = "", language: Annotated[str, Form()] = "en") -> Response:
    session = require(request, Permission.MANAGE_USERS)
    try:
        accounts.create_user(state(request).store, username=username, password=password,
                             organisation=organisation, role=Role(role), display_name=display_name,
                             language=language if language in {str(x) for x in Language} else "en",
                             actor=session.user.username)
    except (AccountError, ValueError) as exc:
        return _users_page(request, error=str(exc), status_code=422)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/users/{username}/unlock")
def unlock(request: Request, username: str) -> Response:
    session = require(request, Permission.MANAGE_USERS)
    try:
        accounts.unlock(state(request).store, username, actor=session.user.username)
    except AccountError as exc:
        return _users_page(request, error=str(exc), status_code=404)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/users/{username}/password")
def reset_password(request: Request, username: str, password: Annotated[str, Form()]) -> Response:
    session = require(request, Permission.MANAGE_USERS)
    try:
        accounts.set_password(state(request).store, username, password, actor=session.user.username)
    except AccountError as exc:
        return _users_page(request, error=str(exc), status_code=422)
    return RedirectResponse("/admin/users", status_code=303)
