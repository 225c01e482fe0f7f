"""Working-day deadlines from the jurisdiction's calendar, and the rule book's own checks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tipsom.casework.deadlines import BOOK, DayCount, Deadline, load_book
from tipsom.core.errors import ConfigError


def test_reasonable_grounds_deadline_skips_weekend_and_public_holidays() -> None:
    book = load_book(BOOK)
    # Referred on Thursday 2 April 2026: Good Friday (3rd), the weekend and Easter Monday (6th) are not
    # working days in England, so the fifth working day is Monday 13 April, not Thursday 9 April.
    referred = dt.date(2026, 4, 2)
    assert book.calendar("GBR").holiday(dt.date(2026, 4, 3)) is not None
    assert book.due(Deadline.NRM_REASONABLE_GROUNDS, "GBR", referred) == dt.date(2026, 4, 13)
    rule = book.rule(Deadline.NRM_REASONABLE_GROUNDS, "GBR")
    assert (rule.days, rule.unit) == (5, DayCount.WORKING)
    assert "Statutory Guidance" in rule.source
    # Without public holidays (a jurisdiction with the default calendar) only the weekend is skipped.
    assert book.due(Deadline.NRM_REASONABLE_GROUNDS, "ZZZ", referred) == dt.date(2026, 4, 9)


def test_recovery_period_is_calendar_days() -> None:
    book = load_book(BOOK)
    assert book.due(Deadline.RECOVERY_PERIOD, "GBR", dt.date(2026, 4, 2)) == dt.date(2026, 5, 2)


def test_weekend_is_configurable(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("calendars:\n  '*': {weekend: [Fri, Sat]}\n"
                    "rules:\n  - {event: nrm_reasonable_grounds, days: 1, unit: working, source: test}\n",
                    encoding="utf-8")
    # Thursday + 1 working day with a Friday-Saturday weekend is Sunday.
    assert load_book(path).due(Deadline.NRM_REASONABLE_GROUNDS, "JOR", dt.date(2026, 4, 2)) == dt.date(2026, 4, 5)


@pytest.mark.parametrize(("text", "message"), [
    ("calendars: {'*': {}}\nrules:\n  - {event: recovery_period, days: 20, unit: calendar, source: x}\n",
     "at least 30"),
    ("calendars: {'*': {weekend: [Caturday]}}\nrules: []\n", "unknown weekday"),
    ("calendars: {'*': {holidays: XX}}\nrules: []\n", "knows no country"),
    ("calendars: {GBR: {}}\nrules: []\n", "'\\*' calendar"),
    ("calendars: {'*': {}}\nrules:\n  - {event: nrm_reasonable_grounds, days: 5, unit: fortnights, source: x}\n",
     "rule 1"),
])
def test_bad_rule_books_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_book(path)
