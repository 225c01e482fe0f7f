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
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tipsom.core.cells import neutral_row, restore_row
from tipsom.core.identifiers import canonical_phone
from tipsom.money.holders import ResolvedHolder
from tipsom.money.model import MoneyInputError, RowError
from tipsom.schema.enums import PersonRole

if TYPE_CHECKING:
    from tipsom.store.db import Store

#: Purpose recorded in the audit log when pseudonymous links are taken from the registry.
STORE_PURPOSE = "money: link phone numbers to cases"
#: Roles whose phones are followed unless the analyst names others: the people who move the money.
FOLLOWED_ROLES = frozenset({PersonRole.SUSPECT})


class IdentifierKind(enum.StrEnum):
    ACCOUNT = "account"
    PHONE = "phone"
    WALLET = "wallet"
    #: The registry's keyed pseudonym of a phone number (``pseudo_phone``), not the number.
    PHONE_PSEUDONYM = "phone-pseudonym"


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
        for number, stored in enumerate(reader, start=2):
            rec = restore_row(stored)
            kind = (rec["kind"] or "").strip().lower()
            if kind not in set(IdentifierKind):
                errors.append(RowError(str(path), number, "kind",
                                       f"must be one of {', '.join(IdentifierKind)}, not {kind!r}"))
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
        writer.writerows(
            neutral_row([link.kind.value, link.identifier, link.case_id, link.person_id]) for link in links
        )
    return out


def accounts_to_cases(
    links: list[CaseLink], accounts: set[str], holders: tuple[ResolvedHolder, ...] = (),
    pseudonym: Callable[[str], str | None] | None = None,
) -> dict[str, set[tuple[str, str]]]:
    """Map each account in ``accounts`` to the (case, person) pairs it is linked to.

    Pseudonymous phone links are matched by pseudonymising the phones seen in
    the transactions and holder records with the registry's key (``pseudonym``,
    by default the installation's data key, loaded only when such links exist).
    """
    by_phone: dict[str, set[str]] = defaultdict(set)
    for holder in holders:
        for phone in holder.phones:
            by_phone[phone].update(holder.accounts)
    by_pseudonym: dict[str, set[str]] = defaultdict(set)
    if any(link.kind is IdentifierKind.PHONE_PSEUDONYM for link in links):
        pseudonym = pseudonym or _registry_pseudonym()
        for phone, held in [*by_phone.items(), *((a, {a}) for a in accounts)]:
            if (digest := pseudonym(phone)) is not None:
                by_pseudonym[digest].update(held)
    out: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for link in links:
        pair = (link.case_id, link.person_id)
        if link.kind is IdentifierKind.PHONE:
            phone = canonical_phone(link.identifier)
            targets = by_phone.get(phone, set()) | {a for a in (link.identifier, phone) if a in accounts}
        elif link.kind is IdentifierKind.PHONE_PSEUDONYM:
            targets = by_pseudonym.get(link.identifier, set())
        else:
            targets = {link.identifier} if link.identifier in accounts else set()
        for account in targets:
            out[account].add(pair)
    return dict(out)


def _registry_pseudonym() -> Callable[[str], str | None]:
    from tipsom.settings import get_settings
    from tipsom.store.crypto import FieldCipher, load_master_key

    cipher = FieldCipher(load_master_key(get_settings()))
    return lambda phone: cipher.pseudonym("phone", phone)


def links_from_store(store: Store, *, actor: str, roles: Collection[PersonRole] = FOLLOWED_ROLES,
                     purpose: str | None = None) -> list[CaseLink]:
    """Phone links for the persons with ``roles`` (suspects by default) who have a phone number.

    Following money needs the selectors of the people who move it, not the
    personal records of everyone on a case. By default nothing is decrypted:
    each link carries the registry's keyed pseudonym of the phone
    (:attr:`IdentifierKind.PHONE_PSEUDONYM`), which matches transactions
    through the same key without the number ever being written out. Only with
    a stated ``purpose`` are the phone numbers themselves decrypted, and only
    the phone field. Either way one audit event names the fields, the roles,
    the purpose and the number of rows.
    """
    from tipsom.store import audit
    from tipsom.store.view import PersonRead, read_persons

    if not roles:
        raise MoneyInputError("links: name at least one role to take phone numbers from")
    personal = purpose is not None
    if personal and not (purpose or "").strip():
        raise MoneyInputError("links: --include-personal needs a --purpose saying why the numbers are needed")
    ids = ("case_id", "person_id")
    request = (PersonRead(columns=ids, decrypt=("phone",), roles=roles, present=("pseudo_phone",)) if personal
               else PersonRead(columns=(*ids, "pseudo_phone"), roles=roles, present=("pseudo_phone",)))
    rows = read_persons(store, request, actor=actor, purpose=purpose or STORE_PURPOSE,
                        action=audit.AuditAction.READ if personal else audit.AuditAction.EXPORT,
                        detail={"roles": sorted(str(r) for r in roles), "decrypted": personal,
                                "via": "money links"})
    kind, selector = ((IdentifierKind.PHONE, "phone") if personal
                      else (IdentifierKind.PHONE_PSEUDONYM, "pseudo_phone"))
    return [CaseLink(kind, str(row[selector]), str(row["case_id"]), str(row["person_id"])) for row in rows]
