"""What is due: open tasks, referrals awaiting an answer and NRM deadlines, for one organisation or all.

The same list feeds "My work", ``GET /api/v1/casework/due`` and
``tipsom casework due``. The clock is a parameter, so a test (or a
supervisor asking "what will be overdue on Friday?") can set it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, or_, select

from tipsom.casework.access import CASES, ORGANISATIONS
from tipsom.casework.deadlines import Deadline, DeadlineBook, deadline_book
from tipsom.casework.enums import DueKind, NrmStage, ReferralStatus
from tipsom.casework.tables import nrm_decisions, referrals, tasks
from tipsom.core.errors import ConfigError
from tipsom.store.db import Store

NRM_KINDS = {NrmStage.REASONABLE_GROUNDS: DueKind.NRM_REASONABLE_GROUNDS,
             NrmStage.CONCLUSIVE_GROUNDS: DueKind.NRM_CONCLUSIVE_GROUNDS}


@dataclass(frozen=True)
class DueItem:
    """One deadline. ``case_id`` is ``None`` on the receiving side of a referral, which never sees the case."""

    case_id: str | None
    kind: DueKind
    due: dt.date
    overdue: bool
    #: The task, referral or decision the line is about (for links; not part of the JSON line).
    ref: str

    def to_dict(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "kind": str(self.kind), "due": self.due.isoformat(),
                "overdue": self.overdue}


def _tasks(conn: Connection, org: str | None, today: dt.date) -> list[DueItem]:
    q = select(tasks.c.id, tasks.c.case_id, tasks.c.due_on).where(tasks.c.done_at.is_(None))
    if org is not None:
        q = q.where(tasks.c.org_code == org)
    return [DueItem(r.case_id, DueKind.TASK, r.due_on, r.due_on < today, r.id) for r in conn.execute(q)]


def _referrals(conn: Connection, org: str | None, today: dt.date, book: DeadlineBook) -> list[DueItem]:
    q = (select(referrals.c.id, referrals.c.case_id, referrals.c.from_org, referrals.c.sent_at, referrals.c.urgency,
                ORGANISATIONS.c.jurisdiction)
         .join(ORGANISATIONS, ORGANISATIONS.c.code == referrals.c.to_org)
         .where(referrals.c.status == str(ReferralStatus.SENT)))
    if org is not None:
        q = q.where(or_(referrals.c.from_org == org, referrals.c.to_org == org))
    out = []
    for r in conn.execute(q):
        # The answer is due in the receiving organisation's calendar: it is the one that works to it.
        due = book.due(Deadline.REFERRAL_ANSWER, r.jurisdiction, r.sent_at.date(), r.urgency)
        case_id = r.case_id if org is None or org == r.from_org else None
        out.append(DueItem(case_id, DueKind.REFERRAL_ANSWER, due, due < today, r.id))
    return out


def _nrm(conn: Connection, org_name: str | None, today: dt.date) -> list[DueItem]:
    q = (select(nrm_decisions.c.id, nrm_decisions.c.case_id, nrm_decisions.c.stage, nrm_decisions.c.due_on,
                nrm_decisions.c.decided_on, nrm_decisions.c.recovery_ends_on)
         .join(CASES, CASES.c.id == nrm_decisions.c.case_id)
         .where((nrm_decisions.c.decided_on.is_(None)) | (nrm_decisions.c.recovery_ends_on >= today)))
    if org_name is not None:
        q = q.where(CASES.c.reporting_org == org_name)
    out = []
    for r in conn.execute(q):
        if r.decided_on is None:
            out.append(DueItem(r.case_id, NRM_KINDS[NrmStage(r.stage)], r.due_on, r.due_on < today, r.id))
        else:
            out.append(DueItem(r.case_id, DueKind.RECOVERY_PERIOD_END, r.recovery_ends_on, False, r.id))
    return out


def due(store: Store, org: str | None = None, *, now: dt.datetime | None = None) -> list[DueItem]:
    """Every open deadline (of organisation ``org``, a code, or of all), soonest first.

    For an organisation: its own open tasks, referrals it sent or received
    that await an answer, and the NRM deadlines of the cases it reports.
    """
    today = (now or dt.datetime.now(dt.UTC).replace(tzinfo=None)).date()
    book = deadline_book(store.settings)
    with store.engine.connect() as conn:
        org_name = None
        if org is not None:
            org = org.strip().upper()
            org_name = conn.scalar(select(ORGANISATIONS.c.name).where(ORGANISATIONS.c.code == org))
            if org_name is None:
                raise ConfigError(f"no registered organisation {org!r} (see tipsom org list)")
        items = _tasks(conn, org, today) + _referrals(conn, org, today, book) + _nrm(conn, org_name, today)
    return sorted(items, key=lambda d: (d.due, str(d.kind), d.case_id or "", d.ref))
