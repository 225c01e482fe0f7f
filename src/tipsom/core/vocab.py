"""The words every module and command share: what to do with bad records, which engine, which language.

Each analysis used to name these itself (two identical bad-row policies,
three engine enums, three language enums), so a caseworker met
``--skip-invalid`` in one command and ``--on-error skip`` in the next, and a
value could not be handed from one module to another without conversion.
They live here, below every module, and the command line uses them as its
option types; the modules' own names for them are aliases of these.

Import-light on purpose: the command line builds its options from these
enums when ``tipsom --help`` runs.
"""

from __future__ import annotations

import enum

from tipsom.core import engines


class OnError(enum.StrEnum):
    """What a reader does with records it cannot read; either way every bad record is reported."""

    #: Reject the whole input and write nothing, so a partly read file is never taken for a whole one.
    FAIL = "fail"
    #: Go on with the good records; the bad ones are listed (and written out where the reader can).
    SKIP = "skip"


#: Where relational work and record linkage run; defined with the connection factory it chooses.
Engine = engines.Engine


class TextDirection(enum.StrEnum):
    """Which way a language's script runs; pages and printed cards are laid out accordingly."""

    LTR = "ltr"
    RTL = "rtl"


class Language(enum.StrEnum):
    """The languages tipsom speaks: web pages, printed cards and report pages come in each of them."""

    EN = "en"
    FR = "fr"
    AR = "ar"
    RU = "ru"

    @property
    def direction(self) -> TextDirection:
        """Arabic runs right to left; the others left to right."""
        return TextDirection.RTL if self is Language.AR else TextDirection.LTR

    @property
    def native_name(self) -> str:
        """The language's name in itself ("Français", "العربية"), as a language menu shows it."""
        from babel import Locale  # only pages and catalogs ask; the command line's --help stays fast

        return str(Locale.parse(self.value).get_display_name(self.value)).capitalize()

