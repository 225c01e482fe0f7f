"""Charts: one time-ordered axis whatever each series hides."""

from __future__ import annotations

from tipsom.core.render.charts import line_svg, period_axis


def test_period_axis_is_in_time_order_when_series_hide_different_years() -> None:
    # The first series lacks 2021 (suppressed there): drawn one by one, matplotlib put 2021 after 2024.
    series = {"Female": {2015: 10.0, 2024: 12.0}, "Male": {2021: 7.0, 2015: 3.0}, "All": {"Unknown": 5.0,
                                                                                          2026: 6.0}}
    assert period_axis(series) == [2015, 2021, 2024, 2026, "Unknown"]


def test_a_line_chart_with_nothing_to_show_says_so() -> None:
    svg = line_svg({"Female": {}}, "Detected victims by year")
    assert svg.lstrip().startswith("<")
    assert line_svg({"Female": {2020: 8.0}}, "Detected victims by year") != svg
