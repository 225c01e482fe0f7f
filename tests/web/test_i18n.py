"""Translations: every message translated in every shipped language, no raw text in templates."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tipsom.screening import AlertCode, Severity
from tipsom.store.audit import AuditAction
from tipsom.web import catalog, i18n
from tipsom.web.access import ShareScope
from tipsom.web.accounts import Role
from tipsom.web.i18n import TRANSLATED, Language
from tipsom.web.integrations import ALERT_TITLES, SEVERITY_LABELS
from tipsom.web.labels import SHOWN_VALUES

TEMPLATES = Path(i18n.__file__).parent / "templates"
#: Words allowed outside the translation layer: the product name and a technical standard's name.
ALLOWED_WORDS = ("tipsom", "SHA-256")
_ATTRIBUTES = re.compile(r'(\s*[\w-]+="[^"]*")+\s*')


@pytest.fixture(scope="module")
def extracted() -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog.extract() if m.id}


@pytest.mark.parametrize("language", TRANSLATED, ids=lambda lang: lang.value)
def test_every_message_is_translated(language: Language, extracted: set[str]) -> None:
    po = catalog.read_catalog(language)
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in po if m.id} - set(catalog.untranslated(po))
    missing = sorted(extracted - translated)
    assert not missing, f"{language.value}: untranslated: {missing[:10]} (run python -m tipsom.web.catalog)"


@pytest.mark.parametrize("language", TRANSLATED, ids=lambda lang: lang.value)
def test_compiled_catalog_matches_its_po_file(language: Language) -> None:
    mo = catalog.po_path(language).with_suffix(".mo")
    assert mo.read_bytes() == catalog.compiled(catalog.read_catalog(language)), \
        f"{mo} is stale: run python -m tipsom.web.catalog"


def test_placeholders_survive_translation() -> None:
    for language in TRANSLATED:
        for message in catalog.read_catalog(language):
            if not message.id or isinstance(message.id, tuple):
                continue
            wanted = set(re.findall(r"%\(\w+\)s", message.id))
            assert set(re.findall(r"%\(\w+\)s", str(message.string))) == wanted, (language, message.id)


class _TextFinder(HTMLParser):
    """Collects text nodes and human-readable attributes left after removing Jinja code."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("title", "alt", "placeholder", "aria-label") and value and re.search(r"[A-Za-z]", value):
                self.found.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        text = data.strip()
        for word in ALLOWED_WORDS:
            text = text.replace(word, "")
        # Macro bodies that print attributes (aria-describedby=...) are markup, not text.
        if self._skip or _ATTRIBUTES.fullmatch(text):
            return
        if re.search(r"[A-Za-z]", text):
            self.found.append(data.strip())


@pytest.mark.parametrize("template", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_templates_have_no_untranslated_text(template: Path) -> None:
    source = template.read_text(encoding="utf-8")
    without_code = re.sub(r"{{.*?}}|{%.*?%}|{#.*?#}", " ", source, flags=re.S)
    finder = _TextFinder()
    finder.feed(without_code)
    assert finder.found == [], f"{template.name}: text outside the translation layer: {finder.found[:5]}"


def test_dynamic_values_shown_through_gettext_are_extracted() -> None:
    assert {str(r) for r in Role} | {str(a) for a in AuditAction} | {str(s) for s in ShareScope} == \
        set(SHOWN_VALUES)
    assert set(ALERT_TITLES) == set(AlertCode)
    assert set(SEVERITY_LABELS) == set(Severity)


def test_language_negotiation_and_direction() -> None:
    assert i18n.negotiate("ru-RU,ru;q=0.9,en;q=0.5") is Language.RU
    assert i18n.negotiate("de-DE, ar;q=0.4") is Language.AR
    assert i18n.negotiate("") is Language.EN
    assert Language.AR.direction is i18n.Direction.RTL
    assert Language.FR.direction is i18n.Direction.LTR


def test_labels_and_country_names_follow_the_request_language() -> None:
    token = i18n.set_language(Language.RU)
    try:
        assert i18n.gettext("Cases") == "Дела"
        assert i18n.country_name("FRA") == "Франция"
        assert i18n.ngettext("%(num)s case", "%(num)s cases", 5) % {"num": 5} == "5 дел"
    finally:
        i18n.reset_language(token)
    assert i18n.gettext("Cases") == "Cases"
