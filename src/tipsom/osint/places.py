"""Places named in ads: a small multilingual gazetteer, region hints for phones.

Where an ad is posted, and the cities it names, matter twice: a number written
in national format ("06 12 34 56 78") can only be parsed with the right country
as a hint, and the movement of one operation from city to city is one of the
strongest signs of organised exploitation. The gazetteer ships with the package
(``data/cities.yaml``) so nothing is looked up online.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from tipsom.core.config import parse_text
from tipsom.core.phrases import PhraseIndex

_RESOLVE_CACHE = 50_000


@dataclass(frozen=True, slots=True)
class City:
    name: str
    iso3: str
    iso2: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class PlaceMention:
    city: City
    start: int
    end: int


class Gazetteer:
    """City names and aliases compiled into one case-insensitive pattern."""

    def __init__(self, cities: list[City], aliases: dict[str, City]) -> None:
        self.cities = cities
        self._index = PhraseIndex(aliases.items())
        self._resolved: dict[str, City | None] = {}

    def find(self, text: str, words: list[tuple[int, str]] | None = None) -> list[PlaceMention]:
        """Every city named in ``text``, with its span (the longest name at each position).

        ``words``: :func:`~tipsom.core.phrases.word_starts` of ``text``, if already cut.
        """
        found: list[PlaceMention] = []
        for m in self._index.find(text, words):
            if found and m.start < found[-1].end:
                continue  # "New York City" already covers "New York"
            found.append(PlaceMention(m.value, m.start, m.end))
        return found

    def resolve(self, location: str) -> City | None:
        """The city a free-text location field names (first match), if any."""
        if location not in self._resolved:
            found = self.find(location)
            if len(self._resolved) > _RESOLVE_CACHE:
                self._resolved.clear()  # location fields repeat a lot; a bounded memo is enough
            self._resolved[location] = found[0].city if found else None
        return self._resolved[location]


def _iso2(iso3: str) -> str:
    import pycountry

    country = pycountry.countries.get(alpha_3=iso3)
    if country is None:
        raise ValueError(f"cities.yaml: unknown ISO 3166 alpha-3 code {iso3!r}")
    return str(country.alpha_2)


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The shipped gazetteer (parsed once per process)."""
    text = resources.files("tipsom.osint").joinpath("data/cities.yaml").read_text(encoding="utf-8")
    data = parse_text(text, "cities.yaml")
    cities: list[City] = []
    aliases: dict[str, City] = {}
    for entry in data["cities"]:
        city = City(entry["name"], entry["country"], _iso2(entry["country"]), float(entry["lat"]),
                    float(entry["lon"]))
        cities.append(city)
        for alias in [entry["name"], *entry.get("aliases", [])]:
            aliases.setdefault(str(alias).casefold(), city)
    return Gazetteer(cities, aliases)


@lru_cache(maxsize=4096)
def country_region(location: str) -> str | None:
    """ISO alpha-2 of a country named in a location field ("Lyon, France" -> "FR")."""
    import pycountry

    for part in reversed(re.split(r"[,;/|]", location)):
        name = part.strip()
        if len(name) < 2:
            continue
        try:
            return str(pycountry.countries.lookup(name).alpha_2)
        except LookupError:
            continue
    return None


def region_hints(location: str, mentions: list[PlaceMention], defaults: tuple[str, ...] = ()) -> list[str]:
    """Regions to try when parsing national-format numbers, most specific first."""
    hints: list[str] = []
    city = gazetteer().resolve(location) if location else None
    candidates = [city.iso2 if city else None, country_region(location) if location else None]
    candidates += [m.city.iso2 for m in mentions]
    candidates += list(defaults)
    for region in candidates:
        if region and region not in hints:
            hints.append(region)
    return hints
