"""TIPSOM_DATA_PATH: a jurisdiction's rule layer and a lexicon in another language, added without forking."""

from __future__ import annotations

from pathlib import Path

import pytest

from tipsom.core.errors import ConfigError
from tipsom.osint.indicators import IndicatorMatcher
from tipsom.osint.lexicon import shipped_lexicons
from tipsom.screening.rules import layers_for, load_ruleset

NIGERIA_LAYER = """\
name: NGA Trafficking in Persons Act 2015 (test layer)
version: "2026.1"
order: 20
applies_to: [NGA]
params:
  non_punishment_test_adult: compulsion
"""

HAUSA_LEXICON = """\
lexicon: smuggling_offers
version: "test.1"
title: Smuggling offers (Hausa, test)
languages: [ha]
sources:
  unodc2018: UNODC (2018). Global Study on Smuggling of Migrants 2018.
indicators:
  - id: hausa_crossing_test
    label: Guaranteed crossing
    description: a crossing with guaranteed arrival
    weight: 0.45
    source: [unodc2018]
    phrases:
      ha: [tsallakawa tabbatacce]
"""


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    first, second = tmp_path / "agency", tmp_path / "unused"
    second.mkdir()
    monkeypatch.setenv("TIPSOM_DATA_PATH", f"{first}:{second}")
    return first


def test_a_rule_layer_from_the_data_path_applies_to_its_jurisdiction(data_dir: Path) -> None:
    shipped = load_ruleset("NGA")
    assert layers_for("NGA") == []
    layer = data_dir / "screening" / "rules" / "jurisdictions" / "nga.yaml"
    layer.parent.mkdir(parents=True)
    layer.write_text(NIGERIA_LAYER, encoding="utf-8")
    assert layers_for("NGA") == [layer]
    national = load_ruleset("NGA")
    assert national.layers[-1] == "nga.yaml"
    assert national.params["non_punishment_test_adult"] == "compulsion"
    assert national.params["non_punishment_test_adult"] != shipped.params["non_punishment_test_adult"]
    assert layers_for("GBR") != [], "shipped layers stay in use beside the agency's"


def test_a_lexicon_from_the_data_path_is_matched_beside_the_shipped_ones(data_dir: Path) -> None:
    text = "tsallakawa tabbatacce zuwa Turai"
    assert not IndicatorMatcher().match(text, "ha")
    folder = data_dir / "osint" / "lexicons"
    folder.mkdir(parents=True)
    (folder / "smuggling_offers_ha.yaml").write_text(HAUSA_LEXICON, encoding="utf-8")
    matcher = IndicatorMatcher()
    assert "ha" in matcher.languages
    assert [hit.text for hit in matcher.match(text, "ha")] == ["tsallakawa tabbatacce"]
    assert len(shipped_lexicons()) == 4


def test_a_broken_lexicon_on_the_data_path_names_its_file(data_dir: Path) -> None:
    folder = data_dir / "osint" / "lexicons"
    folder.mkdir(parents=True)
    bad = folder / "smuggling_offers_ha.yaml"
    bad.write_text("lexicon: smuggling_offers\nversion: [1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=str(bad)):
        shipped_lexicons()
