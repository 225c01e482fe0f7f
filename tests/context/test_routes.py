"""Missing Migrants incidents: the published route totals, both coordinate formats and encodings, rates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tipsom.cli.main import app
from tipsom.context.mmp import import_mmp, parse_coordinates, split_causes
from tipsom.context.routes import causes_by_route, hot_spots, load_arrivals, route_years
from tipsom.context.sources import ContextInputError

CENTRAL_MED = {2016: 4574, 2017: 2853, 2018: 1314, 2019: 1262, 2020: 990, 2021: 1553}

HEADER = ("Main ID,Incident Date,Incident year,Number of Dead,Minimum Estimated Number of Missing,"
          "Total Number of Dead and Missing,Number of Children,Cause of Death,Migration route,Coordinates\n")
ROWS = [
    ("A1", "2019-05-01", "2019", "3", "", "3", "1", "Drowning", "Central Mediterranean", (12.5, 35.25)),
    ("A2", "2019-12-31", "2020", "1", "2", "3", "", "Violence", "Central Mediterranean", (13.0, 33.5)),
    ("A3", "2020-02-02", "2020", "", "4", "4", "", "Drowning", "Côte route", None),
]


def _write(path: Path, latlon: bool, encoding: str) -> Path:
    lines = [HEADER]
    for *cells, point in ROWS:
        if point is None:
            coords = ""
        elif latlon:
            coords = f'"{point[1]}, {point[0]}"'
        else:
            coords = f"POINT ({point[0]} {point[1]})"
        lines.append(",".join([*cells, coords]) + "\n")
    path.write_bytes("".join(lines).encode(encoding))
    return path


def test_central_mediterranean_totals_from_the_shared_file(mmp_file: Path) -> None:
    result = import_mmp(mmp_file)
    assert result.encoding == "cp1252"
    totals = {r.year: r.total for r in route_years(result.incidents) if r.route == "Central Mediterranean"}
    assert {y: totals[y] for y in CENTRAL_MED} == CENTRAL_MED


def test_rows_whose_year_cannot_come_from_the_date_are_reported(mmp_file: Path) -> None:
    result = import_mmp(mmp_file)
    dateless = [i for i in result.issues if i.field == "incident_date"]
    assert len(dateless) == 15
    assert all("taken from Incident year" in i.reason for i in dateless)
    assert len(result.incidents) == 10274  # none dropped


@pytest.mark.parametrize(("latlon", "encoding"), [(False, "cp1252"), (True, "utf-8"), (True, "cp1252"),
                                                  (False, "utf-8")])
def test_both_coordinate_formats_and_encodings(tmp_path: Path, latlon: bool, encoding: str) -> None:
    result = import_mmp(_write(tmp_path / "mmp.csv", latlon, encoding))
    assert result.encoding == encoding
    points = [(i.longitude, i.latitude) for i in result.incidents]
    assert points == [(12.5, 35.25), (13.0, 33.5), (None, None)]
    assert result.incidents[2].route == "Côte route"
    no_coords = [i for i in result.issues if i.field == "coordinates"]
    assert [(i.line, "no coordinates" in i.reason) for i in no_coords] == [(4, True)]
    disagree = [i for i in result.issues if i.field == "incident_year"]
    assert [(i.line, result.incidents[1].year) for i in disagree] == [(3, 2019)]


def test_reference_rows_without_coordinates_are_kept_and_reported(mmp_file: Path, reference: Path) -> None:
    result = import_mmp(mmp_file)
    assert sum(1 for i in result.issues if i.field == "coordinates") == 57
    assert sum(1 for i in result.incidents if i.latitude is None) == 57
    kaggle = import_mmp(reference / "context" / "iom_mmp_kaggle_global_missing_migrants.csv")
    assert kaggle.encoding == "utf-8-sig"
    assert kaggle.incidents[0].latitude == pytest.approx(31.650259)
    assert kaggle.incidents[0].longitude == pytest.approx(-110.366453)


def test_coordinates_outside_the_globe_are_rejected() -> None:
    assert parse_coordinates("POINT (-110.5 31.6)") == (-110.5, 31.6)
    assert parse_coordinates("31.6, -110.5") == (-110.5, 31.6)
    with pytest.raises(ValueError, match="outside the globe"):
        parse_coordinates("131.6, -110.5")


def test_multi_cause_cells_split_on_known_categories() -> None:
    text = "Drowning,Harsh environmental conditions / lack of adequate shelter, food, water"
    assert split_causes(text) == (
        "Drowning", "Harsh environmental conditions / lack of adequate shelter, food, water")


def test_rates_children_causes_and_hot_spots(tmp_path: Path) -> None:
    incidents = import_mmp(_write(tmp_path / "mmp.csv", True, "utf-8")).incidents
    arrivals = tmp_path / "arrivals.csv"
    arrivals.write_text("route,year,arrivals\nCentral Mediterranean,2019,997\n", encoding="utf-8")
    rows = {(r.route, r.year): r for r in route_years(incidents, load_arrivals(arrivals))}
    med = rows[("Central Mediterranean", 2019)]
    assert (med.dead, med.missing, med.total, med.children) == (4, 2, 6, 1)
    assert med.rate_per_1000 == pytest.approx(1000 * 6 / (997 + 6))
    assert rows[("Côte route", 2020)].rate_per_1000 is None
    assert causes_by_route(incidents)["Central Mediterranean"] == {"Drowning": 3, "Violence": 3}
    spots = [(s.longitude, s.latitude, s.total) for s in hot_spots(incidents)]
    assert spots == [(12.5, 35.5, 3), (13.5, 33.5, 3)]


def test_bad_arrivals_file_is_rejected_with_line_and_field(tmp_path: Path) -> None:
    arrivals = tmp_path / "arrivals.csv"
    arrivals.write_text("route,year,arrivals\nX,20x9,10\nY,2019,\n", encoding="utf-8")
    with pytest.raises(ContextInputError) as caught:
        load_arrivals(arrivals)
    assert "arrivals.csv:2 [year]" in str(caught.value)
    assert "arrivals.csv:3 [arrivals]" in str(caught.value)


def test_routes_command_prints_json(mmp_file: Path, tmp_path: Path) -> None:
    arrivals = tmp_path / "arrivals.csv"
    arrivals.write_text("route,year,arrivals\nCentral Mediterranean,2016,181436\n", encoding="utf-8")
    out = CliRunner().invoke(app, ["context", "routes", str(mmp_file), "--arrivals", str(arrivals), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    med = {r["year"]: r for r in data if r["route"] == "Central Mediterranean"}
    assert {y: med[y]["total"] for y in CENTRAL_MED} == CENTRAL_MED
    assert med[2016]["dead"] + med[2016]["missing"] == 4574
    assert med[2016]["rate_per_1000"] == pytest.approx(1000 * 4574 / (181436 + 4574), abs=1e-3)
    assert med[2017]["rate_per_1000"] is None
