"""Turning raw values (CSV text, JSON values) into typed, validated ones.

Each field gets a converter compiled once from its definition, so a million
rows are checked without re-reading the schema per value. A converter raises
:class:`ValueError` whose message is the reason shown to the user.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time
from collections.abc import Callable
from functools import cache
from typing import Any

import pycountry

from tipsom.schema.model import Field, FieldType, TextFormat

#: Separator of values in a multi-valued flat-file cell.
MULTI_SEP = "|"
#: Separator of values of a multi-valued field inside a repeated-entity cell.
INNER_SEP = ";"

Converter = Callable[[Any], Any]

_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f"}


@cache
def countries() -> frozenset[str]:
    """ISO 3166-1 alpha-3 codes, plus XKX (Kosovo), which the ISO list lacks."""
    return frozenset({c.alpha_3 for c in pycountry.countries} | {"XKX"})


@cache
def currencies() -> frozenset[str]:
    return frozenset(c.alpha_3 for c in pycountry.currencies)


@cache
def languages() -> frozenset[str]:
    codes: set[str] = set()
    for lang in pycountry.languages:
        codes.add(lang.alpha_3)
        if hasattr(lang, "alpha_2"):
            codes.add(lang.alpha_2)
    return frozenset(codes)


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _member(known: frozenset[str], fold: Callable[[str], str], what: str) -> Converter:
    """A converter accepting members of a standard code set (case-insensitively)."""

    def member(v: Any) -> str:
        s = fold(_scalar_text(v))
        if s not in known:
            raise ValueError(f"{v!r} is not {what}")
        return s

    return member


#: Identifiers (case_id, person_id): a letter or digit, then letters, digits and ``. _ : -``, at most 64
#: in all. They appear in URLs, file names and audit records, so nothing there may need escaping.
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
#: An e-mail address: one ``@``, no blanks, a dot in the domain.
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
#: A phone number as people write it: an optional ``+``, digits, blanks, ``( ) . / -``; 4 to 20 digits.
PHONE_PATTERN = re.compile(r"\+?[0-9][0-9 ()./-]*")
#: No date in a case record lies before this (recruitment in 1800 is a typing error, not history).
DATE_FLOOR = dt.date(1900, 1, 1)


def _scalar_text(v: Any) -> str:
    """A JSON value that should be text: objects and lists are refused, not turned into their repr."""
    if type(v) is str:
        return v.strip()
    if isinstance(v, (dict, list, tuple)):
        raise ValueError(f"must be text, not a JSON {'object' if isinstance(v, dict) else 'list'}")
    return str(v).strip()


def _identifier(v: Any) -> str:
    s = _scalar_text(v)
    if not ID_PATTERN.fullmatch(s) or ".." in s:
        raise ValueError("not an identifier: 1 to 64 letters, digits and . _ : - starting with a letter or "
                         "digit, without '..'")
    return s


def _text(f: Field) -> Converter:
    limit, shape = f.max_length, f.format

    def text(v: Any) -> str:
        s = _scalar_text(v)
        if limit and len(s) > limit:
            raise ValueError(f"longer than {limit} characters")
        if shape is TextFormat.EMAIL and not EMAIL_PATTERN.fullmatch(s):
            raise ValueError("not an e-mail address (name@domain.example)")
        if shape is TextFormat.PHONE and not (PHONE_PATTERN.fullmatch(s) and 4 <= sum(c.isdigit() for c in s) <= 20):
            raise ValueError("not a phone number (digits, spaces, + ( ) . / -)")
        return s

    return text


def _date(f: Field) -> Converter:
    future = f.future

    def date(v: Any) -> dt.date:
        if isinstance(v, dt.date):
            d = v
        else:
            try:
                d = dt.date.fromisoformat(_scalar_text(v)[:10])
            except ValueError:
                raise ValueError(f"not a date in YYYY-MM-DD form: {_short_repr(v)}") from None
        if d < DATE_FLOOR:
            raise ValueError(f"before {DATE_FLOOR.isoformat()}, not plausible")
        if not future and d > _latest_date():
            raise ValueError("in the future")
        return d

    return date


_LATEST: list[Any] = [dt.date.min, 0.0]


def _latest_date() -> dt.date:
    """Tomorrow in UTC (one day of slack for time zones), looked up at most once a minute.

    Converters live as long as a server runs, so "today" cannot be fixed when
    they are built; asking the clock for each of a million dates costs more
    than the check itself.
    """
    now = time.monotonic()
    if now >= _LATEST[1]:
        _LATEST[0] = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
        _LATEST[1] = now + 60.0
    latest: dt.date = _LATEST[0]
    return latest


def _short_repr(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def _scalar(f: Field) -> Converter:
    t = f.type
    if t is FieldType.ID:
        return _identifier
    if t is FieldType.TEXT:
        return _text(f)
    if t in (FieldType.INTEGER, FieldType.DECIMAL):
        lo, hi, integer, year = f.minimum, f.maximum, t is FieldType.INTEGER, f.calendar_year

        def number(v: Any) -> float | int:
            if isinstance(v, bool):
                raise ValueError("not a number")
            try:
                n: float | int = float(v)
            except (TypeError, ValueError, OverflowError):
                raise ValueError(f"not a number: {str(v)[:40]!r}") from None
            if not math.isfinite(n):
                raise ValueError("not a finite number")
            if integer:
                if n != int(n):
                    raise ValueError("not a whole number")
                n = int(n)
            if lo is not None and n < lo:
                raise ValueError(f"below the minimum {lo:g}")
            if hi is not None and n > hi:
                raise ValueError(f"above the maximum {hi:g}")
            if year and n > dt.datetime.now(dt.UTC).year:
                raise ValueError("in the future")
            return n

        return number
    if t is FieldType.DATE:
        return _date(f)
    if t is FieldType.BOOLEAN:

        def boolean(v: Any) -> bool:
            if isinstance(v, bool):
                return v
            s = str(v).strip().lower()
            if s in _TRUE:
                return True
            if s in _FALSE:
                return False
            raise ValueError(f"not yes/no: {v!r}")

        return boolean
    if t in (FieldType.CODE, FieldType.CODES):
        assert f.codelist is not None
        allowed, listname = f.codelist.codes, f.codelist.name

        def code(v: Any) -> str:
            s = _scalar_text(v)
            if s not in allowed:
                raise ValueError(f"{s!r} is not in code list {listname}")
            return s

        return code
    if t in (FieldType.COUNTRY, FieldType.COUNTRIES):
        return _member(countries(), str.upper, "an ISO 3166-1 alpha-3 country code")
    if t is FieldType.CURRENCY:
        return _member(currencies(), str.upper, "an ISO 4217 currency code")
    if t is FieldType.LANGUAGES:
        return _member(languages(), str.lower, "an ISO 639 language code")
    raise AssertionError(f"no converter for {t}")  # pragma: no cover


def converter(f: Field, sep: str = MULTI_SEP) -> Converter:
    """A function turning a raw value of ``f`` into its typed value or None.

    Multi-valued fields accept a list or a ``sep``-separated string and return a
    sorted, de-duplicated list (order carries no meaning in a code set).
    """
    one = _scalar(f)
    required = f.required
    if f.multi:

        def many(v: Any) -> list[Any] | None:
            if _is_empty(v) or v == []:
                if required:
                    raise ValueError("required")
                return None
            items = v if isinstance(v, list) else str(v).split(sep)
            return sorted({one(i) for i in items if not _is_empty(i)})

        return many

    def single(v: Any) -> Any:
        if _is_empty(v):
            if required:
                raise ValueError("required")
            return None
        return one(v)

    return single


#: A memoised converter forgets everything once it holds this many distinct values (free text).
MEMO_LIMIT = 50_000


def memoised(convert: Converter) -> Converter:
    """``convert`` remembering its results for text inputs.

    A million rows hold few distinct codes, dates or numbers, so most values
    are converted once. Refusals are not remembered (the converter raises
    again, with the same message). Lists are copied out so no two records
    share one.
    """
    cache: dict[str, Any] = {}
    miss = object()

    def remembered(v: Any) -> Any:
        if type(v) is not str:
            return convert(v)
        hit = cache.get(v, miss)
        if hit is miss:
            hit = convert(v)
            if len(cache) >= MEMO_LIMIT:
                cache.clear()
            cache[v] = tuple(hit) if isinstance(hit, list) else hit
            return hit
        return list(hit) if isinstance(hit, tuple) else hit

    return remembered


def to_text(f: Field, value: Any, sep: str = MULTI_SEP) -> str:
    """Render a typed value back to flat-file text (the inverse of :func:`converter`)."""
    if value is None:
        return ""
    if f.multi:
        return sep.join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and f.type is FieldType.INTEGER:
        return str(int(value))
    return str(value)
