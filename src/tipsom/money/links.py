"""Links from identifiers (accounts, phones, wallets) to persons on cases.

Money analysis is most useful when it meets the case file: an account held by a
recruiter already on a trafficking case makes every payment to it relevant. The
links come from a CSV the analyst supplies (``kind,identifier,case_id,
person_id``) or, when the case registry is installed, from the registry itself.
Phone links also reach mobile-money accounts whose number is the phone, and any
account whose resolved holder uses that phone.
"""

from __future__ import annotations

import csv
import enum
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tipsom.money.holders import ResolvedHolder, normalise_phone
from tipsom.money.model import MoneyInputError, RowError

if TYPE_CHECKING:
    from tipsom.store.db import Store

#: Purpose recorded in the audit log for each decrypted phone number.
STORE_PURPOSE = "money: link phone numbers to cases"


class IdentifierKind(enum.StrEnum):
    ACCOUNT = "account"
    PHONE = "phone"
    WALLET = "wallet"


@dataclass(frozen=True)
class CaseLink:
    kind: IdentifierKind
    identifier: str
    case_id: str
    person_id: str


def read_links(path: Path) -> list[CaseLink]:
    """Read a links CSV; every malformed row is reported, none is skipped."""
    links: list[CaseLink] = []
    errors: list[RowError] = []
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        needed = {"kind", "identifier", "case_id", "person_id"}
        if not reader.fieldnames or not needed <= set(reader.fieldnames):
            raise MoneyInputError(f"{path}: links table needs the columns {sorted(needed)}")
        for number, rec in enumerate(reader, start=2):
            kind = (rec["kind"] or "").strip().lower()
            if kind not in set(IdentifierKind):
                errors.append(RowError(str(path), number, "kind", f"must be account, phone or wallet, not {kind!r}"))
            elif not (rec["identifier"] or "").strip() or not (rec["case_id"] or "").strip():
                errors.append(RowError(str(path), number, "identifier/case_id", "missing"))
            else:
                links.append(
                    CaseLink(
                        IdentifierKind(kind),
                        rec["identifier"].strip(),
                        rec["case_id"].strip(),
                        (rec["person_id"] or "").strip(),
                    )
                )
    if errors:
        raise MoneyInputError(f"{path}: malformed link rows", errors)
    return links


def write_links(links: list[CaseLink], out: Path) -> Path:
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["kind", "identifier", "case_id", "person_id"])
        writer.writerows([link.kind.value, link.identifier, link.case_id, link.person_id] for link in links)
    return out


def accounts_to_cases(
    links: list[CaseLink], accounts: set[str], holders: tuple[ResolvedHolder, ...] = ()
) -> dict[str, set[tuple[str, str]]]:
    """Map each account in ``accounts`` to the (case, person) pairs it is linked to."""
    by_phone: dict[str, set[str]] = defaultdict(set)
    for holder in holders:
        for phone in holder.phones:
            by_phone[phone].update(holder.accounts)
    out: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for link in links:
        pair = (link.case_id, link.person_id)
        if link.kind is IdentifierKind.PHONE:
            phone = normalise_phone(link.identifier)
            targets = by_phone.get(phone, set()) | {a for a in (link.identifier, phone) if a in accounts}
        else:
            targets = {link.identifier} if link.identifier in accounts else set()
        for account in targets:
            out[account].add(pair)
    return dict(out)


def links_from_store(store: Store, *, actor: str) -> list[CaseLink]:
    """Phone links for every person in the case registry who has a phone number.

    The registry holds phones encrypted; each one is decrypted through
    :meth:`Store.read_personal`, so every read is in the audit log with its purpose.
    """
    from sqlalchemy import select

    from tipsom.store.tables import PERSON_KEY, REGISTRY

    persons = REGISTRY["person"]
    query = select(persons.c[PERSON_KEY], persons.c.case_id, persons.c.person_id).where(
        persons.c.pseudo_phone.is_not(None)
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query.order_by(persons.c[PERSON_KEY])).all()
    links = []
    for key, case_id, person_id in rows:
        phone = store.read_personal(key, actor=actor, purpose=STORE_PURPOSE).get("phone")
        if phone:
            links.append(CaseLink(IdentifierKind.PHONE, str(phone), str(case_id), str(person_id)))
    return links
