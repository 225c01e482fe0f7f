"""Command line, population denominators and the warehouse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.report.conftest import Built
from tipsom.cli.main import app
from tipsom.report.population import PopulationFileError, load_population
from tipsom.report.warehouse import WAREHOUSE_TABLES, open_warehouse

runner = CliRunner()


def test_report_commands_end_to_end(built: Built, tmp_path: Path) -> None:
    db = ["--db", built.store.url]
    out = tmp_path / "r"
    result = runner.invoke(app, ["report", "build", "--out", str(out), "--no-pdf", "--year", "2020", *db])
    assert result.exit_code == 0, result.output
    assert {"report.html", "tables.xlsx", "sdg_16_2_2.csv"} <= {p.name for p in out.iterdir()}
    sdg = tmp_path / "sdg.json"
    result = runner.invoke(app, ["report", "sdg", "--format", "json", "-o", str(sdg), *db])
    assert result.exit_code == 0, result.output
    rows = json.loads(sdg.read_text())
    assert rows
    assert set(rows[0]) == {"SERIES", "REF_AREA", "TIME_PERIOD", "SEX", "AGE", "OBS_VALUE",
                                     "UNIT_MEASURE", "OBS_STATUS"}
    micro = tmp_path / "micro.csv"
    result = runner.invoke(app, ["export", "microdata", "--k", "11", "-o", str(micro), *db])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["k"] == 11


def test_bad_inputs_fail_clearly(built: Built, tmp_path: Path) -> None:
    db = ["--db", built.store.url]
    result = runner.invoke(app, ["report", "build", "--out", str(tmp_path), "--country", "XX1", *db])
    assert result.exit_code == 2
    assert "ISO 3166-1 alpha-3" in result.output
    bad = tmp_path / "pop.csv"
    bad.write_text("country,year,sex,age_group,population\nNPL,2020,_T,_T,30000000\nNPL,2020,X,_T,5\n")
    result = runner.invoke(app, ["report", "sdg", "-o", str(tmp_path / "s.csv"), "--population", str(bad), *db])
    assert result.exit_code == 1
    assert "row 3" in result.output
    assert "row 3: sex:" in result.output
    result = runner.invoke(app, ["report", "sdg", "-o", str(tmp_path / "s.csv"), "--format", "xml", *db])
    assert result.exit_code == 2


def test_population_file_checks_and_nearest_year(tmp_path: Path) -> None:
    path = tmp_path / "pop.csv"
    path.write_text("country,year,sex,age_group,population\nNPL,2015,_T,_T,28000000\nNPL,2020,F,Y0T17,5000000\n")
    pop = load_population(path)
    found = pop.lookup("NPL", 2017)
    assert found is not None
    assert (found.year, found.match) == (2015, "nearest_year")
    assert pop.lookup("NPL", 2020, "F", "Y0T17") is not None
    assert pop.lookup("NPL", 2020, "M", "Y0T17") is None
    path.write_text("country,year,sex,age_group,population\nNPL,2015,_T,_T,-4\n")
    with pytest.raises(PopulationFileError, match="row 2: population: "):
        load_population(path)
    assert len(load_population()) > 170  # the shipped Natural Earth totals


def test_warehouse_has_no_personal_columns(built: Built) -> None:
    con = open_warehouse(built.store)
    try:
        for table in WAREHOUSE_TABLES:
            columns = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
            assert not [c for c in columns if c.endswith("_enc") or c.startswith("pseudo_")]
        n = con.execute("SELECT count(*) FROM cases").fetchone()
        assert n == (len(built.documents),)
        typed = con.execute("SELECT typeof(unaccompanied) FROM persons LIMIT 1").fetchone()
        assert typed == ("BOOLEAN",)
    finally:
        con.close()
