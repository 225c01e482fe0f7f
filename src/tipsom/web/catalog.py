"""Build the translation catalogs: extract, merge into each language's ``.po``, compile ``.mo``.

``python -m tipsom.web.catalog`` (no Makefile needed) collects every
translatable string from the web module's Python code, its templates, the
schema YAML (entity, field, help and code labels) and the screening rule files
(alert explanations, legal tests, missing elements and the questions to ask),
writes ``tipsom.pot``,
merges it into ``locale/<lang>/LC_MESSAGES/tipsom.po`` keeping existing
translations, and compiles the ``.mo`` files the app loads. Translators edit
the ``.po`` files; a test fails while any message lacks a translation or a
``.mo`` is older than its ``.po``.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from tipsom.schema.model import get_model
from tipsom.screening.engine import rule_texts
from tipsom.web.i18n import DOMAIN, LOCALE_DIR, TRANSLATED, Language
from tipsom.web.labels import schema_messages

WEB_DIR = Path(__file__).resolve().parent
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
METHODS = [("**/static/**", "ignore"), ("**.py", "python"), ("templates/**.html", "jinja2.ext:babel_extract")]


def extract() -> Catalog:
    """Every message of the web module and the schema, with where it was found."""
    template = Catalog(project="tipsom", version="1", domain=DOMAIN, charset="utf-8",
                       copyright_holder="the tipsom contributors")
    for filename, lineno, message, comments, _context in extract_from_dir(
            str(WEB_DIR), METHODS, keywords=KEYWORDS,
            options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}}):
        if filename.startswith("static") or not message:
            continue
        template.add(message, locations=[(f"web/{filename}", lineno)], auto_comments=comments)
    for source, messages in (("schema", schema_messages(get_model())), ("screening", rule_texts())):
        for message, origin in messages:
            if not message:
                continue
            existing = template.get(message)
            if existing is None:
                template.add(message, locations=[(source, 0)], auto_comments=[origin])
            elif origin not in existing.auto_comments:
                existing.auto_comments.append(origin)
    return template


def po_path(language: Language) -> Path:
    return LOCALE_DIR / language.value / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(language: Language) -> Catalog:
    path = po_path(language)
    if not path.exists():
        return Catalog(locale=language.value, domain=DOMAIN, charset="utf-8")
    with path.open("rb") as fh:
        return read_po(fh, locale=language.value, domain=DOMAIN)


def compiled(catalog: Catalog) -> bytes:
    buf = io.BytesIO()
    write_mo(buf, catalog)
    return buf.getvalue()


def update() -> dict[Language, list[str]]:
    """Write the .pot, merge each .po, compile each .mo; returns untranslated msgids per language."""
    template = extract()
    LOCALE_DIR.mkdir(parents=True, exist_ok=True)
    with (LOCALE_DIR / f"{DOMAIN}.pot").open("wb") as fh:
        write_po(fh, template, width=100, omit_header=False, sort_output=True)
    missing: dict[Language, list[str]] = {}
    for language in TRANSLATED:
        catalog = read_catalog(language)
        catalog.update(template, no_fuzzy_matching=True)
        _stamp(catalog, language)
        path = po_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            write_po(fh, catalog, width=100, sort_output=True, ignore_obsolete=True)
        path.with_suffix(".mo").write_bytes(compiled(catalog))
        missing[language] = untranslated(catalog)
    return missing


def _stamp(catalog: Catalog, language: Language) -> None:
    """Fill the header babel leaves with placeholders."""
    catalog.project, catalog.version = "tipsom", "1"
    catalog.copyright_holder = "the tipsom contributors"
    catalog.msgid_bugs_address = ""
    catalog.language_team = f"tipsom translators ({language.value})"
    catalog.last_translator = "tipsom translators"
    catalog.fuzzy = False
    catalog.header_comment = (f"# {language.native_name} translation of the tipsom web application.\n"
                              "# Regenerate with: python -m tipsom.web.catalog")


def untranslated(catalog: Catalog) -> list[str]:
    out = []
    for msg in catalog:
        if not msg.id:
            continue
        strings = msg.string if isinstance(msg.string, tuple) else (msg.string,)
        if msg.fuzzy or not all(strings):
            out.append(msg.id if isinstance(msg.id, str) else msg.id[0])
    return out


def main() -> int:
    missing = update()
    for language, ids in missing.items():
        print(f"{language.value}: {len(ids)} untranslated")
    return 1 if any(missing.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
