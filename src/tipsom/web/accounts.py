"""Local accounts: argon2 password hashes, roles, organisation-scoped administration, TOTP.

Small agencies run tipsom on one machine with no directory service, so
accounts are local. Several agencies may share one installation, so account
administration is scoped: an organisation's administrator manages only that
organisation's accounts, and the installation administrator registers
organisations and their administrators but holds no permission on case data.
Every account change, and every refused one, leaves an audit event.

Passwords are hashed with argon2id and checked against a list of common
passwords shipped with the package (no network lookup). A login answers the
same, in about the same time, whether the name is unknown, the password wrong
or the account disabled; repeated failures are throttled in
:mod:`tipsom.web.security`, never by locking the account itself, so guessing
cannot lock the real user out. TOTP codes are accepted once each.
"""

from __future__ import annotations

import datetime as dt
import enum
import hmac
import time
from dataclasses import dataclass
from functools import cache
from importlib import resources
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

MIN_PASSWORD_LENGTH = 10
#: Fewer distinct characters than this make a password like ``aaaaaaaaaa`` or ``ababababab``.
MIN_DISTINCT_CHARACTERS = 5
_HASHER = PasswordHasher()
#: A hash checked when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH = _HASHER.hash("tipsom-no-such-user")
TOTP_FIELD = "totp_secret"


class Role(enum.StrEnum):
    #: Registers organisations and their administrators; sees security events only, never cases.
    INSTALLATION_ADMIN = "installation_admin"
    #: Administers the accounts and reads the audit events of one organisation; does case work too.
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
    MANAGE_ORGANISATIONS = "manage_organisations"


_CASE_WORK = frozenset({Permission.VIEW_AGGREGATES, Permission.VIEW_CASES, Permission.EDIT_CASES,
                        Permission.VIEW_PERSONAL, Permission.SHARE_CASES})
#: What each role may do; need-to-know (organisation, shares) applies on top.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.INSTALLATION_ADMIN: frozenset({Permission.MANAGE_ORGANISATIONS, Permission.MANAGE_USERS,
                                        Permission.VIEW_AUDIT}),
    Role.ADMIN: _CASE_WORK | {Permission.MANAGE_USERS, Permission.VIEW_AUDIT},
    Role.INVESTIGATOR: _CASE_WORK,
    Role.CASEWORKER: _CASE_WORK,
    # Analysts study patterns: they read cases, pseudonymised, but never names.
    Role.ANALYST: frozenset({Permission.VIEW_AGGREGATES, Permission.VIEW_CASES}),
    Role.VIEWER: frozenset({Permission.VIEW_AGGREGATES}),
}
#: Role offered first in the new-account form: the one that can see least.
LEAST_PRIVILEGED = Role.VIEWER
#: The organisation of installation administrators, who belong to none.
NO_ORGANISATION = ""


class LoginOutcome(enum.Enum):
    """What a password check found; the caller answers every refusal the same way."""

    OK = "ok"
    NEEDS_TOTP = "needs_totp"
    BAD_CREDENTIALS = "bad_credentials"
    #: Locked by an administrator (an account is never locked by failed logins).
    LOCKED = "locked"
    DISABLED = "disabled"
    #: Refused before the password was checked, because of repeated failures.
    THROTTLED = "throttled"

    @property
    def signed_in(self) -> bool:
        return self in (LoginOutcome.OK, LoginOutcome.NEEDS_TOTP)


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

    @property
    def installation_admin(self) -> bool:
        return self.role is Role.INSTALLATION_ADMIN

    def administers(self, organisation: str, role: Role) -> bool:
        """Whether this user may create or change an account of ``role`` in ``organisation``.

        An organisation's administrator manages its own organisation's accounts
        (never an installation administrator); the installation administrator
        manages administrators only, of any organisation, so it can set up an
        organisation without being able to make itself a caseworker anywhere.
        """
        if not self.can(Permission.MANAGE_USERS):
            return False
        if self.installation_admin:
            return role in (Role.ADMIN, Role.INSTALLATION_ADMIN)
        return organisation == self.organisation and role is not Role.INSTALLATION_ADMIN

    def landing_page(self) -> str:
        """The first page after login: one this user's role may open ("My work" for those who do casework)."""
        if self.can(Permission.EDIT_CASES):
            return "/work"
        if self.can(Permission.VIEW_CASES):
            return "/cases"
        if self.can(Permission.VIEW_AGGREGATES):
            return "/dashboard"
        return "/admin/users"


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


def list_users(conn: Connection, *, by: User | None = None) -> list[User]:
    """All accounts, or only those ``by`` administers (its organisation's; administrators for the
    installation administrator)."""
    everyone = [_user(r._mapping) for r in conn.execute(select(users).order_by(users.c.username))]
    return everyone if by is None else [u for u in everyone if by.administers(u.organisation, u.role)]


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common and breached passwords (lower case; source in the file's header)."""
    text = resources.files("tipsom.web").joinpath("data/common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_password_strength(password: str, *, username: str = "", demo: bool = False) -> None:
    """Refuse passwords an attacker would try first (length alone lets ``aaaaaaaaaa`` through)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"at least {MIN_PASSWORD_LENGTH} characters are required", field="password")
    folded = password.casefold()
    if len(set(folded)) < MIN_DISTINCT_CHARACTERS:
        raise AccountError(f"at least {MIN_DISTINCT_CHARACTERS} different characters are required",
                           field="password")
    if folded in common_passwords() or folded.rstrip("0123456789!.?") in common_passwords():
        raise AccountError("this password is on the list of common or breached passwords", field="password")
    if username and username.casefold() in folded:
        raise AccountError("the password must not contain the username", field="password")
    if not demo and hmac.compare_digest(folded, DEMO_PASSWORD.casefold()):
        raise AccountError("the published demo password is allowed only on demo accounts", field="password")


def _refuse(store: Store, by: User, username: str, change: str) -> AccountError:
    """Audit a refused account change (in its own transaction) and return the error to raise.

    An account outside the administrator's reach is reported exactly like one
    that does not exist, so administrators cannot list other organisations' users.
    """
    with store.begin() as conn:
        audit.record(conn, actor=by.username, action=audit.AuditAction.DENIED, entity="web_user",
                     entity_id=username, purpose="account administration",
                     detail={"change": change, "organisation": by.organisation})
    return AccountError(f"no account {username!r}", field="username")


def create_user(store: Store, *, username: str, password: str, organisation: str, role: Role,
                display_name: str = "", language: str = "en", actor: str, demo: bool = False,
                by: User | None = None) -> User:
    """Add an account; refuses duplicate usernames and weak passwords.

    ``by`` is the administrator acting on the web: the account must then be
    one it administers, in a registered organisation. The command line (an
    operator with the server's shell) passes no ``by``.
    """
    from tipsom.web import organisations

    username = username.strip()
    organisation = organisation.strip()
    if not username or len(username) > 64 or not username.replace("_", "").replace(".", "").isalnum():
        raise AccountError("1-64 letters, digits, '.' or '_'", field="username")
    if role is Role.INSTALLATION_ADMIN:
        organisation = NO_ORGANISATION
    elif not organisation:
        raise AccountError("required (need-to-know access is by organisation)", field="organisation")
    if by is not None and not by.administers(organisation, role):
        with store.begin() as conn:
            audit.record(conn, actor=by.username, action=audit.AuditAction.DENIED, entity="web_user",
                         entity_id=username, purpose="account administration",
                         detail={"change": "create", "organisation": organisation, "role": str(role)})
        raise AccountError("you may not create this account (administrators manage their own organisation)",
                           field="organisation")
    check_password_strength(password, username=username, demo=demo)
    with store.begin() as conn:
        if by is not None and role is not Role.INSTALLATION_ADMIN and \
                organisations.find(conn, name=organisation) is None:
            raise AccountError("not a registered organisation", field="organisation")
        if get_user(conn, username=username) is not None:
            raise AccountError(f"{username!r} already exists", field="username")
        conn.execute(insert(users).values(
            username=username, display_name=display_name or username, organisation=organisation,
            role=str(role), password_hash=_HASHER.hash(password), language=language, totp_secret_enc=None,
            totp_enabled=False, failed_logins=0, locked_until=None, active=True, demo=demo,
            created_at=audit.now(), last_login_at=None))
        audit.record(conn, actor=actor, action=audit.AuditAction.CREATE, entity="web_user",
                     entity_id=username, purpose="account administration",
                     detail={"role": str(role), "organisation": organisation})
        user = get_user(conn, username=username)
    assert user is not None
    return user


def _target(store: Store, username: str, by: User | None, change: str) -> User:
    """The account ``by`` wants to change, or the same refusal whether it is missing or not ``by``'s."""
    with store.engine.connect() as conn:
        user = get_user(conn, username=username)
    if by is not None and (user is None or not by.administers(user.organisation, user.role)):
        raise _refuse(store, by, username, change)
    if user is None:
        raise AccountError(f"no account {username!r}", field="username")
    return user


def _change(conn: Connection, user: User, actor: str, change: str, **values: Any) -> None:
    conn.execute(update(users).where(users.c.id == user.id).values(**values))
    audit.record(conn, actor=actor, action=audit.AuditAction.UPDATE, entity="web_user", entity_id=user.username,
                 purpose="account administration", detail={"change": change, "organisation": user.organisation})


def set_password(store: Store, username: str, password: str, *, actor: str, by: User | None = None) -> None:
    """Set a new password (ends the account's open sessions)."""
    user = _target(store, username, by, "password")
    check_password_strength(password, username=username, demo=user.demo)
    with store.begin() as conn:
        _change(conn, user, actor, "password", password_hash=_HASHER.hash(password), failed_logins=0,
                locked_until=None)
        _end_sessions(conn, user.id)


def change_own_password(store: Store, user: User, current: str, new: str) -> None:
    """Self-service: the current password is asked again, so a left-open session cannot take over the account."""
    with store.engine.connect() as conn:
        hashed = conn.scalar(select(users.c.password_hash).where(users.c.id == user.id))
    if hashed is None or not _verify(hashed, current):
        with store.begin() as conn:
            audit.record(conn, actor=user.username, action=audit.AuditAction.DENIED, entity="web_user",
                         entity_id=user.username, purpose="account security",
                         detail={"change": "own password", "reason": "wrong current password"})
        raise AccountError("the current password is wrong", field="current_password")
    if hmac.compare_digest(current, new):
        raise AccountError("the new password must differ from the current one", field="password")
    check_password_strength(new, username=user.username, demo=user.demo)
    with store.begin() as conn:
        _change(conn, user, user.username, "own password", password_hash=_HASHER.hash(new))
        _end_sessions(conn, user.id)


def set_active(store: Store, username: str, active: bool, *, actor: str, by: User | None = None) -> None:
    """Disable an account (its sessions and API tokens stop at once) or enable it again."""
    user = _target(store, username, by, "enable" if active else "disable")
    if by is not None and by.id == user.id:
        raise AccountError("you cannot disable your own account", field="username")
    with store.begin() as conn:
        _change(conn, user, actor, "enabled" if active else "disabled", active=active)
        if not active:
            _end_sessions(conn, user.id)


def set_role(store: Store, username: str, role: Role, *, actor: str, by: User | None = None) -> None:
    """Change an account's role within what the administrator may grant."""
    user = _target(store, username, by, "role")
    if by is not None:
        if by.id == user.id:
            raise AccountError("you cannot change your own role", field="role")
        if not by.administers(user.organisation, role):
            raise _refuse(store, by, username, "role")
    if (role is Role.INSTALLATION_ADMIN) != user.installation_admin:
        raise AccountError("installation administrators and organisation accounts cannot be converted",
                           field="role")
    with store.begin() as conn:
        _change(conn, user, actor, f"role {user.role} -> {role}", role=str(role))
        _end_sessions(conn, user.id)


def _end_sessions(conn: Connection, user_id: int) -> None:
    conn.execute(sessions.delete().where(sessions.c.user_id == user_id))


def unlock(store: Store, username: str, *, actor: str, by: User | None = None) -> None:
    """Lift an administrator's lock and forget counted failures."""
    user = _target(store, username, by, "unlock")
    with store.begin() as conn:
        _change(conn, user, actor, "unlock", failed_logins=0, locked_until=None)


def set_language(store: Store, user: User, language: str) -> None:
    with store.begin() as conn:
        conn.execute(update(users).where(users.c.id == user.id).values(language=language))


def authenticate(store: Store, username: str, password: str, *, client: str) -> tuple[LoginOutcome, User | None]:
    """Check a password; the user is returned only when signing in may proceed.

    Exactly one argon2 verification runs whatever the account's state (a
    dummy hash for unknown names), so the answer time does not tell an
    unknown name from a disabled account or a wrong password.
    """
    at = audit.now()
    with store.begin() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).first()
        if row is None:
            _verify(_DUMMY_HASH, password)
            _log_login(conn, username, LoginOutcome.BAD_CREDENTIALS, client)
            return LoginOutcome.BAD_CREDENTIALS, None
        user = _user(row._mapping)
        good = _verify(row.password_hash, password)
        outcome = (LoginOutcome.DISABLED if not user.active else LoginOutcome.LOCKED if user.locked(at)
                   else LoginOutcome.BAD_CREDENTIALS if not good
                   else LoginOutcome.NEEDS_TOTP if user.totp_enabled else LoginOutcome.OK)
        if not good:
            conn.execute(update(users).where(users.c.id == user.id).values(failed_logins=row.failed_logins + 1))
        _log_login(conn, username, outcome, client)
        if not outcome.signed_in:
            return outcome, None
        if _HASHER.check_needs_rehash(row.password_hash):
            conn.execute(update(users).where(users.c.id == user.id)
                         .values(password_hash=_HASHER.hash(password)))
        values: dict[str, Any] = {"failed_logins": 0}
        if outcome is LoginOutcome.OK:
            values["last_login_at"] = at
        conn.execute(update(users).where(users.c.id == user.id).values(**values))
        return outcome, user


def log_throttled(store: Store, username: str, client: str) -> None:
    """Audit a login refused by the throttle (the password was not checked)."""
    with store.begin() as conn:
        _log_login(conn, username, LoginOutcome.THROTTLED, client)


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


TOTP_PERIOD = 30


def _matching_step(secret: str, code: str, after: int | None) -> int | None:
    """The time step (one either side of now allowed, for clock drift) whose code is ``code``,
    if it is later than ``after``: a step once accepted is never accepted again."""
    totp = pyotp.TOTP(secret, interval=TOTP_PERIOD)
    now_step = int(time.time()) // TOTP_PERIOD
    code = code.strip()
    for step in (now_step - 1, now_step, now_step + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.at(step * TOTP_PERIOD), code):
            return step
    return None


def enable_totp(store: Store, user: User, secret: str, code: str) -> bool:
    """Switch TOTP on once the user proves their app holds ``secret``."""
    step = _matching_step(secret, code, None)
    if step is None:
        return False
    with store.begin() as conn:
        conn.execute(update(users).where(users.c.id == user.id).values(
            totp_secret_enc=store.cipher.seal(TOTP_FIELD, secret), totp_enabled=True, totp_last_step=step))
        audit.record(conn, actor=user.username, action=audit.AuditAction.UPDATE, entity="web_user",
                     entity_id=user.username, purpose="account security", detail={"change": "totp enabled"})
    return True


def verify_totp(store: Store, user: User, code: str, *, client: str) -> bool:
    """Second login step; each code is accepted once (a replayed code is a failure)."""
    with store.begin() as conn:
        row = conn.execute(select(users.c.totp_secret_enc, users.c.totp_last_step)
                           .where(users.c.id == user.id).with_for_update()).first()
        if row is None or row.totp_secret_enc is None:
            return False
        secret = store.cipher.open(TOTP_FIELD, row.totp_secret_enc)
        step = _matching_step(secret, code, row.totp_last_step)
        if step is not None:
            conn.execute(update(users).where(users.c.id == user.id).values(last_login_at=audit.now(),
                                                                            totp_last_step=step))
            _log_login(conn, user.username, LoginOutcome.OK, client)
            return True
        _log_login(conn, user.username, LoginOutcome.BAD_CREDENTIALS, client)
        return False


# --- demo accounts --------------------------------------------------------------------

#: Password of every demo account; they exist only for the synthetic demo.
DEMO_PASSWORD = "tipsom-demo-2024"
_DEMO_ROLES = (Role.ADMIN, Role.CASEWORKER, Role.INVESTIGATOR, Role.ANALYST, Role.VIEWER)
DEMO_OTHER_ORG_USER = "other.caseworker"
DEMO_INSTALLATION_ADMIN = "demo.installation"


def _busiest_organisations(conn: Connection) -> list[str]:
    cases = REGISTRY["case"]
    q = (select(cases.c.reporting_org).where(cases.c.reporting_org.is_not(None))
         .group_by(cases.c.reporting_org).order_by(func.count().desc(), cases.c.reporting_org).limit(2))
    return [r[0] for r in conn.execute(q)]


def ensure_demo_accounts(store: Store) -> list[tuple[str, str, str]]:
    """Create one demo login per role (idempotent); return (username, password, role).

    The accounts belong to the organisation with the most demo cases, plus one
    caseworker of the second organisation, so need-to-know can be tried out,
    and an installation administrator, who belongs to no organisation.
    """
    with store.begin() as conn:
        orgs = _busiest_organisations(conn) or ["Demo organisation"]
        existing = {u.username for u in list_users(conn)}
    home, other = orgs[0], orgs[-1] if len(orgs) > 1 else "Second demo organisation"
    wanted = [(f"demo.{role}", role, home) for role in _DEMO_ROLES] + \
             [(DEMO_OTHER_ORG_USER, Role.CASEWORKER, other),
              (DEMO_INSTALLATION_ADMIN, Role.INSTALLATION_ADMIN, NO_ORGANISATION)]
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
