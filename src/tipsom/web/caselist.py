"""What the case list can be sorted and filtered by, beyond the case table's own columns; possible duplicates.

A caseworker looks for "my cases with a task due this week", "children",
"cases with a CHILD_PROTECTION alert" or "opened last month". Tasks are
casework rows; alerts are not stored but computed, so the cases with each
alert are found by screening the whole store in one vectorised pass, kept in
memory while the case data is unchanged (the dashboard's data version).
"""

from __future__ import annotations

import datetime as dt
import enum
import threading
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Connection, or_, select

from tipsom.casework.tables import tasks
from tipsom.screening import AlertCode
from tipsom.screening.batch import batches_from_store
from tipsom.screening.engine import CODES, default_screener
from tipsom.store.db import Store
from tipsom.store.search import DuplicateReason, PossibleDuplicate, possible_duplicates
from tipsom.store.tables import REGISTRY
from tipsom.web.access import CASES, visible_to
from tipsom.web.accounts import User
from tipsom.web.dashboard import data_version
from tipsom.web.i18n import N_
from tipsom.web.tables import organisations

PERSONS_T = REGISTRY["person"]
#: Rows per page a reader may choose (the first is the default).
PAGE_SIZES = (25, 10, 50, 100)
#: Below this age a person is a child (CRC art. 1; the Palermo Protocol's art. 3(d)).
ADULT_AGE = 18


class CaseSort(enum.Enum):
    """A sortable column of the case list (the value is the query parameter)."""

    ID = "id"
    CASE_TYPE = "case_type"
    STATUS = "status"
    JURISDICTION = "jurisdiction"
    YEAR = "year"
    OPENED = "opened_on"
    ORGANISATION = "reporting_org"

    @property
    def column(self) -> Any:
        return CASES.c[self.value]

    @property
    def label(self) -> str:
        return _SORT_LABELS[self]


_SORT_LABELS = {
    CaseSort.ID: N_("Case ID"), CaseSort.CASE_TYPE: N_("Case type"), CaseSort.STATUS: N_("Status"),
    CaseSort.JURISDICTION: N_("Jurisdiction"), CaseSort.YEAR: N_("Year"), CaseSort.OPENED: N_("Date opened"),
    CaseSort.ORGANISATION: N_("Reporting organisation"),
}


def sort_choice(value: str) -> CaseSort:
    """The column asked for; an unknown one falls back to the case id (a stale bookmark still works)."""
    try:
        return CaseSort(value)
    except ValueError:
        return CaseSort.ID


def page_size(value: int | None) -> int:
    """One of :data:`PAGE_SIZES`; anything else is the default."""
    return value if value in PAGE_SIZES else PAGE_SIZES[0]


def alert_choice(value: str) -> AlertCode | None:
    try:
        return AlertCode(value) if value else None
    except ValueError:
        return None


def child_condition() -> ColumnElement[bool]:
    """Cases with a person recorded under 18, estimated under 18, or recorded as an unaccompanied or separated child."""
    p = PERSONS_T.c
    child = or_(p.age < ADULT_AGE, p.age.is_(None) & (p.age_max < ADULT_AGE), p.unaccompanied.is_(True),
                p.separated.is_(True))
    return CASES.c.id.in_(select(p.case_id).where(child))


def open_task_condition(user: User, *, assignee: str = "", due_by: dt.date | None = None) -> ColumnElement[bool]:
    """Cases with an open task of the reader's organisation, for ``assignee`` and/or due on or before ``due_by``."""
    t = tasks.c
    own = select(organisations.c.code).where(organisations.c.name == user.organisation)
    conds: list[ColumnElement[bool]] = [t.org_code.in_(own), t.done_at.is_(None)]
    if assignee:
        conds.append(t.assignee == assignee)
    if due_by is not None:
        conds.append(t.due_on <= due_by)
    return CASES.c.id.in_(select(t.case_id).where(*conds))


class AlertIndex:
    """Case ids with each alert code, recomputed when the case data changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, tuple[str, dict[str, frozenset[str]]]] = {}

    def cases_with(self, store: Store, conn: Connection, code: AlertCode) -> frozenset[str]:
        version = data_version(conn)
        with self._lock:
            hit = self._held.get(store.url)
        if hit is None or hit[0] != version:
            hit = (version, _screen_all(store))
            with self._lock:
                self._held[store.url] = hit
        return hit[1].get(code.value, frozenset())


def _screen_all(store: Store) -> dict[str, frozenset[str]]:
    screener = default_screener()
    found: dict[str, set[str]] = {}
    for batch in batches_from_store(store, screener.columns):
        if batch.n == 0:
            continue
        matrix = screener.code_matrix(batch)
        ids = batch.frame["case_id"].to_numpy()
        for at, code in enumerate(CODES):
            hits = np.flatnonzero(matrix[:, at])
            if hits.size:
                found.setdefault(code.value, set()).update(ids[hits].tolist())
    return {code: frozenset(ids) for code, ids in found.items()}


#: How each reason for a possible duplicate reads on the case page.
DUPLICATE_REASONS = {
    DuplicateReason.ID_NUMBER: N_("same identity document number"),
    DuplicateReason.PHONE: N_("same mobile phone"),
    DuplicateReason.NAME_AND_BIRTH_DATE: N_("same name and date of birth"),
    DuplicateReason.NAME_AND_CITIZENSHIP: N_("same name and citizenship"),
    DuplicateReason.BIRTH_DATE_CITIZENSHIP_AND_NAME_WORD: N_("same date of birth and citizenship, a similar name"),
    DuplicateReason.NAME: N_("same name only"),
}


def duplicates(store: Store, user: User, case_id: str) -> list[PossibleDuplicate]:
    """Possible duplicates of the case's persons among the cases ``user`` may see (nothing is decrypted to compare)."""
    with store.engine.connect() as conn:
        return possible_duplicates(conn, case_id, visible=visible_to(user))


#: One index per process (the web application's workers each hold their own).
ALERTS = AlertIndex()
