"""Custody actions, in a module with no dependencies so the command line can offer them cheaply."""

from __future__ import annotations

import enum


class CustodyAction(enum.Enum):
    """What happened to an exhibit; the values are what the log and exports record."""

    INTAKE = "intake"
    COPY = "copy"
    TRANSFER = "transfer"
    ANALYSIS = "analysis"
    EXPORT = "export"
    COURT = "court"
    RETURN = "return"
    DISPOSAL = "disposal"
    CORRECTION = "correction"
    #: A mistaken upload taken off its case by a supervisor: the file and its chain are kept, the case no
    #: longer shows it (needs a reason in the note).
    WITHDRAWN = "withdrawn"
