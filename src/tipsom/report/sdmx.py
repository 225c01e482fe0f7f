"""SDG indicator 16.2.2 as SDMX: SDMX-CSV 2.0 and SDMX-ML 2.1 structure-specific data.

UNODC and national statistical offices load SDG series into SDMX tools (the
SDG global database, .Stat, Fusion Registry); the plain CSV of
:mod:`tipsom.report.sdg` needs re-keying by hand. Both files here are written
by `pysdmx <https://pypi.org/project/pysdmx/>`_ (BIS's maintained SDMX
library) from the same rows, so they hold the same observations.

Codes are those of the SDG global database: series ``VC_HTF_DETV`` (all
forms), ``VC_HTF_DETVSX`` (sexual exploitation), ``VC_HTF_DETVFL`` (forced
labour), ``VC_HTF_DETVOG`` (organ removal), ``VC_HTF_DETVOP`` (other
purposes) and their per-100,000 ``...R`` series; ``SEX`` ``_T``/``F``/``M``;
``AGE`` ``_T``/``Y0T17``/``Y_GE18``; ``REF_AREA`` the M49 numeric code written
without leading zeros, as the SDG database does (``4`` Afghanistan; ISO 3166-1
numeric codes are the M49 codes of countries, read from pycountry). A
jurisdiction without a numeric code (a user-assigned code such as ``XKX``) has
no M49 area: its rows are left out and counted in :attr:`SdmxFiles.unmapped`.

Disclosure control is the report's: a suppressed count (and the rate computed
from it) has no ``OBS_VALUE`` and ``OBS_STATUS`` ``C`` (SDMX code list
CL_OBS_STATUS: confidential), never a number or a ``<5`` text in a numeric
measure. ``E`` marks a rate whose population is from the nearest year.

The data structure is tipsom's own (``TIPSOM:SDG_16_2_2(1.0)``): the SDG
database's DSD has more dimensions (reporting type, nature...) than a national
registry can fill; its series and dimension codes are kept so that a mapping
is one line per dimension.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from tipsom.report.sdg import SdgRow

if TYPE_CHECKING:
    import pandas as pd
    from pysdmx.model.dataflow import Schema

AGENCY = "TIPSOM"
STRUCTURE_ID = "SDG_16_2_2"
VERSION = "1.0"
DIMENSIONS = ("SERIES", "REF_AREA", "SEX", "AGE", "TIME_PERIOD")
ATTRIBUTES = ("UNIT_MEASURE", "OBS_STATUS")
MEASURE = "OBS_VALUE"
COLUMNS = (*DIMENSIONS, MEASURE, *ATTRIBUTES)
#: CL_OBS_STATUS code of a value withheld for confidentiality.
CONFIDENTIAL = "C"


@dataclass(frozen=True)
class SdmxFiles:
    csv: Path
    xml: Path
    #: SDG rows left out because their jurisdiction has no M49 code.
    unmapped: int


@lru_cache(maxsize=512)
def m49(iso3: str) -> str | None:
    """The M49 area code of an ISO 3166-1 alpha-3 code, as the SDG database writes it ("004" -> "4")."""
    import pycountry

    found = pycountry.countries.get(alpha_3=iso3)
    return str(int(found.numeric)) if found is not None else None


def schema() -> Schema:
    """The data structure: five dimensions, the observed value, unit and status at observation level."""
    from pysdmx.model import Concept, DataType
    from pysdmx.model.dataflow import Component, Components, Role, Schema

    def component(name: str, role: Role, required: bool, dtype: DataType = DataType.STRING) -> Component:
        level = "O" if role is Role.ATTRIBUTE else None
        return Component(id=name, required=required, role=role, concept=Concept(id=name, dtype=dtype),
                         attachment_level=level)

    parts = [component(d, Role.DIMENSION, True) for d in DIMENSIONS]
    parts.append(component(MEASURE, Role.MEASURE, False, DataType.DOUBLE))
    parts += [component(a, Role.ATTRIBUTE, True) for a in ATTRIBUTES]
    return Schema(context="datastructure", agency=AGENCY, id=STRUCTURE_ID, version=VERSION,
                  components=Components(parts))


def observations(rows: Sequence[SdgRow]) -> tuple[pd.DataFrame, int]:
    """SDG rows as SDMX observations (codes mapped, suppressed values empty), and how many were left out."""
    import pandas as pd

    records = []
    unmapped = 0
    for r in rows:
        area = m49(r.REF_AREA)
        if area is None:
            unmapped += 1
            continue
        value = "" if r.OBS_STATUS == CONFIDENTIAL else r.OBS_VALUE
        records.append((r.SERIES, area, r.SEX, r.AGE, r.TIME_PERIOD, value, r.UNIT_MEASURE, r.OBS_STATUS))
    return pd.DataFrame(records, columns=list(COLUMNS)), unmapped


def write_sdmx_files(rows: Sequence[SdgRow], csv_path: Path, xml_path: Path) -> SdmxFiles:
    """Write SDMX-CSV 2.0 to ``csv_path`` and SDMX-ML 2.1 structure-specific data to ``xml_path``."""
    from pysdmx.io import write_sdmx
    from pysdmx.io.format import Format
    from pysdmx.io.pd import PandasDataset

    frame, unmapped = observations(rows)
    dataset = PandasDataset(structure=schema(), data=frame)
    write_sdmx([dataset], Format.DATA_SDMX_CSV_2_0_0, output_path=str(csv_path))
    write_sdmx([dataset], Format.DATA_SDMX_ML_2_1_STR, output_path=str(xml_path),
               dimension_at_observation="TIME_PERIOD")
    return SdmxFiles(csv_path, xml_path, unmapped)
