"""The route risk card: four languages from one catalog, Arabic right to left, printable to PDF."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tipsom.cli.main import app
from tipsom.context.card import Language, load_catalog, render_card
from tipsom.context.mmp import CAUSES, import_mmp
from tipsom.context.routes import SEVERAL_CAUSES, route_summary


@pytest.fixture(scope="module")
def summary(reference: Path) -> dict[str, object]:
    incidents = import_mmp(reference / "context" / "iom_mmp_global_figures_beninbar.csv").incidents
    return route_summary(incidents, "Central Mediterranean")


def test_catalog_has_every_language_and_cause() -> None:
    catalog = load_catalog()
    assert set(catalog.causes) == {*CAUSES, SEVERAL_CAUSES}
    assert all(set(t) >= {lang.value for lang in Language} for t in catalog.messages.values())


@pytest.mark.parametrize(("lang", "expected"), [
    (Language.EN, "At least 18,953 people"), (Language.FR, "Au moins 18\u202f953 personnes"),
    (Language.AR, "ما لا يقل عن 18,953"), (Language.RU, "Не менее 18\u00a0953 человек")])
def test_card_in_each_language(summary: dict[str, object], lang: Language, expected: str) -> None:
    html = render_card(summary, lang, contact="Hotline 1234")
    assert expected in html
    assert f'lang="{lang.value}"' in html
    assert ('dir="rtl"' in html) is (lang is Language.AR)
    assert "http" not in html  # self-contained
    assert "Hotline 1234" in html


def test_card_command_writes_pdf(reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "card.pdf"
    result = CliRunner().invoke(app, [
        "context", "card", str(reference / "context" / "iom_mmp_global_figures_beninbar.csv"),
        "--route", "Central Mediterranean", "--lang", "ar", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")


def test_unknown_route_is_a_clear_error(reference: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [
        "context", "card", str(reference / "context" / "iom_mmp_global_figures_beninbar.csv"),
        "--route", "Atlantis", "-o", str(tmp_path / "c.html")])
    assert result.exit_code == 1
    assert "no incidents on route 'Atlantis'" in result.stderr
