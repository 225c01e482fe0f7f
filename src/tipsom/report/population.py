"""Population denominators for rates per 100,000 (SDG 16.2.2).

A denominators file is CSV with ``country, year, sex, age_group, population``
(SDMX codes ``_T``/``F``/``M`` and ``_T``/``Y0T17``/``Y_GE18``). tipsom ships
country totals from Natural Earth (public domain); a ministry with census or
UN WPP figures by sex and age passes its own file. A bad row stops the load
with the file, row, field and reason: a wrong denominator silently published
is worse than none.
"""

from __future__ import annotations

import csv
import enum
import io
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from tipsom.core.errors import InputError
from tipsom.core.textinput import read_utf8

SHIPPED = "population/natural_earth_pop_est.csv"
REQUIRED = ("country", "year", "sex", "age_group", "population")
SEXES = frozenset({"_T", "F", "M"})
AGE_GROUPS = frozenset({"_T", "Y0T17", "Y_GE18"})


class DenominatorMatch(enum.StrEnum):
    """How well a denominator fits the year asked for."""

    EXACT = "exact"
    #: Nearest other year of the same country, sex and age group.
    NEAREST_YEAR = "nearest_year"


class PopulationFileError(InputError):
    """A denominators file that cannot be trusted, with where and why."""

    def __init__(self, path: Path, row: int, column: str, value: str, reason: str) -> None:
        super().__init__(f"value {value!r}: {reason}", file=path, row=row, field=column)


@dataclass(frozen=True)
class Denominator:
    population: float
    year: int
    match: DenominatorMatch


class Population:
    """Population by (country, sex, age group) and year, with nearest-year lookup."""

    def __init__(self, rows: dict[tuple[str, str, str], dict[int, float]], source: str) -> None:
        self._rows = rows
        self.source = source

    def lookup(self, country: str, year: int, sex: str = "_T", age_group: str = "_T") -> Denominator | None:
        years = self._rows.get((country, sex, age_group))
        if not years:
            return None
        if year in years:
            return Denominator(years[year], year, DenominatorMatch.EXACT)
        nearest = min(years, key=lambda y: (abs(y - year), -y))
        return Denominator(years[nearest], nearest, DenominatorMatch.NEAREST_YEAR)

    def __len__(self) -> int:
        return sum(len(v) for v in self._rows.values())


def shipped_population_path() -> Path:
    return Path(str(resources.files("tipsom.data").joinpath(SHIPPED)))


def load_population(path: Path | None = None) -> Population:
    """Read a denominators file (default: the shipped Natural Earth totals)."""
    path = path or shipped_population_path()
    rows: dict[tuple[str, str, str], dict[int, float]] = {}
    text = read_utf8(path).removeprefix("\ufeff")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise PopulationFileError(path, 1, ",".join(missing), "", "required column missing")
    for n, raw in enumerate(reader, start=2):
        country = (raw["country"] or "").strip().upper()
        if len(country) != 3 or not country.isalpha():
            raise PopulationFileError(path, n, "country", raw["country"], "not an ISO 3166-1 alpha-3 code")
        sex, age = (raw["sex"] or "").strip(), (raw["age_group"] or "").strip()
        if sex not in SEXES:
            raise PopulationFileError(path, n, "sex", sex, f"use one of {sorted(SEXES)}")
        if age not in AGE_GROUPS:
            raise PopulationFileError(path, n, "age_group", age, f"use one of {sorted(AGE_GROUPS)}")
        try:
            year = int(raw["year"])
        except (TypeError, ValueError):
            raise PopulationFileError(path, n, "year", raw["year"], "not a whole year") from None
        try:
            population = float(raw["population"])
        except (TypeError, ValueError):
            raise PopulationFileError(path, n, "population", raw["population"], "not a number") from None
        if not 0 < population < math.inf:  # NaN fails both comparisons and would reach the JSON report
            raise PopulationFileError(path, n, "population", raw["population"],
                                      "must be a positive finite number")
        cell = rows.setdefault((country, sex, age), {})
        if year in cell:
            raise PopulationFileError(path, n, "year", str(year), "duplicate country/year/sex/age row")
        cell[year] = population
    return Population(rows, source=str(path))
