"""Versioned indicator lexicons, one YAML file per kind of ad.

Lexicons are data, not code, so that domain experts can review and extend them
without touching Python, and each release records which lexicon versions
scored an ad. Every indicator names its published source; a lexicon that
leaves one of its declared languages without phrases is refused, so coverage
cannot silently regress.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from tipsom.core.config import data_files, read_file
from tipsom.core.errors import ConfigError
from tipsom.settings import get_settings


class Category(enum.StrEnum):
    """The three kinds of ad the lexicons describe."""

    SEXUAL_EXPLOITATION = "sexual_exploitation"
    DECEPTIVE_RECRUITMENT = "deceptive_recruitment"
    SMUGGLING_OFFER = "smuggling_offers"


class LexiconError(ConfigError):
    """A lexicon file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Indicator:
    id: str
    category: Category
    label: str
    #: An English gloss, also used as an anchor for cross-lingual matching.
    description: str
    weight: float
    sources: tuple[str, ...]
    phrases: dict[str, tuple[str, ...]]
    emoji: tuple[str, ...]

    @cached_property
    def key(self) -> str:
        """Globally unique name, ``category/id`` (one string shared by every hit, not one per hit)."""
        return f"{self.category.value}/{self.id}"


@dataclass(frozen=True)
class Lexicon:
    category: Category
    version: str
    title: str
    languages: tuple[str, ...]
    sources: dict[str, str]
    indicators: tuple[Indicator, ...]
    #: Every phrase and emoji of the lexicon with its indicator; the matcher
    #: indexes all lexicons' entries together, to read each ad only once.
    entries: tuple[tuple[str, Indicator], ...]


def _require(entry: dict[str, Any], key: str, where: str) -> Any:
    if key not in entry or entry[key] in (None, "", []):
        raise LexiconError(f"{where}: missing {key!r}")
    return entry[key]


def parse_lexicon(data: dict[str, Any], origin: str) -> Lexicon:
    """Validate and compile one lexicon document."""
    try:
        category = Category(_require(data, "lexicon", origin))
    except ValueError as exc:
        raise LexiconError(f"{origin}: unknown lexicon {data.get('lexicon')!r}") from exc
    version = str(_require(data, "version", origin))
    languages = tuple(_require(data, "languages", origin))
    sources = {str(k): " ".join(str(v).split()) for k, v in _require(data, "sources", origin).items()}
    indicators: list[Indicator] = []
    entries: list[tuple[str, Indicator]] = []
    for n, entry in enumerate(_require(data, "indicators", origin)):
        where = f"{origin}: indicator #{n + 1} ({entry.get('id', '?')})"
        cited = tuple(_require(entry, "source", where))
        unknown = [s for s in cited if s not in sources]
        if unknown:
            raise LexiconError(f"{where}: source {unknown} not listed under 'sources'")
        weight = float(_require(entry, "weight", where))
        if not 0 < weight < 1:
            raise LexiconError(f"{where}: weight must be between 0 and 1, got {weight}")
        phrases = {str(lang): tuple(str(p) for p in ps) for lang, ps in (entry.get("phrases") or {}).items()}
        emoji = tuple(str(e) for e in entry.get("emoji") or ())
        if phrases:
            missing = [lang for lang in languages if not phrases.get(lang)]
            if missing:
                raise LexiconError(f"{where}: no phrases for declared languages {missing}")
        elif not emoji:
            raise LexiconError(f"{where}: needs phrases or emoji")
        indicator = Indicator(
            id=str(_require(entry, "id", where)), category=category, label=str(_require(entry, "label", where)),
            description=str(_require(entry, "description", where)), weight=weight, sources=cited,
            phrases=phrases, emoji=emoji,
        )
        indicators.append(indicator)
        entries.extend((p, indicator) for ps in phrases.values() for p in ps)
        entries.extend((e, indicator) for e in emoji)
    return Lexicon(category, version, str(data.get("title", category.value)), languages, sources,
                   tuple(indicators), tuple(entries))


def load_lexicon(path: Path) -> Lexicon:
    return parse_lexicon(read_file(path), str(path))


#: The lexicons shipped with tipsom, one per category.
SHIPPED = Path(__file__).resolve().parent / "lexicons"


def shipped_lexicons() -> tuple[Lexicon, ...]:
    """The lexicons in use: ``TIPSOM_DATA_PATH``'s ``osint/lexicons`` first, then the shipped ones.

    An agency adds a lexicon for its language there, or replaces a shipped one
    by a file of the same name (a copy with phrases in another language added).
    """
    return _lexicons(tuple(data_files("osint/lexicons", SHIPPED, get_settings().data_path)))


@lru_cache(maxsize=4)
def _lexicons(paths: tuple[Path, ...]) -> tuple[Lexicon, ...]:
    # Keyed by the files found, so a changed data path is read afresh.
    return tuple(parse_lexicon(read_file(path), path.name if path.parent == SHIPPED else str(path))
                 for path in paths)
