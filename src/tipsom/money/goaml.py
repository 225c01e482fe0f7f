"""goAML XML transaction reports (UNODC's FIU system) to canonical rows and holders.

goAML's schema is large and every FIU profiles it; we read the part common to
the profiles we know: ``report/transaction`` with ``transactionnumber``,
``date_transaction``, ``amount_local`` (in the report's
``currency_code_local``), and on each side one of ``t_from_my_client`` /
``t_from`` (``t_to_my_client`` / ``t_to``) holding an account (with
institution, number and signatory person or entity), a person or an entity,
plus the country. A party without an account is keyed by its name so the money
is still followed. The row number of an error is the transaction's position in
the report, and the transaction number is quoted in the reason.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd

from tipsom.money.holders import AccountHolder, HolderKind
from tipsom.money.model import MoneyInputError

#: goAML funds codes that mean cash in the profiles we know (``K``: cash).
CASH_FUNDS_CODES = frozenset({"K", "CASH"})


def _text(node: ET.Element | None, path: str) -> str:
    if node is None:
        return ""
    found = node.find(path)
    return (found.text or "").strip() if found is not None else ""


def _first(node: ET.Element, *paths: str) -> ET.Element | None:
    # An Element with no children is falsy, so ``find(a) or find(b)`` would be wrong.
    for path in paths:
        found = node.find(path)
        if found is not None:
            return found
    return None


def _party(side: ET.Element | None, prefix: str, source: str) -> tuple[str, str, list[AccountHolder]]:
    """Account key, institution and holders of one side of a transaction."""
    if side is None:
        return "", "", []
    account = side.find(f"{prefix}_account")
    if account is not None:
        number = _text(account, "account") or _text(account, "iban")
        institution = _text(account, "institution_name") or _text(account, "swift")
        holders = []
        for signatory in account.findall("signatory/t_person"):
            holders.append(_person(number, signatory, source))
        for entity in account.findall("t_entity"):
            holders.append(AccountHolder(number, _text(entity, "name"), HolderKind.COMPANY, source=source))
        return number, institution, [h for h in holders if h.name]
    person = side.find(f"{prefix}_person")
    if person is not None:
        holder = _person("", person, source)
        key = f"person:{holder.name}" if holder.name else ""
        return (
            key,
            "",
            [
                AccountHolder(
                    key,
                    holder.name,
                    HolderKind.PERSON,
                    holder.phone,
                    holder.id_number,
                    holder.birth_date,
                    source,
                )
            ]
            if key
            else [],
        )
    company = side.find(f"{prefix}_entity")
    if company is not None:
        name = _text(company, "name")
        key = f"entity:{name}" if name else ""
        return key, "", [AccountHolder(key, name, HolderKind.COMPANY, source=source)] if key else []
    return "", "", []


def _person(account: str, person: ET.Element, source: str) -> AccountHolder:
    name = " ".join(p for p in (_text(person, "first_name"), _text(person, "last_name")) if p)
    return AccountHolder(
        account,
        name,
        HolderKind.PERSON,
        phone=_text(person, "phones/phone/tph_number"),
        id_number=_text(person, "identification/number")
        or _text(person, "passport_number")
        or _text(person, "id_number"),
        birth_date=_text(person, "birthdate")[:10],
        source=source,
    )


def parse_goaml(path: Path) -> tuple[pd.DataFrame, list[AccountHolder]]:
    """Raw per-format columns (validated later by the common validator) and the holders named."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise MoneyInputError(f"{path}: not well-formed XML: {exc}") from exc
    currency = _text(root, "currency_code_local")
    rows: list[dict[str, object]] = []
    holders: list[AccountHolder] = []
    for position, tx in enumerate(root.iter("transaction"), start=1):
        number = _text(tx, "transactionnumber")
        src_side = _first(tx, "t_from_my_client", "t_from")
        dst_side = _first(tx, "t_to_my_client", "t_to")
        src, src_inst, src_holders = _party(src_side, "from", path.name)
        dst, dst_inst, dst_holders = _party(dst_side, "to", path.name)
        holders += src_holders + dst_holders
        funds = _text(src_side, "from_funds_code").upper()
        rows.append(
            {
                "row": position,
                "ts_raw": _text(tx, "date_transaction"),
                "src": src,
                "dst": dst,
                "amount_raw": _text(tx, "amount_local"),
                "currency": currency,
                "channel_raw": "cash" if funds in CASH_FUNDS_CODES else "bank",
                "src_country": _text(src_side, "from_country"),
                "dst_country": _text(dst_side, "to_country"),
                "src_institution": src_inst,
                "dst_institution": dst_inst,
                "reference": number or _text(tx, "transaction_description"),
            }
        )
    if not rows:
        raise MoneyInputError(f"{path}: no <transaction> elements found in the goAML report")
    frame = pd.DataFrame(rows)
    parsed = pd.to_datetime(frame["ts_raw"], format="ISO8601", errors="coerce", utc=True)
    t = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    ok = parsed.notna()
    t[ok] = (parsed[ok] - pd.Timestamp("1970-01-01T00:00:00Z")) // pd.Timedelta(seconds=1)
    frame["t"] = t
    frame["ts_raw"] = frame["ts_raw"] + " (transaction " + frame["reference"] + ")"
    return frame, holders


def read_goaml(path: Path) -> pd.DataFrame:
    return parse_goaml(path)[0]
