""""My work": what one worker must act on today, gathered in one call for the landing page.

A caseworker starts the day with their overdue and due tasks, the referrals
other organisations sent and that wait for an answer, and the cases other
organisations shared with them. The inbox shows only what each side may see:
an incoming referral is its shared summary (no case id), and a shared case is
its id, scope and owner. Screening alerts are not computed here (casework does
not import screening): :attr:`Inbox.recent_cases` names the organisation's
recently changed cases for the caller to screen, and :attr:`Inbox.followed`
the alert codes that already have an open follow-up task, so that an alert
somebody is acting on is not announced as new.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select

from tipsom.casework.access import CASES, SHARES, Actor, org_name
from tipsom.casework.enums import ReferralStatus
from tipsom.casework.referrals import Referral, incoming
from tipsom.casework.tables import tasks
from tipsom.casework.tasks import Task, my_tasks
from tipsom.store.db import Store

#: How many of the organisation's most recently changed cases are screened for new urgent alerts.
RECENT_CASES = 20
#: How far back a change counts as recent: older alerts are in the case list, not the morning's inbox.
RECENT_DAYS = 14


@dataclass(frozen=True)
class SharedCase:
    """A case another organisation shared with the actor's: what the inbox may say about it."""

    case_id: str
    owner: str
    scope: str
    ends_on: dt.date | None


@dataclass(frozen=True)
class Inbox:
    today: dt.date
    #: The actor's open tasks, soonest due first (so overdue ones come first).
    tasks: list[Task]
    #: Referrals sent to the actor's organisation that wait for an answer (summary only, no case id).
    referrals: list[Referral]
    #: Referrals the actor's organisation accepted and has yet to complete (the service it is giving).
    accepted: list[Referral]
    shared: list[SharedCase]
    #: The organisation's cases changed in the last :data:`RECENT_DAYS` days, newest first, to screen.
    recent_cases: list[str]
    #: ``(case_id, alert code)`` pairs with an open follow-up task.
    followed: frozenset[tuple[str, str]]

    @property
    def overdue(self) -> list[Task]:
        return [t for t in self.tasks if t.overdue(self.today)]

    @property
    def due(self) -> list[Task]:
        """Open tasks not yet overdue: due today first."""
        return [t for t in self.tasks if not t.overdue(self.today)]


def inbox(store: Store, actor: Actor, *, now: dt.datetime) -> Inbox:
    """The actor's "My work" as of ``now`` (the web application's clock, injectable for tests)."""
    today = now.date()
    mine = my_tasks(store, actor)
    received = [r for r in incoming(store, actor) if r.status in (ReferralStatus.SENT, ReferralStatus.ACCEPTED)]
    with store.engine.connect() as conn:
        name = org_name(conn, actor.org_code)
        shared = [SharedCase(r.case_id, r.reporting_org, r.scope, r.ends_on) for r in conn.execute(
            select(SHARES.c.case_id, CASES.c.reporting_org, SHARES.c.scope, SHARES.c.ends_on)
            .join(CASES, CASES.c.id == SHARES.c.case_id)
            .where(SHARES.c.organisation == name, SHARES.c.revoked_at.is_(None),
                   or_(SHARES.c.ends_on.is_(None), SHARES.c.ends_on >= today))
            .order_by(SHARES.c.case_id))]
        since = now - dt.timedelta(days=RECENT_DAYS)
        recent = list(conn.scalars(select(CASES.c.id).where(CASES.c.reporting_org == name,
                                                             CASES.c.updated_at >= since)
                                   .order_by(CASES.c.updated_at.desc()).limit(RECENT_CASES)))
        followed = frozenset((r.case_id, r.alert_code) for r in conn.execute(
            select(tasks.c.case_id, tasks.c.alert_code).where(
                tasks.c.org_code == actor.org_code, tasks.c.alert_code.is_not(None), tasks.c.done_at.is_(None),
                tasks.c.case_id.in_(recent))))
    return Inbox(today, mine, [r for r in received if r.status is ReferralStatus.SENT],
                 [r for r in received if r.status is ReferralStatus.ACCEPTED], shared, recent, followed)
