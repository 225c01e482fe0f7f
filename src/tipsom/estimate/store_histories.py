"""Capture histories from the case registry.

The lists are the agencies in the identification records (which agency
identified or assisted each victim). One real person may appear as several
person rows, in cases opened by different agencies, so person rows are linked:

* ``EXACT`` (default) compares the keyed pseudonyms the store keeps (identity
  document number, phone, or name together with date of birth). Nothing is
  decrypted, so no personal data is read.
* ``PROBABILISTIC`` also decrypts names and dates of birth to score pairs with
  Splink, catching typos and transliterations that pseudonyms cannot. Every
  decryption is one audit event naming the purpose.

Only persons in a victim role (identified or presumed) are counted.
"""

from __future__ import annotations

import csv
import enum
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from tipsom.core.errors import InputError
from tipsom.estimate.histories import capture_histories
from tipsom.estimate.linkage import DEFAULT_THRESHOLD, LinkageResult, link

if TYPE_CHECKING:
    from tipsom.store.db import Store

AUDIT_PURPOSE = "multiple systems estimation: linking victims across agency lists"


class StoreHistoriesError(InputError):
    """The registry cannot give a capture-history table (no data, no key, bad mapping)."""


class Linkage(enum.Enum):
    EXACT = "exact"
    PROBABILISTIC = "probabilistic"


class ListBy(enum.Enum):
    """What one list is: every agency type (the default) or every single organisation.

    A national registry names hundreds of organisations (the demo store: 270),
    most with a handful of victims; one list per organisation makes a table no
    method can fit and overlaps too sparse to mean anything. Agency types
    (police, NGOs, labour inspection...) are how published national estimates
    group their lists, and there are few of them.
    """

    AGENCY_TYPE = "agency-type"
    AGENCY = "agency"


def read_groups(path: Path) -> dict[str, str]:
    """``organisation,list`` CSV mapping agencies to the list they are counted in."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"organisation", "list"} <= set(reader.fieldnames):
            raise StoreHistoriesError(f"{path}: needs columns 'organisation' and 'list'")
        out = {}
        for rownum, row in enumerate(reader, start=2):
            org, lst = (row["organisation"] or "").strip(), (row["list"] or "").strip()
            if not org or not lst:
                raise StoreHistoriesError(f"{path}: row {rownum}: 'organisation' and 'list' must both be set")
            out[org] = lst
    return out


def _victim_rows(store: Store, probabilistic: bool, actor: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    from sqlalchemy import select

    from tipsom.schema.enums import PersonRole
    from tipsom.store.tables import REGISTRY
    from tipsom.store.view import PersonRead, persons_frame

    request = PersonRead(
        columns=("key", "sex", "age", "citizenship", "pseudo_name", "pseudo_birth_date", "pseudo_id_number",
                 "pseudo_phone"),
        decrypt=("given_name", "family_name", "birth_date") if probabilistic else (),
        case_columns=("year", "jurisdiction"),
        roles=[r for r in PersonRole if r.is_victim])
    people = persons_frame(store, request, actor=actor, purpose=AUDIT_PURPOSE)
    people = people.rename(columns={"case_jurisdiction": "jurisdiction"})
    idents = REGISTRY["identification"]
    with store.engine.connect() as conn:
        ident = pd.DataFrame(conn.execute(
            select(idents.c.person_key, idents.c.agency, idents.c.agency_type, idents.c.identified_on)
        ).mappings().all())
    return people, ident


def _exact_key(row: Mapping[str, Any]) -> str | None:
    if row["pseudo_id_number"]:
        return f"id:{row['pseudo_id_number']}"
    if row["pseudo_phone"]:
        return f"phone:{row['pseudo_phone']}"
    if row["pseudo_name"] and row["pseudo_birth_date"]:
        return f"name+dob:{row['pseudo_name']}:{row['pseudo_birth_date']}"
    return None


def link_registry(
    store: Store, linkage: Linkage = Linkage.EXACT, threshold: float = DEFAULT_THRESHOLD, *, actor: str
) -> tuple[pd.DataFrame, LinkageResult]:
    """Identification rows (record_id = person row, list_name = agency, year, sex, age, region)
    and the person each person row was linked to."""
    from tipsom.store.crypto import DataKeyError

    try:
        people, ident = _victim_rows(store, linkage is Linkage.PROBABILISTIC, actor)
    except DataKeyError as exc:
        raise StoreHistoriesError(str(exc)) from exc
    if people.empty or ident.empty:
        raise StoreHistoriesError("the registry has no victims with identification records")
    people = people.rename(columns={"key": "record_id"})
    people["record_id"] = people["record_id"].astype(str)
    people["pseudonym"] = [_exact_key(r) for r in people.to_dict("records")]
    people["citizenship"] = people["citizenship"].map(lambda v: str(v).split("|")[0] if v else None)
    people["list_name"] = "registry"
    if linkage is Linkage.PROBABILISTIC:
        people["birth_date"] = people["birth_date"].map(lambda v: v[:10] if isinstance(v, str) and v else None)
        people["year"] = people["case_year"]
        result = link(people, threshold=threshold, source="registry")
    else:
        people["given_name"] = people["family_name"] = ""
        result = link(people, threshold=threshold, probabilistic=False, source="registry")
    ident = ident[ident["person_key"].isin(people["record_id"])]
    if ident.empty:
        raise StoreHistoriesError("no identification record belongs to a victim")
    info = people.set_index("record_id")
    rows = pd.DataFrame({
        "record_id": ident["person_key"].astype(str).to_numpy(),
        "list_name": ident["agency"].astype(str).to_numpy(),
        # an identification with no recorded type counts under its organisation rather than in one list
        # of unrelated "unknown" agencies, whose overlaps would mean nothing
        "agency_type": ident["agency_type"].fillna(ident["agency"]).astype(str).to_numpy(),
    })
    when = pd.to_datetime(ident["identified_on"], errors="coerce")
    case_year = rows["record_id"].map(info["case_year"])
    rows["year"] = when.dt.year.to_numpy()
    rows["year"] = rows["year"].fillna(case_year).astype("Int64")
    rows["sex"] = rows["record_id"].map(info["sex"])
    rows["age"] = rows["record_id"].map(info["age"])
    rows["region"] = rows["record_id"].map(info["jurisdiction"])
    return rows, result


def list_names(rows: pd.DataFrame, by: ListBy, groups: Mapping[str, str]) -> pd.Series:
    """The list each identification row counts in: its agency type, or its organisation (``groups`` applied)."""
    if groups:
        return rows["list_name"].map(lambda v: groups.get(str(v), str(v)))
    return rows["agency_type"] if by is ListBy.AGENCY_TYPE else rows["list_name"]


def histories_from_store(
    store: Store,
    strata: Sequence[str] = (),
    groups: Path | Mapping[str, str] | None = None,
    *,
    by: ListBy = ListBy.AGENCY_TYPE,
    most_lists: int | None = None,
    linkage: Linkage = Linkage.EXACT,
    threshold: float = DEFAULT_THRESHOLD,
    actor: str,
) -> pd.DataFrame:
    """The capture-history table (lists, strata, ``count``) of the registry's victims.

    Lists are agency types unless ``by`` says organisations; a ``groups``
    mapping (organisation to list) overrides both. With ``most_lists`` a
    registry giving more lists is refused before the table is built, naming
    the lists so the user can group them.
    """
    mapping = read_groups(groups) if isinstance(groups, Path) else dict(groups or {})
    rows, result = link_registry(store, linkage, threshold, actor=actor)
    rows["list_name"] = list_names(rows, by, mapping).to_numpy()
    lists = sorted(rows["list_name"].unique())
    if most_lists is not None and len(lists) > most_lists:
        shown = ", ".join(lists[:5]) + (", ..." if len(lists) > 5 else "")
        raise StoreHistoriesError(f"the registry gives {len(lists)} lists ({shown}) by {by.value}; at most "
                                  f"{most_lists} are supported: group them with --by agency-type or --groups")
    try:
        return capture_histories(rows, result.persons, strata)
    except ValueError as exc:
        raise StoreHistoriesError(str(exc)) from exc
