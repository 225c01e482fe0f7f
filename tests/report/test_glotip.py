"""The GLOTIP workbook: its sections, its figures against the cases, and its suppressed cells."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.report.conftest import Built
from tipsom.report.glotip import CONFIDENTIAL, STAGES, TRAFFICKING_CASES
from tipsom.schema.enums import PersonRole


@pytest.fixture(scope="module")
def sheets(built: Built) -> dict[str, list[tuple[Any, ...]]]:
    from openpyxl import load_workbook

    wb = load_workbook(built.out / "glotip.xlsx", read_only=True)
    out = {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    wb.close()
    return out


def _row(sheet: list[tuple[Any, ...]], *labels: str) -> dict[str, Any]:
    """One row of a section as {year column: value}."""
    header = sheet[1]
    found = [r for r in sheet[2:] if r[: len(labels)] == labels]
    assert len(found) == 1, labels
    return dict(zip(header[len(labels):], found[0][len(labels):], strict=True))


def test_one_sheet_per_questionnaire_section_with_years_in_order(sheets: dict[str, list[tuple[Any, ...]]],
                                                                  built: Built) -> None:
    expected = ["About", "1 Offences", *(s[0] for s in STAGES), "5 Victims sex-age", "6 Victims forms"]
    assert list(sheets) == expected
    years = sorted({str(d["year"]) for d in built.documents})
    for name in expected[1:]:
        header = sheets[name][1]
        year_columns = [h for h in header if str(h).isdigit()]
        assert year_columns == sorted(year_columns)
        assert set(year_columns) <= set(years)
        assert header[-1] == "Total"


def _victims_by_year(built: Built, sex: str | None) -> Counter[str]:
    return Counter(str(d["year"]) for d in built.documents for p in d["persons"]
                   if PersonRole(p["role"]).is_victim and (sex is None or p.get("sex") == sex))


@pytest.mark.parametrize(("sex", "label"), [("Female", "Female"), (None, "Total")])
def test_victim_figures_match_the_cases_and_small_ones_are_marked(
        sheets: dict[str, list[tuple[Any, ...]]], built: Built, sex: str | None, label: str) -> None:
    row = _row(sheets["5 Victims sex-age"], label, "Total")
    by_hand = _victims_by_year(built, sex)
    numbers = 0
    for year, value in row.items():
        expected = by_hand.total() if year == "Total" else by_hand[year]
        if isinstance(value, int):
            assert value == expected
            assert value == 0 or value >= 5
            numbers += 1
        elif value == "<5":
            assert 1 <= expected <= 4
        else:
            assert value == CONFIDENTIAL
    # Today's secondary suppression hides every yearly sex margin on this small store; the all-years total stays.
    assert numbers or sex is not None, "no figure at all to compare by hand"


def test_offences_are_the_trafficking_cases_per_year(sheets: dict[str, list[tuple[Any, ...]]],
                                                     built: Built) -> None:
    row = _row(sheets["1 Offences"], "Offences recorded")
    by_hand = Counter(str(d["year"]) for d in built.documents if d["case_type"] in TRAFFICKING_CASES)
    shown = {y: v for y, v in row.items() if isinstance(v, int)}
    assert shown
    for year, value in shown.items():
        assert value == (by_hand.total() if year == "Total" else by_hand[year])


def test_a_suppressed_cell_is_a_mark_never_a_small_number(sheets: dict[str, list[tuple[Any, ...]]]) -> None:
    marks: Counter[str] = Counter()
    for name, rows in sheets.items():
        if name == "About":
            continue
        for row in rows[2:]:
            for value in row:
                if isinstance(value, int):
                    assert not 1 <= value <= 4, (name, row)
                elif value in ("<5", CONFIDENTIAL):
                    marks[value] += 1
    assert marks["<5"] > 0


def test_an_all_years_justice_figure_never_gives_back_a_cell_the_report_hides(
        sheets: dict[str, list[tuple[Any, ...]]], built: Built) -> None:
    """The all-years column sums the report's trafficking and mixed-case cells: it is shown exactly when
    the report shows both (else one hidden cell = workbook figure - the other)."""
    from tipsom.report.cube import TOTAL
    from tipsom.report.disclosure import CellStatus

    report = built.data.cubes["justice"]
    rows = [(("by sex", label), (sex, TOTAL)) for sex, label in
            (("Female", "Female"), ("Male", "Male"), ("OtherUnknown", "Unknown"), (TOTAL, "Total"))]
    rows += [(("by citizenship", label), (TOTAL, cit)) for cit, label in
             (("National", "Nationals"), ("Foreign", "Foreign nationals"), ("Unknown", "Unknown"))]
    checked, report_hidden = 0, 0
    for sheet, _, stage in STAGES:
        for labels, (sex, cit) in rows:
            parts = [(crime, sex, cit, stage) for crime in TRAFFICKING_CASES]
            hidden = [k for k in parts if report.status(k) is not CellStatus.SHOWN]
            report_hidden += bool(hidden)
            value = _row(sheets[sheet], *labels)["Total"]
            # Hidden where the report shows both cells, it would be a secret every reader can add up.
            assert isinstance(value, int) == (not hidden), (sheet, labels, value, hidden)
            if isinstance(value, int):
                checked += 1
                assert value == sum(report.cube.value(k) for k in parts)
    assert checked, "no all-years justice figure is shown"
    assert report_hidden, "the store must exercise a cell the report hides"
