"""Screening and safeguards: legal elements, children, non-punishment, indicators, legislative review.

The public entry points are :func:`screen_document` (one case, e.g. the web
form's save hook), :func:`case_alerts` (its alerts only, for the case page),
:func:`screen_store` (the whole store in one pass),
:func:`tipsom.screening.monitoring.monitoring_table` (figures for the report
module) and :mod:`tipsom.screening.legislation` (the legislative checklist).
"""

from __future__ import annotations

from tipsom.screening.engine import Alert, MissingElement
from tipsom.screening.enums import AlertCode, IndicatorLevel, NonPunishmentTest, Severity
from tipsom.screening.rules import RuleError, Source
from tipsom.screening.screen import (
    BulkScreening,
    InvalidDocument,
    ScreeningResult,
    case_alerts,
    screen_document,
    screen_documents,
    screen_store,
    screen_stored_case,
)

#: Names defined here and the public modules other packages may import from.
__all__ = [
    "Alert",
    "AlertCode",
    "BulkScreening",
    "IndicatorLevel",
    "InvalidDocument",
    "MissingElement",
    "NonPunishmentTest",
    "RuleError",
    "ScreeningResult",
    "Severity",
    "Source",
    "batch",
    "case_alerts",
    "engine",
    "indicators",
    "legislation",
    "monitoring",
    "screen_document",
    "screen_documents",
    "screen_store",
    "screen_stored_case",
]
