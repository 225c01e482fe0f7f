"""The four-method comparison page: sensitivity note in words, four languages, HTML and PDF."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tipsom.cli.main import app
from tipsom.estimate.comparison import (
    CLOSE_RATIO,
    MODERATE_RATIO,
    TEXT,
    Language,
    Method,
    Row,
    Spread,
    build_comparison_html,
    sensitivity_note,
    spread,
)
from tipsom.estimate.table import CaptureTable

runner = CliRunner()
TABLE = CaptureTable.from_histories(("A", "B", "C"), [((1, 0, 0), 60), ((0, 1, 0), 50), ((1, 1, 1), 4)])


def _rows(*estimates: float) -> list[Row]:
    return [Row(m, e, e * 0.8, e * 1.3) for m, e in zip(Method, estimates, strict=False)]


@pytest.mark.parametrize(("high", "kind"), [(1000 * CLOSE_RATIO, Spread.CLOSE),
                                             (1000 * MODERATE_RATIO, Spread.MODERATE),
                                             (1000 * MODERATE_RATIO + 1, Spread.WIDE)])
def test_spread_categories_follow_the_ratio_of_extremes(high: float, kind: Spread) -> None:
    found = spread(_rows(1000, high, 1100))
    assert found is not None
    assert found[0] is kind
    assert found[1:] == (1000, high)


def test_a_method_without_an_estimate_is_left_out_of_the_note_and_shown_with_its_reason() -> None:
    rows = [*_rows(1000, 1100), Row(Method.DGA, missing="6 lists is more than dga supports")]
    assert spread(rows) == (Spread.CLOSE, 1000, 1100)
    page = build_comparison_html(TABLE, rows, Language.EN)
    assert "6 lists is more than dga supports" in page
    assert spread([Row(Method.STEPWISE, 5.0), Row(Method.BIC, math.nan)]) is None


@pytest.mark.parametrize("lang", list(Language))
def test_every_language_has_every_string_and_marks_its_direction(lang: Language) -> None:
    assert set(TEXT[lang]) == set(TEXT[Language.EN])
    page = build_comparison_html(TABLE, _rows(1000, 3000, 1500, 2500), lang)
    assert f'lang="{lang.value}"' in page
    assert ('dir="rtl"' in page) is (lang is Language.AR)
    note = sensitivity_note(_rows(1000, 3000), lang)
    assert note in page
    assert note == TEXT[lang][Spread.WIDE.value].format(low=_fmt(1000, lang), high=_fmt(3000, lang))
    for method in Method:
        assert TEXT[lang][method.value] in page
    assert (TEXT[lang]["review"] != "") is (lang is not Language.EN)


def _fmt(v: float, lang: Language) -> str:
    text = f"{v:,.0f}"
    return text if lang is Language.EN else text.replace(",", "\u202f")


def test_report_command_writes_the_comparison_in_the_chosen_languages(reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "rep"
    res = runner.invoke(app, ["estimate", "report", str(reference / "mse" / "UKdat_5.csv"), "-o", str(out),
                              "--interval", "wald", "--lang", "fr,ar"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.glob("comparison.*")) == ["comparison.ar.html", "comparison.fr.html"]
    french = (out / "comparison.fr.html").read_text(encoding="utf-8")
    assert "11\u202f313" in french  # the stepwise estimate, French digit grouping
    for method in Method:
        assert TEXT[Language.FR][method.value] in french
    assert "divergent" in french  # UKdat_5: stepwise 11,313 against BIC and dga near 23,000
    bad = runner.invoke(app, ["estimate", "report", str(reference / "mse" / "UKdat_5.csv"), "-o", str(out),
                              "--lang", "de"])
    assert bad.exit_code == 2
