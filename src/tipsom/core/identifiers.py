"""One canonical form, and one FollowTheMoney id, for every kind of selector.

A phone number, a wallet or a bank account links an ad (OSINT), a payment
(money) and a person on a case (the registry) only if every module writes it
the same way. Each canonical function here is the single definition its kind
has; the money and OSINT modules, the registry's pseudonyms and both
FollowTheMoney exporters call it, so "the same selector" means the same string
everywhere, and an Aleph instance loading two exports merges their entities.

The forms:

- phone: E.164 (``+33612345678``); a number written without a country code
  is read in the region given, and one that is not a valid number anywhere
  keeps its digits only, so that at least its trivial variants agree;
- e-mail: trimmed and lower-cased (providers treat the local part without case);
- bank account: an IBAN in its compact upper-case form when its check digits
  hold, otherwise the letters and digits of the number, upper-cased;
- wallet: ``chain:address``, only when the address's checksum holds (see
  :mod:`tipsom.core.wallets`); Ethereum addresses lower-cased, as EIP-55 case
  is a checksum and not part of the address, SegWit addresses lower-cased;
- messaging handle: ``service:username``, both lower-cased;
- URL: scheme and host lower-cased, the path as written.
"""

from __future__ import annotations

import enum
import re
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberFormat

from tipsom.core.errors import InputError
from tipsom.core.wallets import CryptoAddress, find_crypto_addresses


class IdentifierKind(enum.StrEnum):
    """The kinds of selector that can tie records of different modules together."""

    PHONE = "phone"
    EMAIL = "email"
    ACCOUNT = "account"
    WALLET = "wallet"
    HANDLE = "handle"
    URL = "url"


#: The namespace of every FollowTheMoney id tipsom mints for a selector.
FTM_NAMESPACE = "tipsom"

#: Phones canonicalised per process and remembered: a transaction file or an ad
#: collection repeats the same few numbers thousands of times.
_REMEMBERED_PHONES = 1 << 16


def e164(number: PhoneNumber) -> str:
    """The E.164 text of a parsed number, the canonical phone form."""
    return str(phonenumbers.format_number(number, PhoneNumberFormat.E164))


@lru_cache(maxsize=_REMEMBERED_PHONES)
def canonical_phone(text: str, region: str | None = None) -> str:
    """E.164 when ``text`` is a valid number, else its digits only ("" when it has none).

    Applying it to its own result gives the same result, so a value already
    canonical (read back from an export) is never changed again.

    A number with a ``+`` (or ``00``) is international. Without one it is read
    first in ``region`` (ISO 3166 alpha-2, the deployment's country, for
    numbers written nationally), then as an international number whose ``+``
    was dropped, which is how mobile-money accounts and messaging links
    write it.
    """
    raw = text.strip()
    if not raw:
        return ""
    digits = re.sub(r"\D", "", raw)
    international = raw.startswith("+")
    if international:
        candidates: list[tuple[str, str | None]] = [("+" + digits, None)]
    elif digits.startswith("00"):
        candidates = [("+" + digits[2:], None)]
    else:
        candidates = [(digits, region)] if region else []
        candidates.append(("+" + digits.lstrip("0"), None))
    for candidate, hint in candidates:
        try:
            parsed = phonenumbers.parse(candidate, hint)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return e164(parsed)
    # The "+" stays: without it, the digits could read as a valid national number next time.
    return "+" + digits if international and digits else digits


def canonical_email(text: str) -> str:
    """An e-mail address trimmed and lower-cased."""
    return text.strip().lower()


def canonical_account(text: str) -> str:
    """A bank account number: the compact IBAN when its check digits hold, else its letters and digits.

    Account numbers that are not IBANs (national numbers, mobile-money
    accounts, card numbers) keep every letter and digit, so the same number
    written with spaces, dashes or in lower case is still one account.
    """
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    compact = re.sub(r"[^0-9A-Za-z]", "", text).upper()
    if re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", compact):
        try:
            return str(IBAN(compact).compact)
        except SchwiftyException:
            pass
    return compact


def canonical_wallet(address: str) -> str | None:
    """``chain:address`` when ``address`` is a checksum-valid wallet, else None.

    The chain is read from the address itself (its format and checksum
    decide), not from a column a file may spell "BTC", "bitcoin" or leave empty.
    """
    written = address.strip()
    found = find_crypto_addresses(written)
    if len(found) != 1 or (found[0].start, found[0].end) != (0, len(written)):
        return None
    return wallet_form(found[0])


def wallet_form(found: CryptoAddress) -> str:
    """The canonical ``chain:address`` of an address whose checksum was already verified."""
    return f"{found.chain.value}:{found.address}"


def canonical_handle(service: str, username: str) -> str:
    """``service:username`` in lower case; an ``@`` before the name is not part of it."""
    return f"{service.strip().lower()}:{username.strip().lstrip('@').lower()}"


def canonical_url(url: str) -> str:
    """Scheme and host lower-cased (they carry no case), the rest as written."""
    scheme, _, rest = url.strip().partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}://{host.lower()}{slash}{path}"


def ftm_id(kind: IdentifierKind, canonical: str) -> str:
    """The FollowTheMoney entity id of a selector, the same from every exporter.

    ``canonical`` must already be in its kind's canonical form: the id is a
    digest of it, so two spellings of one number would otherwise get two ids.
    """
    from followthemoney.util import make_entity_id

    if not canonical:
        raise InputError("empty, so it has no FollowTheMoney id", field=kind.value)
    return str(make_entity_id(FTM_NAMESPACE, kind.value, canonical))
