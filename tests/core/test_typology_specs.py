"""Money typologies as one list of specifications read by scan, scoring and synth (issue 20, §4)."""

from __future__ import annotations

import dataclasses

from tipsom.money.config import ScanConfig
from tipsom.money.model import Typology
from tipsom.money.scan import score
from tipsom.money.typologies import SPECS, TYPOLOGIES


def test_every_typology_has_exactly_one_spec() -> None:
    assert [spec.typology for spec in TYPOLOGIES] == list(SPECS) == list(Typology)
    assert len(TYPOLOGIES) == len(Typology)


def test_thresholds_are_whole_number_fields_of_the_scan_config() -> None:
    whole = {f.name for f in dataclasses.fields(ScanConfig) if f.type in (int, "int")}
    for spec in TYPOLOGIES:
        assert spec.threshold_field is None or spec.threshold_field in whole, spec.typology


def test_scoring_reads_the_threshold_named_by_the_spec() -> None:
    for spec in TYPOLOGIES:
        if spec.threshold_field is None:
            continue
        cfg = ScanConfig()
        doubled = dataclasses.replace(cfg, **{spec.threshold_field: 2 * getattr(cfg, spec.threshold_field)})
        metric = spec.threshold(cfg)
        assert spec.threshold(doubled) == 2 * metric
        assert score(spec.typology, metric, doubled) < score(spec.typology, metric, cfg), spec.typology
