"""Text normalisation and the undoing of tricks posters use to hide numbers (ads, chat messages).

Ad platforms filter phone numbers, so posters write them as "nine one seven",
"9 1 7 ➖ 5 5 5", "٩١٧", "9l7-555-Ol23" or with emoji between the digits. All
spans reported by the OSINT module refer to the *normalised* text (Unicode
NFKC, HTML removed), which :func:`normalise_text` produces deterministically,
so a report can re-create it from the ad and highlight the same characters.

:func:`digit_runs` finds the runs of (possibly disguised) digits and returns
each as plain ASCII digits with its span, for phone extraction downstream.
"""

from __future__ import annotations

import html
import re
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser

#: Spelled-out digits in English, Spanish, French and Arabic (and "oh" for 0).
NUMBER_WORDS: dict[str, str] = {
    # English
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
    # Spanish
    "cero": "0", "uno": "1", "una": "1", "dos": "2", "tres": "3", "cuatro": "4",
    "cinco": "5", "seis": "6", "siete": "7", "ocho": "8", "nueve": "9",
    # French
    "zéro": "0", "un": "1", "une": "1", "deux": "2", "trois": "3", "quatre": "4",
    "cinq": "5", "sept": "7", "huit": "8", "neuf": "9",
    # Arabic (with common spelling variants)
    "صفر": "0", "واحد": "1", "اثنان": "2", "اثنين": "2", "إثنان": "2", "إثنين": "2",
    "ثلاثة": "3", "ثلاثه": "3", "أربعة": "4", "اربعة": "4", "اربعه": "4", "خمسة": "5", "خمسه": "5",
    "ستة": "6", "سته": "6", "سبعة": "7", "سبعه": "7", "ثمانية": "8", "ثمانيه": "8", "تسعة": "9", "تسعه": "9",
}

_TAG_HINT = re.compile(r"<[A-Za-z!/][^>]*>")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_NEWLINES = re.compile(r"\s*\n\s*")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200e\u200f\u2060\ufeff\u00ad"), None)


class _TextExtractor(HTMLParser):
    """Collects visible text; block elements become line breaks."""

    _SKIP = frozenset({"script", "style", "noscript", "template", "head"})
    _BLOCK = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section",
                        "article", "header", "footer", "title", "td", "ul", "ol", "table"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def strip_html(text: str) -> str:
    """Visible text of an HTML fragment or page (scripts and styles removed)."""
    parser = _TextExtractor()
    parser.feed(text)
    parser.close()
    return "".join(parser.parts)


def normalise_text(text: str) -> str:
    """NFKC, HTML removed, entities decoded, invisible characters dropped, spaces collapsed."""
    if _TAG_HINT.search(text):
        text = strip_html(text)
    elif "&" in text:
        text = html.unescape(text)
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    text = _SPACES.sub(" ", text)
    return _NEWLINES.sub("\n", text).strip()


def _decimal_digit_table() -> dict[int, str]:
    """Every Unicode decimal digit (Arabic-Indic, Persian, Devanagari...) to ASCII."""
    table: dict[int, str] = {}
    for code in range(0x80, sys.maxunicode + 1):
        ch = chr(code)
        if unicodedata.category(ch) == "Nd":
            table[code] = str(unicodedata.decimal(ch))
    return table


_DIGITS = _decimal_digit_table()
# Keycap digits are "1" + VS16 + U+20E3; the combining parts are separators.
_EMOJI_SEPARATORS = r"\u2190-\u2BFF\u2700-\u27BF\u2300-\u23FF\u25A0-\u25FF\uFE0F\u200D\u20E3\U0001F000-\U0001FAFF"
# Separators that may sit between the digits of one number. "/", "," ";" and
# "|" are left out: they separate one number from the next.
_SEPARATOR = rf"[\s.\-_()*~•·{_EMOJI_SEPARATORS}]"
_LOOKALIKE = {"o": "0", "O": "0", "l": "1", "I": "1", "|": "1"}
_WORDS = "|".join(sorted(map(re.escape, NUMBER_WORDS), key=len, reverse=True))
# A digit token: a chunk of digits possibly mixed with o/O/l/I look-alikes (at
# least one real digit), a single look-alike letter, or a spelled-out digit.
_TOKEN = rf"(?:(?:{_WORDS})(?![^\W_])|[0-9oOlI|]*[0-9][0-9oOlI|]*|[oOlI](?![^\W_]))"


def first_char_guard(chars: Iterable[str]) -> str:
    """A look-ahead that a match starts with one of ``chars``.

    Python's ``re`` tries a pattern at every position; one that opens with a
    look-behind and a long alternation pays for the whole alternation each
    time. Put first (with the pattern's own flags, so matches are the same),
    this single character test rejects almost every position at once.
    """
    return "(?=[" + "".join(sorted({re.escape(c) for c in chars})) + "])"


_RUN = re.compile(
    first_char_guard(["+", *"0123456789oOlI|", *(w[0] for w in NUMBER_WORDS)])
    + rf"(?<![^\W_])(?P<plus>\+\s*)?{_TOKEN}(?:{_SEPARATOR}{{0,3}}{_TOKEN})*(?![^\W_])",
    re.IGNORECASE,
)
_TOKEN_RE = re.compile(_TOKEN, re.IGNORECASE)
#: Fewer digits than this cannot be a phone number anywhere.
MIN_PHONE_DIGITS = 7


@dataclass(frozen=True, slots=True)
class DigitRun:
    """A run of (possibly disguised) digits: ``digits`` may start with ``+``."""

    digits: str
    start: int
    end: int
    disguised: bool
    #: The digits of each token with its span, so a run holding two numbers
    #: written back to back can be split where a valid number ends.
    parts: tuple[tuple[str, int, int], ...]


def _digit_class(codes: list[int]) -> str:
    """A regex character class of ``codes`` (sorted), written as ranges."""
    ranges: list[tuple[int, int]] = []
    for code in codes:
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return "[" + "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in ranges) + "]"


# ``str.translate`` looks every character up in the 700-entry table, which made it
# one of the costliest steps of a scan; most ads hold no non-ASCII digit at all.
_NON_ASCII_DIGIT = re.compile(_digit_class(sorted(_DIGITS)))


def to_ascii_digits(text: str) -> str:
    """Map every Unicode decimal digit to its ASCII form; lengths are preserved."""
    if text.isascii() or _NON_ASCII_DIGIT.search(text) is None:
        return text
    return _NON_ASCII_DIGIT.sub(lambda m: _DIGITS[ord(m.group())], text)


def digit_runs(text: str) -> list[DigitRun]:
    """Runs of at least :data:`MIN_PHONE_DIGITS` digits, however they were written.

    ``text`` must already be normalised; spans refer to it. A run must start
    and end on a word boundary, so digits inside a longer alphanumeric token
    (a wallet address, a reference code) are never taken. A look-alike letter
    or an article-like word ("un", "oh") at either end of a run is dropped,
    because there it is far more likely to be a word than a digit.
    """
    ascii_text = to_ascii_digits(text)
    runs: list[DigitRun] = []
    for m in _RUN.finditer(ascii_text):
        tokens = list(_TOKEN_RE.finditer(ascii_text, m.start(), m.end()))
        while tokens and _weak_edge(tokens[0].group()):
            tokens.pop(0)
        while tokens and _weak_edge(tokens[-1].group()):
            tokens.pop()
        digits = "".join(_token_digits(t.group()) for t in tokens)
        if len(digits) < MIN_PHONE_DIGITS:
            continue
        start, end = tokens[0].start(), tokens[-1].end()
        plus = m.group("plus") is not None and tokens[0].start() == m.start("plus") + len(m.group("plus"))
        if plus:
            start = m.start("plus")
        disguised = is_disguised(text[start:end], len(tokens))
        parts = tuple((_token_digits(t.group()), t.start(), t.end()) for t in tokens)
        runs.append(DigitRun(("+" if plus else "") + digits, start, end, disguised, parts))
    return runs


#: Ordinary phone formats have at most this many digit groups ("06 12 34 56 78").
_MAX_PLAIN_GROUPS = 5
_WEAK_EDGE_WORDS = frozenset({"un", "une", "una", "oh"})
_EMOJI_CHARS = re.compile(f"[{_EMOJI_SEPARATORS}]")


def is_disguised(written: str, groups: int) -> bool:
    """Whether a number was written to dodge filters rather than to be read.

    Letters (spelled digits, look-alikes), non-ASCII digits, emoji, or more digit
    groups than any national format uses all count as disguise.
    """
    return (
        to_ascii_digits(written) != written
        or any(ch.isalpha() for ch in written)
        or _EMOJI_CHARS.search(written) is not None
        or groups > _MAX_PLAIN_GROUPS
    )


def _weak_edge(token: str) -> bool:
    return token in _LOOKALIKE or token.lower() in _WEAK_EDGE_WORDS


def _token_digits(token: str) -> str:
    word = NUMBER_WORDS.get(token.lower())
    if word is not None:
        return word
    return "".join(_LOOKALIKE.get(ch, ch) for ch in token)
