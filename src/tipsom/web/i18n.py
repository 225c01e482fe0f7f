"""Translation layer: gettext catalogs per language, chosen per request.

Every user-facing string, including field and code labels read from the
schema YAML, goes through :func:`gettext`, whose catalog is the one of the
current request's language (a context variable, so concurrent requests in
different languages never mix). Catalogs are Babel ``.po`` files compiled to
``.mo`` beside them; ``python -m tipsom.web.catalog`` re-extracts and compiles
them, and a test fails when a shipped language lacks a translation.
"""

from __future__ import annotations

import contextvars
import gettext as gettext_module
from functools import cache
from pathlib import Path

import pycountry
from babel import Locale
from babel.support import NullTranslations, Translations

from tipsom.core import vocab

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "tipsom"


#: The web's languages and their script direction are the ones every module shares.
Direction = vocab.TextDirection
Language = vocab.Language


DEFAULT_LANGUAGE = Language.EN
#: Languages with a shipped catalog (English is the source language).
TRANSLATED = (Language.FR, Language.AR, Language.RU)

_current: contextvars.ContextVar[Language] = contextvars.ContextVar("tipsom_language", default=DEFAULT_LANGUAGE)


@cache
def catalog(language: Language) -> NullTranslations:
    if language is DEFAULT_LANGUAGE:
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [language.value], domain=DOMAIN)


def set_language(language: Language) -> contextvars.Token[Language]:
    return _current.set(language)


def reset_language(token: contextvars.Token[Language]) -> None:
    _current.reset(token)


def current_language() -> Language:
    return _current.get()


def gettext(message: str) -> str:
    return catalog(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return catalog(_current.get()).ngettext(singular, plural, n)


def _(message: str) -> str:
    """Translate ``message`` into the current request's language."""
    return gettext(message)


def N_(message: str) -> str:  # noqa: N802  (the conventional gettext marker name)
    """Mark a string for extraction without translating it yet (translated where shown)."""
    return message


def parse_language(value: str | None) -> Language | None:
    try:
        return Language(value) if value else None
    except ValueError:
        return None


def negotiate(accept_language: str | None) -> Language:
    """The first shipped language named in an ``Accept-Language`` header (quality order)."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, i, tag.split("-")[0].split("_")[0].lower()))
    for _q, _i, primary in sorted(ranked):
        language = parse_language(primary)
        if language is not None:
            return language
    return DEFAULT_LANGUAGE


@cache
def _country_catalog(language: Language) -> gettext_module.NullTranslations:
    return gettext_module.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language.value],
                                      fallback=True)


@cache
def _country_names() -> dict[str, str]:
    names = {c.alpha_3: getattr(c, "common_name", None) or c.name for c in pycountry.countries}
    names["XKX"] = "Kosovo"
    return names


@cache
def _alpha_2() -> dict[str, str]:
    codes = {c.alpha_3: c.alpha_2 for c in pycountry.countries}
    codes["XKX"] = "XK"
    return codes


def country_name(code: str | None) -> str:
    """A country's name in the current language, offline.

    pycountry's ISO 3166 catalogs come first; where they have no translation
    (in Arabic, for instance, the short names Syria, Iran, Türkiye and Kosovo
    that tipsom shows are missing), Unicode CLDR's territory names through
    babel fill in, so no name stays in English inside a translated page.
    """
    if not code:
        return ""
    english = _country_names().get(code)
    if english is None:
        return code
    language = _current.get()
    translated = _country_catalog(language).gettext(english)
    if translated == english and language is not Language.EN:
        return _cldr_territory(language.value, _alpha_2().get(code, "")) or english
    return translated


@cache
def _cldr_territory(locale: str, alpha_2: str) -> str:
    return str(Locale.parse(locale).territories.get(alpha_2, "")) if alpha_2 else ""


def country_choices() -> list[tuple[str, str]]:
    """(ISO3, name) pairs sorted by name in the current language."""
    return sorted(((c, country_name(c)) for c in _country_names()), key=lambda p: p[1].casefold())
