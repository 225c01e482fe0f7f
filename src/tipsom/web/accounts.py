"""Local accounts: argon2 password hashes, roles, lockout and optional TOTP.

Small agencies run tipsom on one machine with no directory service, so
accounts are local. Passwords are hashed with argon2id; five failed logins
lock the account for ``TIPSOM_WEB_LOCKOUT_MINUTES`` (an admin may unlock it
sooner); a TOTP second factor can be switched on per user. Every login
attempt, good or bad, leaves an audit event.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, func, insert, select, update

from tipsom.core.errors import InputError
from tipsom.store import audit
from tipsom.store.db import Store
from tipsom.store.tables import REGISTRY
from tipsom.web.tables import sessions, users

#: Failed logins in a row that lock an account.
MAX_FAILED_LOGINS = 5
MIN_PASSWORD_LENGTH = 10
_HASHER = PasswordHasher()
#: A hash checked when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH = _HASHER.hash("tipsom-no-such-user")
TOTP_FIELD = "totp_secret"


class Role(enum.StrEnum):
    ADMIN = "admin"
    ANALYST = "analyst"
    INVESTIGATOR = "investigator"
    CASEWORKER = "caseworker"
    VIEWER = "viewer"


class Permission(enum.StrEnum):
    VIEW_AGGREGATES = "view_aggregates"
    VIEW_CASES = "view_cases"
    EDIT_CASES = "edit_cases"
    VIEW_PERSONAL = "view_personal"
    SHARE_CASES = "share_cases"
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"


_CASE_WORK = frozenset({Permission.VIEW_AGGREGATES, Permission.VIEW_CASES, Permission.EDIT_CASES,
                        Permission.VIEW_PERSONAL, Permission.SHARE_CASES})
#: What each role may do; need-to-know (organisation, shares) applies on top.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: _CASE_WORK | {Permission.MANAGE_USERS, Permission.VIEW_AUDIT},
    Role.INVESTIGATOR: _CASE_WORK,
    Role.CASEWORKER: _CASE_WORK,
    # Analysts study patterns: they read cases, pseudonymised, but never names.
    Role.ANALYST: frozenset({Permission.VIEW_AGGREGATES, Permission.VIEW_CASES}),
    Role.VIEWER: frozenset({Permission.VIEW_AGGREGATES}),
}


class LoginOutcome(enum.Enum):
    OK = "ok"
    NEEDS_TOTP = "needs_totp"
    BAD_CREDENTIALS = "bad_credentials"
    LOCKED = "locked"


class AccountError(InputError):
    """A request to create or change an account was refused (message says why)."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    organisation: str
    role: Role
    language: str
    totp_enabled: bool
    active: bool
    demo: bool
    locked_until: dt.datetime | None

    def can(self, permission: Permission) -> bool:
        return self.active and permission in ROLE_PERMISSIONS[self.role]

    def locked(self, at: dt.datetime) -> bool:
        return self.locked_until is not None and self.locked_until > at


def _user(m: Any) -> User:
    return User(id=m["id"], username=m["username"], display_name=m["display_name"],
                organisation=m["organisation"], role=Role(m["role"]), language=m["language"],
                totp_enabled=bool(m["totp_enabled"]), active=bool(m["active"]), demo=bool(m["demo"]),
                locked_until=m["locked_until"])


def get_user(conn: Connection, *, user_id: int | None = None, username: str | None = None) -> User | None:
    q = select(users)
    q = q.where(users.c.id == user_id) if user_id is not None else q.where(users.c.username == username)
    row = conn.execute(q).first()
    return _user(row._mapping) if row else None


def list_users(conn: Connection) -> list[User]:
    return [_user(r._mapping) for r in conn.execute(select(users).order_by(users.c.username))]


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password: at least {MIN_PASSWORD_LENGTH} characters are required")


def create_user(store: Store, *, username: str, password: str, organisation: str, role: Role,
                display_name: str = "", language: str = "en", actor: str, demo: bool = False) -> User:
    """Add an account; refuses duplicate usernames and short passwords."""
    username = username.strip()
    if not username or len(username) > 64 or not username.replace("_", "").replace(".", "").isalnum():
        raise AccountError("username: 1-64 letters, digits, '.' or '_'")
    if not organisation.strip():
        raise AccountError("organisation: required (need-to-know access is by organisation)")
    check_password_strength(password)
    with store.begin() as conn:
        if get_user(conn, username=username) is not None:
            raise AccountError(f"username: {username!r} already exists")
        conn.execute(insert(users).values(
            username=username, display_name=display_name or username, organisation=organisation.strip(),
            role=str(role), password_hash=_HASHER.hash(password), language=language, totp_secret_enc=None,
            totp_enabled=False, failed_logins=0, locked_until=None, active=True, demo=demo,
            created_at=audit.now(), last_login_at=None))
        audit.record(conn, actor=actor, action=audit.AuditAction.CREATE, entity="web_user",
                     entity_id=username, purpose="account administration",
                     detail={"role": str(role), "organisation": organisation})
        user = get_user(conn, username=username)
    assert user is not None
    return user


def set_password(store: Store, username: str, password: str, *, actor: str) -> None:
    check_password_strength(password)
    with store.begin() as conn:
        done = conn.execute(update(users).where(users.c.username == username).values(
            password_hash=_HASHER.hash(password), failed_logins=0, locked_until=None)).rowcount
        if not done:
            raise AccountError(f"username: no account {username!r}")
        _end_sessions(conn, username)
        audit.record(conn, actor=actor, action=audit.AuditAction.UPDATE, entity="web_user",
                     entity_id=username, purpose="account administration", detail={"change": "password"})


def _end_sessions(conn: Connection, username: str) -> None:
    uid = select(users.c.id).where(users.c.username == username).scalar_subquery()
    conn.execute(sessions.delete().where(sessions.c.user_id == uid))


def unlock(store: Store, username: str, *, actor: str) -> None:
    with store.begin() as conn:
        done = conn.execute(update(users).where(users.c.username == username)
                            .values(failed_logins=0, locked_until=None)).rowcount
        if not done:
            raise AccountError(f"username: no account {username!r}")
        audit.record(conn, actor=actor, action=audit.AuditAction.UPDATE, entity="web_user",
                     entity_id=username, purpose="account administration", detail={"change": "unlock"})


def set_language(store: Store, user: User, language: str) -> None:
    with store.begin() as conn:
        conn.execute(update(users).where(users.c.id == user.id).values(language=language))


def authenticate(store: Store, username: str, password: str, *, client: str) -> tuple[LoginOutcome, User | None]:
    """Check a password, counting failures and locking the account at the limit."""
    at = audit.now()
    with store.begin() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).first()
        if row is None:
            _verify(_DUMMY_HASH, password)
            _log_login(conn, username, LoginOutcome.BAD_CREDENTIALS, client)
            return LoginOutcome.BAD_CREDENTIALS, None
        user = _user(row._mapping)
        if user.locked(at):
            _log_login(conn, username, LoginOutcome.LOCKED, client)
            return LoginOutcome.LOCKED, user
        if not user.active or not _verify(row.password_hash, password):
            failed = row.failed_logins + 1
            locked = at + dt.timedelta(minutes=store.settings.web_lockout_minutes) \
                if failed >= MAX_FAILED_LOGINS else None
            conn.execute(update(users).where(users.c.id == user.id).values(
                failed_logins=0 if locked else failed, locked_until=locked))
            outcome = LoginOutcome.LOCKED if locked else LoginOutcome.BAD_CREDENTIALS
            _log_login(conn, username, outcome, client)
            return outcome, None
        if _HASHER.check_needs_rehash(row.password_hash):
            conn.execute(update(users).where(users.c.id == user.id)
                         .values(password_hash=_HASHER.hash(password)))
        conn.execute(update(users).where(users.c.id == user.id).values(failed_logins=0, locked_until=None))
        if user.totp_enabled:
            _log_login(conn, username, LoginOutcome.NEEDS_TOTP, client)
            return LoginOutcome.NEEDS_TOTP, user
        conn.execute(update(users).where(users.c.id == user.id).values(last_login_at=at))
        _log_login(conn, username, LoginOutcome.OK, client)
        return LoginOutcome.OK, user


def _verify(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def _log_login(conn: Connection, username: str, outcome: LoginOutcome, client: str) -> None:
    audit.record(conn, actor=username, action=audit.AuditAction.LOGIN, entity="web_user", entity_id=username,
                 purpose="web login", detail={"outcome": outcome.value, "client": client})


# --- two-factor (TOTP) ----------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name="tipsom")


def totp_qr_svg(uri: str, title: str) -> str:
    """The provisioning URI as an inline SVG QR code for an authenticator app to scan.

    Drawn on the server (segno, pure Python): the secret is never sent to a QR
    service, and the page needs no script or image request. Dark on white with
    the standard quiet zone, so phones read it in either colour scheme.
    """
    import segno

    return str(segno.make(uri, error="m").svg_inline(scale=1, border=4, omitsize=True, title=title,
                                                    svgclass="qr", dark="#000", light="#fff"))


def enable_totp(store: Store, user: User, secret: str, code: str) -> bool:
    """Switch TOTP on once the user proves their app holds ``secret``."""
    if not pyotp.TOTP(secret).verify(code.strip(), valid_window=1):
        return False
    with store.begin() as conn:
        conn.execute(update(users).where(users.c.id == user.id).values(
            totp_secret_enc=store.cipher.seal(TOTP_FIELD, secret), totp_enabled=True))
        audit.record(conn, actor=user.username, action=audit.AuditAction.UPDATE, entity="web_user",
                     entity_id=user.username, purpose="account security", detail={"change": "totp enabled"})
    return True


def verify_totp(store: Store, user: User, code: str, *, client: str) -> bool:
    """Second login step; a wrong code counts as a failed login."""
    with store.begin() as conn:
        row = conn.execute(select(users.c.totp_secret_enc, users.c.failed_logins)
                           .where(users.c.id == user.id)).first()
        if row is None or row.totp_secret_enc is None:
            return False
        secret = store.cipher.open(TOTP_FIELD, row.totp_secret_enc)
        if pyotp.TOTP(secret).verify(code.strip(), valid_window=1):
            conn.execute(update(users).where(users.c.id == user.id).values(last_login_at=audit.now()))
            _log_login(conn, user.username, LoginOutcome.OK, client)
            return True
        failed = row.failed_logins + 1
        locked = audit.now() + dt.timedelta(minutes=store.settings.web_lockout_minutes) \
            if failed >= MAX_FAILED_LOGINS else None
        conn.execute(update(users).where(users.c.id == user.id).values(
            failed_logins=0 if locked else failed, locked_until=locked))
        _log_login(conn, user.username, LoginOutcome.LOCKED if locked else LoginOutcome.BAD_CREDENTIALS,
                   client)
        return False


# --- demo accounts --------------------------------------------------------------------

#: Password of every demo account; they exist only for the synthetic demo.
DEMO_PASSWORD = "tipsom-demo-2024"
_DEMO_ROLES = (Role.ADMIN, Role.CASEWORKER, Role.INVESTIGATOR, Role.ANALYST, Role.VIEWER)
DEMO_OTHER_ORG_USER = "other.caseworker"


def _busiest_organisations(conn: Connection) -> list[str]:
    cases = REGISTRY["case"]
    q = (select(cases.c.reporting_org).where(cases.c.reporting_org.is_not(None))
         .group_by(cases.c.reporting_org).order_by(func.count().desc(), cases.c.reporting_org).limit(2))
    return [r[0] for r in conn.execute(q)]


def ensure_demo_accounts(store: Store) -> list[tuple[str, str, str]]:
    """Create one demo login per role (idempotent); return (username, password, role).

    The accounts belong to the organisation with the most demo cases, plus one
    caseworker of the second organisation, so need-to-know can be tried out.
    """
    with store.begin() as conn:
        orgs = _busiest_organisations(conn) or ["Demo organisation"]
        existing = {u.username for u in list_users(conn)}
    home, other = orgs[0], orgs[-1] if len(orgs) > 1 else "Second demo organisation"
    wanted = [(f"demo.{role}", role, home) for role in _DEMO_ROLES] + \
             [(DEMO_OTHER_ORG_USER, Role.CASEWORKER, other)]
    logins = []
    for username, role, org in wanted:
        if username not in existing:
            create_user(store, username=username, password=DEMO_PASSWORD, organisation=org, role=role,
                        display_name=f"Demo {role}", actor="demo", demo=True)
        logins.append((username, DEMO_PASSWORD, str(role)))
    return logins


def demo_logins(store: Store) -> list[tuple[str, str, str]]:
    """The demo accounts that exist (for printing at ``tipsom serve``)."""
    with store.begin() as conn:
        return [(u.username, DEMO_PASSWORD, str(u.role)) for u in list_users(conn) if u.demo and u.active]
