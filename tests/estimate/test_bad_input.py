"""Every bad capture-history input ends in one line and exit 1 or 2, never a traceback (issue 14, section 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tipsom.cli.main import app
from tipsom.estimate.lcmcr import MAX_LISTS as LCMCR_MAX_LISTS
from tipsom.estimate.mse import MAX_LISTS_LOGLINEAR
from tipsom.estimate.table import MAX_COUNT

runner = CliRunner()
GOOD = b"A,B,C,count\n1,0,0,30\n0,1,0,25\n0,0,1,20\n1,1,0,6\n1,0,1,5\n0,1,1,4\n1,1,1,2\n"


def _one_line_failure(args: list[str]) -> str:
    res = runner.invoke(app, args)
    assert res.exit_code in (1, 2), (res.exit_code, res.output, res.exception)
    assert "Traceback" not in res.output
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, res.stderr
    return lines[0]


def test_count_too_large_for_a_c_long_names_row_and_field(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(GOOD + b"1,1,0,99999999999999999999999\n")
    line = _one_line_failure(["estimate", "mse", str(path)])
    assert line.startswith(f"tipsom: {path}: row 9: field 'count': ")
    assert f"{MAX_COUNT:,}" in line


def _many_lists(tmp_path: Path, n_lists: int) -> Path:
    names = [f"L{i}" for i in range(n_lists)]
    rows = [",".join(names) + ",count"]
    for k in range(40):
        rows.append(",".join("1" if (k >> (i % 6)) & 1 or i == 0 else "0" for i in range(n_lists)) + ",3")
    path = tmp_path / f"lists{n_lists}.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("command", "limit"), [("mse", MAX_LISTS_LOGLINEAR), ("lcmcr", LCMCR_MAX_LISTS)])
def test_twenty_lists_are_refused_naming_the_limit(tmp_path: Path, command: str, limit: int) -> None:
    path = _many_lists(tmp_path, 20)
    line = _one_line_failure(["estimate", command, str(path)])
    assert "20 lists is more than" in line
    assert f"(at most {limit})" in line
    assert line.count(str(path)) == 1


def test_latin1_bytes_are_a_clean_input_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("Agence pénale,B,count\n1,0,4\n0,1,3\n1,1,1\n".encode("latin-1"))
    line = _one_line_failure(["estimate", "mse", str(path)])
    assert line.startswith(f"tipsom: {path}")
    assert "not UTF-8" in line


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400", "0", "-3"])
def test_non_finite_population_is_a_usage_error(tmp_path: Path, value: str) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(GOOD)
    res = runner.invoke(app, ["estimate", "mse", str(path), f"--population={value}", "--json"])
    assert res.exit_code == 2, res.output
    assert "--population must be a positive finite number" in res.stderr
    assert "NaN" not in res.stdout


def test_non_finite_population_in_a_file_names_row_and_field(tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_bytes(b"A,B,sex,count\n1,0,F,4\n0,1,F,3\n1,1,F,2\n1,0,M,4\n0,1,M,3\n1,1,M,2\n")
    pops = tmp_path / "pop.csv"
    pops.write_text("sex,population\nF,1000\nM,nan\n", encoding="utf-8")
    line = _one_line_failure(["estimate", "mse", str(table), "--strata", "sex", "--population", str(pops)])
    assert line.startswith(f"tipsom: {pops}: row 3: field 'population'")


@pytest.mark.parametrize("command", ["mse", "lcmcr"])
def test_three_lists_sharing_no_one_are_refused(tmp_path: Path, command: str) -> None:
    path = tmp_path / "disjoint.csv"
    path.write_text("A,B,C,count\n1,0,0,300\n0,1,0,400\n0,0,1,254\n", encoding="utf-8")
    line = _one_line_failure(["estimate", command, str(path), "--json"])
    assert "no one is on more than one list" in line
    assert line.count(str(path)) == 1


def _mutations() -> st.SearchStrategy[bytes]:
    """Random bytes, truncations of a good table, and a good table with random bytes spliced in."""
    cut = st.integers(min_value=0, max_value=len(GOOD)).map(lambda n: GOOD[:n])
    spliced = st.tuples(st.integers(0, len(GOOD)), st.binary(min_size=1, max_size=12)).map(
        lambda p: GOOD[: p[0]] + p[1] + GOOD[p[0]:])
    return st.one_of(st.binary(max_size=200), cut, spliced)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_mutations())
def test_random_bytes_and_truncations_never_crash_the_reader(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data)
    res = runner.invoke(app, ["estimate", "mse", str(path), "--json"])
    assert res.exit_code in (0, 1, 2), (data, res.exit_code, res.stderr, res.exception)
    assert "Traceback" not in res.output
    if res.exit_code == 0:
        assert json.loads(res.stdout)["observed"] > 0
    else:
        assert len(res.stderr.strip().splitlines()) == 1, res.stderr
