"""Importers: every source's layout, country names, admin-1 units, and reported (not dropped) rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tipsom.context.boundaries import Boundaries
from tipsom.context.countries import resolve_country
from tipsom.context.importing import import_file
from tipsom.context.sources import ContextInputError, EventKind, Severity, Source


def _by_series(result, series):  # type: ignore[no-untyped-def]
    return {(o.iso3, o.year): o for o in result.observations if o.series == series and o.admin1 is None}


@pytest.mark.parametrize(
    ("text", "iso3"),
    [("DR Congo (Zaire)", "COD"), ("Congo, Dem. Rep.", "COD"), ("Congo", "COG"), ("Côte d’Ivoire", "CIV"),
     ("Iran (Islamic Republic of)", "IRN"), ("Türkiye", "TUR"), ("566", "NGA"), ("NG", "NGA"),
     ("Kosovo", "XKX"), ("Korea, Dem. People's Rep.", "PRK")],
)
def test_country_variants_resolve(text: str, iso3: str) -> None:
    assert resolve_country(text) == iso3


@pytest.mark.parametrize("text", ["World", "Sub-Saharan Africa", "WLD", "Atlantis", ""])
def test_aggregates_and_unknown_names_do_not_resolve(text: str) -> None:
    assert resolve_country(text) is None


def test_acled_fixture_reports_unknown_country_and_bad_date(fixtures: Path) -> None:
    result = import_file(fixtures / "acled_sample.csv", Source.ACLED)
    assert [e.event_id for e in result.events] == ["XYZ1001", "XYZ1002"]
    assert result.events[1].start == date(2021, 4, 5)  # "5 April 2021"
    assert all(e.kind is EventKind.CONFLICT and e.iso3 == "NGA" for e in result.events)
    rejected = {(i.line, i.field) for i in result.issues if i.severity is Severity.REJECTED}
    assert rejected == {(4, "iso"), (5, "event_date")}
    fatalities = _by_series(result, "acled.fatalities")
    assert fatalities[("NGA", 2021)].value == 17


def test_admin1_units_come_from_user_boundaries(fixtures: Path) -> None:
    boundaries = Boundaries.load(fixtures / "admin1.geojson", "id", "name")
    result = import_file(fixtures / "acled_sample.csv", Source.ACLED, boundaries)
    assert {e.admin1 for e in result.events} == {"NG-BO"}
    admin = [o for o in result.observations if o.admin1 == "NG-BO" and o.series == "acled.events"]
    assert admin[0].value == 2


def test_admin1_names_kept_without_boundaries(fixtures: Path) -> None:
    result = import_file(fixtures / "ucdp_sample.csv", Source.UCDP)
    assert [e.admin1 for e in result.events] == ["Banaadir region", "Bay region", "Nord-Kivu province"]
    assert result.events[2].iso3 == "COD"
    assert result.events[1].subtype == "one-sided violence"
    assert _by_series(result, "ucdp.fatalities")[("SOM", 2016)].value == 42


def test_emdat_csv_and_xlsx_give_the_same_events(fixtures: Path, tmp_path: Path) -> None:
    import csv

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    with (fixtures / "emdat_sample.csv").open(encoding="utf-8") as fh:
        for row in csv.reader(fh):
            sheet.append(row)
    book.save(tmp_path / "emdat.xlsx")
    from_csv = import_file(fixtures / "emdat_sample.csv", Source.EMDAT)
    from_xlsx = import_file(tmp_path / "emdat.xlsx", Source.EMDAT)
    assert [e.event_id for e in from_csv.events] == ["2019-0001-BGD", "2019-0002-PHL"]
    assert [e.event_id for e in from_xlsx.events] == [e.event_id for e in from_csv.events]
    flood = from_csv.events[0]
    assert (flood.kind, flood.start, flood.fatalities, flood.affected, flood.displaced) == (
        EventKind.DISASTER, date(2019, 7, 10), 119, 5080000, 80000)
    assert any(i.line == 4 and i.field == "iso" for i in from_csv.issues)  # Narnia rejected
    assert any(i.line == 3 and "incomplete" in i.reason for i in from_csv.issues)  # no start day


def test_idmc_reference_files(reference: Path) -> None:
    years = import_file(reference / "context" / "idmc_gidd_country_year_2008_2017.csv", Source.IDMC)
    stock = _by_series(years, "idmc.conflict_stock")
    assert stock[("AB9", 2015)].value == 82000
    assert "IDPs" in stock[("AB9", 2015)].series_name
    events_file = reference / "context" / "idmc_gidd_disaster_events_2008_2017.csv"
    events = import_file(events_file, Source.IDMC_DISASTERS)
    assert len(events.events) == 4816
    first = events.events[0]
    assert (first.iso3, first.start, first.displaced, first.subtype) == (
        "AFG", date(2008, 8, 1), 180, "Weather related / Flood")


def test_wdi_keeps_indicator_names_in_both_layouts(fixtures: Path) -> None:
    bulk = import_file(fixtures / "wdi_bulk.csv", Source.WDI)
    pov = _by_series(bulk, "SI.POV.DDAY")
    assert pov[("NGA", 2016)].value == 36.2
    assert "$3.00" in pov[("NGA", 2016)].series_name
    assert ("NGA", 2015) not in pov  # blank is unknown, not zero
    assert any(i.field == "code" and "WLD" in i.reason for i in bulk.issues)  # aggregate reported
    databank = import_file(fixtures / "wdi_databank.csv", Source.WDI)
    old = _by_series(databank, "SI.POV.DDAY")
    assert "$2.15" in old[("NGA", 2016)].series_name
    assert old[("COD", 2017)].value == 78.9
    assert [(i.line, i.field) for i in databank.issues] == [(4, "2017 [YR2017]")]  # "abc" reported


def test_unhcr_sums_by_origin_and_asylum(fixtures: Path) -> None:
    result = import_file(fixtures / "unhcr_sample.csv", Source.UNHCR)
    assert _by_series(result, "unhcr.refugees")[("SOM", 2017)].value == 535000
    assert _by_series(result, "unhcr.refugees_hosted")[("KEN", 2017)].value == 281200
    assert _by_series(result, "unhcr.idps")[("SOM", 2017)].value == 2100000
    assert any(i.field == "origin" and i.line == 8 for i in result.issues)


def test_wpp_population_in_thousands_medium_variant_only(fixtures: Path) -> None:
    result = import_file(fixtures / "wpp_population.csv", Source.POPULATION)
    pop = _by_series(result, "population.total")
    assert pop == {("NGA", 2017): pop[("NGA", 2017)]}
    assert pop[("NGA", 2017)].value == 188_000_000
    assert any(i.field == "variant" and "High" in i.reason for i in result.issues)
    assert any(i.line == 2 and i.severity is Severity.REJECTED for i in result.issues)  # World


def test_missing_required_column_fails_the_file(fixtures: Path) -> None:
    with pytest.raises(ContextInputError, match="missing column"):
        import_file(fixtures / "unhcr_sample.csv", Source.ACLED)


@pytest.mark.usefixtures("initialised_store")
def test_import_command_reports_rows_and_exit_codes(fixtures: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from tipsom.cli.main import app

    runner = CliRunner()
    issues = tmp_path / "issues.csv"
    ok = runner.invoke(app, ["context", "import", str(fixtures / "acled_sample.csv"), "--source", "acled",
                             "--issues", str(issues)])
    assert ok.exit_code == 0, ok.output
    assert "acled_sample.csv:4 [iso] rejected" in ok.stderr
    assert "2 rows rejected" in ok.stdout
    written = issues.read_text(encoding="utf-8")
    assert written.startswith("file,line,field,severity,reason")
    assert written.count(",rejected,") == 2
    again = runner.invoke(app, ["context", "import", str(fixtures / "acled_sample.csv"), "--source", "acled"])
    assert "replacing the earlier copy" in again.stdout
    strict = runner.invoke(app, ["context", "import", str(fixtures / "acled_sample.csv"), "--source", "acled",
                                 "--strict"])
    assert strict.exit_code == 1
    wrong = runner.invoke(app, ["context", "import", str(fixtures / "unhcr_sample.csv"), "--source", "ucdp"])
    assert wrong.exit_code == 1
    assert "missing column(s)" in wrong.stderr
    usage = runner.invoke(app, ["context", "import", str(fixtures / "unhcr_sample.csv"), "--source", "gdelt"])
    assert usage.exit_code == 2
