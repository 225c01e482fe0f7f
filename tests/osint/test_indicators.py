"""Lexicons, multilingual indicator matching with spans, cross-lingual matching, scores."""

from __future__ import annotations

import pytest

from tipsom.osint.choices import CrossLingual
from tipsom.osint.indicators import IndicatorMatcher, MatchMethod
from tipsom.osint.language import detect_language
from tipsom.osint.lexicon import Category, LexiconError, parse_lexicon, shipped_lexicons

REQUIRED_LANGUAGES = {"en", "fr", "es", "ar", "ru"}


def test_every_lexicon_is_versioned_sourced_and_covers_five_languages() -> None:
    lexicons = shipped_lexicons()
    assert {lex.category for lex in lexicons} == set(Category)
    for lex in lexicons:
        assert lex.version
        assert set(lex.languages) >= REQUIRED_LANGUAGES
        for ind in lex.indicators:
            assert ind.sources
            assert all(s in lex.sources for s in ind.sources)
            if ind.phrases:
                assert {lang for lang, ps in ind.phrases.items() if ps} >= REQUIRED_LANGUAGES, ind.key


def test_lexicon_missing_a_declared_language_is_refused() -> None:
    data = {
        "lexicon": "smuggling_offers", "version": "1", "languages": ["en", "fr"], "sources": {"s": "A source"},
        "indicators": [{"id": "x", "label": "X", "description": "x", "weight": 0.3, "source": ["s"],
                        "phrases": {"en": ["guaranteed crossing"]}}],
    }
    with pytest.raises(LexiconError, match=r"indicator #1 \(x\).*\['fr'\]"):
        parse_lexicon(data, "test.yaml")


@pytest.mark.parametrize(
    ("text", "indicator"),
    [
        ("Sweet girl, new in town, call me", "sexual_exploitation/movement"),
        ("Nouvelle en ville, appelle-moi", "sexual_exploitation/movement"),
        ("Nueva en la ciudad, llámame", "sexual_exploitation/movement"),
        ("جديدة في المدينة اتصل بي", "sexual_exploitation/movement"),
        ("Новенькая в городе, звони", "sexual_exploitation/movement"),
        ("Work in Dubai, we keep your passport during the contract", "deceptive_recruitment/passport_held"),
        ("Trabajo sin experiencia, sueldo muy alto", "deceptive_recruitment/no_experience"),
        ("Работа без опыта, высокая зарплата", "deceptive_recruitment/high_pay"),
        ("Passage garanti vers l'Italie en bateau", "smuggling_offers/guaranteed_crossing"),
        ("عبور مضمون إلى إيطاليا بالقارب", "smuggling_offers/boat_or_truck"),
        ("Asylum guaranteed, 100% asylum in Germany", "smuggling_offers/asylum_promise"),
    ],
)
def test_phrases_match_with_their_span(text: str, indicator: str) -> None:
    matcher = IndicatorMatcher()
    hits = matcher.match(text, detect_language(text).code)
    found = {h.indicator: h for h in hits}
    assert indicator in found
    hit = found[indicator]
    assert text[hit.start : hit.end] == hit.text
    assert hit.method is MatchMethod.LEXICON


def test_matching_is_case_insensitive_and_word_bounded() -> None:
    matcher = IndicatorMatcher()
    assert any(h.indicator == "sexual_exploitation/movement" for h in matcher.match("NEW IN TOWN", "en"))
    assert not any(h.indicator == "sexual_exploitation/youth" for h in matcher.match("youngster", "en"))


def test_emoji_codes_match_in_any_language() -> None:
    hits = IndicatorMatcher(cross_lingual=CrossLingual.OFF).match("Hallo 🍒🍭", "de")
    assert [h.indicator for h in hits] == ["sexual_exploitation/emoji_codes"] * 2


def test_cross_lingual_match_for_a_language_without_lexicon() -> None:
    text = "Neu in der Stadt, nur für ein paar Tage. Ruf mich an."
    language = detect_language(text)
    assert language.code == "de"
    hits = IndicatorMatcher().match(text, language.code)
    movement = [h for h in hits if h.indicator == "sexual_exploitation/movement"]
    assert movement
    assert movement[0].method is MatchMethod.CROSS_LINGUAL
    assert movement[0].similarity >= 0.6
    assert text[movement[0].start : movement[0].end] == "Neu in der Stadt, nur für ein paar Tage"


def test_unrelated_text_in_another_language_matches_nothing() -> None:
    text = "Schöne Wohnung mit Balkon zu vermieten. Nahe am Bahnhof."
    assert IndicatorMatcher().match(text, detect_language(text).code) == []


def test_score_combines_distinct_indicators_and_ignores_repeats() -> None:
    matcher = IndicatorMatcher()
    one = matcher.score(matcher.match("new in town", "en"))
    repeated = matcher.score(matcher.match("new in town. new in town. just arrived", "en"))
    several = matcher.score(matcher.match("new in town, young, ask for my manager", "en"))
    assert one.score == repeated.score == 0.35
    assert several.score > one.score
    assert several.category is Category.SEXUAL_EXPLOITATION
    assert matcher.score([]).category is None
