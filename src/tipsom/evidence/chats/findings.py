"""Selectors and indicators in a conversation's messages.

Selectors come from the extractor ads use (:mod:`tipsom.core.selectors`), so
a phone in a victim's chat and the same phone in an escort ad are one string
and link; IBANs, which ads rarely carry and payment requests in chats do, are
looked for too. A wallet whose checksum fails is not a selector (the extractor
refuses it). Indicators come from a lexicon of what recruiters, exploiters,
groomers and smugglers write to one person (``lexicons/conversations.yaml``),
matched with the phrase index the OSINT lexicons use, in every language the
lexicon lists at once, so each message is matched in its own language.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from tipsom.core.config import read_file
from tipsom.core.errors import ConfigError
from tipsom.core.identifiers import IdentifierKind
from tipsom.core.phrases import PhraseIndex
from tipsom.core.selectors import find_ibans, find_identifiers
from tipsom.core.textnorm import normalise_text
from tipsom.evidence.chats.records import Message, MessageKind

LEXICON = Path(__file__).resolve().parent / "lexicons" / "conversations.yaml"


class FindingKind(enum.StrEnum):
    SELECTOR = "selector"
    INDICATOR = "indicator"


class ConversationCategory(enum.StrEnum):
    """What a conversation's indicators point to."""

    RECRUITMENT = "recruitment"
    DECEPTION = "deception"
    DEBT = "debt"
    CONTROL = "control"
    GROOMING = "grooming"
    SMUGGLING = "smuggling"


#: How a selector's kind is named in reports: an account found by its IBAN check digits is an IBAN.
SELECTOR_NAMES = {IdentifierKind.ACCOUNT: "iban"}


@dataclass(frozen=True, slots=True)
class Finding:
    """One selector or indicator in message ``message`` (its position in the export)."""

    message: int
    kind: FindingKind
    category: str
    value: str
    obfuscated: bool = False


@dataclass(frozen=True, slots=True)
class ConversationIndicator:
    key: str
    category: ConversationCategory
    weight: float


def scan_messages(messages: Sequence[Message], regions: list[str]) -> list[Finding]:
    """Every selector and indicator in messages people wrote (system lines and calls carry none).

    Conversations repeat themselves ("ok", "where are you?", the same number
    sent again), so each distinct text is scanned once per export.
    """
    index = _index()
    seen_texts: dict[str, list[tuple[FindingKind, str, str, bool]]] = {}
    found: list[Finding] = []
    for n, message in enumerate(messages):
        if message.kind is not MessageKind.TEXT or not message.text:
            continue
        hits = seen_texts.get(message.text)
        if hits is None:
            hits = seen_texts[message.text] = _scan_text(message.text, regions, index)
        found.extend(Finding(n, kind, category, value, obfuscated) for kind, category, value, obfuscated in hits)
    return found


def _scan_text(raw: str, regions: list[str],
               index: PhraseIndex[ConversationIndicator]) -> list[tuple[FindingKind, str, str, bool]]:
    text = normalise_text(raw)
    ibans = find_ibans(text)
    masked = text
    for iban in ibans:  # the digits of an IBAN are not a phone number
        masked = masked[:iban.start] + " " * (iban.end - iban.start) + masked[iban.end:]
    hits = [(FindingKind.SELECTOR, SELECTOR_NAMES.get(ident.kind, ident.kind.value), ident.value, ident.obfuscated)
            for ident in [*ibans, *find_identifiers(masked, regions)]]
    keys: dict[str, ConversationIndicator] = {}
    for match in index.find(text):
        keys.setdefault(match.value.key, match.value)
    hits.extend((FindingKind.INDICATOR, ind.category.value, key, False) for key, ind in keys.items())
    return hits


def summarise(findings: Sequence[Finding]) -> tuple[list[dict[str, str]], dict[str, int]]:
    """Distinct selectors in order of first mention, and the number of indicator hits per category."""
    selectors = dict.fromkeys((f.category, f.value) for f in findings if f.kind is FindingKind.SELECTOR)
    indicators = Counter(f.category for f in findings if f.kind is FindingKind.INDICATOR)
    return [{"kind": k, "value": v} for k, v in selectors], dict(sorted(indicators.items()))


@lru_cache(maxsize=1)
def _index() -> PhraseIndex[ConversationIndicator]:
    return PhraseIndex(load_lexicon(LEXICON))


def load_lexicon(path: Path) -> list[tuple[str, ConversationIndicator]]:
    """Every phrase of the lexicon with its indicator; a malformed entry names the file and the entry."""
    data: dict[str, Any] = read_file(path)
    languages = list(data.get("languages") or [])
    sources = set(data.get("sources") or {})
    entries: list[tuple[str, ConversationIndicator]] = []
    for n, entry in enumerate(data.get("indicators") or []):
        where = f"{path}: indicator #{n + 1} ({entry.get('id', '?')})"
        try:
            indicator = ConversationIndicator(f"{entry['category']}/{entry['id']}",
                                              ConversationCategory(entry["category"]), float(entry["weight"]))
        except (KeyError, ValueError) as exc:
            raise ConfigError(f"{where}: {exc}") from None
        if not set(entry.get("source") or []) <= sources or not entry.get("source"):
            raise ConfigError(f"{where}: every indicator cites sources listed under 'sources'")
        phrases = entry.get("phrases") or {}
        missing = [lang for lang in languages if not phrases.get(lang)]
        if missing:
            raise ConfigError(f"{where}: no phrases for declared languages {missing}")
        entries.extend((str(p), indicator) for ps in phrases.values() for p in ps)
    return entries
