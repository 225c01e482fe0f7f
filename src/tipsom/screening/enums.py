"""Typed decisions of the screening engine.

Alert codes are a stable contract (the web, exports and monitoring refer to
them), so they are an enum and a rule file cannot invent one. Severities are
ordered so the most urgent alert of a person can be shown first.
"""

from __future__ import annotations

import enum


class AlertCode(enum.StrEnum):
    TIP_INDICATED = "TIP_INDICATED"
    TIP_CHILD = "TIP_CHILD"
    TIP_INCOMPLETE = "TIP_INCOMPLETE"
    SOM_INDICATED = "SOM_INDICATED"
    SOM_AGGRAVATED = "SOM_AGGRAVATED"
    SOM_EXPLOITATION_RESCREEN = "SOM_EXPLOITATION_RESCREEN"
    NON_PUNISHMENT = "NON_PUNISHMENT"
    NON_LIABILITY_ART5 = "NON_LIABILITY_ART5"
    PRESUMED_MINOR = "PRESUMED_MINOR"
    CONFLICT_NEXUS = "CONFLICT_NEXUS"
    CHILD_PROTECTION = "CHILD_PROTECTION"


class Severity(enum.StrEnum):
    """How soon someone must act on an alert."""

    INFO = "info"  # a classification to record, no rights at stake yet
    REVIEW = "review"  # information is missing or a second look is needed
    HIGH = "high"  # protection steps are due
    CRITICAL = "critical"  # a person's rights are being breached now (charged, treated as adult)

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class NonPunishmentTest(enum.StrEnum):
    """Which nexus a jurisdiction's non-punishment provision requires."""

    CAUSATION = "causation"  # the offence was a direct consequence of being trafficked
    COMPULSION = "compulsion"  # the person was compelled to commit it


class IndicatorStrength(enum.StrEnum):
    STRONG = "strong"
    MEDIUM = "medium"
    WEAK = "weak"


class IndicatorLevel(enum.StrEnum):
    """Outcome of the ILO/EC operational-indicator combination rule."""

    NO_INDICATION = "no_indication"
    POSSIBLE_VICTIM = "possible_victim"  # some dimension or strong indicator, rule not met
    PROBABLE_VICTIM = "probable_victim"  # the published combination rule is met


class ExploitationKind(enum.StrEnum):
    """The ILO/EC lists are split by form of exploitation."""

    LABOUR = "labour"
    SEXUAL = "sexual"


class ChecklistStatus(enum.StrEnum):
    """How far national law meets one requirement of the legislative checklist."""

    MET = "met"
    PARTIAL = "partial"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"
