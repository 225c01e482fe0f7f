"""Automatic context flags: a major disaster or conflict surge before recruitment, with its source event."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from tipsom.cli.main import app
from tipsom.context.db import ContextStore
from tipsom.context.flags import FlagKind, FlagScope, Onset, climate_hazard, flag_victims
from tipsom.context.records import Event
from tipsom.context.registry import VictimOrigin
from tipsom.context.sources import EventKind, Source
from tipsom.store.tables import PERSON_KEY, REGISTRY


def _victim(key: str, origin: str | None, recruited: date | None, place: str | None = None) -> VictimOrigin:
    return VictimOrigin(key, key.split("/", maxsplit=1)[0], "P1", origin, place, recruited)


def _flood(event_id: str, when: date, displaced: float, admin1: str | None = None) -> Event:
    return Event(Source.IDMC_DISASTERS, event_id, EventKind.DISASTER, "Weather related / Flood", "BGD", when,
                 admin1=admin1, displaced=displaced, name=f"flood {event_id}")


def _battle(event_id: str, when: date, deaths: float) -> Event:
    return Event(Source.UCDP, event_id, EventKind.CONFLICT, "state-based conflict", "SOM", when,
                 fatalities=deaths, name="fighting")


def test_disaster_before_recruitment_is_flagged_with_its_event() -> None:
    events = [_flood("small", date(2019, 3, 1), 500), _flood("big", date(2019, 6, 1), 50_000, "Sylhet"),
              _flood("later", date(2020, 6, 1), 90_000)]
    victims = [_victim("C1/P1", "BGD", date(2020, 1, 15), "sylhet"), _victim("C2/P1", "BGD", date(2019, 5, 1)),
               _victim("C3/P1", None, date(2020, 1, 1)), _victim("C4/P1", "BGD", None)]
    run = flag_victims(victims, events)
    assert run.without_origin_or_date == 2
    assert len(run.flags) == 1
    flag = run.flags[0]
    assert (flag.person_key, flag.kind, flag.event_id, flag.scope) == (
        "C1/P1", FlagKind.DISASTER, "big", FlagScope.DISTRICT)
    assert (flag.climate_hazard, flag.onset) == ("Flood", Onset.SUDDEN)


def test_conflict_surge_needs_both_a_floor_and_a_rise() -> None:
    events = [_battle("old", date(2018, 3, 1), 20), _battle("a", date(2019, 2, 1), 30),
              _battle("b", date(2019, 8, 1), 25)]
    surge = flag_victims([_victim("C1/P1", "SOM", date(2019, 10, 1))], events).flags
    assert [(f.kind, f.event_id) for f in surge] == [(FlagKind.CONFLICT_SURGE, "a")]
    assert "55 conflict deaths" in surge[0].detail
    steady = [_battle("old", date(2018, 3, 1), 60), *events[1:]]
    assert flag_victims([_victim("C1/P1", "SOM", date(2019, 10, 1))], steady).flags == []


def test_earthquakes_are_disasters_but_not_climate_hazards() -> None:
    assert climate_hazard("Geophysical / Earthquake") is None
    assert climate_hazard("Natural / Meteorological / Storm / Tropical cyclone") == "Storm"
    assert climate_hazard("Weather related / Drought") == "Drought"


def test_flag_cases_fills_empty_fields_only(registry, reference: Path) -> None:  # type: ignore[no-untyped-def]
    persons = REGISTRY["person"]
    with registry.engine.connect() as conn:
        before = {r[0]: (r[1], r[2]) for r in conn.execute(
            select(persons.c[PERSON_KEY], persons.c.climate_hazard, persons.c.conflict_area))}
    runner = CliRunner()
    events = reference / "context" / "idmc_gidd_disaster_events_2008_2017.csv"
    imported = runner.invoke(app, ["context", "import", str(events), "--source", "idmc-disasters"])
    assert imported.exit_code == 0, imported.output
    out = runner.invoke(app, ["context", "flag-cases", "--min-displaced", "1000"])
    assert out.exit_code == 0, out.output
    flags = ContextStore(registry).flags()
    assert len(flags) > 0
    assert set(flags["kind"]) == {"disaster"}
    assert flags["event_id"].str.len().gt(0).all()
    with registry.engine.connect() as conn:
        after = {r[0]: (r[1], r[2]) for r in conn.execute(
            select(persons.c[PERSON_KEY], persons.c.climate_hazard, persons.c.conflict_area))}
    for key, (hazard, _) in before.items():
        if hazard is not None:
            assert after[key][0] == hazard  # a caseworker's entry is never overwritten
    filled = [k for k in flags["person_key"] if before[k][0] is None and after[k][0] is not None]
    assert filled
    again = runner.invoke(app, ["context", "flag-cases", "--min-displaced", "1000"])
    assert again.exit_code == 0
    assert len(ContextStore(registry).flags()) == len(flags)  # re-running replaces, not doubles
