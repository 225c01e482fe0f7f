"""SDG indicator 16.2.2: detected victims of trafficking, counts and rates per 100,000.

Rows follow the SDG series codes (``VC_HTF_DETV`` and the forms ``...SX``,
``...FL``, ``...OG``, ``...OP``, each with its per-100,000 ``R`` series) in an
SDMX-style CSV: SERIES, REF_AREA, TIME_PERIOD, SEX, AGE, OBS_VALUE,
UNIT_MEASURE, OBS_STATUS. Counts are read from the *published* victims cube,
so a cell suppressed in the tables is suppressed here too, and its rate with it.

OBS_STATUS: ``A`` normal value; ``E`` rate whose denominator is for another
year (nearest available); ``C`` confidential: the count is under the threshold
(OBS_VALUE ``<5``) or hidden to protect another cell (empty OBS_VALUE).
"""

from __future__ import annotations

import csv
import enum
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from tipsom.core.cells import neutral_row
from tipsom.report.cube import TOTAL
from tipsom.report.disclosure import CellStatus, Protected
from tipsom.report.population import DenominatorMatch, Population
from tipsom.report.statistics import UNKNOWN

COLUMNS = ("SERIES", "REF_AREA", "TIME_PERIOD", "SEX", "AGE", "OBS_VALUE", "UNIT_MEASURE", "OBS_STATUS")
SERIES_BY_FORM = {TOTAL: "VC_HTF_DETV", "SexualExploitation": "VC_HTF_DETVSX", "ForcedLabour": "VC_HTF_DETVFL",
                  "OrganRemoval": "VC_HTF_DETVOG", "OtherPurposes": "VC_HTF_DETVOP"}
SEX_CODES = {TOTAL: "_T", "Female": "F", "Male": "M"}
AGE_CODES = {TOTAL: "_T", "Child": "Y0T17", "Adult": "Y_GE18"}
PER = 100_000


class SdgFormat(enum.StrEnum):
    CSV = "csv"
    JSON = "json"


@dataclass(frozen=True)
class SdgRow:
    SERIES: str
    REF_AREA: str
    TIME_PERIOD: str
    SEX: str
    AGE: str
    OBS_VALUE: str
    UNIT_MEASURE: str
    OBS_STATUS: str


def sdg_rows(victims: Protected, population: Population) -> Iterator[SdgRow]:
    """Count and rate rows for every country-year cell of the SDG breakdowns."""
    dims = [d.name for d in victims.cube.dims]
    for key in victims.cube.cells():
        c = dict(zip(dims, key, strict=True))
        if c["area"] in (TOTAL, UNKNOWN) or c["year"] in (TOTAL, UNKNOWN) or c["unaccompanied"] != TOTAL:
            continue
        if c["form"] not in SERIES_BY_FORM or c["sex"] not in SEX_CODES or c["age"] not in AGE_CODES:
            continue
        series, sex, age = SERIES_BY_FORM[c["form"]], SEX_CODES[c["sex"]], AGE_CODES[c["age"]]
        status = victims.status(key)
        shown = victims.shown_value(key)
        if status is CellStatus.SHOWN:
            yield SdgRow(series, c["area"], c["year"], sex, age, f"{shown:g}", "NUMBER", "A")
        else:
            mark = victims.display(key) if status is CellStatus.PRIMARY else ""
            yield SdgRow(series, c["area"], c["year"], sex, age, mark, "NUMBER", "C")
        denominator = population.lookup(c["area"], int(c["year"]), sex, age)
        if denominator is None:
            continue
        if shown is None:
            yield SdgRow(f"{series}R", c["area"], c["year"], sex, age, "", "PER_100000_POP", "C")
            continue
        rate = shown / denominator.population * PER
        flag = "A" if denominator.match is DenominatorMatch.EXACT else "E"
        yield SdgRow(f"{series}R", c["area"], c["year"], sex, age, f"{rate:.4f}", "PER_100000_POP", flag)


def write_sdg(rows: list[SdgRow], out: Path, fmt: SdgFormat = SdgFormat.CSV) -> Path:
    if fmt is SdgFormat.JSON:
        out.write_text(json.dumps([asdict(r) for r in rows], indent=1) + "\n", encoding="utf-8")
        return out
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        writer.writerows(neutral_row(getattr(r, col) for col in COLUMNS) for r in rows)
    return out
