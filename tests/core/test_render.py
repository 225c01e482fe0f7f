"""The shared rendering core: filters, the base page, strict templates, offline PDF."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from tipsom.core.errors import InputError
from tipsom.core.render import direction, environment, html_to_pdf, number, render, write_page


@pytest.mark.parametrize(("value", "digits", "lang", "expected"), [
    (1234567.4, 0, "en", "1,234,567"),
    (1234567.4, 0, "fr", "1\u202f234\u202f567"),
    (1234.56, 1, "en", "1,234.6"),
    (1234.56, 1, "ru", "1\xa0234,6"),
    (math.nan, 0, "en", ""),
    (None, 0, "en", ""),
    (math.inf, 0, "en", "∞"),
])
def test_numbers_are_grouped_for_the_reader_s_language(value: float | None, digits: int, lang: str,
                                                       expected: str) -> None:
    assert number(value, digits, lang) == expected


def test_an_unbounded_value_can_be_named_in_words() -> None:
    assert number(math.inf, infinite="unbounded") == "unbounded"
    assert number(-math.inf, infinite="unbounded") == "-unbounded"


@pytest.mark.parametrize(("lang", "expected"), [("ar", "rtl"), ("ar-EG", "rtl"), ("AR", "rtl"), ("en", "ltr"),
                                                ("fr", "ltr"), ("ru", "ltr")])
def test_direction_follows_the_language(lang: str, expected: str) -> None:
    assert direction(lang) == expected


@pytest.mark.parametrize(("lang", "dir_"), [("en", "ltr"), ("ar", "rtl")])
def test_base_page_carries_language_direction_and_the_inlined_stylesheet(lang: str, dir_: str) -> None:
    page = render("tipsom.screening", "gap_report.html", lang=lang, review=_Review(), checklist=_Checklist(),
                  summary=[], chart="", rows=[])
    assert f'<html lang="{lang}" dir="{dir_}">' in page
    assert "border-collapse: collapse" in page  # the shared stylesheet, inlined
    assert "<link" not in page
    assert "http" not in page


def test_a_template_naming_a_value_it_was_not_given_is_refused() -> None:
    with pytest.raises(UndefinedError):
        render("tipsom.screening", "gap_report.html", summary=[], chart="", rows=[])


def test_strings_rendered_in_the_environment_are_escaped_too() -> None:
    assert environment("tipsom.osint").from_string("{{ v }}").render(v="<b>&") == "&lt;b&gt;&amp;"


@pytest.mark.parametrize("url", ["http://example.invalid/beacon.png", "file:///etc/hostname"])
def test_pdf_is_refused_every_fetch_outside_the_page(tmp_path: Path, url: str) -> None:
    page = f'<html><body><img src="{url}"></body></html>'
    with pytest.raises(InputError, match=f"disallowed protocol: {url}"):
        html_to_pdf(page, tmp_path / "out.pdf")
    assert not (tmp_path / "out.pdf").exists()


def test_pdf_keeps_resources_written_into_the_page(tmp_path: Path) -> None:
    pixel = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8"
             "AAAAASUVORK5CYII=")
    assert html_to_pdf(f'<img src="{pixel}">', tmp_path / "px.pdf").read_bytes().startswith(b"%PDF-")


def test_write_page_chooses_pdf_by_the_file_name(tmp_path: Path) -> None:
    page = "<!DOCTYPE html><html><body><p>one page</p></body></html>"
    assert write_page(page, tmp_path / "a" / "page.html").read_text(encoding="utf-8") == page
    assert write_page(page, tmp_path / "page.PDF").read_bytes().startswith(b"%PDF-")


class _Review:
    country = law = "X"
    reviewed_by = reviewed_on = ""


class _Checklist:
    name = version = "c"
