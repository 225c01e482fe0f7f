"""The registry of organisations that share one tipsom installation.

Accounts belong to a registered organisation, and a case can be shared only
with one: a typo or an invented name can no longer become the recipient of a
victim's file. An organisation's ``name`` is what cases carry as their
reporting organisation, so need-to-know needs no second key; ``code`` is a
short stable handle for forms, links and the command line.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from tipsom.core.errors import InputError
from tipsom.store import audit
from tipsom.store.db import Store
from tipsom.web.tables import organisations

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,31}$")


@dataclass(frozen=True)
class Organisation:
    code: str
    name: str
    org_type: str
    jurisdiction: str
    contact: str


def _org(m: object) -> Organisation:
    row = dict(m)  # type: ignore[call-overload]
    return Organisation(row["code"], row["name"], row["org_type"], row["jurisdiction"], row["contact"])


def list_organisations(conn: Connection) -> list[Organisation]:
    return [_org(r._mapping) for r in conn.execute(select(organisations).order_by(organisations.c.name))]


def find(conn: Connection, *, code: str | None = None, name: str | None = None) -> Organisation | None:
    """The organisation with this code or this exact name, if registered."""
    q = select(organisations).where(organisations.c.code == code) if code is not None \
        else select(organisations).where(organisations.c.name == name)
    row = conn.execute(q).first()
    return _org(row._mapping) if row else None


def register(conn: Connection, *, code: str, name: str, org_type: str, jurisdiction: str, contact: str = "",
             actor: str) -> Organisation:
    """Add an organisation inside the caller's transaction (audited); refuses duplicates."""
    code, name, jurisdiction = code.strip().upper(), name.strip(), jurisdiction.strip().upper()
    if not CODE_PATTERN.match(code):
        raise InputError("2-32 capital letters, digits, '-' or '_'", field="code")
    if not name or len(name) > 200:
        raise InputError("1-200 characters required", field="name")
    if not re.fullmatch(r"[A-Z]{3}", jurisdiction):
        raise InputError("an ISO 3166-1 alpha-3 code is required", field="jurisdiction")
    if find(conn, code=code) is not None:
        raise InputError(f"{code!r} is already registered", field="code")
    if find(conn, name=name) is not None:
        raise InputError(f"{name!r} is already registered", field="name")
    conn.execute(insert(organisations).values(code=code, name=name, org_type=org_type.strip() or "Other",
                                              jurisdiction=jurisdiction, contact=contact.strip()[:200],
                                              created_at=audit.now()))
    audit.record(conn, actor=actor, action=audit.AuditAction.CREATE, entity="organisation", entity_id=code,
                 purpose="organisation registry", detail={"name": name, "jurisdiction": jurisdiction})
    return Organisation(code, name, org_type.strip() or "Other", jurisdiction, contact.strip()[:200])


def add_organisation(store: Store, *, code: str, name: str, org_type: str, jurisdiction: str,
                     contact: str = "", actor: str) -> Organisation:
    """:func:`register` in its own transaction."""
    with store.begin() as conn:
        return register(conn, code=code, name=name, org_type=org_type, jurisdiction=jurisdiction,
                        contact=contact, actor=actor)


#: Separates an organisation's code from its own case id; codes cannot contain it, so keys never collide.
CASE_ID_SEPARATOR = "."


def case_prefix(conn: Connection, organisation: str) -> str:
    """The prefix of case keys an organisation creates: its code, or (unregistered, e.g. in the
    training workspace) a stable digest of its name."""
    registered = find(conn, name=organisation)
    code = registered.code if registered else "ORG" + hashlib.sha256(organisation.encode()).hexdigest()[:8].upper()
    return code + CASE_ID_SEPARATOR


def scoped_case_id(conn: Connection, organisation: str, local_id: str) -> str:
    """The stored key of a case an organisation enters with its own identifier ``local_id``.

    Two organisations can then both enter case ``2024-017``; one can no longer
    learn that another holds an identifier from an "already exists" answer.
    An identifier that already carries the organisation's prefix is kept.
    """
    prefix = case_prefix(conn, organisation)
    local_id = local_id.strip()
    return local_id if local_id.startswith(prefix) else prefix + local_id


def code_for(name: str, jurisdiction: str) -> str:
    """A readable code for an organisation known only by name, e.g. ``TUR-PAU``."""
    initials = "".join(w[0] for w in re.findall(r"[A-Za-z0-9]+", name) if w.upper() != jurisdiction.upper())
    return f"{jurisdiction.upper()}-{initials.upper()[:27] or 'ORG'}"


def register_reporting_organisations(store: Store, *, actor: str) -> list[Organisation]:
    """Register every reporting organisation found on stored cases that is not registered yet.

    The synthetic demo uses it so its organisations can receive shares and
    accounts; an installation migrating existing cases can do the same once.
    """
    from tipsom.store.tables import REGISTRY

    cases = REGISTRY["case"]
    added: list[Organisation] = []
    with store.begin() as conn:
        q = (select(cases.c.reporting_org, cases.c.reporting_org_type, cases.c.jurisdiction)
             .where(cases.c.reporting_org.is_not(None)).distinct().order_by(cases.c.reporting_org))
        seen: set[str] = set()
        for name, org_type, jurisdiction in conn.execute(q):
            if name in seen or find(conn, name=name) is not None:
                continue
            seen.add(name)
            code = code_for(name, jurisdiction or "XXX")
            suffix = 1
            while find(conn, code=code) is not None:
                suffix += 1
                code = f"{code_for(name, jurisdiction or 'XXX')}{suffix}"
            added.append(register(conn, code=code, name=name, org_type=org_type or "Other",
                                  jurisdiction=jurisdiction or "XXX", actor=actor))
    return added
