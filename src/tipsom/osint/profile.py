"""What a cluster of ads says: who, where, when, for how much, and how worrying.

A profile gathers a cluster's identifiers, the cities it posted from or named
and its movement between them over time, its price range per currency, its
mix of indicators and languages, its consensus template, and the evidence
references of its ads. The risk score combines a few transparent signals,
each reported as a reason with its contribution, so an analyst can see why a
cluster ranks high and disagree with any single part of it.
"""

from __future__ import annotations

import enum
import multiprocessing
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tipsom.core.identifiers import IdentifierKind
from tipsom.osint.linkage import Clustering
from tipsom.osint.scan import AdScan
from tipsom.osint.template import MAX_ADS, Template, build_template


class RiskLevel(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


#: Risk from which a cluster is MEDIUM and HIGH.
MEDIUM_FROM, HIGH_FROM = 0.4, 0.7
_ADULT = 18


@dataclass(frozen=True)
class RiskReason:
    signal: str
    contribution: float
    detail: str


@dataclass(frozen=True)
class Stay:
    """Consecutive ads from one city."""

    city: str
    country: str
    first: datetime | None
    last: datetime | None
    ads: int


@dataclass
class ClusterProfile:
    cluster_id: str
    ad_ids: list[str]
    identifiers: dict[str, list[tuple[str, int]]]
    cities: list[tuple[str, str, float, float, int]]  # name, ISO3, lat, lon, ads
    movement: list[Stay]
    first_seen: datetime | None
    last_seen: datetime | None
    prices: dict[str, tuple[float, float]]
    indicators: list[tuple[str, int]]
    languages: list[tuple[str, int]]
    risk: float
    level: RiskLevel
    reasons: list[RiskReason]
    template: Template | None
    evidence: list[dict[str, str | None]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "cluster_id": self.cluster_id,
            "ads": len(self.ad_ids),
            "ad_ids": self.ad_ids,
            "risk": round(self.risk, 3),
            "level": self.level.value,
            "reasons": [{"signal": r.signal, "contribution": round(r.contribution, 3), "detail": r.detail}
                        for r in self.reasons],
            "identifiers": {k: [{"value": v, "ads": c} for v, c in vals] for k, vals in self.identifiers.items()},
            "cities": [{"city": c, "country": iso, "lat": lat, "lon": lon, "ads": n}
                       for c, iso, lat, lon, n in self.cities],
            "movement": [{"city": s.city, "country": s.country, "first": _iso(s.first), "last": _iso(s.last),
                          "ads": s.ads} for s in self.movement],
            "first_seen": _iso(self.first_seen),
            "last_seen": _iso(self.last_seen),
            "prices": {cur: {"min": lo, "max": hi} for cur, (lo, hi) in self.prices.items()},
            "indicators": [{"indicator": k, "ads": n} for k, n in self.indicators],
            "languages": [{"language": k, "ads": n} for k, n in self.languages],
            "template": self.template.to_json() if self.template else None,
            "evidence": self.evidence,
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _movement(scans: Sequence[AdScan]) -> list[Stay]:
    dated = sorted((s for s in scans if s.cities), key=lambda s: (s.ad.posted_at is None, s.ad.posted_at or 0,
                                                                   s.ad.ad_id))
    stays: list[Stay] = []
    for scan in dated:
        city = scan.cities[0]
        when = scan.ad.posted_at
        if stays and stays[-1].city == city.name:
            last = stays[-1]
            stays[-1] = Stay(last.city, last.country, last.first, when or last.last, last.ads + 1)
        else:
            stays.append(Stay(city.name, city.iso3, when, when, 1))
    return stays


def _risk(scans: Sequence[AdScan], movement: list[Stay], phones: int, languages: int,
          indicators: Counter[str]) -> list[RiskReason]:
    n = len(scans)
    reasons: list[RiskReason] = []
    mean_score = sum(s.score.score for s in scans) / n
    if mean_score > 0:
        reasons.append(RiskReason("indicators", 0.6 * mean_score, f"mean indicator score {mean_score:.2f}"))
    minors = sum(1 for s in scans if any(a.years < _ADULT for a in s.ages))
    if minors:
        reasons.append(RiskReason("stated_minor", 0.6, f"age under {_ADULT} stated in {minors} ad(s)"))
    youth = indicators.get("sexual_exploitation/youth", 0)
    if youth / n >= 0.3:
        reasons.append(RiskReason("youth", 0.15, f"youth emphasised in {youth} of {n} ads"))
    control = indicators.get("sexual_exploitation/third_party_control", 0)
    if control / n >= 0.2:
        reasons.append(RiskReason("third_party_control", 0.2, f"third party arranges bookings in {control} ads"))
    cities = len({s.city for s in movement})
    if cities >= 2:
        route = " → ".join(s.city for s in movement[:6]) + (" …" if len(movement) > 6 else "")
        reasons.append(RiskReason("movement", 0.25 if cities >= 3 else 0.1, f"{cities} cities: {route}"))
    if phones >= 3:
        reasons.append(RiskReason("rotating_phones", 0.2, f"{phones} phones used"))
    if n >= 5:
        reasons.append(RiskReason("volume", 0.15 if n >= 20 else 0.05, f"{n} ads"))
    if languages >= 2:
        reasons.append(RiskReason("languages", 0.1, f"posted in {languages} languages"))
    disguised = sum(1 for s in scans if any(i.obfuscated for i in s.identifiers))
    if disguised / n >= 0.5:
        reasons.append(RiskReason("obfuscation", 0.1, f"contacts disguised in {disguised} of {n} ads"))
    return reasons


def profile_cluster(cluster_id: str, scans: Sequence[AdScan], template: Template | None = None) -> ClusterProfile:
    """Profile one cluster from its ads' scans (``template``: already built from their texts)."""
    # Sets are iterated sorted: ties in the counts below then keep one order in every process.
    idents: dict[str, Counter[str]] = {}
    for scan in scans:
        for kind, value in sorted({(i.kind, i.value) for i in scan.identifiers}):
            idents.setdefault(kind.value, Counter())[value] += 1
    city_counts: Counter[tuple[str, str, float, float]] = Counter()
    for scan in scans:
        for city in scan.cities:
            city_counts[(city.name, city.iso3, city.lat, city.lon)] += 1
    prices: dict[str, tuple[float, float]] = {}
    for scan in scans:
        for p in scan.prices:
            if p.currency:
                lo, hi = prices.get(p.currency, (p.amount, p.amount))
                prices[p.currency] = (min(lo, p.amount), max(hi, p.amount))
    indicators = Counter(k for s in scans for k in sorted({h.indicator for h in s.hits}))
    languages = Counter(s.language for s in scans)
    movement = _movement(scans)
    phones = len(idents.get(IdentifierKind.PHONE.value, {}))
    reasons = _risk(scans, movement, phones, len(languages), indicators)
    remaining = 1.0
    for r in reasons:
        remaining *= 1.0 - r.contribution
    risk = 1.0 - remaining
    level = RiskLevel.HIGH if risk >= HIGH_FROM else RiskLevel.MEDIUM if risk >= MEDIUM_FROM else RiskLevel.LOW
    dates = sorted(s.ad.posted_at for s in scans if s.ad.posted_at)
    return ClusterProfile(
        cluster_id=cluster_id, ad_ids=[s.ad.ad_id for s in scans],
        identifiers={k: c.most_common(25) for k, c in sorted(idents.items())},
        cities=[(*key, n) for key, n in city_counts.most_common()],
        movement=movement, first_seen=dates[0] if dates else None, last_seen=dates[-1] if dates else None,
        prices=dict(sorted(prices.items())), indicators=indicators.most_common(), languages=languages.most_common(),
        risk=risk, level=level, reasons=sorted(reasons, key=lambda r: -r.contribution),
        template=template or (build_template([s.text for s in scans]) if len(scans) > 1 else None),
        evidence=[{"ad_id": s.ad.ad_id, "url": s.ad.url, "raw_sha256": s.ad.raw_sha256,
                   "captured_at": _iso(s.ad.captured_at), "origin": s.ad.origin} for s in scans],
    )


#: Clusters per task when templates are built in worker processes.
_TEMPLATE_CHUNK = 64
#: Below this many clusters, templates are built in this process.
_PARALLEL_FROM = 500


def _templates(texts: list[list[str]]) -> list[Template]:
    return [build_template(t) for t in texts]


def build_templates(texts: Sequence[list[str]], workers: int | None = None) -> list[Template]:
    """Templates of many clusters (each given by its ads' texts), in order.

    Word alignment is most of a profile's cost, so it runs on every core; only
    the texts travel to the workers and only the templates come back.
    """
    chunks = [list(texts[i : i + _TEMPLATE_CHUNK]) for i in range(0, len(texts), _TEMPLATE_CHUNK)]
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(texts) < _PARALLEL_FROM:
        return [t for chunk in chunks for t in _templates(chunk)]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return [t for built in pool.imap(_templates, chunks) for t in built]


def profile_clusters(clustering: Clustering, scans: Sequence[AdScan], min_ads: int = 2,
                     workers: int | None = None) -> list[ClusterProfile]:
    """Profiles of every cluster with at least ``min_ads`` ads, highest risk first."""
    groups = [(cid, members) for cid, members in clustering.members().items() if len(members) >= min_ads]
    shared = [members for _, members in groups if len(members) > 1]  # one ad has no template
    built = iter(build_templates([[scans[i].text for i in members[:MAX_ADS]] for members in shared], workers))
    profiles = [profile_cluster(cid, [scans[i] for i in members], next(built) if len(members) > 1 else None)
                for cid, members in groups]
    return sorted(profiles, key=lambda p: (-p.risk, -len(p.ad_ids), p.cluster_id))
