"""The printable route risk card: one page, in English, French, Arabic or Russian.

Outreach workers hand it to people thinking of leaving, and agencies pin it in
offices; it states, in plain words and the reader's language, how many people
died on a route and how. All text comes from ``card_catalog.yaml`` (one catalog,
ready to move to gettext); numbers are formatted for the language with Babel;
Arabic pages are laid out right to left (``core/base.html`` sets ``dir``). The by-year chart is drawn in HTML,
not SVG, so Arabic labels are shaped correctly by the browser and WeasyPrint.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from tipsom.context.sources import ContextInputError
from tipsom.core import vocab
from tipsom.core.config import parse_text
from tipsom.core.render import number, render, write_page

#: Languages of the web application, hence of the card.
Language = vocab.Language


ADVICE = ("advice_smugglers", "advice_jobs", "advice_tell", "advice_documents")


@dataclass(frozen=True)
class Catalog:
    """Messages, cause names and route names, each keyed by language."""

    messages: dict[str, dict[str, str]]
    causes: dict[str, dict[str, str]]
    routes: dict[str, dict[str, str]]

    def text(self, key: str, lang: Language, **values: Any) -> str:
        return self.messages[key][lang.value].format(**values)

    def cause(self, name: str, lang: Language) -> str:
        return self.causes.get(name, {}).get(lang.value, name)

    def route(self, name: str, lang: Language) -> str:
        return self.routes.get(name, {}).get(lang.value, name)


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """Read and check the catalog: every entry must exist in every language."""
    text = resources.files("tipsom.context").joinpath("card_catalog.yaml").read_text(encoding="utf-8")
    data = parse_text(text, "card_catalog.yaml")
    for section in ("messages", "causes", "routes"):
        for key, translations in data[section].items():
            absent = [lang.value for lang in Language if not translations.get(lang.value)]
            if absent:
                raise ContextInputError(f"card_catalog.yaml: {section}.{key} lacks {', '.join(absent)}")
    return Catalog(data["messages"], data["causes"], data["routes"])


def _number(value: float, lang: Language, digits: int = 0) -> str:
    return number(value, digits, lang.value)


def render_card(
    summary: dict[str, Any],
    lang: Language,
    contact: str | None = None,
    rate: tuple[int, float] | None = None,
) -> str:
    """HTML of the card for one route (``summary`` from :func:`routes.route_summary`).

    ``rate`` is (year, dead and missing per 1,000 crossings) when arrivals are known;
    ``contact`` is the agency's help line or address, printed as given.
    """
    cat = load_catalog()
    first, last = summary["first_year"], summary["last_year"]
    route = cat.route(str(summary["route"]), lang)
    by_year: dict[int, float] = summary["by_year"]
    peak = max(by_year.values(), default=0.0) or 1.0
    causes: list[tuple[str, float]] = summary["causes"]
    return render(
        "tipsom.context", "route_card.html",
        lang=lang.value,
        title=cat.text("title", lang, route=route),
        subtitle=cat.text("subtitle", lang, first=first, last=last),
        headline=cat.text("headline", lang, total=_number(summary["total"], lang)),
        dead_missing=cat.text("dead_missing", lang, dead=_number(summary["dead"], lang),
                              missing=_number(summary["missing"], lang)),
        children=cat.text("children", lang, children=_number(summary["children"], lang))
        if summary["children"] else "",
        incidents=cat.text("incidents", lang, incidents=_number(summary["incidents"], lang)),
        rate=cat.text("rate", lang, year=rate[0], rate=_number(rate[1], lang, 1)) if rate else "",
        by_year=cat.text("by_year", lang),
        year_label=cat.text("year", lang),
        total_label=cat.text("dead_and_missing", lang),
        years=[{"year": y, "total": _number(v, lang), "share": round(100 * v / peak, 1)}
               for y, v in sorted(by_year.items())],
        causes_label=cat.text("causes", lang),
        causes=[{"name": cat.cause(name, lang), "total": _number(total, lang)} for name, total in causes],
        advice=cat.text("advice", lang),
        advice_items=[cat.text(key, lang) for key in ADVICE],
        contact_label=cat.text("contact", lang),
        contact=contact,
        caveat=cat.text("caveat", lang),
        source=cat.text("source", lang, last=last),
    )


def write_card(html: str, out: Path) -> Path:
    """Write the card as HTML, or as PDF when ``out`` ends in ``.pdf``."""
    return write_page(html, out)
