"""Charts: one time-ordered axis whatever each series hides; coarser levels where cells are suppressed;
on the demo store, a published figure on every dashboard chart."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator

import pandas as pd
import pytest

from tipsom.core.render.charts import line_svg, period_axis, trend_svg
from tipsom.report import dashboard
from tipsom.report.cube import TOTAL, Cube, Dim
from tipsom.report.disclosure import CellStatus, DisclosurePolicy, Protected


def test_period_axis_is_in_time_order_when_series_hide_different_years() -> None:
    # The first series lacks 2021 (suppressed there): drawn one by one, matplotlib put 2021 after 2024.
    series = {"Female": {2015: 10.0, 2024: 12.0}, "Male": {2021: 7.0, 2015: 3.0}, "All": {"Unknown": 5.0,
                                                                                          2026: 6.0}}
    assert period_axis(series) == [2015, 2021, 2024, 2026, "Unknown"]


def test_a_line_chart_with_nothing_to_show_says_so() -> None:
    svg = line_svg({"Female": {}}, "Detected victims by year")
    assert svg.lstrip().startswith("<")
    assert line_svg({"Female": {2020: 8.0}}, "Detected victims by year") != svg


def test_a_hidden_year_is_drawn_as_suppressed_not_left_out() -> None:
    shown = trend_svg({"All": {"2020": 8.0, "2021": 9.0}}, "t")
    hidden = trend_svg({"All": {"2020": 8.0, "2021": None}}, "t")
    assert hidden.count("<path") > shown.count("<path")  # the hatched band and its label


def _victims(years: list[str], hidden: dict[str, CellStatus]) -> Protected:
    """A year x form cube (years in the order given, as a store's first appearance might be)."""
    year = Dim("year", "Year", dict.fromkeys(years, TOTAL), (TOTAL, *years))
    form = Dim.tree("form", "Form", {"Sexual": ("SexA", "SexB"), "Labour": ()})
    frame = pd.DataFrame([(y, f, 6 + i) for i, y in enumerate(years) for f in ("SexA", "SexB", "Labour")],
                         columns=["year", "form", "n"])
    cube = Cube.from_leaves("victims", "Victims", "persons", [year, form], frame)
    keys = {"leaves": [(TOTAL, f) for f in ("SexA", "SexB", "Labour")], "groups": [(TOTAL, "Sexual")],
            "years": [(y, TOTAL) for y in years]}
    return Protected(cube, DisclosurePolicy(), {k: s for name, s in hidden.items() for k in keys[name]})


def test_a_trend_keeps_years_in_order_whatever_order_they_came_in() -> None:
    p = _victims(["2024", "2026", "2021"], {})
    plan = dashboard._trend_plan(p, {"All": {}}, "t", "", lambda year, fixed: dashboard.cell(p, year=year)[0])
    assert plan.periods == ("2021", "2024", "2026")
    assert len(plan.figures) == 3


def test_a_trend_with_every_year_hidden_states_the_all_years_total() -> None:
    p = _victims(["2021", "2022"], {"years": CellStatus.SECONDARY})
    plan = dashboard._trend_plan(p, {"All": {}}, "t", "", lambda year, fixed: dashboard.cell(p, year=year)[0])
    assert plan.figures == (dashboard.cell(p)[1],)
    assert plan.periods == ("2021", "2022")


@pytest.mark.parametrize(("hidden", "level"), [
    ({}, ""),
    ({"leaves": CellStatus.SECONDARY}, "Finer categories are suppressed: shown by group"),
    ({"leaves": CellStatus.SECONDARY, "groups": CellStatus.SECONDARY}, dashboard.ONLY_TOTAL),
])
def test_bars_fall_back_to_published_groups_then_the_total(hidden: dict[str, CellStatus], level: str) -> None:
    p = _victims(["2021", "2022"], hidden)
    note, bars = dashboard._coarsened(dashboard._dim_levels(p, "form"))
    assert note == level
    assert any(value for _, value, _ in bars)
    assert len(bars) == {"": 3, dashboard.ONLY_TOTAL: 1}.get(level, 2)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dashboard.DashboardData]:
    """The demo store's dashboard tables, built once (the suppression of 3,000 cases takes a while)."""
    from tipsom.settings import Settings
    from tipsom.store.db import Store
    from tipsom.synth.demo import load_demo

    home = tmp_path_factory.mktemp("demo")
    settings = Settings(home=home, key=base64.urlsafe_b64encode(os.urandom(32)).decode(), db_url="")
    store = Store.init(settings.database_url, settings=settings)
    load_demo(store)
    yield dashboard.dashboard_data(store)
    store.dispose()


def test_every_dashboard_chart_carries_a_published_figure_on_the_demo(demo: dashboard.DashboardData) -> None:
    plans = dashboard.dashboard_plans(demo)
    assert list(plans) == list(dashboard.DASHBOARD_CHARTS)
    # A chart whose only published figure is a grand total tells readers nothing the headline did not.
    totals = {dashboard.cell(p)[1] for p in demo.cubes.values()}
    only_total = [name for name, plan in plans.items() if not set(plan.figures) - totals]
    assert only_total == []
    threshold = demo.cubes["victims"].policy.threshold
    for name in ("forms", "sex_age", "trend", "map", "flows"):
        assert all(float(f) >= threshold for f in plans[name].figures), name


def test_the_year_axes_of_the_demo_dashboard_are_sorted(demo: dashboard.DashboardData) -> None:
    plans = dashboard.dashboard_plans(demo)
    for name in ("trend", "context"):
        periods = plans[name].periods
        assert len(periods) >= 10
        assert list(periods) == sorted(periods)
