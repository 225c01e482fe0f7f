"""The web catalog's translations as labels of the offline form.

The form is built in the exchange layer, which cannot read the web's
catalog; the command line, above both, hands each language's labels down.
"""

from __future__ import annotations

from collections.abc import Callable

from tipsom.core.vocab import Language
from tipsom.exchange.xlsform import FormLabels
from tipsom.web.i18n import country_name, gettext, reset_language, set_language
from tipsom.web.labels import group_label


class _CatalogLabels:
    def __init__(self, language: Language) -> None:
        self.language = language

    def _within(self, show: Callable[[str], str], value: str) -> str:
        token = set_language(self.language)
        try:
            return show(value)
        finally:
            reset_language(token)

    def text(self, message: str) -> str:
        return self._within(gettext, message)

    def group(self, group: str) -> str:
        return self._within(group_label, group)

    def country(self, code: str) -> str:
        return self._within(country_name, code)


def catalog_labels(language: Language) -> FormLabels:
    """``language``'s labels as the web application shows them."""
    return _CatalogLabels(language)
