"""The module's typed choices, kept import-light so ``tipsom --help`` stays fast."""

from __future__ import annotations

import enum


class BadRecordPolicy(enum.StrEnum):
    """What to do when some records cannot be read (they are always reported)."""

    FAIL = "fail"
    SKIP = "skip"


class CrossLingual(enum.StrEnum):
    """When to run the multilingual sentence encoder."""

    #: Only for ads in a language no lexicon covers (the default).
    AUTO = "auto"
    ALWAYS = "always"
    OFF = "off"
