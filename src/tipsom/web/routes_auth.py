"""Sign-in pages and the user's own account: login, second factor, language, tokens, workspace."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from tipsom.web import accounts, security
from tipsom.web.accounts import LoginOutcome, Permission
from tipsom.web.context import (
    LANG_COOKIE,
    PageRefused,
    Refusal,
    check_csrf,
    client_of,
    render,
    session_of,
    set_cookie,
    signed_in,
    state,
)
from tipsom.web.i18n import _, parse_language
from tipsom.web.security import SESSION_COOKIE, Scope, SessionStage, Workspace

DEVICE_COOKIE = "tipsom_device"
DEVICE_COOKIE_DAYS = 180

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)


#: Placeholder for "the user's landing page" in a login form's ``next``.
LANDING = ""


def _safe_next(target: str) -> str:
    """Only same-site paths are followed after login (no open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else LANDING


def _after_login(target: str, user: accounts.User) -> str:
    """Where to go after login: the asked-for page, unless the role cannot open it (no "Access denied" welcome)."""
    if not target or (target.startswith(("/cases", "/work")) and not user.can(Permission.VIEW_CASES)):
        return user.landing_page()
    return target


@router.get("/login")
def login_page(request: Request, next: str = LANDING) -> Response:
    return render(request, "login.html", {"next": _safe_next(next), "error": ""})


def _refused_login(request: Request, target: str, wait: float = 0.0) -> Response:
    """One answer for every refused login, so it tells nothing about the account."""
    if wait:
        message = _("Too many failed logins. Wait %(minutes)s minute(s) and try again.") % {
            "minutes": max(1, round(wait / 60))}
        return render(request, "login.html", {"next": target, "error": message}, 429)
    return render(request, "login.html", {"next": target, "error": _("Wrong username or password.")}, 401)


@router.post("/login")
def login(request: Request, username: Annotated[str, Form()], password: Annotated[str, Form()],
          next: Annotated[str, Form()] = LANDING) -> Response:
    web = state(request)
    client = client_of(request)
    target = _safe_next(next)
    name = username.strip()
    device = security.known_device(web.secret, name, request.cookies.get(DEVICE_COOKIE))
    wait = web.throttle.wait(name, client, known_device=device)
    if wait:
        accounts.log_throttled(web.store, name, client)
        return _refused_login(request, target, wait)
    outcome, user = accounts.authenticate(web.store, name, password, client=client)
    if user is None:
        web.throttle.failed(name, client)
        return _refused_login(request, target)
    web.throttle.succeeded(name, client)
    stage = SessionStage.PASSWORD if outcome is LoginOutcome.NEEDS_TOTP else SessionStage.COMPLETE
    token = security.start_session(web.store, user, stage)
    response = RedirectResponse(f"/login/totp?next={quote(target)}" if stage is SessionStage.PASSWORD
                                else _after_login(target, user), status_code=303)
    set_cookie(response, SESSION_COOKIE, token, web.store, max_age=web.store.settings.web_session_hours * 3600)
    if stage is SessionStage.COMPLETE:
        _remember_device(response, request, user.username)
    return response


def _remember_device(response: Response, request: Request, username: str) -> None:
    web = state(request)
    set_cookie(response, DEVICE_COOKIE, security.device_token(web.secret, username), web.store,
               max_age=DEVICE_COOKIE_DAYS * 86400)


@router.get("/login/totp")
def totp_page(request: Request, next: str = LANDING) -> Response:
    if session_of(request) is None:
        return RedirectResponse("/login", status_code=303)
    return render(request, "totp.html", {"next": _safe_next(next), "error": ""})


@router.post("/login/totp")
def totp(request: Request, code: Annotated[str, Form()], next: Annotated[str, Form()] = LANDING) -> Response:
    web = state(request)
    session = session_of(request)
    if session is None or session.stage is not SessionStage.PASSWORD:
        return RedirectResponse("/login", status_code=303)
    client = client_of(request)
    username = session.user.username
    if web.throttle.wait(username, client, known_device=True) or \
            not accounts.verify_totp(web.store, session.user, code, client=client):
        web.throttle.failed(username, client)
        return render(request, "totp.html", {"next": _safe_next(next), "error": _("Wrong code.")}, 401)
    security.complete_session(web.store, session)
    response = RedirectResponse(_after_login(_safe_next(next), session.user), status_code=303)
    _remember_device(response, request, username)
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    session = session_of(request)
    if session is not None:
        security.end_session(state(request).store, session)
    response = RedirectResponse("/login", status_code=303)
    set_cookie(response, SESSION_COOKIE, "", state(request).store, max_age=0)
    return response


@router.post("/language")
def language(request: Request, lang: Annotated[str, Form()], back: Annotated[str, Form()] = "/cases") -> Response:
    chosen = parse_language(lang)
    if chosen is None:
        raise PageRefused(Refusal.NOT_FOUND)
    response = RedirectResponse(_safe_next(back) or "/", status_code=303)
    session = session_of(request)
    web = state(request)
    if session is not None and session.stage is SessionStage.COMPLETE:
        accounts.set_language(web.store, session.user, chosen.value)
    set_cookie(response, LANG_COOKIE, chosen.value, web.store, max_age=365 * 86400)
    return response


@router.post("/workspace")
def workspace(request: Request, target: Annotated[str, Form()]) -> Response:
    session = signed_in(request)
    try:
        chosen = Workspace(target)
    except ValueError:
        raise PageRefused(Refusal.NOT_FOUND) from None
    if chosen is Workspace.TRAINING:
        state(request).training.prepare(session.user.organisation)
    security.set_workspace(state(request).store, session, chosen)
    return RedirectResponse("/cases", status_code=303)


def _account(request: Request, **extra: object) -> Response:
    session = signed_in(request)
    web = state(request)
    context = {"tokens": security.list_tokens(web.store, session.user), "scopes": list(Scope),
               "new_token": "", "totp_secret": "", "totp_uri": "", "totp_qr": "", "message": "", "error": ""}
    context.update(extra)
    if context["totp_uri"]:
        context["totp_qr"] = accounts.totp_qr_svg(str(context["totp_uri"]), _(
            "QR code for your authenticator app"))
    return render(request, "account.html", context)


@router.get("/account")
def account(request: Request) -> Response:
    return _account(request)


@router.post("/account/password")
def change_password(request: Request, current_password: Annotated[str, Form()],
                    password: Annotated[str, Form()]) -> Response:
    """Self-service password change; every session of the account ends, this one included."""
    session = signed_in(request)
    try:
        accounts.change_own_password(state(request).store, session.user, current_password, password)
    except accounts.AccountError as exc:
        response = _account(request, error=str(exc))
        response.status_code = 422
        return response
    response = RedirectResponse("/login", status_code=303)
    set_cookie(response, SESSION_COOKIE, "", state(request).store, max_age=0)
    return response


@router.post("/account/tokens")
def create_token(request: Request, name: Annotated[str, Form()],
                 scopes: Annotated[list[str] | None, Form()] = None) -> Response:
    session = signed_in(request)
    chosen = {Scope(s) for s in scopes or [] if s in {str(x) for x in Scope}}
    if not chosen:
        return _account(request, error=_("Choose at least one scope."))
    if Scope.CASES_WRITE in chosen and not session.user.can(Permission.EDIT_CASES):
        return _account(request, error=_("Your role does not allow changing cases."))
    raw = security.issue_token(state(request).store, session.user, name=name, scopes=chosen)
    return _account(request, new_token=raw)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: int) -> Response:
    session = signed_in(request)
    security.revoke_token(state(request).store, session.user, token_id)
    return RedirectResponse("/account", status_code=303)


@router.post("/account/totp")
def totp_setup(request: Request, secret: Annotated[str, Form()] = "", code: Annotated[str, Form()] = "") -> Response:
    session = signed_in(request)
    if not secret:
        new = accounts.new_totp_secret()
        return _account(request, totp_secret=new, totp_uri=accounts.totp_uri(session.user, new))
    if accounts.enable_totp(state(request).store, session.user, secret, code):
        return _account(request, message=_("Two-factor login is on. You will be asked for a code at each login."))
    return _account(request, totp_secret=secret, totp_uri=accounts.totp_uri(session.user, secret),
                    error=_("Wrong code."))
