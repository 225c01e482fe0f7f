"""The case plan: goals, and the actions (services) that serve them, each with who is responsible.

A plan turns "needs shelter, a lawyer and a guardian" into actions with a
responsible organisation and worker, dates and an outcome, so a supervisor
can see what is late and approve the plan (:mod:`tipsom.casework.closure`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from tipsom.casework.access import Actor, NotFound, acting, new_id, require_case, require_org
from tipsom.casework.enums import PlanItemKind, PlanStatus, Service
from tipsom.casework.tables import plan_items
from tipsom.core.errors import InputError
from tipsom.store import audit
from tipsom.store.db import Store


@dataclass(frozen=True)
class PlanItem:
    id: str
    case_id: str
    kind: PlanItemKind
    goal_id: str | None
    description: str
    service: Service | None
    responsible_org: str
    responsible_worker: str | None
    starts_on: dt.date | None
    ends_on: dt.date | None
    status: PlanStatus
    outcome: str | None


def _item(m: object) -> PlanItem:
    r = dict(m)  # type: ignore[call-overload]
    return PlanItem(r["id"], r["case_id"], PlanItemKind(r["kind"]), r["goal_id"], r["description"],
                    Service(r["service"]) if r["service"] else None, r["responsible_org"], r["responsible_worker"],
                    r["starts_on"], r["ends_on"], PlanStatus(r["status"]), r["outcome"])


def add_item(store: Store, actor: Actor, case_id: str, *, kind: PlanItemKind, description: str,
             goal_id: str | None = None, service: Service | None = None, responsible_org: str | None = None,
             responsible_worker: str | None = None, starts_on: dt.date | None = None, ends_on: dt.date | None = None,
             now: dt.datetime | None = None) -> PlanItem:
    """Add a goal, or an action under a goal of the same case."""
    if not description.strip():
        raise InputError("a description is required", field="description")
    if starts_on and ends_on and ends_on < starts_on:
        raise InputError("the end comes before the start", field="ends_on")
    if (kind is PlanItemKind.ACTION) != (goal_id is not None):
        raise InputError("an action belongs to a goal; a goal to none", field="goal_id")
    with acting(store) as conn:
        require_case(conn, actor, case_id, write=True, purpose="case plan")
        if goal_id is not None and conn.scalar(select(plan_items.c.id).where(
                plan_items.c.id == goal_id, plan_items.c.case_id == case_id,
                plan_items.c.kind == str(PlanItemKind.GOAL))) is None:
            raise InputError(f"no goal {goal_id!r} in this case", field="goal_id")
        org = require_org(conn, responsible_org or actor.org_code, "responsible_org")
        iid = new_id()
        conn.execute(insert(plan_items).values(
            id=iid, case_id=case_id, kind=str(kind), goal_id=goal_id, description=description.strip(),
            service=str(service) if service else None, responsible_org=org, responsible_worker=responsible_worker,
            starts_on=starts_on, ends_on=ends_on, status=str(PlanStatus.PLANNED), created_by=actor.username,
            created_at=now or audit.now()))
        audit.record(conn, actor=actor.username, action=audit.AuditAction.CREATE, entity="plan_item", entity_id=iid,
                     purpose="case plan", detail={"case_id": case_id, "kind": str(kind)})
        return _item(conn.execute(select(plan_items).where(plan_items.c.id == iid)).one()._mapping)


def set_status(store: Store, actor: Actor, item_id: str, status: PlanStatus, *, outcome: str = "") -> PlanItem:
    """Move a plan item on; a finished one (done or cancelled) records its outcome."""
    if status in (PlanStatus.DONE, PlanStatus.CANCELLED) and not outcome.strip():
        raise InputError("say what came of it", field="outcome")
    with acting(store) as conn:
        row = conn.execute(select(plan_items).where(plan_items.c.id == item_id)).first()
        if row is None:
            raise NotFound(f"no plan item {item_id!r}", field="item_id", actor=actor, entity="plan_item",
                           entity_id=item_id, purpose="case plan")
        require_case(conn, actor, row.case_id, write=True, purpose="case plan")
        conn.execute(update(plan_items).where(plan_items.c.id == item_id).values(
            status=str(status), outcome=outcome.strip() or row.outcome))
        audit.record(conn, actor=actor.username, action=audit.AuditAction.UPDATE, entity="plan_item",
                     entity_id=item_id, purpose="case plan", detail={"status": str(status)})
        return _item(conn.execute(select(plan_items).where(plan_items.c.id == item_id)).one()._mapping)


def case_plan(store: Store, actor: Actor, case_id: str) -> list[PlanItem]:
    """Goals each followed by their actions, in the order they were added."""
    with acting(store) as conn:
        require_case(conn, actor, case_id, purpose="case plan")
        rows = [_item(r._mapping) for r in conn.execute(
            select(plan_items).where(plan_items.c.case_id == case_id).order_by(plan_items.c.created_at))]
    goals = [r for r in rows if r.kind is PlanItemKind.GOAL]
    return [x for g in goals for x in [g, *(r for r in rows if r.goal_id == g.id)]]
