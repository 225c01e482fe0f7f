"""The FastAPI application: pages, the REST API and static files over one store.

``create_app(store)`` builds the whole application; ``tipsom serve`` runs it
with uvicorn. A small ASGI middleware resolves the session cookie and the
language before any route runs, and adds security headers to every response:
pages are never cached (they show victim data), scripts load only from this
server, and no page may be framed.
"""

from __future__ import annotations

import secrets
from http.cookies import SimpleCookie
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tipsom.store.base import StoreLockedError
from tipsom.store.db import Store
from tipsom.web import i18n
from tipsom.web.context import HERE, LANG_COOKIE, PageRefused, Refusal, cookie_header, new_state, render
from tipsom.web.dashboard import Redraw
from tipsom.web.i18n import _
from tipsom.web.security import PRELOGIN_COOKIE, SESSION_COOKIE, SessionStage, load_session

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
#: What a refused write tells browsers and API clients to wait before repeating it.
BUSY_RETRY_SECONDS = 30
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class RequestContext:
    """Resolves session and language for each HTTP request; adds security headers."""

    def __init__(self, app: ASGIApp, store: Store) -> None:
        self.app, self.store = app, store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = _cookies(scope)
        is_static = scope["path"].startswith("/static/")
        # Static files need no session: without the lookup, CSS and scripts load even when the database is down.
        session = None if is_static else await anyio.to_thread.run_sync(
            load_session, self.store, cookies.get(SESSION_COOKIE))
        scope["tipsom_session"] = session
        prelogin = cookies.get(PRELOGIN_COOKIE)
        new_prelogin = None
        if session is None and not prelogin and not is_static:
            prelogin = new_prelogin = secrets.token_urlsafe(24)
        scope["tipsom_prelogin"] = prelogin or ""
        if session is not None and session.stage is SessionStage.COMPLETE:
            language = i18n.parse_language(session.user.language) or i18n.DEFAULT_LANGUAGE
        else:
            headers = dict(scope["headers"])
            language = i18n.parse_language(cookies.get(LANG_COOKIE)) or i18n.negotiate(
                headers.get(b"accept-language", b"").decode("latin-1"))
        secure = self.store.settings.web_cookie_secure
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                headers.extend(SECURITY_HEADERS)
                if not is_static:
                    headers.append((b"cache-control", b"no-store"))
                if new_prelogin:
                    headers.append((b"set-cookie", cookie_header(PRELOGIN_COOKIE, new_prelogin, secure)))
                message["headers"] = headers
            await send(message)

        token = i18n.set_language(language)
        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # Starlette's own 500 page is sent outside this middleware, without the security headers:
            # answer here (plain text, no template, no database), then let the error be logged.
            if not started:
                await send_with_headers({"type": "http.response.start", "status": 500,
                                         "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
                await send({"type": "http.response.body", "body": b"Internal error. It has been logged."})
            raise
        finally:
            i18n.reset_language(token)


def _cookies(scope: Scope) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for name, value in scope["headers"]:
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except Exception:
                return {}
    return {k: m.value for k, m in jar.items()}


def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageRefused)
    if exc.refusal is Refusal.LOGIN_REQUIRED:
        target = "/login?next=" + request.url.path if request.method == "GET" else "/login"
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    status, title, message = {
        Refusal.FORBIDDEN: (403, _("Access denied"), _(
            "You do not have access to this page or record. The attempt has been recorded.")),
        Refusal.BAD_CSRF: (403, _("Form expired"), _(
            "This form was refused because its security token is missing or out of date. "
            "Go back, reload the page and try again.")),
        Refusal.NOT_FOUND: (404, _("Not found"), _("There is no such page or record.")),
        Refusal.TOO_LARGE: (413, _("File too large"), _(
            "This file is larger than the web upload limit. Ask an administrator to add it with the "
            "tipsom evidence command.")),
        Refusal.EMPTY_UPLOAD: (422, _("Empty file"), _("The chosen file is empty; nothing was stored.")),
        Refusal.STORE_BUSY: (503, _("Store busy"), _(
            "Another task (an import, a backup or a key rotation) is writing to the store. Nothing was "
            "changed; go back and try again in a minute.")),
    }[exc.refusal]
    response = render(request, "error.html", {"title": title, "message": message}, status_code=status)
    if exc.refusal is Refusal.STORE_BUSY:
        response.headers["Retry-After"] = str(BUSY_RETRY_SECONDS)
    return response


def _store_busy(request: Request, exc: Exception) -> Response:
    """A write that waited ``TIPSOM_DB_LOCK_TIMEOUT`` for another process's lock: 503, not a crash.

    The transaction was rolled back, so the user only has to repeat the action; an
    API client gets the same answer as JSON with ``Retry-After``.
    """
    assert isinstance(exc, StoreLockedError)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": "the store is busy with another writer; nothing was changed, retry"},
                            status_code=503, headers={"Retry-After": str(BUSY_RETRY_SECONDS)})
    return _refused(request, PageRefused(Refusal.STORE_BUSY))


def serving_app(url: str | None = None) -> FastAPI:
    """The application as ``tipsom serve`` runs it: the store at ``url`` (default: configured), with the
    dashboard redrawn in the background when its kept charts are stale (start-up never waits for it)."""
    store = Store.open(url)
    app = create_app(store)
    charts = app.state.web.charts
    charts.redraw = Redraw.BACKGROUND
    charts.redraw_soon(store, delay=0.0, force=True)
    return app


def create_app(store: Store | None = None) -> FastAPI:
    """The whole web application over ``store`` (default: the configured store)."""
    from tipsom.web.api import api_router
    from tipsom.web.api_casework import router as casework_api
    from tipsom.web.routes_admin import router as admin_router
    from tipsom.web.routes_auth import router as auth_router
    from tipsom.web.routes_cases import router as cases_router
    from tipsom.web.routes_work import router as work_router

    store = store or Store.open()
    app = FastAPI(
        title="tipsom API", version="1", docs_url=None, redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        description="Case registry API of tipsom. Authenticate with a scoped bearer token created on "
                    "the account page; need-to-know rules are the same as on the pages.",
    )
    app.state.web = new_state(store)
    app.add_middleware(RequestContext, store=store)
    app.add_exception_handler(PageRefused, _refused)
    app.add_exception_handler(StoreLockedError, _store_busy)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(auth_router)
    app.include_router(cases_router)
    app.include_router(admin_router)
    app.include_router(api_router)
    app.include_router(casework_api)
    app.include_router(work_router)

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        session = request.scope.get("tipsom_session")
        if session is None or session.stage is not SessionStage.COMPLETE:
            return RedirectResponse("/login", status_code=303)
        return RedirectResponse(session.user.landing_page(), status_code=303)

    @app.exception_handler(404)
    def not_found(request: Request, exc: Any) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": getattr(exc, "detail", "Not Found")}, status_code=404)
        return _refused(request, PageRefused(Refusal.NOT_FOUND))

    return app
