"""Prices and stated ages in an ad.

They do not link ads but describe them (price range, youth, movement). The
selectors that do link them (phones, e-mails, handles, wallets, URLs) are
found by :mod:`tipsom.core.selectors`, the extractor chat exports use too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tipsom.core.textnorm import to_ascii_digits


@dataclass(frozen=True, slots=True)
class Price:
    amount: float
    currency: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class StatedAge:
    years: int
    start: int
    end: int


# --- prices and ages ---------------------------------------------------------

_CURRENCY_WORDS: dict[str, str] = {
    "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "евро": "EUR", "يورو": "EUR",
    "£": "GBP", "gbp": "GBP", "pound": "GBP", "pounds": "GBP",
    "₽": "RUB", "rub": "RUB", "руб": "RUB", "рублей": "RUB", "р": "RUB",
    "usd": "USD", "dollar": "USD", "dollars": "USD", "dólares": "USD", "dolares": "USD", "долларов": "USD",
    "دولار": "USD", "mxn": "MXN", "pesos": "MXN", "aed": "AED", "درهم": "AED", "sar": "SAR", "ريال": "SAR",
    "try": "TRY", "tl": "TRY", "lira": "TRY", "₺": "TRY", "جنيه": "EGP", "دينار": "LYD", "₹": "INR",
    "inr": "INR", "฿": "THB", "thb": "THB", "baht": "THB", "¥": "JPY",
    # "roses" is the long-standing code word for dollars in escort ads.
    "roses": "USD", "rose": "USD", "🌹": "USD",
}
_DOLLAR_REGIONS = {"CA": "CAD", "AU": "AUD", "MX": "MXN", "CO": "COP", "AR": "ARS", "CL": "CLP",
                   "SG": "SGD", "HK": "HKD"}


def _amount_pattern(tag: str) -> str:
    return rf"(?P<amt{tag}>\d{{1,3}}(?:[ ,.]\d{{3}})+|\d+(?:[.,]\d{{1,2}})?)\s?(?P<k{tag}>k)?"


_CUR_AFTER = "|".join(re.escape(w) for w in sorted(_CURRENCY_WORDS, key=len, reverse=True))
_PRICE = re.compile(
    r"(?=[$€£₽₺₹฿¥\d])"  # what both alternatives start with (see first_char_guard)
    rf"(?:(?P<sym>[$€£₽₺₹฿¥])\s?{_amount_pattern('1')}(?![\w])"
    rf"|(?<![\w.]){_amount_pattern('2')}\s?(?P<cur>\$|{_CUR_AFTER})(?![^\W\d_]))",
    re.IGNORECASE,
)
_AGE = re.compile(
    r"(?=[\daeâвعitjм])"  # what every alternative starts with (see first_char_guard)
    r"(?:(?<!\d)(?P<a>\d{2})\s?(?:yo|y/o|y\.o\.|yrs?(?:\s+old)?|years?\s+old|años|ans|лет|года|سنة|سنه|عاما|عام)(?![^\W\d_])"
    r"|(?:\bage|\bedad|\bâge|возраст|عمري|\bi'?m|\bi\s+am|\btengo|\bj'ai|\bмне)\s*:?\s*(?P<b>\d{2})(?!\d))",
    re.IGNORECASE,
)
_MIN_AGE, _MAX_AGE = 12, 79


def _amount(text: str, thousands: bool) -> float:
    if re.fullmatch(r"\d{1,3}(?:[ ,.]\d{3})+", text):
        value = float(re.sub(r"[ ,.]", "", text))
    else:
        value = float(text.replace(",", "."))
    return value * 1000 if thousands else value


def find_prices(text: str, regions: list[str]) -> list[Price]:
    digits = to_ascii_digits(text)
    prices = []
    for m in _PRICE.finditer(digits):
        symbol = (m.group("sym") or m.group("cur") or "").lower()
        if symbol == "$":
            currency = next((_DOLLAR_REGIONS[r] for r in regions[:1] if r in _DOLLAR_REGIONS), "USD")
        else:
            currency = _CURRENCY_WORDS.get(symbol, "")
        tag = "1" if m.group("sym") else "2"
        prices.append(Price(_amount(m.group("amt" + tag), bool(m.group("k" + tag))), currency, *m.span()))
    return prices


def find_ages(text: str) -> list[StatedAge]:
    ages = []
    for m in _AGE.finditer(to_ascii_digits(text)):
        years = int(m.group("a") or m.group("b"))
        if _MIN_AGE <= years <= _MAX_AGE:
            ages.append(StatedAge(years, *m.span()))
    return ages
