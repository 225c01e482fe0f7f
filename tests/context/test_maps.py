"""Import to index to report, through the command line; the maps render offline in Chromium."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from tipsom.cli.main import app

CONFIG = """
name: Displacement test index
year: 2017
max_age: 2
dimensions:
  - {code: conflict, name: Conflict displacement}
  - {code: disasters, name: Disaster displacement}
indicators:
  - {code: idps, dimension: conflict, category: stock, direction: positive, series: idmc.conflict_stock,
     source: IDMC}
  - {code: new_conflict, dimension: conflict, category: new, direction: positive, series: idmc.conflict_new,
     source: IDMC}
  - {code: new_disaster, dimension: disasters, category: disaster, direction: positive,
     series: idmc.disaster_new, source: IDMC}
"""


@pytest.fixture(scope="module")
def index_report(reference: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("index")
    env = {"TIPSOM_HOME": str(work / "home")}
    runner = CliRunner()
    assert runner.invoke(app, ["init"], env=env).exit_code == 0
    imported = runner.invoke(app, ["context", "import", str(reference / "context" /
                                   "idmc_gidd_country_year_2008_2017.csv"), "--source", "idmc"], env=env)
    assert imported.exit_code == 0, imported.output
    config = work / "index.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    out = runner.invoke(app, ["context", "index", "--config", str(config), "--runs", "64", "--seed", "7",
                              "-o", str(work / "out")], env=env)
    assert out.exit_code == 0, out.output
    return work / "out"


def test_index_command_writes_ranked_tables(index_report: Path) -> None:
    table = pd.read_csv(index_report / "index.csv")
    scored = table.dropna(subset=["index"])
    assert len(scored) > 10
    assert (scored["rank_min"] <= scored["rank"]).all()
    assert (scored["rank"] <= scored["rank_max"]).all()
    assert set(table["reliability"]) <= {"complete", "partial", "low", "not scored"}
    assert (table.loc[table["index"].isna(), "reliability"] == "not scored").all()
    assert set(pd.read_csv(index_report / "sobol.csv")["choice"]) >= {"normalisation", "aggregation"}


@pytest.mark.browser
def test_maps_render_offline_in_chromium(browser, index_report: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tipsom.context.mmp import import_mmp
    from tipsom.context.routes import route_years, write_routes_report

    sample = tmp_path / "mmp.csv"
    sample.write_text(
        "Incident Date,Number of Dead,Minimum Estimated Number of Missing,Migration route,Coordinates\n"
        '2019-01-01,3,2,Central Mediterranean,"33.5, 12.5"\n2019-02-01,1,0,US-Mexico border crossing,'
        '"31.6, -110.5"\n', encoding="utf-8")
    incidents = import_mmp(sample).incidents
    routes = write_routes_report(incidents, route_years(incidents), tmp_path / "routes.html")
    page = browser.new_page()
    requested: list[str] = []

    def block(route) -> None:  # type: ignore[no-untyped-def]
        requested.append(route.request.url)
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            route.abort()

    page.route("**/*", block)
    for report in (index_report / "index.html", routes):
        page.goto(report.as_uri())
        first_svg = page.locator("svg").first
        box = first_svg.bounding_box()
        assert box is not None
        assert box["width"] > 300
        assert box["height"] > 100
        assert page.locator("svg").first.locator("path").count() > 100  # country outlines drawn
    page.close()
    assert all(url.startswith("file:") for url in requested)
