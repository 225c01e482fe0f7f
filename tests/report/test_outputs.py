"""The report's files: SDG CSV, PDF pages, HTML in an offline browser, XLSX, dashboard charts."""

from __future__ import annotations

import csv
import io
import re
import zlib
from pathlib import Path

import pytest

from tests.report.conftest import Built
from tipsom.report.render import SECTIONS

SDG_COLUMNS = ["SERIES", "REF_AREA", "TIME_PERIOD", "SEX", "AGE", "OBS_VALUE", "UNIT_MEASURE", "OBS_STATUS"]
SERIES = ["VC_HTF_DETV", "VC_HTF_DETVSX", "VC_HTF_DETVFL", "VC_HTF_DETVOG", "VC_HTF_DETVOP"]


def test_sdg_csv_has_the_series_codes_and_columns(built: Built) -> None:
    with (built.out / "sdg_16_2_2.csv").open(encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == SDG_COLUMNS
        rows = list(reader)
    series = {r["SERIES"] for r in rows}
    assert set(SERIES) <= series
    assert {f"{s}R" for s in SERIES} <= series
    assert {r["SEX"] for r in rows} == {"_T", "F", "M"}
    assert {r["AGE"] for r in rows} == {"_T", "Y0T17", "Y_GE18"}
    for r in rows:
        assert r["UNIT_MEASURE"] == ("PER_100000_POP" if r["SERIES"].endswith("R") else "NUMBER")
        if r["OBS_STATUS"] == "C":
            assert r["OBS_VALUE"] in ("", "<5")
        else:
            assert float(r["OBS_VALUE"]) == 0 or float(r["OBS_VALUE"]) >= (0 if r["SERIES"].endswith("R") else 5)


def test_sdg_rate_is_the_count_over_the_shipped_population(built: Built) -> None:
    with (built.out / "sdg_16_2_2.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["SEX"] == "_T" and r["AGE"] == "_T"]
    counts = {(r["REF_AREA"], r["TIME_PERIOD"]): r for r in rows if r["SERIES"] == "VC_HTF_DETV"}
    population = {}
    from tipsom.report.population import shipped_population_path

    with shipped_population_path().open(encoding="utf-8") as fh:
        population = {r["country"]: float(r["population"]) for r in csv.DictReader(fh)}
    checked = 0
    for r in rows:
        if r["SERIES"] == "VC_HTF_DETVR" and r["OBS_STATUS"] in ("A", "E"):
            count = float(counts[(r["REF_AREA"], r["TIME_PERIOD"])]["OBS_VALUE"])
            assert float(r["OBS_VALUE"]) == pytest.approx(count / population[r["REF_AREA"]] * 1e5, abs=1e-4)
            assert r["OBS_STATUS"] == ("A" if r["TIME_PERIOD"] == "2019" else "E")
            checked += 1
    assert checked


def pdf_pages(path: Path) -> int:
    """Count page objects, looking inside the compressed object streams WeasyPrint writes."""
    data = path.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page\b", data))
    for m in re.finditer(rb"stream\r?\n", data):
        end = data.find(b"endstream", m.end())
        try:
            pages += len(re.findall(rb"/Type\s*/Page\b", zlib.decompress(data[m.end():end])))
        except zlib.error:
            continue
    return pages


def test_pdf_has_one_page_per_section(built: Built) -> None:
    pdf = built.out / "report.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    assert pdf_pages(pdf) == len(SECTIONS)


def test_xlsx_has_every_table(built: Built) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(built.out / "tables.xlsx", read_only=True)
    assert {"about", "victims", "flows", "justice", "migrants", "harm", "context", "non_punishment", "fees",
            "revenue", "sdg_16_2_2", "codebook", "notes"} <= set(wb.sheetnames)
    header = next(wb["victims"].iter_rows(max_row=1, values_only=True))
    assert header[-2:] == ("value", "status")


@pytest.mark.browser
def test_html_renders_offline_with_visible_charts(built: Built, browser: object) -> None:
    from PIL import Image

    html = (built.out / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']https?:""", html), "the report must not load anything remote"
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    requests: list[str] = []
    page.route("**/*", lambda route: (requests.append(route.request.url), route.abort()))
    page.set_content(html)
    figures = page.locator("figure svg")
    assert figures.count() >= 10
    assert not requests
    for i in range(figures.count()):
        shot = Image.open(io.BytesIO(figures.nth(i).screenshot())).convert("L")
        pixels = list(shot.getdata())
        ink = sum(1 for p in pixels if p < 200) / len(pixels)
        assert ink > 0.005, f"chart {i} is blank"
        assert len(set(pixels)) > 8, f"chart {i} is blank"
    page.close()


def test_dashboard_charts_for_a_year_and_country(built: Built) -> None:
    from tipsom.report.dashboard import DASHBOARD_CHARTS, dashboard_charts

    year = built.documents[0]["year"]
    country = built.documents[0]["jurisdiction"]
    charts = dashboard_charts(built.store, year=year, country=country)
    assert list(charts) == list(DASHBOARD_CHARTS)
    assert all(svg.startswith("<svg") for svg in charts.values())
    assert "map-" in charts["map"]  # ids are scoped per chart
