"""The module's typed choices, kept import-light so ``tipsom --help`` stays fast."""

from __future__ import annotations

import enum

from tipsom.core.vocab import OnError

#: What to do when some records cannot be read (the one bad-record policy every command shares).
BadRecordPolicy = OnError


class CrossLingual(enum.StrEnum):
    """When to run the multilingual sentence encoder."""

    #: Only for ads in a language no lexicon covers (the default).
    AUTO = "auto"
    ALWAYS = "always"
    OFF = "off"
