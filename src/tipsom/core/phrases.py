"""Fast matching of many fixed phrases, keyed by their first word.

Python's ``re`` tries every alternative of a large alternation at every
position, which made lexicon and gazetteer matching the slowest step of a scan.
Indexing phrases by their first word (case-folded) means each word of the text
is looked up once, and only the few phrases that start with it are tried.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
_WORDS = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class PhraseMatch(Generic[T]):
    value: T
    start: int
    end: int
    text: str


def phrase_regex(phrase: str) -> str:
    """The phrase with flexible whitespace and a word boundary where it ends in a word character."""
    body = r"\s+".join(re.escape(w) for w in phrase.split())
    return body + (r"(?![^\W_])" if re.search(r"\w$", phrase) else "")


def word_starts(text: str) -> list[tuple[int, str]]:
    """Where each word of ``text`` starts, and the word case-folded: what every index looks up.

    A scan matches several indexes (lexicons, gazetteer) against one text, so it
    cuts the text into words once and hands the list to each ``find``.
    """
    return [(m.start(), m.group().casefold()) for m in _WORDS.finditer(text)
            if not (m.start() and text[m.start() - 1].isalnum())]  # not after a combining mark


class PhraseIndex(Generic[T]):
    """Phrases (case-insensitive, word-bounded) mapped to values of type ``T``.

    Phrases that do not start with a word character (emoji, symbols) are
    matched with one character-class scan instead. A phrase listed for two
    values matches for both, whether it is a word phrase or a symbol.
    """

    def __init__(self, entries: Iterable[tuple[str, T]]) -> None:
        self._by_first: dict[str, list[tuple[re.Pattern[str], T]]] = {}
        symbols: dict[str, list[T]] = {}
        for phrase, value in entries:
            first = _WORDS.match(phrase)
            if first is None:
                values = symbols.setdefault(phrase, [])
                if value not in values:
                    values.append(value)
                continue
            pattern = re.compile(phrase_regex(phrase), re.IGNORECASE)
            self._by_first.setdefault(first.group().casefold(), []).append((pattern, value))
        self._symbols = symbols
        self._symbol_re = (
            re.compile("|".join(re.escape(s) for s in sorted(symbols, key=len, reverse=True))) if symbols else None
        )

    def find(self, text: str, words: list[tuple[int, str]] | None = None) -> list[PhraseMatch[T]]:
        """Every phrase occurrence; at one start, only the longest match per value.

        ``words`` is :func:`word_starts` of ``text``, when the caller already has it.
        """
        found: dict[tuple[int, int], PhraseMatch[T]] = {}
        lookup = self._by_first.get
        for start, word in word_starts(text) if words is None else words:
            candidates = lookup(word)
            if not candidates:
                continue
            for pattern, value in candidates:
                m = pattern.match(text, start)
                if m is None:
                    continue
                key = (start, id(value))
                if key not in found or m.end() > found[key].end:
                    found[key] = PhraseMatch(value, start, m.end(), m.group())
        if self._symbol_re is not None:
            for m in self._symbol_re.finditer(text):
                for value in self._symbols[m.group()]:
                    found[(m.start(), id(value))] = PhraseMatch(value, m.start(), m.end(), m.group())
        return sorted(found.values(), key=lambda p: (p.start, -p.end))
