"""Country names and codes resolved to ISO 3166-1 alpha-3.

Every publisher spells countries its own way ("Congo, Dem. Rep.", "DR Congo
(Zaire)", "Iran (Islamic Republic of)"). pycountry knows the standard names; the
variant table in ``country_variants.yaml`` covers the rest. There is no fuzzy
matching: a near miss between two Congos or two Koreas would silently attach
one country's data to another, so an unknown name is reported instead.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources

import pycountry

from tipsom.core.config import parse_text

#: Publisher codes that are not in ISO 3166 but identify a territory unambiguously.
NON_ISO_CODES = frozenset({"XKX", "AB9"})


def _key(text: str) -> str:
    folded = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", " ", folded.lower()).strip()


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, str], dict[str, str]]:
    text = resources.files("tipsom.context").joinpath("country_variants.yaml").read_text(encoding="utf-8")
    data = parse_text(text, "country_variants.yaml")
    names = {_key(str(k)): str(v) for k, v in data["variants"].items()}
    codes = {str(k).upper(): str(v) for k, v in data["codes"].items()}
    return names, codes


@lru_cache(maxsize=4096)
def resolve_country(text: str) -> str | None:
    """The alpha-3 code for a name, alpha-2/alpha-3/numeric code, or None if unknown."""
    value = text.strip()
    if not value:
        return None
    names, codes = _tables()
    upper = value.upper()
    if upper in NON_ISO_CODES:
        return upper
    if upper in codes:
        return codes[upper]
    if value.isdigit():
        found = pycountry.countries.get(numeric=value.zfill(3))
        return str(found.alpha_3) if found else None
    if _key(value) in names:
        return names[_key(value)]
    try:
        found = pycountry.countries.lookup(value)
    except LookupError:
        return None
    return str(found.alpha_3)


def country_name(iso3: str) -> str:
    """A display name for a code (the code itself when pycountry has none)."""
    found = pycountry.countries.get(alpha_3=iso3)
    return str(found.name) if found else iso3
