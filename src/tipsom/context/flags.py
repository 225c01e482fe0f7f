"""Automatic context flags on victims: a major disaster or a conflict surge before recruitment.

Caseworkers often do not know that a victim's home district flooded, or that
fighting there had doubled, in the months before a recruiter came. Those facts
are in the imported event data. For each victim with a country of origin and a
recruitment date, tipsom looks at the ``window_days`` before recruitment:

* **disaster**: an event in the country of origin displacing, affecting or
  killing at least the configured numbers of people;
* **conflict surge**: conflict deaths in the country of origin in the window
  at least ``conflict_min_deaths`` and at least ``conflict_surge_ratio`` times
  the deaths in the window before.

Each flag names its source and event. When the recruitment place matches the
event's admin-1 unit, the flag is marked ``district``, else ``country``.
Empty context fields of the person (climate hazard, onset, event year,
conflict area) are filled from the flag; values a caseworker entered are never
overwritten.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from tipsom.context.records import Event
from tipsom.context.registry import VictimOrigin
from tipsom.context.sources import EventKind


class FlagKind(enum.StrEnum):
    DISASTER = "disaster"
    CONFLICT_SURGE = "conflict surge"


class FlagScope(enum.StrEnum):
    """Whether the event was matched on the victim's district or only on the country."""

    DISTRICT = "district"
    COUNTRY = "country"


class Onset(enum.StrEnum):
    """Registry code list ``climate_onset``."""

    SUDDEN = "Sudden"
    SLOW = "Slow"


@dataclass(frozen=True)
class FlagRule:
    window_days: int = 365
    disaster_min_displaced: float = 10_000
    disaster_min_affected: float = 100_000
    disaster_min_deaths: float = 100
    conflict_min_deaths: float = 25
    conflict_surge_ratio: float = 2.0


@dataclass(frozen=True)
class CaseFlag:
    person_key: str
    case_id: str
    person_id: str
    kind: FlagKind
    scope: FlagScope
    source: str
    event_id: str
    event_name: str
    event_date: date
    detail: str
    #: Registry code of the climate hazard, when the disaster is climate-related.
    climate_hazard: str | None = None
    onset: Onset | None = None


#: Registry ``climate_hazard`` codes, found from words in IDMC and EM-DAT hazard types.
HAZARD_WORDS = (
    (("flood",), "Flood"),
    (("drought",), "Drought"),
    (("storm", "cyclone", "typhoon", "hurricane"), "Storm"),
    (("extreme temperature", "heat wave", "cold wave"), "ExtremeTemperature"),
    (("wildfire",), "Wildfire"),
    (("landslide", "mass movement (wet)", "mass movement wet"), "Landslide"),
)


def climate_hazard(subtype: str) -> str | None:
    """The registry code for a climate-related hazard; None for earthquakes, volcanoes and the like."""
    text = subtype.lower()
    for words, code in HAZARD_WORDS:
        if any(w in text for w in words):
            return code
    return None


def _major(event: Event, rule: FlagRule) -> bool:
    return ((event.displaced or 0) >= rule.disaster_min_displaced
            or (event.affected or 0) >= rule.disaster_min_affected
            or (event.fatalities or 0) >= rule.disaster_min_deaths)


def _scope(victim: VictimOrigin, event: Event) -> FlagScope:
    if victim.place and event.admin1 and victim.place.strip().casefold() == event.admin1.strip().casefold():
        return FlagScope.DISTRICT
    return FlagScope.COUNTRY


def _disaster_flag(victim: VictimOrigin, events: list[Event], rule: FlagRule) -> CaseFlag | None:
    assert victim.recruited is not None
    start = victim.recruited - timedelta(days=rule.window_days)
    hits = [e for e in events if start < e.start <= victim.recruited and _major(e, rule)]
    if not hits:
        return None
    best = max(hits, key=lambda e: (_scope(victim, e) is FlagScope.DISTRICT, e.displaced or 0,
                                    e.affected or 0, e.fatalities or 0))
    figures = ", ".join(f"{k} {v:,.0f}" for k, v in (("displaced", best.displaced),
                        ("affected", best.affected), ("deaths", best.fatalities)) if v)
    hazard = climate_hazard(best.subtype)
    onset = (Onset.SLOW if hazard == "Drought" else Onset.SUDDEN) if hazard else None
    return CaseFlag(victim.person_key, victim.case_id, victim.person_id, FlagKind.DISASTER,
                    _scope(victim, best), best.source.value, best.event_id, best.name or best.subtype,
                    best.start, f"{best.subtype} on {best.start} ({figures}); {len(hits)} major event(s) "
                    f"in the {rule.window_days} days before recruitment", hazard, onset)


@dataclass
class _ConflictSeries:
    """One country's conflict events sorted by date, with cumulative deaths for window sums."""

    events: list[Event]
    days: np.ndarray
    cumulative: np.ndarray

    @classmethod
    def of(cls, events: list[Event]) -> _ConflictSeries:
        ordered = sorted(events, key=lambda e: e.start)
        deaths = np.array([e.fatalities or 0.0 for e in ordered])
        return cls(ordered, np.array([e.start.toordinal() for e in ordered]),
                   np.concatenate([[0.0], np.cumsum(deaths)]))

    def deaths(self, after: int, until: int) -> tuple[float, int, int]:
        lo = int(np.searchsorted(self.days, after, side="right"))
        hi = int(np.searchsorted(self.days, until, side="right"))
        return float(self.cumulative[hi] - self.cumulative[lo]), lo, hi


def _conflict_flag(victim: VictimOrigin, series: _ConflictSeries, rule: FlagRule) -> CaseFlag | None:
    assert victim.recruited is not None
    until = victim.recruited.toordinal()
    recent, lo, hi = series.deaths(until - rule.window_days, until)
    before, _, _ = series.deaths(until - 2 * rule.window_days, until - rule.window_days)
    if recent < rule.conflict_min_deaths or recent < rule.conflict_surge_ratio * before:
        return None
    window = series.events[lo:hi]
    deadliest = max(window, key=lambda e: e.fatalities or 0.0)
    return CaseFlag(victim.person_key, victim.case_id, victim.person_id, FlagKind.CONFLICT_SURGE,
                    _scope(victim, deadliest), deadliest.source.value, deadliest.event_id,
                    deadliest.name or deadliest.subtype, deadliest.start,
                    f"{recent:,.0f} conflict deaths in the {rule.window_days} days before recruitment, "
                    f"against {before:,.0f} in the {rule.window_days} days before that; deadliest event "
                    f"{deadliest.start} ({deadliest.fatalities or 0:,.0f} deaths)")


@dataclass(frozen=True)
class FlagRun:
    flags: list[CaseFlag]
    victims: int
    without_origin_or_date: int


def flag_victims(victims: list[VictimOrigin], events: list[Event], rule: FlagRule | None = None) -> FlagRun:
    """Flags for every victim with an origin and a recruitment date (others are counted)."""
    rule = rule or FlagRule()
    disasters: dict[str, list[Event]] = defaultdict(list)
    conflicts: dict[str, list[Event]] = defaultdict(list)
    for e in events:
        (disasters if e.kind is EventKind.DISASTER else conflicts)[e.iso3].append(e)
    series = {iso3: _ConflictSeries.of(items) for iso3, items in conflicts.items()}
    flags: list[CaseFlag] = []
    unusable = 0
    for victim in victims:
        if victim.origin is None or victim.recruited is None:
            unusable += 1
            continue
        if victim.origin in disasters and (flag := _disaster_flag(victim, disasters[victim.origin], rule)):
            flags.append(flag)
        if victim.origin in series and (flag := _conflict_flag(victim, series[victim.origin], rule)):
            flags.append(flag)
    return FlagRun(flags, len(victims), unusable)
