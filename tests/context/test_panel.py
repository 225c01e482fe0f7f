"""The panel model: recovers a planted effect, builds its panel from the registry, states its caveat."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from tipsom.cli.main import app
from tipsom.context.db import ContextStore
from tipsom.context.panel import CAVEAT, detections_panel, fit_panel
from tipsom.context.records import ImportResult, Observation
from tipsom.context.registry import detections_by_origin
from tipsom.context.sources import Source


def _simulated_panel(seed: int, irr: float, countries: int = 40, years: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    c = np.repeat(np.arange(countries), years)
    t = np.tile(np.arange(years), countries)
    x = rng.normal(size=c.size)
    noise = rng.normal(size=c.size)
    mu = np.exp(rng.normal(1.5, 0.7, countries)[c] + rng.normal(0, 0.2, years)[t] + math.log(irr) * x)
    alpha = 0.5
    victims = rng.negative_binomial(1 / alpha, 1 / (1 + alpha * mu))
    return pd.DataFrame({"country": [f"C{i:02d}" for i in c], "year": 2010 + t, "victims": victims,
                         "x": x, "noise": noise})


def test_regression_recovers_a_planted_effect() -> None:
    model = fit_panel(_simulated_panel(seed=3, irr=1.5), ["x", "noise"])
    assert model.converged
    effect, noise = model.estimates
    assert effect.low < 1.5 < effect.high
    assert effect.low > 1.0  # and the effect is distinguishable from none
    assert noise.low < 1.0 < noise.high
    assert model.countries == 40
    assert model.observations == 480


def test_countries_without_detections_and_missing_covariates_are_reported() -> None:
    panel = _simulated_panel(seed=4, irr=1.2)
    panel.loc[panel["country"] == "C00", "victims"] = 0
    panel.loc[panel.index[:3], "x"] = np.nan
    model = fit_panel(panel, ["x"])
    assert model.countries == 39
    assert any("3 of 480" in n for n in model.notes)
    assert any("1 countries with no detection" in n for n in model.notes)


def test_zero_detections_fill_the_panel() -> None:
    counts = pd.DataFrame({"country": ["AAA", "BBB"], "year": [2015, 2017], "victims": [3, 1]})
    panel = detections_panel(counts)
    assert len(panel) == 6
    assert panel.set_index(["country", "year"]).loc[("AAA", 2016), "victims"] == 0


def test_model_command_builds_the_panel_from_the_registry(registry, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    counts, unusable = detections_by_origin(registry.engine)
    rng = np.random.default_rng(1)
    result = ImportResult(Source.POPULATION, "synthetic", "utf-8")
    result.observations = [
        Observation(Source.POPULATION, country, year, "test.pressure", "Synthetic pressure",
                    float(rng.gamma(2, 50)))
        for country in counts["country"].unique() for year in range(2010, 2026)
    ]
    marker = tmp_path / "synthetic.csv"
    marker.write_text("synthetic context series for the test\n", encoding="utf-8")
    ContextStore(registry).save(result, marker)
    out = CliRunner().invoke(app, ["context", "model", "-o", str(tmp_path / "model"),
                                   "--series", "test.pressure"])
    assert out.exit_code == 0, out.output
    html = (tmp_path / "model" / "model.html").read_text(encoding="utf-8")
    assert "Detections are not prevalence" in html
    assert CAVEAT.split(".")[0] in html
    estimates = pd.read_csv(tmp_path / "model" / "model.csv")
    assert list(estimates["term"]) == ["log2(1+test.pressure) lag 1"]
    assert (estimates["low"] <= estimates["irr"]).all()
    assert (estimates["irr"] <= estimates["high"]).all()
    published = pd.read_csv(tmp_path / "model" / "panel.csv", dtype=str)
    assert len(published) == counts["country"].nunique() * (counts["year"].max() - counts["year"].min() + 1)
    assert all(v.startswith("<") or v == "0" or int(v) >= 5 for v in published["victims"])
    assert unusable == 0
