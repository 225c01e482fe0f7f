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


# --- login throttle ------------------------------------------------------------------


def device_token(secret: bytes, username: str) -> str:
    """Value of the cookie that marks a browser where ``username`` signed in before."""
    return hmac.new(secret, f"device:{username}".encode(), hashlib.sha256).hexdigest()


def known_device(secret: bytes, username: str, cookie: str | None) -> bool:
    return bool(cookie) and tokens_match(device_token(secret, username), cookie)


class LoginThrottle:
    """Backoff after failed logins, counted per source, per account and source, and per account.

    Locking an account after N failures lets anyone who knows a username lock
    its owner out; this throttle never does that. Failures from one source
    slow that source (on one account after ``per_pair``, on any account after
    ``per_source``), with a wait that doubles up to ``max_wait``. Failures on
    one account from many sources slow every source too, except a browser
    holding the account's known-device cookie (set at a successful login),
    so a distributed guesser is slowed while the real user still signs in.
    Names are counted whether or not the account exists, so the throttle's
    answer reveals nothing. Kept in memory: a restart forgets it.
    """

    def __init__(self, *, per_pair: int = 5, per_source: int = 20, per_account: int = 20,
                 first_wait: float = 30.0, max_wait: float = 900.0) -> None:
        self.per_pair, self.per_source, self.per_account = per_pair, per_source, per_account
        self.first_wait, self.max_wait = first_wait, max_wait
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        hits = self._failures.setdefault(key, deque())
        while hits and hits[0] < now - 2 * self.max_wait:
            hits.popleft()
        return hits

    def _wait(self, hits: deque[float], limit: int, now: float) -> float:
        if len(hits) < limit:
            return 0.0
        backoff = min(self.max_wait, self.first_wait * 2.0 ** (len(hits) - limit))
        return max(0.0, hits[-1] + backoff - now)

    def wait(self, username: str, client: str, *, known_device: bool = False) -> float:
        """Seconds before this source may try this account again (0: try now)."""
        now = time.monotonic()
        name = username.casefold()
        with self._lock:
            waits = [self._wait(self._recent(("pair", f"{name}\n{client}"), now), self.per_pair, now),
                     self._wait(self._recent(("source", client), now), self.per_source, now)]
            if not known_device:
                waits.append(self._wait(self._recent(("account", name), now), self.per_account, now))
        return max(waits)

    def failed(self, username: str, client: str) -> None:
        now = time.monotonic()
        name = username.casefold()
        with self._lock:
            for key in (("pair", f"{name}\n{client}"), ("source", client), ("account", name)):
                self._recent(key, now).append(now)

    def succeeded(self, username: str, client: str) -> None:
        with self._lock:
            self._failures.pop(("pair", f"{username.casefold()}\n{client}"), None)

    def forget(self, username: str) -> None:
        """An administrator vouched for the account: clear what was counted against it."""
        name = username.casefold()
        with self._lock:
            for key in [k for k in self._failures if k == ("account", name) or
                        (k[0] == "pair" and k[1].startswith(f"{name}\n"))]:
                del self._failures[key]
