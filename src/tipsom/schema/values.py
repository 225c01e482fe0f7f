"""Turning raw values (CSV text, JSON values) into typed, validated ones.

Each field gets a converter compiled once from its definition, so a million
rows are checked without re-reading the schema per value. A converter raises
:class:`ValueError` whose message is the reason shown to the user.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from functools import cache
from typing import Any

import pycountry

from tipsom.schema.model import Field, FieldType

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
        s = fold(str(v).strip())
        if s not in known:
            raise ValueError(f"{v!r} is not {what}")
        return s

    return member


def _scalar(f: Field) -> Converter:
    t = f.type
    if t in (FieldType.ID, FieldType.TEXT):
        limit = f.max_length

        def text(v: Any) -> str:
            s = str(v).strip()
            if limit and len(s) > limit:
                raise ValueError(f"longer than {limit} characters")
            return s

        return text
    if t in (FieldType.INTEGER, FieldType.DECIMAL):
        lo, hi, integer = f.minimum, f.maximum, t is FieldType.INTEGER

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
            return n

        return number
    if t is FieldType.DATE:

        def date(v: Any) -> dt.date:
            if isinstance(v, dt.date):
                return v
            try:
                return dt.date.fromisoformat(str(v).strip()[:10])
            except ValueError:
                raise ValueError(f"not a date in YYYY-MM-DD form: {v!r}") from None

        return date
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
            s = str(v).strip()
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
