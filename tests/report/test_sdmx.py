"""SDG 16.2.2 as SDMX: the SDMX-ML parses with pysdmx, its observations equal the SDMX-CSV's and the report's."""

from __future__ import annotations

import csv

import pytest

from tests.report.conftest import Built
from tipsom.report.sdg import SdgRow
from tipsom.report.sdmx import COLUMNS, CONFIDENTIAL, DIMENSIONS, m49, write_sdmx_files

Observation = tuple[str, ...]


def _from_csv(built: Built) -> set[Observation]:
    with (built.out / "sdg_16_2_2.sdmx.csv").open(encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames is not None
        assert reader.fieldnames[:3] == ["STRUCTURE", "STRUCTURE_ID", "ACTION"]
        return {tuple(r[c] for c in COLUMNS) for r in reader}


def _from_xml(built: Built) -> set[Observation]:
    from pysdmx.io import read_sdmx

    message = read_sdmx(str(built.out / "sdg_16_2_2.sdmx.xml"))
    (dataset,) = message.data
    frame = dataset.data.fillna("")
    out = set()
    for row in frame.to_dict("records"):
        value = row["OBS_VALUE"]
        out.add(tuple(f"{float(value):g}" if c == "OBS_VALUE" and value != "" else str(row[c]) for c in COLUMNS))
    return out


def test_sdmx_ml_parses_and_holds_the_csv_observations(built: Built) -> None:
    from_csv = {tuple(f"{float(v):g}" if c == "OBS_VALUE" and v else v for c, v in zip(COLUMNS, o, strict=True))
                for o in _from_csv(built)}
    from_xml = _from_xml(built)
    assert from_xml == from_csv
    assert len(from_xml) > 10


def test_observations_are_the_reports_sdg_rows_with_m49_areas(built: Built) -> None:
    observations = _from_csv(built)
    expected = {(r.SERIES, m49(r.REF_AREA), r.SEX, r.AGE, r.TIME_PERIOD, r.UNIT_MEASURE, r.OBS_STATUS)
                for r in built.data.sdg}
    got = {(o[0], o[1], o[2], o[3], o[4], o[6], o[7]) for o in observations}
    assert got == expected
    assert {o[0] for o in observations} >= {"VC_HTF_DETV", "VC_HTF_DETVSX", "VC_HTF_DETVFL", "VC_HTF_DETVOP"}
    assert all(o[1].isdigit() and not o[1].startswith("0") for o in observations)
    keys = [o[: len(DIMENSIONS)] for o in observations]
    assert len(keys) == len(set(keys))


def test_a_suppressed_count_has_no_value_and_a_confidential_status(built: Built) -> None:
    observations = _from_csv(built)
    suppressed = [o for o in observations if o[7] == CONFIDENTIAL]
    assert suppressed
    assert all(o[5] == "" for o in suppressed)
    shown = [o for o in observations if o[7] != CONFIDENTIAL and o[0].endswith(("DETV", "SX", "FL", "OG", "OP"))]
    assert all(float(o[5]) == 0 or float(o[5]) >= 5 for o in shown)


@pytest.mark.parametrize(("iso3", "code"), [("AFG", "4"), ("NGA", "566"), ("XKX", None)])
def test_m49_codes(iso3: str, code: str | None) -> None:
    assert m49(iso3) == code


def test_an_area_without_m49_code_is_left_out_and_counted(tmp_path: object) -> None:
    from pathlib import Path

    out = Path(str(tmp_path))
    rows = [SdgRow("VC_HTF_DETV", "XKX", "2020", "_T", "_T", "12", "NUMBER", "A"),
            SdgRow("VC_HTF_DETV", "ALB", "2020", "_T", "_T", "<5", "NUMBER", "C")]
    files = write_sdmx_files(rows, out / "s.csv", out / "s.xml")
    assert files.unmapped == 1
    with files.csv.open(encoding="utf-8") as fh:
        (only,) = list(csv.DictReader(fh))
    assert (only["REF_AREA"], only["OBS_VALUE"], only["OBS_STATUS"]) == ("8", "", "C")
