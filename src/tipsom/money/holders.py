"""Account holders and entity resolution across sources.

The same organiser appears as "MOHAMED Ali" on a goAML report, "Ali Mohamed"
on a bank's KYC extract and as a phone number on a mobile-money account. We
resolve holders deterministically and explainably: two records are the same
person when they share a normalised phone number or identity document number,
or when their normalised names are equal and they share a birth date or hold the
same account. Every merge records the rule that made it, so an analyst can undo
a wrong one; nothing probabilistic happens silently.
"""

from __future__ import annotations

import csv
import enum
import hashlib
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from tipsom.core.identifiers import canonical_phone
from tipsom.money.model import MoneyInputError, RowError


class HolderKind(enum.StrEnum):
    PERSON = "person"
    COMPANY = "company"


class MatchRule(enum.StrEnum):
    """Why two holder records were merged."""

    PHONE = "same phone number"
    ID_NUMBER = "same identity document number"
    NAME_AND_BIRTH_DATE = "same name and birth date"
    NAME_AND_ACCOUNT = "same name on the same account"


@dataclass(frozen=True)
class AccountHolder:
    """One source's statement that ``name`` holds ``account``."""

    account: str
    name: str
    kind: HolderKind = HolderKind.PERSON
    phone: str = ""
    id_number: str = ""
    birth_date: str = ""
    source: str = ""


@dataclass(frozen=True)
class ResolvedHolder:
    """A cluster of holder records judged to be one person or company."""

    holder_id: str
    name: str
    kind: HolderKind
    accounts: tuple[str, ...]
    names: tuple[str, ...]
    phones: tuple[str, ...]
    id_numbers: tuple[str, ...]
    rules: tuple[MatchRule, ...]


def normalise_name(name: str) -> str:
    """Accents, case, punctuation and word order removed: 'MOHAMED, Ali' == 'ali mohamed'."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(sorted(re.findall(r"\w+", text)))


def normalise_id(number: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", number.upper())


def read_holders(path: Path) -> list[AccountHolder]:
    """Read a holders CSV: account,name[,kind,phone,id_number,birth_date,source]."""
    holders: list[AccountHolder] = []
    errors: list[RowError] = []
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"account", "name"} <= set(reader.fieldnames):
            raise MoneyInputError(f"{path}: holders table needs at least the columns account,name")
        for number, rec in enumerate(reader, start=2):
            kind = (rec.get("kind") or "person").strip().lower()
            if not (rec.get("account") or "").strip() or not (rec.get("name") or "").strip():
                errors.append(RowError(str(path), number, "account/name", "missing"))
            elif kind not in set(HolderKind):
                errors.append(RowError(str(path), number, "kind", f"must be person or company, not {kind!r}"))
            else:
                holders.append(
                    AccountHolder(
                        rec["account"].strip(),
                        rec["name"].strip(),
                        HolderKind(kind),
                        (rec.get("phone") or "").strip(),
                        (rec.get("id_number") or "").strip(),
                        (rec.get("birth_date") or "").strip(),
                        (rec.get("source") or path.name).strip(),
                    )
                )
    if errors:
        raise MoneyInputError(f"{path}: malformed holder rows", errors)
    return holders


def resolve_holders(holders: list[AccountHolder]) -> list[ResolvedHolder]:
    """Cluster holder records with the rules of :class:`MatchRule` (union-find)."""
    parent = list(range(len(holders)))
    rules: dict[int, set[MatchRule]] = defaultdict(set)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int, rule: MatchRule) -> None:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[rj] = ri
            rules[ri] |= rules.pop(rj, set())
        rules[ri].add(rule)

    keyed: dict[tuple[MatchRule, str], int] = {}
    for i, h in enumerate(holders):
        name = normalise_name(h.name)
        keys = [
            (MatchRule.PHONE, canonical_phone(h.phone)),
            (MatchRule.ID_NUMBER, normalise_id(h.id_number)),
            (MatchRule.NAME_AND_BIRTH_DATE, f"{name}|{h.birth_date}" if h.birth_date else ""),
            (MatchRule.NAME_AND_ACCOUNT, f"{name}|{h.account}"),
        ]
        for rule, value in keys:
            if value:
                if (rule, value) in keyed:
                    union(keyed[(rule, value)], i, rule)
                else:
                    keyed[(rule, value)] = i
    clusters: dict[int, list[AccountHolder]] = defaultdict(list)
    for i, h in enumerate(holders):
        clusters[find(i)].append(h)
    out = []
    for root, members in clusters.items():
        names = sorted({m.name for m in members})
        accounts = sorted({m.account for m in members})
        digest = hashlib.sha1("|".join(accounts + names).encode()).hexdigest()[:12]
        out.append(
            ResolvedHolder(
                holder_id=f"holder-{digest}",
                name=max(names, key=lambda n: (sum(m.name == n for m in members), len(n))),
                kind=HolderKind.COMPANY if all(m.kind is HolderKind.COMPANY for m in members) else HolderKind.PERSON,
                accounts=tuple(accounts),
                names=tuple(names),
                phones=tuple(sorted({p for m in members if (p := canonical_phone(m.phone))})),
                id_numbers=tuple(sorted({n for m in members if (n := normalise_id(m.id_number))})),
                rules=tuple(sorted(rules.get(root, set()))),
            )
        )
    return sorted(out, key=lambda r: r.holder_id)
