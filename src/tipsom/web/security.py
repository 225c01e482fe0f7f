"""Sessions, CSRF tokens, scoped API tokens and per-client login throttling.

Sessions are server-side rows keyed by the SHA-256 of a random cookie token:
the database never holds a usable token, and ending a session (logout,
password change, lock) takes effect at once. Each session carries its own
CSRF token, which every form and htmx request must echo. Forms shown before
login (login, second factor) use a double-submit token bound to a cookie by
an HMAC under the site secret. API tokens are shown once, stored hashed, and
carry scopes that narrow (never widen) what the user's role allows.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, insert, select, update

from tipsom.settings import Settings
from tipsom.store import audit
from tipsom.store.db import Store
from tipsom.web.accounts import User, get_user
from tipsom.web.tables import api_tokens, sessions

SESSION_COOKIE = "tipsom_session"
PRELOGIN_COOKIE = "tipsom_prelogin"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
TOKEN_PREFIX = "tps_"


class SessionStage(enum.StrEnum):
    #: Password accepted, second factor still due.
    PASSWORD = "password"
    COMPLETE = "complete"


class Workspace(enum.StrEnum):
    LIVE = "live"
    TRAINING = "training"


class Scope(enum.StrEnum):
    CASES_READ = "cases:read"
    CASES_WRITE = "cases:write"
    STATS_READ = "stats:read"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    id: str
    user: User
    csrf_token: str
    stage: SessionStage
    workspace: Workspace


def start_session(store: Store, user: User, stage: SessionStage) -> str:
    """Create a session; returns the raw cookie token (never stored)."""
    token = secrets.token_urlsafe(32)
    at = audit.now()
    with store.begin() as conn:
        conn.execute(delete(sessions).where(sessions.c.expires_at < at))
        conn.execute(insert(sessions).values(
            id=_digest(token), user_id=user.id, csrf_token=secrets.token_urlsafe(32), stage=str(stage),
            workspace=str(Workspace.LIVE), created_at=at,
            expires_at=at + dt.timedelta(hours=store.settings.web_session_hours)))
    return token


def load_session(store: Store, token: str | None) -> Session | None:
    """The live session for a cookie token, or None (expired, unknown, or account locked)."""
    if not token:
        return None
    with store.engine.connect() as conn:
        row = conn.execute(select(sessions).where(sessions.c.id == _digest(token))).first()
        if row is None or row.expires_at < audit.now():
            return None
        user = get_user(conn, user_id=row.user_id)
    if user is None or not user.active or user.locked(audit.now()):
        return None
    return Session(row.id, user, row.csrf_token, SessionStage(row.stage), Workspace(row.workspace))


def complete_session(store: Store, session: Session) -> None:
    with store.begin() as conn:
        conn.execute(update(sessions).where(sessions.c.id == session.id).values(stage=str(SessionStage.COMPLETE)))


def set_workspace(store: Store, session: Session, workspace: Workspace) -> None:
    with store.begin() as conn:
        conn.execute(update(sessions).where(sessions.c.id == session.id).values(workspace=str(workspace)))


def end_session(store: Store, session: Session) -> None:
    with store.begin() as conn:
        conn.execute(delete(sessions).where(sessions.c.id == session.id))


def tokens_match(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


# --- pre-login CSRF (double submit bound by HMAC) -------------------------------------


def site_secret(settings: Settings) -> bytes:
    """``TIPSOM_SECRET_KEY``, or a random secret kept (mode 0600) under ``TIPSOM_HOME``."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path: Path = settings.home / "web_secret"
    if not path.exists():
        # Several worker processes may start at once: write aside, then link into place
        # (atomic, fails if another process won), so all of them read the same secret.
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".web_secret.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text(encoding="ascii").strip().encode()


def prelogin_form_token(secret: bytes, cookie_token: str) -> str:
    return hmac.new(secret, cookie_token.encode(), hashlib.sha256).hexdigest()


def prelogin_valid(secret: bytes, cookie_token: str | None, form_token: str | None) -> bool:
    return bool(cookie_token) and tokens_match(prelogin_form_token(secret, cookie_token or ""), form_token)


# --- API tokens ----------------------------------------------------------------------


@dataclass(frozen=True)
class ApiToken:
    id: int
    name: str
    scopes: frozenset[Scope]
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked: bool


def issue_token(store: Store, user: User, *, name: str, scopes: set[Scope], days: int | None = 90) -> str:
    """Create a token for ``user``; the raw value is returned once and never stored."""
    if not scopes:
        raise ValueError("scopes: choose at least one")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    at = audit.now()
    with store.begin() as conn:
        conn.execute(insert(api_tokens).values(
            user_id=user.id, name=name.strip()[:100] or "token", token_hash=_digest(raw),
            scopes=" ".join(sorted(str(s) for s in scopes)), created_at=at,
            expires_at=at + dt.timedelta(days=days) if days else None, revoked_at=None))
        audit.record(conn, actor=user.username, action=audit.AuditAction.CREATE, entity="api_token",
                     entity_id=name, purpose="API access", detail={"scopes": sorted(map(str, scopes))})
    return raw


def resolve_token(store: Store, raw: str) -> tuple[User, frozenset[Scope]] | None:
    """The user and scopes of a valid, unexpired, unrevoked token."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    with store.engine.connect() as conn:
        row = conn.execute(select(api_tokens).where(api_tokens.c.token_hash == _digest(raw))).first()
        if row is None or row.revoked_at is not None or (row.expires_at and row.expires_at < audit.now()):
            return None
        user = get_user(conn, user_id=row.user_id)
    if user is None or not user.active or user.locked(audit.now()):
        return None
    return user, frozenset(Scope(s) for s in row.scopes.split())


def list_tokens(store: Store, user: User) -> list[ApiToken]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(api_tokens).where(api_tokens.c.user_id == user.id)
                            .order_by(api_tokens.c.id.desc()))
        return [ApiToken(r.id, r.name, frozenset(Scope(s) for s in r.scopes.split()), r.created_at,
                         r.expires_at, r.revoked_at is not None) for r in rows]


def revoke_token(store: Store, user: User, token_id: int) -> bool:
    with store.begin() as conn:
        done = conn.execute(update(api_tokens).where(api_tokens.c.id == token_id, api_tokens.c.user_id == user.id)
                            .values(revoked_at=audit.now())).rowcount
        if done:
            audit.record(conn, actor=user.username, action=audit.AuditAction.UPDATE, entity="api_token",
                         entity_id=str(token_id), purpose="API access", detail={"change": "revoked"})
    return bool(done)


# --- per-client throttle ------------------------------------------------------------


class LoginThrottle:
    """At most ``limit`` failed logins per client address in ``window`` seconds.

    Account lockout stops guessing one password; this stops one machine from
    walking through many usernames. Only failures count, so an office whose
    staff all reach the server through one address can still sign in each
    morning. Kept in memory: a restart forgets it, which is acceptable because
    lockouts themselves are stored.
    """

    def __init__(self, limit: int = 20, window: float = 300.0) -> None:
        self.limit, self.window = limit, window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        hits = self._failures.setdefault(client, deque())
        while hits and hits[0] < now - self.window:
            hits.popleft()
        return hits

    def allow(self, client: str) -> bool:
        with self._lock:
            return len(self._recent(client, time.monotonic())) < self.limit

    def failed(self, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._recent(client, now).append(now)
