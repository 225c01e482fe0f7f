"""Screening one ad: normalise, detect language, extract identifiers, match indicators.

:class:`Scanner` is the per-ad pipeline; :func:`scan_ads` runs it over many ads
on every core (each worker loads the lexicons and models once), keeping input
order so results are reproducible. A scan keeps everything needed downstream:
identifiers for linkage, places and prices for the cluster profile, spans for
highlighting, and the ad's evidence reference (SHA-256, URL, capture time).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from tipsom.core.phrases import word_starts
from tipsom.core.selectors import Identifier, find_identifiers
from tipsom.core.textnorm import normalise_text
from tipsom.osint.choices import CrossLingual
from tipsom.osint.identifiers import Price, StatedAge, find_ages, find_prices
from tipsom.osint.indicators import AdScore, IndicatorHit, IndicatorMatcher
from tipsom.osint.language import detect_language
from tipsom.osint.places import City, PlaceMention, gazetteer, region_hints
from tipsom.osint.records import Ad
from tipsom.osint.textsim import SignatureTable, mask_spans, signatures


@dataclass(frozen=True)
class AdScan:
    ad: Ad
    #: The normalised text all spans refer to.
    text: str
    language: str
    language_confidence: float
    identifiers: list[Identifier]
    prices: list[Price]
    ages: list[StatedAge]
    places: list[PlaceMention]
    #: The city of the ad's own location field, when the gazetteer knows it.
    posted_city: City | None
    hits: list[IndicatorHit]
    score: AdScore
    lexicon_versions: dict[str, str]

    @property
    def cities(self) -> list[City]:
        """The posting city first, then cities named in the text, without repeats."""
        seen: dict[str, City] = {}
        for city in [self.posted_city, *(p.city for p in self.places)]:
            if city is not None:
                seen.setdefault(city.name, city)
        return list(seen.values())

    def to_json(self) -> dict[str, Any]:
        """The record ``tipsom osint scan`` writes, one JSON object per ad."""
        ad = self.ad
        return {
            "ad_id": ad.ad_id,
            "url": ad.url,
            "source": ad.source,
            "posted_at": _iso(ad.posted_at),
            "captured_at": _iso(ad.captured_at),
            "raw_sha256": ad.raw_sha256,
            "origin": ad.origin,
            "language": self.language,
            "language_confidence": round(self.language_confidence, 3),
            "identifiers": [
                {"kind": i.kind.value, "value": i.value, "start": i.start, "end": i.end,
                 "text": self.text[i.start : i.end], "obfuscated": i.obfuscated, "detail": i.detail}
                for i in self.identifiers
            ],
            "prices": [{"amount": p.amount, "currency": p.currency, "start": p.start, "end": p.end}
                       for p in self.prices],
            "ages": [{"years": a.years, "start": a.start, "end": a.end} for a in self.ages],
            "locations": [{"city": c.name, "country": c.iso3, "lat": c.lat, "lon": c.lon} for c in self.cities],
            "indicators": [
                {"indicator": h.indicator, "category": h.category.value, "start": h.start, "end": h.end,
                 "text": h.text, "method": h.method.value, "similarity": h.similarity}
                for h in self.hits
            ],
            "score": self.score.score,
            "category": self.score.category.value if self.score.category else None,
            "scores": {c.value: v for c, v in self.score.by_category.items()},
            "lexicons": self.lexicon_versions,
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class Scanner:
    """The per-ad pipeline, holding the compiled lexicons and region defaults."""

    def __init__(self, default_regions: Sequence[str] = (), cross_lingual: CrossLingual = CrossLingual.AUTO) -> None:
        self.default_regions = tuple(r.upper() for r in default_regions)
        self.matcher = IndicatorMatcher(cross_lingual=cross_lingual)

    def scan(self, ad: Ad) -> AdScan:
        text = normalise_text(ad.full_text)
        language = detect_language(text)
        words = word_starts(text)
        places = gazetteer().find(text, words)
        regions = region_hints(ad.location, places, self.default_regions)
        identifiers = find_identifiers(text, regions)
        hits = self.matcher.match(text, language.code, words)
        return AdScan(
            ad=ad, text=text, language=language.code, language_confidence=language.confidence,
            identifiers=identifiers, prices=find_prices(text, regions), ages=find_ages(text), places=places,
            posted_city=gazetteer().resolve(ad.location) if ad.location else None,
            hits=hits, score=self.matcher.score(hits), lexicon_versions=self.matcher.versions,
        )

    def scan_batch(self, ads: Sequence[Ad]) -> tuple[list[AdScan], SignatureTable]:
        """Scans of ``ads`` and the near-duplicate signatures of their masked texts.

        Signatures are computed for the whole batch at once (one vectorised
        MinHash), so callers should pass ads in batches rather than one by one.
        """
        results = [self.scan(ad) for ad in ads]
        masked = [mask_spans(r.text, [(i.start, i.end) for i in r.identifiers] + [(p.start, p.end) for p in r.prices])
                  for r in results]
        return results, signatures(masked)


#: AdScan's fields other than the ad itself: what a worker sends back, since the
#: parent already holds every ad (sending them back doubled the traffic).
_FINDINGS = tuple(f.name for f in fields(AdScan) if f.name != "ad")
_Findings = tuple[Any, ...]

_worker: Scanner | None = None
_worker_ads: Sequence[Ad] = ()


def _init_worker(default_regions: tuple[str, ...], cross_lingual: CrossLingual, ads: Sequence[Ad]) -> None:
    # One scanner per worker process, built once; the ads come with the fork, not through a pipe.
    global _worker, _worker_ads  # noqa: PLW0603  (per-process state of a pool worker)
    _worker = Scanner(default_regions, cross_lingual)
    _worker_ads = ads


def _scan_in_worker(bounds: tuple[int, int]) -> tuple[list[_Findings], SignatureTable]:
    assert _worker is not None, "worker not initialised"
    scans, table = _worker.scan_batch(_worker_ads[bounds[0] : bounds[1]])
    return [tuple(getattr(scan, name) for name in _FINDINGS) for scan in scans], table


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


#: Below this many ads, starting worker processes costs more than it saves.
_PARALLEL_FROM = 2000
#: Ads per batch: enough for the vectorised MinHash and cheap inter-process
#: traffic, small enough to keep every worker busy until the end.
BATCH = 256


def scan_ads(ads: Sequence[Ad], default_regions: Sequence[str] = (), workers: int | None = None,
             cross_lingual: CrossLingual = CrossLingual.AUTO) -> Iterator[tuple[list[AdScan], SignatureTable]]:
    """Scan ``ads`` in batches, in input order, in parallel when there are enough of them."""
    workers = workers or default_workers()
    regions = tuple(default_regions)
    bounds = [(start, min(start + BATCH, len(ads))) for start in range(0, len(ads), BATCH)]
    if workers == 1 or len(ads) < _PARALLEL_FROM:
        scanner = Scanner(regions, cross_lingual)
        for lo, hi in bounds:
            yield scanner.scan_batch(ads[lo:hi])
        return
    # Forked workers inherit ``ads`` (copy-on-write), so only batch bounds travel to them.
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_init_worker, initargs=(regions, cross_lingual, ads)) as pool:
        for (lo, _), (findings, table) in zip(bounds, pool.imap(_scan_in_worker, bounds), strict=True):
            yield [AdScan(ads[lo + k], *found) for k, found in enumerate(findings)], table
