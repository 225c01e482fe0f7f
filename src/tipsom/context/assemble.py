"""Turn stored observations, or a user's CSV, into the unit-by-indicator table the index scores.

For each indicator the most recent value within ``max_age`` years of the
reference year is taken (as INFORM does), so countries with slower statistics
are not dropped, and the years actually used are reported. A series whose
stored name does not contain the configured text (``series_name_contains``) is
left out with a note: that is how a rebased series, such as the World Bank's
$2.15 and $3.00 poverty lines under one code, is kept from being mixed.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from tipsom.context.sources import ContextInputError, parse_number, read_text
from tipsom.context.spec import IndexSpec, UnitLevel

POPULATION_SERIES = "population.total"


def _latest(frame: pd.DataFrame, year: int, max_age: int) -> pd.DataFrame:
    window = frame[(frame["year"] <= year) & (frame["year"] >= year - max_age)]
    return window.sort_values("year").groupby("unit", sort=False).tail(1).set_index("unit")


def values_from_observations(spec: IndexSpec, observations: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The wide table (units x indicator codes) and notes on what was used or left out."""
    notes: list[str] = []
    if observations.empty:
        raise ContextInputError("no context data in the store: run `tipsom context import` first")
    obs = observations.copy()
    if spec.unit is UnitLevel.COUNTRY:
        obs = obs[obs["admin1"].isna()]
        obs["unit"] = obs["iso3"]
    else:
        obs = obs[obs["admin1"].notna()]
        obs["unit"] = obs["admin1"].astype(str)
    year = spec.year if spec.year is not None else int(obs["year"].max())
    population = _latest(obs[obs["series"] == POPULATION_SERIES], year, spec.max_age)["value"]
    columns: dict[str, pd.Series] = {}
    for ind in spec.indicators:
        rows = obs[obs["series"] == ind.series]
        if ind.series_name_contains:
            wrong = rows[~rows["series_name"].str.contains(ind.series_name_contains, regex=False)]
            if not wrong.empty:
                names = "; ".join(sorted(wrong["series_name"].unique()))
                notes.append(f"{ind.code}: {len(wrong)} values of {ind.series} left out because their "
                             f"name ({names}) does not contain {ind.series_name_contains!r}.")
            rows = rows.drop(wrong.index)
        latest = _latest(rows, year, spec.max_age)
        if latest.empty:
            notes.append(f"{ind.code}: no values of {ind.series} between {year - spec.max_age} and {year}.")
            columns[ind.code] = pd.Series(dtype=np.float64)
            continue
        notes.append(f"{ind.code}: {len(latest)} units, years {int(latest['year'].min())}-"
                     f"{int(latest['year'].max())}.")
        values = latest["value"].astype(np.float64)
        if ind.per_capita:
            per = population.reindex(values.index)
            lacking = int(per.isna().sum())
            if lacking:
                notes.append(f"{ind.code}: {lacking} units lack a population figure: no per-capita value.")
            values = values / per * ind.per_capita
        columns[ind.code] = values
    # Every unit with any value of the configured series gets a row, so one whose
    # values were all left out shows up as unscored rather than disappearing.
    units = sorted(set(obs.loc[obs["series"].isin([i.series for i in spec.indicators]), "unit"]))
    table = pd.DataFrame(columns).reindex(units)
    table.index.name = "unit"
    return table.sort_index(), notes


def read_values_csv(path: Path, spec: IndexSpec) -> pd.DataFrame:
    """A wide CSV: a ``unit`` column and one numeric column per indicator code (blank = missing)."""
    text, _ = read_text(path)
    reader = csv.DictReader(text.splitlines())
    header = reader.fieldnames or []
    if "unit" not in header:
        raise ContextInputError(f"{path}: no 'unit' column; found {header}")
    missing = [i.code for i in spec.indicators if i.code not in header]
    if missing:
        raise ContextInputError(f"{path}: no column for indicator(s) {', '.join(missing)}")
    records: dict[str, dict[str, float]] = {}
    errors = []
    for row in reader:
        unit = (row.get("unit") or "").strip()
        line = reader.line_num
        if not unit:
            errors.append(f"{path}:{line} [unit] empty unit")
            continue
        if unit in records:
            errors.append(f"{path}:{line} [unit] {unit!r} appears twice")
            continue
        values: dict[str, float] = {}
        for ind in spec.indicators:
            cell = row.get(ind.code) or ""
            try:
                number = parse_number(cell)
            except ValueError as exc:
                errors.append(f"{path}:{line} [{ind.code}] {exc}")
                continue
            values[ind.code] = np.nan if number is None else number
        records[unit] = values
    if errors:
        raise ContextInputError("invalid index data:\n" + "\n".join(errors))
    frame = pd.DataFrame.from_dict(records, orient="index")
    frame.index.name = "unit"
    return frame
