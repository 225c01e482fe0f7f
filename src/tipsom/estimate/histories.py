"""From linked records to a capture-history table, optionally stratified.

A person's strata (sex, age group, region, year) are taken from their first
identification, so a person found in two years counts once, in the year they
first became known; sex is the first recorded value. Lists are the
identifying organisations, or groups of them when an analyst merges small
agencies (``groups={"ngo_a": "NGOs", "ngo_b": "NGOs"}``), which is how the UK
merged its PF and NCA lists into ``PFNCA``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from tipsom.estimate.table import COUNT, KNOWN_STRATA

#: Upper bounds (exclusive) and labels of the age groups used for stratification.
AGE_GROUPS = ((18, "0-17"), (30, "18-29"), (50, "30-49"), (200, "50+"))
UNKNOWN = "unknown"


def age_group(age: float | None) -> str:
    if age is None or pd.isna(age):
        return UNKNOWN
    for upper, label in AGE_GROUPS:
        if age < upper:
            return label
    return UNKNOWN


def capture_histories(
    records: pd.DataFrame,
    persons: pd.Series,
    strata: Sequence[str] = (),
    groups: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """One row per capture history (and stratum): a 0/1 column per list plus ``count``.

    ``records`` needs ``record_id`` and ``list_name``, plus ``year`` for
    ordering and whatever the strata need (``birth_year`` or ``age`` for
    ``age_group``). ``persons`` maps ``record_id`` to a person.
    """
    unknown = [s for s in strata if s not in KNOWN_STRATA]
    if unknown:
        raise ValueError(f"unknown strata {unknown}; choose from {list(KNOWN_STRATA)}")
    df = records.copy()
    df["record_id"] = df["record_id"].astype(str)
    df["person"] = df["record_id"].map(persons)
    if df["person"].isna().any():
        missing = df.loc[df["person"].isna(), "record_id"].iloc[0]
        raise ValueError(f"record {missing!r} has no person assigned")
    df["list"] = df["list_name"].map(lambda v: (groups or {}).get(str(v), str(v)))
    if "year" not in df.columns:
        df["year"] = None
    if "age_group" in strata:
        age = pd.to_numeric(df.get("age"), errors="coerce") if "age" in df.columns else None
        if "birth_year" in df.columns:
            born = pd.to_numeric(df["birth_year"], errors="coerce")
            from_birth = pd.to_numeric(df["year"], errors="coerce") - born
            age = from_birth if age is None else age.fillna(from_birth)
        df["age_group"] = [age_group(a) for a in (age if age is not None else [None] * len(df))]
    for s in strata:
        if s not in df.columns:
            raise ValueError(f"records have no '{s}' column to stratify by")
        df[s] = df[s].fillna(UNKNOWN).astype(str)
    lists = sorted(df["list"].unique())
    if len(lists) < 2:
        raise ValueError(f"need records from at least two lists, found {lists}")
    first = df.sort_values(["person", "year"], na_position="last").groupby("person").first()
    member = pd.crosstab(df["person"], df["list"]).clip(upper=1).reindex(columns=lists, fill_value=0)
    person_rows = member.join(first[list(strata)]) if strata else member
    table = person_rows.groupby([*lists, *strata]).size().reset_index(name=COUNT)
    return table[[*lists, *strata, COUNT]]
