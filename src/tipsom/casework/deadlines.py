"""Deadlines in working or calendar days, from a national calendar and a YAML book of rules.

A reasonable-grounds decision "within 5 working days" that spans Easter ends
a week later than a naive count: caseworkers are judged by that date, so it is
computed from the jurisdiction's weekend and its public holidays (the
``holidays`` package), never from calendar days. Each rule names its source,
so a supervisor can see why a date is what it is and an installation can
replace the book (``TIPSOM_DEADLINE_RULES``) with its own law.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import holidays
import yaml

from tipsom.core.errors import ConfigError
from tipsom.settings import Settings

BOOK = Path(__file__).with_name("deadlines.yaml")
ANY = "*"
WEEKDAYS = {"Mon": 0, "Tue": 1, "Wed": 2, "Thu": 3, "Fri": 4, "Sat": 5, "Sun": 6}
#: CETS 197 art. 13(1): no rule book may shorten the recovery and reflection period below this.
MIN_RECOVERY_DAYS = 30


class Deadline(enum.StrEnum):
    NRM_REASONABLE_GROUNDS = "nrm_reasonable_grounds"
    NRM_CONCLUSIVE_GROUNDS = "nrm_conclusive_grounds"
    RECOVERY_PERIOD = "recovery_period"
    REFERRAL_ANSWER = "referral_answer"
    ALERT_FOLLOW_UP = "alert_follow_up"


class DayCount(enum.StrEnum):
    WORKING = "working"
    CALENDAR = "calendar"


@dataclass(frozen=True)
class WorkingCalendar:
    """A jurisdiction's weekend and public holidays."""

    jurisdiction: str
    weekend: frozenset[int]
    country: str | None = None
    subdivision: str | None = None

    @functools.cached_property
    def _holidays(self) -> holidays.HolidayBase | None:
        if self.country is None:
            return None
        return holidays.country_holidays(self.country, subdiv=self.subdivision)

    def holiday(self, day: dt.date) -> str | None:
        """The name of the public holiday on ``day``, if it is one."""
        return None if self._holidays is None else self._holidays.get(day)

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() not in self.weekend and self.holiday(day) is None

    def add(self, start: dt.date, days: int, unit: DayCount) -> dt.date:
        """The day ``days`` days after ``start``; in working days, the ``days``-th working day after it."""
        if unit is DayCount.CALENDAR:
            return start + dt.timedelta(days=days)
        day, left = start, days
        while left > 0:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return day


@dataclass(frozen=True)
class DeadlineRule:
    event: Deadline
    jurisdiction: str
    qualifier: str
    days: int
    unit: DayCount
    source: str


@dataclass(frozen=True)
class DeadlineBook:
    calendars: dict[str, WorkingCalendar]
    rules: tuple[DeadlineRule, ...]

    def calendar(self, jurisdiction: str | None) -> WorkingCalendar:
        code = (jurisdiction or ANY).upper()
        return self.calendars.get(code) or self.calendars[ANY]

    def rule(self, event: Deadline, jurisdiction: str | None, qualifier: str | None = None) -> DeadlineRule:
        """The most specific rule: own jurisdiction before ``*``, own qualifier before none."""
        code = (jurisdiction or ANY).upper()
        for where in (code, ANY):
            for what in (qualifier or ANY, ANY):
                for r in self.rules:
                    if r.event is event and r.jurisdiction == where and r.qualifier == what:
                        return r
        raise ConfigError(f"the deadline rules have no rule for {event} (add one for jurisdiction '*')")

    def due(self, event: Deadline, jurisdiction: str | None, start: dt.date,
            qualifier: str | None = None) -> dt.date:
        r = self.rule(event, jurisdiction, qualifier)
        return self.calendar(jurisdiction).add(start, r.days, r.unit)


def _calendar(code: str, spec: Any, file: Path) -> WorkingCalendar:
    if not isinstance(spec, dict):
        raise ConfigError(f"{file}: calendar {code}: a mapping is expected")
    try:
        weekend = frozenset(WEEKDAYS[d] for d in spec.get("weekend", ["Sat", "Sun"]))
    except KeyError as exc:
        raise ConfigError(f"{file}: calendar {code}: unknown weekday {exc.args[0]!r} (Mon..Sun)") from None
    country = spec.get("holidays")
    if country is not None and country not in holidays.list_supported_countries():
        raise ConfigError(f"{file}: calendar {code}: the holidays package knows no country {country!r}")
    return WorkingCalendar(code, weekend, country, spec.get("subdivision"))


def _rule(n: int, spec: Any, file: Path) -> DeadlineRule:
    where = f"{file}: rule {n}"
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: a mapping is expected")
    try:
        r = DeadlineRule(Deadline(spec["event"]), str(spec.get("jurisdiction", ANY)).upper(),
                         str(spec.get("qualifier", ANY)), int(spec["days"]), DayCount(spec["unit"]),
                         str(spec["source"]))
    except KeyError as exc:
        raise ConfigError(f"{where}: {exc.args[0]!r} is required") from None
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    if r.days < 0:
        raise ConfigError(f"{where}: days must not be negative")
    if r.event is Deadline.RECOVERY_PERIOD and (r.unit is not DayCount.CALENDAR or r.days < MIN_RECOVERY_DAYS):
        raise ConfigError(f"{where}: the recovery period is at least {MIN_RECOVERY_DAYS} calendar days "
                          "(CETS 197 art. 13)")
    return r


@functools.cache
def load_book(path: Path = BOOK) -> DeadlineBook:
    """Parse and check a rule book; refused with :class:`ConfigError` naming the file and rule."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the deadline rules: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("calendars"), dict) \
            or not isinstance(raw.get("rules"), list):
        raise ConfigError(f"{path}: 'calendars' (a mapping) and 'rules' (a list) are required")
    calendars = {str(c).upper(): _calendar(str(c).upper(), s, path) for c, s in raw["calendars"].items()}
    if ANY not in calendars:
        raise ConfigError(f"{path}: a '*' calendar is required for jurisdictions without their own")
    return DeadlineBook(calendars, tuple(_rule(i, s, path) for i, s in enumerate(raw["rules"], 1)))


def deadline_book(settings: Settings) -> DeadlineBook:
    """The installation's rule book (``TIPSOM_DEADLINE_RULES``) or the one shipped with tipsom."""
    return load_book(Path(settings.deadline_rules) if settings.deadline_rules else BOOK)
