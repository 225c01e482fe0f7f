"""Malformed capture tables are refused with the file, row, field and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from tipsom.estimate.table import CaptureTableError, read_csv, read_table


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lists.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_non_binary_cell_names_row_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path, "A,B,count\n1,0,5\n2,1,3\n")
    with pytest.raises(CaptureTableError, match=r"row 3: field 'A': list indicator must be 0 or 1, got '2'"):
        read_table(path)


def test_negative_count(tmp_path: Path) -> None:
    path = _write(tmp_path, "A,B,count\n1,0,5\n0,1,-3\n")
    with pytest.raises(CaptureTableError, match=r"row 3: field 'count': negative count -3"):
        read_table(path)


def test_one_list_only(tmp_path: Path) -> None:
    path = _write(tmp_path, "A,count\n1,5\n")
    with pytest.raises(CaptureTableError, match="at least two list columns"):
        read_table(path)


def test_text_and_fractional_counts(tmp_path: Path) -> None:
    with pytest.raises(CaptureTableError, match=r"row 2: field 'count': 'many' is not a number"):
        read_table(_write(tmp_path, "A,B,count\n1,0,many\n"))
    with pytest.raises(CaptureTableError, match=r"row 2: field 'count': '2.5' is not a whole number"):
        read_table(_write(tmp_path, "A,B,count\n1,0,2.5\n"))


def test_missing_count_column_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(CaptureTableError, match="no 'count' column"):
        read_table(_write(tmp_path, "A,B\n1,0\n"))
    with pytest.raises(CaptureTableError, match="the file is empty"):
        read_table(_write(tmp_path, ""))


def test_all_zero_history_and_nobody_observed(tmp_path: Path) -> None:
    with pytest.raises(CaptureTableError, match="row 3: a history on no list cannot be observed"):
        read_table(_write(tmp_path, "A,B,count\n1,0,4\n0,0,7\n"))
    with pytest.raises(CaptureTableError, match="no one is observed"):
        read_table(_write(tmp_path, "A,B,count\n1,0,0\n0,1,0\n"))


def test_short_row(tmp_path: Path) -> None:
    with pytest.raises(CaptureTableError, match="row 2: has 2 fields, the header has 3"):
        read_table(_write(tmp_path, "A,B,count\n1,0\n"))


def test_duplicate_histories_are_merged_and_strata_split(tmp_path: Path) -> None:
    path = _write(tmp_path, "A,B,sex,count\n1,0,F,5\n1,0,F,2\n0,1,M,3\n1,1,M,1\n")
    tables = read_csv(path, ["sex"])
    assert set(tables) == {(("sex", "F"),), (("sex", "M"),)}
    female = tables[(("sex", "F"),)]
    assert female.observed == 7
    assert len(female.counts) == 1
    with pytest.raises(CaptureTableError, match="got 'F' \\(if this column is a stratum"):
        read_table(path)  # without --strata, 'sex' is read as a list
