"""The vulnerability index against a hand computation, missing data, outliers and the configuration."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tipsom.context.assemble import read_values_csv, values_from_observations
from tipsom.context.index import Reliability, Treatment, compute_index, skew_kurtosis, treat
from tipsom.context.sources import ContextInputError
from tipsom.context.spec import OutlierRule, Transform, load_spec, parse_spec

SPEC = {
    "name": "hand example",
    "dimensions": [{"code": "d1", "weight": 2}, {"code": "d2", "weight": 1}],
    "indicators": [
        {"code": "i1", "dimension": "d1", "category": "c1", "direction": "positive", "weight": 1,
         "transform": "none", "source": "test"},
        {"code": "i2", "dimension": "d1", "category": "c1", "direction": "positive", "weight": 3,
         "transform": "none", "source": "test"},
        {"code": "i3", "dimension": "d1", "category": "c2", "direction": "positive", "transform": "none",
         "source": "test"},
        {"code": "i4", "dimension": "d2", "category": "c3", "direction": "negative", "transform": "none",
         "source": "test"},
    ],
}
VALUES = pd.DataFrame(
    {"i1": [0, 5, 10, 20, 10, 5], "i2": [1, 2, 3, 5, 3, 2], "i3": [4, 4, 8, 0, np.nan, 4],
     "i4": [10, 0, 5, 2.5, 5, np.nan]},
    index=["A", "B", "C", "D", "E", "F"],
)


def _hand() -> dict[str, float]:
    # min-max to 0-10: i1 /2, i2 (x-1)*2.5, i3 x*1.25, i4 reversed 10 - x
    c1 = {"A": 0.0, "B": (2.5 + 3 * 2.5) / 4, "C": (5 + 3 * 5) / 4, "D": 10.0, "E": 5.0}
    c2 = {"A": 5.0, "B": 5.0, "C": 10.0, "D": 0.0}
    d1 = {u: (c1[u] + c2[u]) / 2 for u in c2} | {"E": c1["E"]}
    d2 = {"A": 0.0, "B": 10.0, "C": 5.0, "D": 7.5, "E": 5.0}
    return {u: math.pow(d1[u], 2 / 3) * math.pow(d2[u], 1 / 3) for u in d1}


def test_index_matches_the_hand_computation() -> None:
    result = compute_index(parse_spec(SPEC, "test"), VALUES)
    table = result.table.set_index("unit")
    for unit, expected in _hand().items():
        assert table.loc[unit, "index"] == pytest.approx(expected, abs=1e-9), unit
    assert table.loc["B", "d1"] == pytest.approx(3.75, abs=1e-9)
    assert list(table.loc[["C", "D", "B", "E", "A"], "rank"]) == [1, 2, 3, 4, 5]


def test_missing_indicator_gets_a_flag_not_a_zero() -> None:
    table = compute_index(parse_spec(SPEC, "test"), VALUES).table.set_index("unit")
    assert table.loc["E", "reliability"] == Reliability.PARTIAL
    assert table.loc["E", "coverage"] == 0.75
    assert table.loc["E", "missing_indicators"] == "i3"
    assert table.loc["E", "index"] == pytest.approx(5.0, abs=1e-9)  # i3 left out, not counted as 0
    assert table.loc["F", "reliability"] == Reliability.NOT_SCORED  # whole dimension d2 missing
    assert math.isnan(table.loc["F", "index"])
    assert math.isnan(table.loc["F", "rank"])
    assert table.loc["A", "reliability"] == Reliability.COMPLETE


def test_low_coverage_flag() -> None:
    spec = parse_spec({**SPEC, "reliability": {"low_below": 0.8}}, "test")
    table = compute_index(spec, VALUES).table.set_index("unit")
    assert table.loc["E", "reliability"] == Reliability.LOW


def test_outlier_rule_winsorises_then_falls_back_to_logs() -> None:
    rule = OutlierRule()
    x = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 30, 100], dtype=float)
    treated, how, moved = treat(x, Transform.AUTO, rule)
    assert how is Treatment.WINSORISED
    assert moved == 1
    assert treated.max() == 30.0  # 100 pulled in to the next value
    after = skew_kurtosis(treated)
    assert after is not None
    assert not (abs(after[0]) > rule.skew and after[1] > rule.kurtosis)
    heavy = np.exp(np.random.default_rng(1).normal(0, 2.5, 60))
    logged, how, _ = treat(heavy, Transform.AUTO, OutlierRule(winsorise_max=1))
    assert how is Treatment.LOG
    assert np.allclose(logged, np.log(heavy - heavy.min() + 1))
    calm = np.arange(20, dtype=float)
    assert treat(calm, Transform.AUTO, rule)[1] is Treatment.NONE


def test_dimension_without_data_is_left_out_with_a_note() -> None:
    values = VALUES.assign(i4=np.nan)
    result = compute_index(parse_spec(SPEC, "test"), values)
    assert result.prepared.structure.dimensions == ["d1"]
    assert any("d2 left out" in n for n in result.notes)


def test_default_configuration_has_the_five_dimensions() -> None:
    spec = load_spec()
    assert [d.code for d in spec.dimensions] == [
        "conflict_displacement", "climate_disasters", "poverty_deprivation", "governance", "children"]
    assert all(i.source for i in spec.indicators)


@pytest.mark.parametrize(
    ("change", "message"),
    [({"dimensions": [{"code": "d1"}]}, "not declared"),
     ({"indicators": [{**SPEC["indicators"][0], "direction": "up"}]}, "not one of positive, negative"),
     ({"indicators": [{**SPEC["indicators"][0], "weight": -1}]}, "weights must be positive")],
)
def test_configuration_errors_name_the_entry(change: dict[str, object], message: str) -> None:
    with pytest.raises(ContextInputError, match=message):
        parse_spec({**SPEC, **change}, "idx.yaml")


def test_rebased_series_is_not_mixed(fixtures: Path) -> None:
    from tipsom.context.importing import import_file
    from tipsom.context.sources import Source

    spec = load_spec()
    observations = pd.DataFrame([
        {"source": o.source.value, "iso3": o.iso3, "admin1": o.admin1, "year": o.year, "series": o.series,
         "series_name": o.series_name, "value": o.value}
        for file in ("wdi_bulk.csv", "wdi_databank.csv")
        for o in import_file(fixtures / file, Source.WDI).observations
    ])
    values, notes = values_from_observations(spec, observations)
    assert values.loc["NGA", "extreme_poverty"] == 36.2  # the $3.00 value, not the $2.15 one
    assert math.isnan(values.loc["COD", "extreme_poverty"])
    assert any("$2.15" in n and "left out" in n for n in notes)


def test_values_csv_errors_name_line_and_column(tmp_path: Path) -> None:
    spec = parse_spec(SPEC, "test")
    path = tmp_path / "values.csv"
    path.write_text("unit,i1,i2,i3,i4\nA,1,2,3,4\nB,1,x,3,4\nA,1,2,3,4\n", encoding="utf-8")
    with pytest.raises(ContextInputError) as caught:
        read_values_csv(path, spec)
    assert "values.csv:3 [i2]" in str(caught.value)
    assert "values.csv:4 [unit]" in str(caught.value)
