"""The service directory: what each registered organisation offers, in which languages, and whom to call.

A caseworker looking for a shelter for children where Tigrinya is spoken
finds it here, and a referral can only go to a registered organisation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, insert, select

from tipsom.casework.access import ORGANISATIONS, require_org
from tipsom.casework.enums import Service
from tipsom.casework.tables import services
from tipsom.core.errors import InputError
from tipsom.store import audit
from tipsom.store.db import Store

LANGUAGE = re.compile(r"^[a-z]{2,3}$")


@dataclass(frozen=True)
class Offer:
    org_code: str
    org_name: str
    service: Service
    languages: tuple[str, ...]
    contact: str


def set_services(store: Store, org_code: str, offered: Iterable[Service], *, languages: Iterable[str],
                 contact: str, actor: str) -> list[Offer]:
    """Replace what ``org_code`` offers (an empty list withdraws it from the directory); audited."""
    langs = tuple(sorted({lang.strip().lower() for lang in languages if lang.strip()}))
    bad = [lang for lang in langs if not LANGUAGE.match(lang)]
    if bad:
        raise InputError(f"not an ISO 639 language code: {', '.join(bad)}", field="languages")
    chosen = sorted({Service(s) for s in offered})
    with store.begin() as conn:
        code = require_org(conn, org_code, "org")
        conn.execute(delete(services).where(services.c.org_code == code))
        for s in chosen:
            conn.execute(insert(services).values(org_code=code, service=str(s), languages=",".join(langs),
                                                 contact=contact.strip()[:200], updated_by=actor,
                                                 updated_at=audit.now()))
        audit.record(conn, actor=actor, action=audit.AuditAction.UPDATE, entity="service_directory",
                     entity_id=code, purpose="service directory",
                     detail={"services": [str(s) for s in chosen], "languages": list(langs)})
    return directory(store, org_code=code)


def directory(store: Store, *, service: Service | None = None, language: str | None = None,
              org_code: str | None = None) -> list[Offer]:
    """Offers, by organisation name then service; filtered by service, spoken language or organisation."""
    q = (select(services, ORGANISATIONS.c.name).join(ORGANISATIONS, ORGANISATIONS.c.code == services.c.org_code)
         .order_by(ORGANISATIONS.c.name, services.c.service))
    if service is not None:
        q = q.where(services.c.service == str(service))
    if org_code is not None:
        q = q.where(services.c.org_code == org_code.upper())
    with store.engine.connect() as conn:
        offers = [Offer(r.org_code, r.name, Service(r.service), tuple(x for x in r.languages.split(",") if x),
                        r.contact) for r in conn.execute(q)]
    return [o for o in offers if language is None or language.lower() in o.languages]
