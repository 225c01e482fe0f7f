"""The HTML cluster report is self-contained and renders offline in Chromium."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tipsom.osint.pipeline import cluster_ads, write_clusters_csv
from tipsom.osint.records import read_ads
from tipsom.osint.report import ReportOptions, build_report
from tipsom.synth.ads import write_synthetic_ads


@pytest.fixture(scope="module")
def report_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    ads_path, _ = write_synthetic_ads(folder / "ads.jsonl", 300, seed=9)
    ads = read_ads(ads_path).ads
    clusters = folder / "clusters.csv"
    write_clusters_csv(clusters, cluster_ads(ads).clustering)
    return build_report(clusters, ads, folder / "out", ReportOptions(max_clusters=6, maps=1))


def test_report_has_no_external_resources(report_page: Path) -> None:
    page = report_page.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<script" not in page
    assert page.count("<svg") >= 2  # overall map and at least one timeline
    assert '<mark class="id"' in page
    assert '<mark class="ind"' in page


@pytest.mark.browser
def test_report_renders_offline_in_chromium(report_page: Path, browser: Any) -> None:
    page = browser.new_page()
    requested: list[str] = []

    def refuse_network(route: Any) -> None:
        requested.append(route.request.url)
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            route.abort()

    page.route("**/*", refuse_network)
    page.goto(report_page.as_uri())
    assert all(url.startswith("file:") for url in requested), requested
    assert page.title() == "OSINT cluster report"
    assert page.locator("h2").count() >= 2
    assert page.locator("mark.id").count() > 0
    box = page.locator("svg").first.bounding_box()
    assert box is not None
    assert box["width"] > 100
    assert box["height"] > 50
    assert len(page.screenshot(full_page=False)) > 10_000
    page.close()
