"""Who acts, and what they may do with a case: need-to-know for casework.

Casework sits below the web layer, so it cannot ask ``tipsom.web.access``;
it reads the same two facts itself, by table name: the organisation that
reports the case (``cases.reporting_org`` holds the organisation's registered
*name*) and the active shares of the case (``web_case_shares``). The rules
are the web's: the owner does everything, an ``edit`` share may add casework,
a ``personal`` or ``edit`` share may read notes, a ``summary`` share may only
see that casework exists. A case the actor may not see is answered exactly
like a case that does not exist, and the refusal is audited.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, column, or_, select, table

from tipsom.core.errors import InputError
from tipsom.store import audit
from tipsom.store.db import Store
from tipsom.store.tables import REGISTRY

CASES = REGISTRY["case"]
#: The organisation registry and case shares, by name: owned by the web layer, read here.
ORGANISATIONS = table("web_organisations", column("code"), column("name"), column("jurisdiction"))
SHARES = table("web_case_shares", column("case_id"), column("organisation"), column("scope"),
               column("ends_on"), column("revoked_at"))
USERS = table("web_users", column("username"), column("organisation"), column("active"))


class Refusal(InputError):
    """A refusal to an actor, carrying the audit event that records it.

    The event is written by :func:`acting` after the refused transaction has
    rolled back, so nothing the refused call did is kept except the trace
    that someone tried.
    """

    def __init__(self, reason: str, *, field: str, actor: Actor, entity: str, entity_id: str, purpose: str,
                 **detail: object) -> None:
        super().__init__(reason, field=field)
        self.actor, self.entity, self.entity_id, self.purpose = actor, entity, entity_id, purpose
        self.detail = {"organisation": actor.org_code, **detail}

    def record(self, conn: Connection) -> None:
        audit.record(conn, actor=self.actor.username, action=audit.AuditAction.DENIED, entity=self.entity,
                     entity_id=self.entity_id, purpose=self.purpose, detail=self.detail)


class NotFound(Refusal):
    """No such record, or one the actor may not see: the two answers are the same on purpose."""


class Forbidden(Refusal):
    """The actor sees the record but may not do this with it (wrong side of a referral, summary share)."""


class TransitionRefused(InputError):
    """A status change the workflow does not allow from the record's present status."""


@dataclass(frozen=True)
class Actor:
    """The person acting: username, organisation code, and whether they supervise casework.

    The web layer builds one from its account (an organisation's administrator
    supervises); the command line builds one from its options.
    """

    username: str
    org_code: str
    supervisor: bool = False


class Standing(enum.Enum):
    """The actor's relation to one case, from most to least."""

    OWNER = "owner"
    SHARED_EDIT = "edit"
    SHARED_PERSONAL = "personal"
    SHARED_SUMMARY = "summary"
    NONE = "none"

    @property
    def may_write(self) -> bool:
        return self in (Standing.OWNER, Standing.SHARED_EDIT)

    @property
    def may_read_personal(self) -> bool:
        return self in (Standing.OWNER, Standing.SHARED_EDIT, Standing.SHARED_PERSONAL)


@contextmanager
def acting(store: Store) -> Iterator[Connection]:
    """One transaction for an actor's call; a :class:`Refusal` is audited after it rolled back."""
    try:
        with store.begin() as conn:
            yield conn
    except Refusal as refusal:
        with store.begin() as conn:
            refusal.record(conn)
        raise


def new_id() -> str:
    return str(uuid.uuid4())


def org_name(conn: Connection, code: str) -> str | None:
    """The registered name of organisation ``code`` (what cases carry), or ``None`` if not registered."""
    return conn.scalar(select(ORGANISATIONS.c.name).where(ORGANISATIONS.c.code == code))


def org_code_of(conn: Connection, name: str) -> str | None:
    """The code of the organisation registered under ``name``."""
    return conn.scalar(select(ORGANISATIONS.c.code).where(ORGANISATIONS.c.name == name))


def require_org(conn: Connection, code: str, field: str) -> str:
    """``code`` upper-cased if registered; an unregistered organisation can never receive a victim's file."""
    code = code.strip().upper()
    if org_name(conn, code) is None:
        raise InputError(f"no registered organisation {code!r}", field=field)
    return code


def standing(conn: Connection, actor: Actor, case_id: str, *, today: dt.date | None = None) -> Standing:
    name = org_name(conn, actor.org_code)
    if name is None:
        return Standing.NONE
    owner = conn.scalar(select(CASES.c.reporting_org).where(CASES.c.id == case_id))
    if owner is None:
        return Standing.NONE
    if owner == name:
        return Standing.OWNER
    day = today or dt.date.today()
    scope = conn.scalar(select(SHARES.c.scope).where(
        SHARES.c.case_id == case_id, SHARES.c.organisation == name, SHARES.c.revoked_at.is_(None),
        or_(SHARES.c.ends_on.is_(None), SHARES.c.ends_on >= day)))
    return Standing(scope) if scope in {s.value for s in Standing} else Standing.NONE


def require_case(conn: Connection, actor: Actor, case_id: str, *, write: bool = False,
                 personal: bool = False, purpose: str) -> Standing:
    """The actor's standing on the case, or a refusal (audited when raised inside :func:`acting`).

    ``write`` asks for owner or edit share; ``personal`` for a share that lets
    personal data be read. A case the actor may not see at all raises
    :class:`NotFound`; one they see but may not act on, :class:`Forbidden`.
    """
    found = standing(conn, actor, case_id)
    if found is Standing.NONE:
        raise NotFound(f"no case {case_id!r}", field="case_id", actor=actor, entity="case", entity_id=case_id,
                       purpose=purpose, standing=found.value)
    if (write and not found.may_write) or (personal and not found.may_read_personal):
        raise Forbidden(f"the share of case {case_id!r} does not allow this", field="case_id", actor=actor,
                        entity="case", entity_id=case_id, purpose=purpose, standing=found.value)
    return found


def require_member(conn: Connection, username: str, org_code: str, field: str) -> str:
    """``username`` if it is an active account of organisation ``org_code``: a task assigned to a
    stranger would go unseen."""
    name = org_name(conn, org_code)
    row = conn.execute(select(USERS.c.organisation, USERS.c.active).where(USERS.c.username == username)).first()
    if row is None or not row.active or row.organisation != name:
        raise InputError(f"{username!r} is not an active account of {org_code}", field=field)
    return username

