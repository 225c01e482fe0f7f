"""The three shapes context data takes once imported.

* :class:`Observation`: one value of one series for a country (or admin-1 unit)
  and year, with the series' published name, because publishers reuse a code
  after changing its meaning (World Bank SI.POV.DDAY moved from $2.15 to $3.00 a
  day under the same code).
* :class:`Event`: a dated conflict event or disaster, kept so a case flag can
  cite the exact event that raised it.
* :class:`Incident`: one Missing Migrants Project record of people dead or
  missing in migration.

Event sources also yield yearly observations (events, fatalities, people
displaced) so the vulnerability index and the panel model read one table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from tipsom.context.sources import EventKind, ImportIssue, Source


@dataclass(frozen=True)
class Observation:
    source: Source
    iso3: str
    year: int
    series: str
    series_name: str
    value: float
    admin1: str | None = None


@dataclass(frozen=True)
class Event:
    source: Source
    event_id: str
    kind: EventKind
    subtype: str
    iso3: str
    start: date
    end: date | None = None
    admin1: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    fatalities: float | None = None
    displaced: float | None = None
    affected: float | None = None
    name: str = ""


@dataclass(frozen=True)
class Incident:
    incident_id: str
    year: int
    incident_date: date | None
    route: str | None
    region: str
    dead: float
    missing: float
    children: float | None
    females: float | None
    males: float | None
    survivors: float | None
    causes: tuple[str, ...]
    latitude: float | None
    longitude: float | None
    location: str
    line: int

    @property
    def total(self) -> float:
        return self.dead + self.missing


@dataclass
class ImportResult:
    """What one file yielded, and every issue found on the way."""

    source: Source
    file: str
    encoding: str
    rows_read: int = 0
    observations: list[Observation] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    issues: list[ImportIssue] = field(default_factory=list)


def yearly_event_series(events: Iterable[Event], source: Source) -> list[Observation]:
    """Count events and sum their impacts per country (and admin-1 unit) and year.

    Series codes are ``<source>.events``, ``<source>.fatalities``,
    ``<source>.displaced`` and ``<source>.affected``; a sum is only published
    when at least one event reported the figure, so "no data" never becomes 0.
    """
    counts: dict[tuple[str, str | None, int], int] = defaultdict(int)
    sums: dict[tuple[str, str | None, int, str], float] = defaultdict(float)
    for event in events:
        keys: list[tuple[str, str | None, int]] = [(event.iso3, None, event.start.year)]
        if event.admin1:
            keys.append((event.iso3, event.admin1, event.start.year))
        for key in keys:
            counts[key] += 1
            for measure in ("fatalities", "displaced", "affected"):
                value = getattr(event, measure)
                if value is not None:
                    sums[(*key, measure)] += value
    label = source.value.upper()
    out = [
        Observation(source, iso3, year, f"{source.value}.events", f"{label} events", float(n), admin1)
        for (iso3, admin1, year), n in counts.items()
    ]
    out.extend(
        Observation(source, iso3, year, f"{source.value}.{measure}", f"{label} {measure}", total, admin1)
        for (iso3, admin1, year, measure), total in sums.items()
    )
    return out
