"""``context import`` and the report's population file: non-finite numbers and damaged files are named."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tipsom.cli.main import app
from tipsom.context.importing import import_file
from tipsom.context.sources import Severity, Source, parse_number
from tipsom.report.population import PopulationFileError, load_population

runner = CliRunner()
WPP_HEADER = ("SortOrder,LocID,Notes,ISO3_code,ISO2_code,SDMX_code,LocTypeID,LocTypeName,ParentID,Location,VarID,"
              "Variant,Time,MidPeriod,PopMale,PopFemale,PopTotal,PopDensity\n")


def _wpp(path: Path, totals: list[str]) -> Path:
    rows = [f"{i},566,,NGA,NG,566,4,Country/Area,947,Nigeria,2,Medium,{2015 + i},{2015 + i}.5,95000,93000,{total},206"
            for i, total in enumerate(totals)]
    path.write_text(WPP_HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("text", ["1e400", "inf", "-Infinity", "NaN", "nan"])
def test_non_finite_numbers_are_not_numbers(text: str) -> None:
    with pytest.raises(ValueError, match="not a finite number"):
        parse_number(text)


@pytest.mark.parametrize("text", ["", "..", "-", "N/A"])
def test_publishers_blanks_stay_unknown(text: str) -> None:
    assert parse_number(text) is None


@pytest.mark.usefixtures("initialised_store")
def test_import_names_file_line_and_field_of_infinite_and_nan_values(tmp_path: Path) -> None:
    path = _wpp(tmp_path / "wpp.csv", ["188000", "1e400", "NaN"])
    result = import_file(path, Source.POPULATION)
    named = {(i.line, i.field, i.severity) for i in result.issues}
    assert (3, "population_thousands", Severity.WARNING) in named
    assert (4, "population_thousands", Severity.WARNING) in named
    assert all(math.isfinite(o.value) for o in result.observations)
    cli = runner.invoke(app, ["context", "import", str(path), "--source", "population"])
    assert cli.exit_code == 0, cli.output
    assert f"{path}:3 [population_thousands] warning: not a finite number: '1e400'; treated as unknown" in cli.stderr
    assert f"{path}:4 [population_thousands] warning: not a finite number: 'NaN'; treated as unknown" in cli.stderr


def test_issues_file_in_missing_folder_is_refused_before_reading(tmp_path: Path) -> None:
    out = tmp_path / "missing" / "issues.csv"
    cli = runner.invoke(app, ["context", "import", str(tmp_path / "x.csv"), "--source", "population",
                              "--issues", str(out)])
    assert cli.exit_code == 2
    assert cli.stderr.startswith(f"tipsom: {out}: the folder {out.parent} does not exist")


@pytest.mark.parametrize("value", ["nan", "inf", "1e400", "0"])
def test_population_denominator_must_be_positive_and_finite(tmp_path: Path, value: str) -> None:
    path = tmp_path / "population.csv"
    path.write_text(f"country,year,sex,age_group,population\nNGA,2020,_T,_T,{value}\n", encoding="utf-8")
    with pytest.raises(PopulationFileError) as refused:
        load_population(path)
    assert (refused.value.row, refused.value.field) == (2, "population")
    cli = runner.invoke(app, ["report", "build", "--population", str(path), "--out", str(tmp_path / "r")])
    assert cli.exit_code == 1, cli.output
    assert f"{path}: row 2: population" in cli.stderr
    assert "NaN" not in cli.stdout


def test_population_file_in_latin1_is_named(tmp_path: Path) -> None:
    path = tmp_path / "population.csv"
    path.write_bytes("country,year,sex,age_group,population\nNGA,2020,_T,_T,1000 é\n".encode("latin-1"))
    with pytest.raises(Exception, match="not UTF-8 text") as refused:
        load_population(path)
    assert refused.value.file == str(path)  # type: ignore[attr-defined]


_GOOD = WPP_HEADER + "1,566,,NGA,NG,566,4,Country/Area,947,Nigeria,2,Medium,2017,2017.5,95000,93000,188000,206\n"


@st.composite
def _damaged(draw: st.DrawFn) -> bytes:
    """Random bytes, a valid file cut short, or a field of deep brackets."""
    good = _GOOD.encode()
    kind = draw(st.sampled_from(["random", "truncated", "nested"]))
    if kind == "random":
        return draw(st.binary(max_size=400))
    if kind == "truncated":
        return good[: draw(st.integers(0, len(good)))]
    depth = draw(st.integers(64, 3_000))
    return good.replace(b"188000", b"[" * depth + b"]" * depth)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_damaged())
def test_damaged_context_files_exit_zero_or_one_and_refusals_store_nothing(tmp_path: Path, data: bytes) -> None:
    from tipsom.context.db import ContextStore
    from tipsom.store.db import Store

    path = tmp_path / "wpp.csv"
    path.write_bytes(data)
    store = ContextStore(Store.init())
    before = store.observations()
    cli = runner.invoke(app, ["context", "import", str(path), "--source", "population", "--quiet"])
    assert cli.exit_code in (0, 1), cli.output
    assert "Traceback" not in cli.stderr
    assert "internal error" not in cli.stderr
    if cli.exit_code == 1:
        assert cli.stderr.splitlines()[-1].startswith(f"tipsom: {path}")
        assert store.observations().equals(before)
