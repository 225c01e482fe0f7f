"""Tasks and follow-ups: one worker, one due date, done or not; a screening alert becomes one.

A screening alert such as CHILD_PROTECTION says that steps are due; until
now nothing made sure someone took them. :func:`task_from_alert` turns the
alert into its follow-up task in one call, due by the jurisdiction's rule
for that alert, linked to the alert's code, and only once per open alert.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, insert, select, update

from tipsom.casework.access import (
    CASES,
    Actor,
    NotFound,
    TransitionRefused,
    acting,
    new_id,
    require_case,
    require_member,
)
from tipsom.casework.deadlines import Deadline, deadline_book
from tipsom.casework.tables import tasks
from tipsom.core.errors import InputError
from tipsom.store import audit
from tipsom.store.db import Store

MAX_TITLE = 300


class AlertLike(Protocol):
    """What a follow-up needs of a screening alert (``tipsom.screening.engine.Alert`` has it).

    Casework does not import screening: the caller (web, CLI) screens the case
    and hands the alert over, so the alert is known to exist on this case.
    """

    @property
    def case_id(self) -> str: ...

    @property
    def person_id(self) -> str: ...

    @property
    def code(self) -> str: ...


@dataclass(frozen=True)
class Task:
    id: str
    case_id: str
    title: str
    assignee: str
    due_on: dt.date
    remind_on: dt.date | None
    alert_code: str | None
    created_by: str
    created_at: dt.datetime
    done_at: dt.datetime | None
    done_by: str | None

    def overdue(self, today: dt.date) -> bool:
        return self.done_at is None and self.due_on < today

    def to_dict(self, today: dt.date) -> dict[str, Any]:
        out = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in self.__dict__.items()}
        out["overdue"] = self.overdue(today)
        return out


def _task(row: Any) -> Task:
    m = row._mapping
    return Task(m["id"], m["case_id"], m["title"], m["assignee"], m["due_on"], m["remind_on"], m["alert_code"],
                m["created_by"], m["created_at"], m["done_at"], m["done_by"])


def _insert(conn: Connection, actor: Actor, case_id: str, *, title: str, assignee: str, due_on: dt.date,
            remind_on: dt.date | None, alert_code: str | None, now: dt.datetime) -> Task:
    title = title.strip()
    if not title or len(title) > MAX_TITLE:
        raise InputError(f"1-{MAX_TITLE} characters required", field="title")
    if remind_on is not None and remind_on > due_on:
        raise InputError("the reminder must come on or before the due date", field="remind_on")
    require_member(conn, assignee, actor.org_code, "assignee")
    tid = new_id()
    conn.execute(insert(tasks).values(id=tid, case_id=case_id, org_code=actor.org_code, title=title,
                                      assignee=assignee, due_on=due_on, remind_on=remind_on,
                                      alert_code=alert_code, created_by=actor.username, created_at=now))
    audit.record(conn, actor=actor.username, action=audit.AuditAction.CREATE, entity="task", entity_id=tid,
                 purpose="create task", detail={"case_id": case_id, "assignee": assignee,
                                                "due_on": due_on.isoformat(), "alert": alert_code})
    return _task(conn.execute(select(tasks).where(tasks.c.id == tid)).one())


def create_task(store: Store, actor: Actor, case_id: str, *, title: str, assignee: str, due_on: dt.date,
                remind_on: dt.date | None = None, now: dt.datetime | None = None) -> Task:
    """A task on a case the actor may work on, for a worker of the actor's organisation."""
    with acting(store) as conn:
        require_case(conn, actor, case_id, write=True, purpose="create task")
        return _insert(conn, actor, case_id, title=title, assignee=assignee, due_on=due_on, remind_on=remind_on,
                       alert_code=None, now=now or audit.now())


def task_from_alert(store: Store, actor: Actor, alert: AlertLike, *, assignee: str | None = None,
                    now: dt.datetime | None = None) -> Task:
    """The follow-up task of a screening alert: created once, then returned while it is open.

    Due by the ``alert_follow_up`` rule for the alert's code in the case's
    jurisdiction (a CHILD_PROTECTION alert: the next day), assigned to
    ``assignee`` or to the actor.
    """
    at = now or audit.now()
    code = str(alert.code)
    with acting(store) as conn:
        require_case(conn, actor, alert.case_id, write=True, purpose="task from alert")
        open_task = conn.execute(select(tasks).where(tasks.c.case_id == alert.case_id, tasks.c.alert_code == code,
                                                     tasks.c.done_at.is_(None))).first()
        if open_task is not None:
            return _task(open_task)
        jurisdiction = conn.scalar(select(CASES.c.jurisdiction).where(CASES.c.id == alert.case_id))
        due_on = deadline_book(store.settings).due(Deadline.ALERT_FOLLOW_UP, jurisdiction, at.date(), code)
        return _insert(conn, actor, alert.case_id, title=f"Follow up alert {code} (person {alert.person_id})",
                       assignee=assignee or actor.username, due_on=due_on, remind_on=None, alert_code=code, now=at)


def complete_task(store: Store, actor: Actor, task_id: str, *, now: dt.datetime | None = None) -> Task:
    """Mark a task done: the assignee or a colleague of the same organisation may."""
    with acting(store) as conn:
        row = conn.execute(select(tasks).where(tasks.c.id == task_id)).first()
        if row is None or row.org_code != actor.org_code:
            raise NotFound(f"no task {task_id!r}", field="task_id", actor=actor, entity="task", entity_id=task_id,
                           purpose="complete task")
        if row.done_at is not None:
            raise TransitionRefused("the task is already done", field="done")
        require_case(conn, actor, row.case_id, write=True, purpose="complete task")
        conn.execute(update(tasks).where(tasks.c.id == task_id).values(done_at=now or audit.now(),
                                                                        done_by=actor.username))
        audit.record(conn, actor=actor.username, action=audit.AuditAction.UPDATE, entity="task", entity_id=task_id,
                     purpose="complete task", detail={"case_id": row.case_id})
        return _task(conn.execute(select(tasks).where(tasks.c.id == task_id)).one())


def my_tasks(store: Store, actor: Actor, *, include_done: bool = False) -> list[Task]:
    """The actor's tasks, soonest due first: the top of "My work"."""
    q = select(tasks).where(tasks.c.assignee == actor.username, tasks.c.org_code == actor.org_code)
    if not include_done:
        q = q.where(tasks.c.done_at.is_(None))
    with store.engine.connect() as conn:
        return [_task(r) for r in conn.execute(q.order_by(tasks.c.due_on, tasks.c.created_at))]


def case_tasks(store: Store, actor: Actor, case_id: str) -> list[Task]:
    """Every task of a case the actor may see, open ones first."""
    with acting(store) as conn:
        require_case(conn, actor, case_id, purpose="case tasks")
        rows = conn.execute(select(tasks).where(tasks.c.case_id == case_id)
                            .order_by(tasks.c.done_at.is_not(None), tasks.c.due_on))
        return [_task(r) for r in rows]
