"""Per-application state and per-request dependencies shared by every page route.

``WebState`` holds what lives as long as the application (the live store, the
training workspace, the login throttle, the chart cache, the templates).
The dependencies here resolve the signed-in user, enforce permissions and
CSRF tokens, and pick the store of the user's workspace, so each route body
only does its own work.
"""

from __future__ import annotations

import datetime as dt
import enum
import secrets
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from tipsom.settings import Settings
from tipsom.store import audit
from tipsom.store.db import Store
from tipsom.web import i18n, labels
from tipsom.web.accounts import Permission
from tipsom.web.dashboard import ChartCache
from tipsom.web.forms import Widget
from tipsom.web.i18n import Language
from tipsom.web.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    PRELOGIN_COOKIE,
    LoginThrottle,
    Session,
    SessionStage,
    Workspace,
    prelogin_form_token,
    prelogin_valid,
    site_secret,
    tokens_match,
)

HERE = Path(__file__).resolve().parent
LANG_COOKIE = "tipsom_lang"
#: Synthetic cases loaded into the training workspace for each organisation.
TRAINING_CASES = 200


class Refusal(enum.Enum):
    """Why a page request was stopped before its route ran."""

    LOGIN_REQUIRED = "login_required"
    FORBIDDEN = "forbidden"
    BAD_CSRF = "bad_csrf"
    NOT_FOUND = "not_found"
    TOO_LARGE = "too_large"
    EMPTY_UPLOAD = "empty_upload"
    STORE_BUSY = "store_busy"


class PageRefused(Exception):
    def __init__(self, refusal: Refusal, detail: str = "") -> None:
        super().__init__(refusal.value)
        self.refusal, self.detail = refusal, detail


@dataclass
class TrainingWorkspace:
    """A separate store of synthetic cases where staff practise without touching real data."""

    settings: Settings
    _store: Store | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def store(self) -> Store:
        with self._lock:
            if self._store is None:
                url = self.settings.training_db_url or \
                    f"sqlite:///{(self.settings.home / 'training.db').as_posix()}"
                self._store = Store.init(url, settings=self.settings)  # the practice store is made on first use
            return self._store

    def prepare(self, organisation: str) -> Store:
        """The training store, with synthetic cases of ``organisation`` loaded on first use."""
        from tipsom.exchange.importer import import_records
        from tipsom.exchange.native import Record
        from tipsom.synth.cases import CaseGenerator
        from tipsom.web.access import CASES

        store = self.store()
        with self._lock, store.engine.connect() as conn:
            if conn.scalar(select(CASES.c.id).where(CASES.c.reporting_org == organisation).limit(1)):
                return store
            tag = secrets.token_hex(3).upper()
            docs = []
            for doc in CaseGenerator(seed=zlib.crc32(organisation.encode()) % 10_000).cases(TRAINING_CASES):
                docs.append({**doc, "case_id": f"TRN-{tag}-{doc['case_id']}", "reporting_org": organisation})
            import_records(store, (Record(i, {}, d) for i, d in enumerate(docs, 1)),
                           source="training workspace", actor="training", purpose="load training cases")
        return store


@dataclass
class WebState:
    store: Store
    templates: Jinja2Templates
    training: TrainingWorkspace
    secret: bytes
    throttle: LoginThrottle
    charts: ChartCache = field(default_factory=ChartCache)
    #: The casework pages' clock (UTC, naive): what is due or overdue is counted from it. A test or a
    #: planning session replaces it; nothing else in the application reads the wall clock for casework.
    clock: Callable[[], dt.datetime] = audit.now


def state(request: Request) -> WebState:
    return request.app.state.web  # type: ignore[no-any-return]


def session_of(request: Request) -> Session | None:
    return request.scope.get("tipsom_session")


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def signed_in(request: Request) -> Session:
    """Dependency: a complete session, else a redirect to the login page."""
    session = session_of(request)
    if session is None or session.stage is not SessionStage.COMPLETE:
        raise PageRefused(Refusal.LOGIN_REQUIRED)
    return session


def require(request: Request, permission: Permission) -> Session:
    session = signed_in(request)
    if not session.user.can(permission):
        with state(request).store.begin() as conn:
            audit.record(conn, actor=session.user.username, action=audit.AuditAction.DENIED, entity="page",
                         entity_id=request.url.path, purpose="page access", detail={"needs": str(permission)})
        raise PageRefused(Refusal.FORBIDDEN)
    return session


def workspace_store(request: Request, session: Session) -> Store:
    """The store of the session's workspace: live, or the user's training copy."""
    web = state(request)
    if session.workspace is Workspace.TRAINING:
        return web.training.prepare(session.user.organisation)
    return web.store


def is_upload(request: Request) -> bool:
    return request.headers.get("content-type", "").lower().startswith("multipart/form-data")


def limit_upload(request: Request, max_mb: int) -> None:
    """Refuse a body over ``max_mb`` MiB: at once when it declares its length, else as it streams in.

    Starlette offers no public hook to meter a request body, so the request's
    ``receive`` is wrapped before anything reads it; the multipart parser then
    spools file parts to disk in chunks, so a large upload is never held in memory.
    """
    limit = max_mb * 1024 * 1024
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PageRefused(Refusal.TOO_LARGE)
    receive = request.receive
    seen = 0

    async def metered() -> Any:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > limit:
            raise PageRefused(Refusal.TOO_LARGE)
        return message

    request._receive = metered  # private, but see the docstring: no public way to meter the body


async def check_csrf(request: Request) -> None:
    """Dependency for every page router: state-changing requests must echo the CSRF token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if is_upload(request):
        # Who is sending, and how much, is settled before any of a multipart body is read.
        if session_of(request) is None:
            raise PageRefused(Refusal.LOGIN_REQUIRED)
        limit_upload(request, state(request).store.settings.web_upload_max_mb)
    form = await request.form()
    given = request.headers.get(CSRF_HEADER) or str(form.get(CSRF_FIELD) or "")
    session = session_of(request)
    if session is not None:
        if tokens_match(session.csrf_token, given):
            return
    elif prelogin_valid(state(request).secret, request.cookies.get(PRELOGIN_COOKIE), given):
        return
    raise PageRefused(Refusal.BAD_CSRF)


async def form_lists(request: Request) -> dict[str, list[str]]:
    form = await request.form()
    return {k: [str(v) for v in form.getlist(k) if isinstance(v, str)] for k in form}


def render(request: Request, template: str, context: dict[str, Any] | None = None,
           status_code: int = 200) -> HTMLResponse:
    """Render a page with what every template needs (user, CSRF token, language, direction)."""
    web = state(request)
    session = session_of(request)
    language = i18n.current_language()
    base: dict[str, Any] = {
        "session": session,
        "user": session.user if session and session.stage is SessionStage.COMPLETE else None,
        "csrf_token": session.csrf_token if session else prelogin_form_token(
            web.secret, request.scope.get("tipsom_prelogin", "")),
        "language": language,
        "direction": language.direction.value,
        "languages": list(Language),
        "training": bool(session and session.workspace is Workspace.TRAINING),
        "country_name": i18n.country_name,
    }
    base.update(context or {})
    response = web.templates.TemplateResponse(request, template, base, status_code=status_code)
    return response


def build_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    env = templates.env
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True)
    # Identifiers become one path segment each: '/', '?', '#' and '..' in a case id cannot break a link.
    env.filters["idpath"] = lambda value: quote(str(value), safe="")
    env.globals.update(country_choices=i18n.country_choices, code_choices=labels.code_choices,
                       code_label=labels.code_label, display_value=labels.display_value,
                       field_label=labels.field_label, group_label=labels.group_label,
                       entity_label=labels.entity_label, Widget=Widget, Permission=Permission)
    return templates


def new_state(store: Store) -> WebState:
    return WebState(store=store, templates=build_templates(), training=TrainingWorkspace(store.settings),
                    secret=site_secret(store.settings),
                    throttle=LoginThrottle(max_wait=store.settings.web_lockout_minutes * 60.0))


def cookie_header(name: str, value: str, secure: bool, max_age: int | None = None) -> bytes:
    parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Strict"]
    if secure:
        parts.append("Secure")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts).encode()


def set_cookie(response: Response, name: str, value: str, store: Store, max_age: int | None = None) -> None:
    """Set an HttpOnly, SameSite=Strict cookie (Secure unless switched off for a TLS-less LAN)."""
    response.headers.append("set-cookie", cookie_header(name, value, store.settings.web_cookie_secure,
                                                         max_age).decode())
