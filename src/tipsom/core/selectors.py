"""Selectors in free text: phones, e-mails, URLs, messaging handles and wallets, however disguised.

One extractor for every text tipsom reads (an ad, a chat message), so the
same selector found in an ad and in a victim's phone is the same string and
links them. Each identifier is reduced to its canonical value (the one form
every module uses, :mod:`tipsom.core.identifiers`: E.164 phone, lower-case
email, ``service:username`` handle, ``chain:address`` wallet, checksum
verified) and keeps the span of text it came from, so an analyst can check it
against the preserved original. Moved here from the OSINT module when chat
exports needed it too; the OSINT tests still pin its behaviour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from phonenumbers import Leniency, PhoneNumberMatcher

from tipsom.core.identifiers import (
    IdentifierKind,
    canonical_email,
    canonical_handle,
    canonical_url,
    e164,
    wallet_form,
)
from tipsom.core.textnorm import (
    NUMBER_WORDS,
    DigitRun,
    digit_runs,
    first_char_guard,
    is_disguised,
)
from tipsom.core.wallets import find_crypto_addresses

#: Kinds whose sharing links two ads. A URL is not one: ads on the same
#: platform share its address without sharing an owner.
LINKING_KINDS = frozenset({IdentifierKind.PHONE, IdentifierKind.EMAIL, IdentifierKind.HANDLE,
                           IdentifierKind.WALLET})


@dataclass(frozen=True, slots=True)
class Identifier:
    kind: IdentifierKind
    value: str
    start: int
    end: int
    #: True when the poster disguised it (spelled digits, "at"/"dot", hxxp...).
    obfuscated: bool = False
    #: Extra facts: the messaging service, or the wallet's checksum status.
    detail: str = ""


# --- emails -----------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}(?![\w])")
_TLDS = ("com|net|org|info|biz|co|io|me|ru|ua|by|kz|fr|es|de|it|uk|nl|be|pl|ro|tr|ae|sa|eg|ma|mx|ar|br|cl|pe|us|ca"
         "|au|in|th|ph|ng|gh|ke|za|example")
_AT = r"(?:\s*[\(\[\{<]\s*(?:at|arroba|arobase|собака|@)\s*[\)\]\}>]\s*|\s+(?:at|arroba|arobase|собака)\s+|\s+@\s+)"
_DOT = r"(?:\s*[\(\[\{<]\s*(?:dot|punto|point|точка|\.)\s*[\)\]\}>]\s*|\s+(?:dot|punto|point|точка)\s+|\s+\.\s+)"
_EMAIL_OBFUSCATED = re.compile(
    rf"(?<![\w.+-])(?P<user>[A-Za-z0-9._%+-]{{2,64}}){_AT}(?P<domain>[A-Za-z0-9-]{{2,63}}(?:{_DOT}[A-Za-z0-9-]{{2,63}})*)"
    rf"{_DOT}(?P<tld>{_TLDS})(?![\w])",
    re.IGNORECASE,
)
_DOT_SPLIT = re.compile(_DOT, re.IGNORECASE)


def find_emails(text: str) -> list[Identifier]:
    found = ([Identifier(IdentifierKind.EMAIL, canonical_email(m.group()), *m.span()) for m in _EMAIL.finditer(text)]
             if "@" in text else [])
    for m in _EMAIL_OBFUSCATED.finditer(text):
        domain = ".".join(_DOT_SPLIT.split(m.group("domain")))
        value = canonical_email(f"{m.group('user')}@{domain}.{m.group('tld')}")
        found.append(Identifier(IdentifierKind.EMAIL, value, *m.span(), obfuscated=True))
    return found


# --- URLs (including defanged) ------------------------------------------------

_URL = re.compile(
    r"(?P<scheme>h(?:tt|xx|XX)ps?)(?:\[:\]|:)//(?P<rest>[^\s<>\"']+)"
    r"|(?<![\w.@])(?P<www>www(?:\.|\[\.\]|\(\.\))[^\s<>\"']+)",
    re.IGNORECASE,
)
_DEFANG = (("[.]", "."), ("(.)", "."), ("[dot]", "."), ("[:]", ":"))
_TRAILING = ".,;:!?)]}'\""


def _refang(url: str) -> tuple[str, bool]:
    original = url
    for old, new in _DEFANG:
        url = url.replace(old, new)
    url = re.sub(r"^hxxp", "http", url, flags=re.IGNORECASE)
    return url, url != original


def find_urls(text: str) -> list[Identifier]:
    found = []
    for m in _URL.finditer(text):
        raw = m.group().rstrip(_TRAILING)
        url, defanged = _refang(raw)
        if not url.lower().startswith("http"):
            url = "http://" + url
        found.append(Identifier(IdentifierKind.URL, canonical_url(url), m.start(), m.start() + len(raw),
                                obfuscated=defanged))
    return found


# --- messaging links and handles ----------------------------------------------

#: Canonical service names for the spellings posters use.
SERVICES: dict[str, str] = {
    "whatsapp": "whatsapp", "whats app": "whatsapp", "wa": "whatsapp", "wapp": "whatsapp",
    "ватсап": "whatsapp", "вотсап": "whatsapp", "واتساب": "whatsapp", "واتس": "whatsapp",
    "telegram": "telegram", "tg": "telegram", "телеграм": "telegram", "телеграмм": "telegram",
    "تيليجرام": "telegram", "تلغرام": "telegram", "تليجرام": "telegram",
    "snapchat": "snapchat", "snap": "snapchat", "sc": "snapchat",
    "kik": "kik", "instagram": "instagram", "insta": "instagram", "ig": "instagram",
    "wechat": "wechat", "line": "line", "signal": "signal", "viber": "viber",
    "onlyfans": "onlyfans", "twitter": "twitter", "tiktok": "tiktok", "skype": "skype",
}
_LINK_SERVICES = {
    "wa.me": "whatsapp", "api.whatsapp.com/send?phone=": "whatsapp", "t.me": "telegram",
    "telegram.me": "telegram", "snapchat.com/add": "snapchat", "instagram.com": "instagram",
    "onlyfans.com": "onlyfans", "m.me": "messenger", "line.me/ti/p": "line", "kik.me": "kik",
}
_MESSAGING_LINK = re.compile(
    r"(?:h(?:tt|xx)ps?(?:\[:\]|:)//)?(?:www\.)?(?P<host>"
    + "|".join(re.escape(k).replace(r"\.", r"(?:\.|\[\.\])") for k in sorted(_LINK_SERVICES, key=len, reverse=True))
    + r")/?(?P<id>\+?[A-Za-z0-9_.~-]{2,40})",
    re.IGNORECASE,
)
# Every link host has a dot (or "[.]") followed by a known label; Python's ``re``
# tries the whole host alternation at every position, so texts without such a
# dot (most ads) skip that search.
_LINK_HINT = re.compile(
    r"(?:\.|\[\.\])(?:" + "|".join(sorted({re.escape(k.split(".")[1].split("/")[0]) for k in _LINK_SERVICES}))
    + ")",
    re.IGNORECASE,
)
_HANDLE = re.compile(
    first_char_guard(s[0] for s in SERVICES)
    + r"(?<![\w])(?P<svc>" + "|".join(re.escape(s) for s in sorted(SERVICES, key=len, reverse=True))
    + r")\s*(?:[:：=\-]\s*@?|@|\s+@)\s*(?P<id>[A-Za-z][A-Za-z0-9_.]{2,31})(?![\w])",
    re.IGNORECASE,
)
_SERVICE_BEFORE = re.compile(
    first_char_guard(s[0] for s in SERVICES)
    + r"(?<![\w])(?P<svc>" + "|".join(re.escape(s) for s in sorted(SERVICES, key=len, reverse=True))
    + r")\s*[:：=\-]?\s*$",
    re.IGNORECASE,
)
_BARE_HANDLE = re.compile(r"(?<![\w@.])@(?P<id>[A-Za-z][A-Za-z0-9_.]{2,31})(?![\w@])")


def find_messaging_links(text: str) -> tuple[list[Identifier], list[Identifier]]:
    """Handles in links such as ``t.me/<name>``, and phones in ``wa.me/<number>``."""
    handles: list[Identifier] = []
    phones: list[Identifier] = []
    if _LINK_HINT.search(text) is None:
        return handles, phones
    for m in _MESSAGING_LINK.finditer(text):
        host = m.group("host").lower().replace("[.]", ".")
        service = _LINK_SERVICES[host]
        ident = m.group("id").rstrip(_TRAILING)
        end = m.start("id") + len(ident)
        digits = ident.lstrip("+")
        if service == "whatsapp" and digits.isdigit():
            number = _valid_e164("+" + digits, None)
            if number:
                phones.append(Identifier(IdentifierKind.PHONE, number, m.start(), end, detail=service))
        else:
            handles.append(Identifier(IdentifierKind.HANDLE, canonical_handle(service, ident), m.start(), end,
                                      detail=service))
    return handles, phones


def find_handles(text: str, exclude: list[tuple[int, int]]) -> list[Identifier]:
    """Handles named after a service ("Telegram @anna") or bare ("@anna"), outside ``exclude``.

    ``exclude`` must hold the phones' spans: "WhatsApp: two five..." names a
    spelled-out number, not a user called "two".
    """
    handles: list[Identifier] = []
    taken = list(exclude)
    for m in _HANDLE.finditer(text):
        ident = m.group("id").rstrip(".")
        end = m.start("id") + len(ident)
        if _overlaps(m.start("id"), end, taken) or ident.lower() in NUMBER_WORDS:
            continue
        service = SERVICES[m.group("svc").lower()]
        handles.append(Identifier(IdentifierKind.HANDLE, canonical_handle(service, ident), m.start(), end,
                                  detail=service))
        taken.append((m.start(), end))
    for m in _BARE_HANDLE.finditer(text):
        ident = m.group("id").rstrip(".")
        if not _overlaps(m.start(), m.end(), taken):
            handles.append(Identifier(IdentifierKind.HANDLE, canonical_handle("unspecified", ident), m.start(),
                                      m.start("id") + len(ident), detail="unspecified"))
    return handles


# --- phones -------------------------------------------------------------------

#: Longest E.164 number (ITU-T E.164 allows 15 digits).
_MAX_DIGITS = 15
_MIN_DIGITS = 7


#: Numbers validated per process and remembered: an operation writes the same few
#: phones in hundreds of ads, and phonenumbers' matcher was the costliest step of a scan.
_VALIDATED_NUMBERS = 1 << 16


@lru_cache(maxsize=_VALIDATED_NUMBERS)
def _valid_e164(candidate: str, region: str | None) -> str | None:
    """E.164 form if ``candidate`` is a valid number (phonenumbers' VALID leniency)."""
    for match in PhoneNumberMatcher(candidate, region, leniency=Leniency.VALID):
        if match.start == 0 and match.end == len(candidate):
            return e164(match.number)
    return None


def _parse_run(run: DigitRun, regions: list[str]) -> list[tuple[str, int, int, int]]:
    """Numbers in one run, with their span and digit-group count.

    A run holding several numbers back to back is split where each valid one ends.
    """
    plus = run.digits.startswith("+")
    for region in [None] if plus else regions:
        number = _valid_e164(run.digits, region)
        if number:
            return [(number, run.start, run.end, len(run.parts))]
    if len(run.digits) <= _MAX_DIGITS:
        return []
    found: list[tuple[str, int, int, int]] = []
    parts, i = run.parts, 0
    joined = "".join(p[0] for p in parts)
    offsets = [0]
    for p in parts:
        offsets.append(offsets[-1] + len(p[0]))
    while i < len(parts):
        # Every part holds at least one digit, so no number starting at part i
        # ends beyond part i + _MAX_DIGITS: the window keeps a long run (one ad of
        # "1 " x 4,000) linear instead of cubic, and yields the same numbers.
        for j in range(min(len(parts), i + _MAX_DIGITS), i, -1):
            digits = joined[offsets[i]:offsets[j]]
            if not _MIN_DIGITS <= len(digits) <= _MAX_DIGITS:
                continue
            start = run.start if (plus and i == 0) else parts[i][1]
            prefix = "+" if plus and i == 0 else ""
            number = next((n for r in ([None] if prefix else regions) if (n := _valid_e164(prefix + digits, r))),
                          None)
            if number:
                found.append((number, start, parts[j - 1][2], j - i))
                i = j
                break
        else:
            i += 1
    return found


def find_phones(text: str, regions: list[str], exclude: list[tuple[int, int]]) -> list[Identifier]:
    """Valid phone numbers, however disguised, outside the ``exclude`` spans.

    ``regions`` are ISO alpha-2 hints for numbers written without a country
    code; without any hint only international (``+``) numbers are accepted.
    """
    found = []
    for run in digit_runs(text):
        if _overlaps(run.start, run.end, exclude):
            continue
        for number, start, end, groups in _parse_run(run, regions):
            obfuscated = is_disguised(text[start:end], groups)
            service = _SERVICE_BEFORE.search(text, max(0, start - 24), start)
            found.append(Identifier(IdentifierKind.PHONE, number, start, end, obfuscated=obfuscated,
                                    detail=SERVICES[service.group("svc").lower()] if service else ""))
    return found


def find_wallets(text: str) -> list[Identifier]:
    return [
        Identifier(IdentifierKind.WALLET, wallet_form(a), a.start, a.end, detail=a.checksum.value)
        for a in find_crypto_addresses(text)
    ]


def _overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(start < e and s < end for s, e in spans)


def find_identifiers(text: str, regions: list[str]) -> list[Identifier]:
    """All identifiers in normalised ``text``, sorted by position.

    Wallets, URLs and emails are found first and their spans are excluded from
    phone search, so the digit runs inside a wallet or a URL are never read as
    a phone number.
    """
    wallets = find_wallets(text)
    emails = find_emails(text)
    urls = find_urls(text)
    link_handles, link_phones = find_messaging_links(text)
    found = [*wallets, *emails, *urls, *link_handles, *link_phones]
    found += find_phones(text, regions, [(i.start, i.end) for i in found])
    found += find_handles(text, [(i.start, i.end) for i in found])
    return sorted(found, key=lambda i: (i.start, i.kind.value))


# --- bank accounts ------------------------------------------------------------

_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Za-z0-9])")


def find_ibans(text: str) -> list[Identifier]:
    """IBANs whose check digits hold, written compact or in groups of four (kind ``account``).

    Not part of :func:`find_identifiers`, whose output ads' linkage is pinned
    on; a payment request in a chat is where an IBAN is written, so chats call
    both. A candidate whose check digits fail is refused, not kept as digits.
    """
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    found = []
    for m in _IBAN.finditer(text):
        written = m.group()
        groups = written.split(" ")
        # A trailing group may be the next word ("... 189 OK"): drop groups until the check digits hold.
        for keep in range(len(groups), 2, -1):
            candidate = " ".join(groups[:keep])
            try:
                compact = str(IBAN("".join(groups[:keep])).compact)
            except SchwiftyException:
                continue
            found.append(Identifier(IdentifierKind.ACCOUNT, compact, m.start(), m.start() + len(candidate)))
            break
    return found
