"""The naive import the registry benchmark compares against.

pandas reads the whole CSV, then one ORM object per row is added and flushed,
which is how a first version of an importer is usually written. It encrypts
personal fields with the same cipher so the comparison is about the import
path, not about skipping work; it writes only cases and persons (not legs,
identifications or charges), which favours the baseline.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pandas as pd
from sqlalchemy.orm import Session, registry

from tipsom.schema.model import get_model
from tipsom.store.audit import now
from tipsom.store.db import Store
from tipsom.store.tables import REGISTRY


class Case:
    pass


class Person:
    pass


def _typed(kind: str, value: str | None) -> object:
    if value is None:
        return None
    if kind in ("integer", "decimal"):
        return float(value)
    if kind == "boolean":
        return value == "true"
    if kind == "date":
        return dt.date.fromisoformat(value)
    return value


def main(path: str, limit: int) -> None:
    store = Store.open()
    mapper = registry()
    mapper.map_imperatively(Case, REGISTRY["case"])
    mapper.map_imperatively(Person, REGISTRY["person"])
    model = get_model()
    case_fields = [f for f in model["case"].fields.values() if f.name != "case_id"]
    person_fields = [f for f in model["person"].fields.values() if f.name != "person_id"]
    frame = pd.read_csv(Path(path), dtype=str, keep_default_na=False, nrows=limit)
    stamp = now()
    seen: set[str] = set()
    with Session(store.engine) as session:
        for row in frame.to_dict("records"):
            cid = row["case_id"]
            if cid not in seen:
                seen.add(cid)
                case = Case()
                case.id = cid  # type: ignore[attr-defined]
                for f in case_fields:
                    setattr(case, f.name, _typed(f.type, row[f.name] or None))
                case.row_hash, case.created_at, case.updated_at = "-", stamp, stamp  # type: ignore[attr-defined]
                session.add(case)
                session.flush()
            person = Person()
            person.key, person.case_id, person.person_id = f"{cid}/{row['person_id']}", cid, row["person_id"]  # type: ignore[attr-defined]
            for f in person_fields:
                value = row[f.name] or None
                if f.personal:
                    setattr(person, f"{f.name}_enc", store.cipher.seal(f.name, value) if value else None)
                else:
                    setattr(person, f.name, _typed(f.type, value))
            person.row_hash, person.created_at, person.updated_at = "-", stamp, stamp  # type: ignore[attr-defined]
            session.add(person)
            session.flush()
        session.commit()
    print(len(frame))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
