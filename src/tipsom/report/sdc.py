"""Statistical disclosure control shared by the microdata exports: quasi-identifiers and their ladders.

Both the k-anonymous export (:mod:`tipsom.report.microdata`) and the DP
synthesiser (:mod:`tipsom.report.dpsynth`) generalise the same columns the same
way; defining the ladders here lets each use them without importing the other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

#: The value a generalisation ladder's last rung writes.
SUPPRESSED = "*"


@lru_cache(maxsize=1)
def continents() -> dict[str, str]:
    """ISO3 -> continent, from the Natural Earth boundaries shipped with tipsom."""
    import shapefile

    from tipsom.core.render.charts import natural_earth_path

    reader = shapefile.Reader(str(natural_earth_path()))
    names = [f[0] for f in reader.fields[1:]]
    iso, cont = names.index("iso_a3"), names.index("continent")
    return {str(r[iso]): str(r[cont]) for r in reader.records()}


def majority(band: str) -> str:
    """Minor, Adult or Unknown from a CTDC age band (a suppressed band is Unknown)."""
    if band in ("0--8", "9--17", "0--17"):
        return "Minor"
    return "Unknown" if band in ("Unknown", SUPPRESSED) else "Adult"


@dataclass(frozen=True)
class QuasiIdentifier:
    """A column an outsider may know, with its generalisation ladder (level 0 = as recorded)."""

    column: str
    ladder: tuple[Callable[[str], str], ...]

    @property
    def levels(self) -> int:
        return len(self.ladder)


def _year_period(year: str) -> str:
    if not year.isdigit():
        return year
    start = int(year) - int(year) % 5
    return f"{start}-{start + 4}"


def _age_group(band: str) -> str:
    return {"Minor": "0--17", "Adult": "18+"}.get(majority(band), band)


QUASI_IDENTIFIERS = (
    QuasiIdentifier("yearOfRegistration", (str, _year_period, lambda _: SUPPRESSED)),
    QuasiIdentifier("gender", (str, lambda _: SUPPRESSED)),
    QuasiIdentifier("ageBroad", (str, _age_group, lambda _: SUPPRESSED)),
    QuasiIdentifier("citizenship", (str, lambda c: continents().get(c, "Unknown"), lambda _: SUPPRESSED)),
    QuasiIdentifier("countryOfExploitation", (str, lambda c: continents().get(c, "Unknown"),
                                              lambda _: SUPPRESSED)),
)


LEVEL_NAMES = {
    "yearOfRegistration": ("year", "five-year period", "suppressed"),
    "gender": ("sex", "suppressed"),
    "ageBroad": ("CTDC age band", "child / adult", "suppressed"),
    "citizenship": ("country", "continent", "suppressed"),
    "countryOfExploitation": ("country", "continent", "suppressed"),
}


def generalise(frame: pd.DataFrame, qis: Sequence[QuasiIdentifier], levels: Sequence[int]) -> pd.DataFrame:
    """``frame`` with each quasi-identifier replaced by its value at the given ladder level."""
    out = frame.copy()
    for qi, level in zip(qis, levels, strict=True):
        values = out[qi.column].astype(str)
        mapping = {v: qi.ladder[level](v) for v in values.unique()}
        out[qi.column] = values.map(mapping)
    return out
