"""What the context module reads from the case registry: victims, their origin and dates.

Only non-personal columns are read (country of origin, citizenship, role,
recruitment date and place, case year), so no data key is needed and nothing
personal leaves the encrypted fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import Engine, select

from tipsom.schema.enums import PersonRole
from tipsom.store.tables import PERSON_KEY, REGISTRY

VICTIM_ROLES = [str(r) for r in PersonRole if r.is_victim]


@dataclass(frozen=True)
class VictimOrigin:
    """A victim's place and time of recruitment, as far as the registry knows them."""

    person_key: str
    case_id: str
    person_id: str
    origin: str | None
    place: str | None
    recruited: date | None


def _origin(origin: str | None, citizenship: str | None) -> str | None:
    """Country of origin, else the first citizenship (stored pipe-separated)."""
    if origin:
        return origin
    if citizenship:
        return citizenship.split("|")[0] or None
    return None


def victim_origins(engine: Engine) -> list[VictimOrigin]:
    """Every identified or presumed victim with origin, recruitment place and date."""
    persons = REGISTRY["person"]
    query = select(
        persons.c[PERSON_KEY], persons.c.case_id, persons.c.person_id, persons.c.origin_country,
        persons.c.citizenship, persons.c.recruitment_place, persons.c.recruitment_date,
    ).where(persons.c.role.in_(VICTIM_ROLES))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [VictimOrigin(r[0], r[1], r[2], _origin(r[3], r[4]), r[5], r[6]) for r in rows]


def detections_by_origin(engine: Engine) -> tuple[pd.DataFrame, int]:
    """Victims per country of origin and year of registration; also how many lacked either.

    The year is the case's year of registration, else the year it was opened.
    """
    persons, cases = REGISTRY["person"], REGISTRY["case"]
    query = (
        select(persons.c.origin_country, persons.c.citizenship, cases.c.year, cases.c.opened_on)
        .join(cases, cases.c.id == persons.c.case_id)
        .where(persons.c.role.in_(VICTIM_ROLES))
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    records, unusable = [], 0
    for origin, citizenship, year, opened in rows:
        country = _origin(origin, citizenship)
        when = year if year is not None else (opened.year if opened is not None else None)
        if country is None or when is None:
            unusable += 1
            continue
        records.append((country, int(when)))
    frame = pd.DataFrame(records, columns=["country", "year"])
    counts = frame.groupby(["country", "year"]).size().rename("victims").reset_index()
    return counts, unusable
