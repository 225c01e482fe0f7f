"""Casework: the daily handling of a victim's case (referrals, plans, tasks, assessments,
NRM decisions, notes, approvals), as a library the web pages, API and CLI call.

It sits beside the analyses, above ``store``, ``exchange``, ``schema`` and
``core`` and below ``web`` and ``cli``; it never imports ``tipsom.web``.
"""

#: Public modules: the web pages, API and command line import from these.
__all__ = [
    "access", "assessments", "closure", "conflict", "deadlines", "due", "enums", "htcds", "inbox", "notes", "nrm",
    "plan",
    "referrals", "services", "tables", "tasks",
]
