"""The caseworker's day in the browser: "My work" and the casework sections of a case page.

Every page and action is a thin layer over :mod:`tipsom.casework`, which
applies need-to-know and writes the audit event; this module only turns the
signed-in account into a casework :class:`~tipsom.casework.access.Actor` (an
organisation's administrator supervises, as in the API), casework refusals
into the pages' refusals, and bad input into a message beside the form.

The actions are plain forms that htmx posts inline (each asks for a
confirmation first); the answer is the whole view again, from which htmx
takes the changed region, so the same routes work without JavaScript. A
refused input is answered 422 to a plain form and 200 to htmx, which swaps
only successful answers: either way the message is shown next to the form.
"""

from __future__ import annotations

import datetime as dt
import enum
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from tipsom.casework import assessments, closure, inbox, notes, plan, referrals, tasks
from tipsom.casework.access import Actor, Forbidden, NotFound, standing
from tipsom.casework.enums import (
    ApprovalDecision,
    ApprovalSubject,
    AssessmentKind,
    PlanStatus,
    ReferralReason,
    ReferralStatus,
    Service,
    Urgency,
)
from tipsom.core.errors import InputError
from tipsom.screening import Alert, Severity, case_alerts
from tipsom.store.db import Store
from tipsom.store.reader import iter_documents
from tipsom.store.tables import REGISTRY
from tipsom.web import integrations, organisations
from tipsom.web.accounts import Permission, Role
from tipsom.web.context import PageRefused, Refusal, check_csrf, render, require, state, workspace_store
from tipsom.web.i18n import N_

E = TypeVar("E", bound=enum.Enum)
router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)

#: Services in the user's language (the enum's values are HTCDS codes).
SERVICE_LABELS = {
    Service.EDUCATION: N_("Education"), Service.FINANCIAL: N_("Financial support"), Service.HEALTH: N_("Health care"),
    Service.LABOUR_EXPLOITATION_REHABILITATION: N_("Rehabilitation after labour exploitation"),
    Service.LEGAL: N_("Legal support"), Service.LIVELIHOOD: N_("Livelihood"),
    Service.RIGHTS_BASED_TRAINING: N_("Rights-based training"),
    Service.SEXUAL_EXPLOITATION_REHABILITATION: N_("Rehabilitation after sexual exploitation"),
    Service.SOCIAL_CARE: N_("Social care"), Service.SHELTER: N_("Shelter"), Service.GUARDIANSHIP: N_("Guardianship"),
    Service.RETURN_AND_REINTEGRATION: N_("Return and reintegration"), Service.LEGAL_AID: N_("Legal aid"),
    Service.INTERPRETATION: N_("Interpretation"), Service.FAMILY_TRACING: N_("Family tracing"),
    Service.REPATRIATION_SUPPORT: N_("Repatriation support"), Service.PSYCHOSOCIAL_CARE: N_("Psychosocial care"),
    Service.SHELTER_FOR_CHILDREN: N_("Shelter for children"),
}
URGENCY_LABELS = {Urgency.ROUTINE: N_("Routine"), Urgency.URGENT: N_("Urgent"), Urgency.EMERGENCY: N_("Emergency")}
STATUS_LABELS = {
    ReferralStatus.DRAFT: N_("draft"), ReferralStatus.SENT: N_("sent"), ReferralStatus.ACCEPTED: N_("accepted"),
    ReferralStatus.DECLINED: N_("declined"), ReferralStatus.COMPLETED: N_("completed"),
    ReferralStatus.CANCELLED: N_("cancelled"),
}
#: Assessments recorded from the case page; an age assessment (method, benefit of the doubt) is the API's.
ASSESSMENT_LABELS = {
    AssessmentKind.NEEDS: N_("Needs assessment"), AssessmentKind.RISK: N_("Risk assessment"),
    AssessmentKind.BIA: N_("Best-interests assessment (BIA)"),
    AssessmentKind.BID: N_("Best-interests determination (BID)"), AssessmentKind.AGE: N_("Age assessment"),
}
BLOCKER_LABELS = {
    closure.Blocker.OPEN_REFERRALS: N_("open referrals"), closure.Blocker.OPEN_TASKS: N_("open tasks"),
    closure.Blocker.CHILD_WITHOUT_BID: N_("children without a best-interests determination"),
}
PLAN_LABELS = {PlanStatus.PLANNED: N_("planned"), PlanStatus.IN_PROGRESS: N_("in progress"),
               PlanStatus.DONE: N_("done"), PlanStatus.CANCELLED: N_("cancelled")}
DECISION_LABELS = {ApprovalDecision.APPROVED: N_("approved"), ApprovalDecision.REFUSED: N_("refused")}
#: Alerts "My work" announces: those whose severity says protection steps are due now.
URGENT = frozenset({Severity.HIGH, Severity.CRITICAL})


class View(enum.StrEnum):
    """Where an action was taken, so that its answer is that view again."""

    WORK = "work"
    CASE = "case"


class Section(enum.StrEnum):
    """The casework sections of a case page; a refused input is shown in its section."""

    REFERRALS = "referrals"
    TASKS = "tasks"
    ASSESSMENTS = "assessments"
    NOTES = "notes"
    CLOSURE = "closure"


@dataclass(frozen=True)
class Worker:
    """The signed-in account, its store (live or training) and itself as a casework actor.

    ``edits`` and ``reads_personal`` are the account's role; the case's standing is checked on top.
    """

    store: Store
    actor: Actor
    now: dt.datetime
    edits: bool
    reads_personal: bool


def _worker(request: Request, need: Permission) -> Worker:
    session = require(request, need)
    store = workspace_store(request, session)
    with store.engine.connect() as conn:
        org = organisations.find(conn, name=session.user.organisation)
    if org is None:
        raise PageRefused(Refusal.FORBIDDEN)
    actor = Actor(session.user.username, org.code, supervisor=session.user.role is Role.ADMIN)
    return Worker(store, actor, state(request).clock(), session.user.can(Permission.EDIT_CASES),
                  session.user.can(Permission.VIEW_PERSONAL))


@contextmanager
def _refusals() -> Iterator[None]:
    """A record the actor may not see is "not found"; one they may not act on, "access denied"."""
    try:
        yield
    except NotFound:
        raise PageRefused(Refusal.NOT_FOUND) from None
    except Forbidden:
        raise PageRefused(Refusal.FORBIDDEN) from None


def _labels() -> dict[str, Any]:
    return {"service_labels": SERVICE_LABELS, "urgency_labels": URGENCY_LABELS, "status_labels": STATUS_LABELS,
            "assessment_labels": ASSESSMENT_LABELS, "blocker_labels": BLOCKER_LABELS,
            "decision_labels": DECISION_LABELS, "plan_labels": PLAN_LABELS}


@dataclass(frozen=True)
class AlertToFollow:
    alert: Alert
    shown: integrations.ShownAlert
    followed: bool


#: Alerts of stored cases, by store (live or a training copy), case id and last change: "My work" screens
#: the same recent cases on every load, and a saved case has a new ``updated_at``, so an entry is never
#: stale. Bounded, oldest dropped.
_SCREENED: OrderedDict[tuple[str, str, dt.datetime], tuple[Alert, ...]] = OrderedDict()
_SCREENED_MAX = 4096
_SCREEN_LOCK = threading.Lock()


def _alerts(store: Store, case_ids: list[str], followed: frozenset[tuple[str, str]],
            keep: Callable[[Alert], bool]) -> list[AlertToFollow]:
    """Screen stored cases (read without personal fields) and keep the alerts ``keep`` selects."""
    cases = REGISTRY["case"]
    with store.engine.connect() as conn:
        keys = {r.id: (store.url, r.id, r.updated_at) for r in conn.execute(
            select(cases.c.id, cases.c.updated_at).where(cases.c.id.in_(case_ids)))}
        with _SCREEN_LOCK:
            known = {k: _SCREENED[k] for k in keys.values() if k in _SCREENED}
        missing = [i for i, k in keys.items() if k not in known]
        docs = list(iter_documents(conn, store.model, case_ids=missing)) if missing else []
    for doc in docs:
        key = keys[doc["case_id"]]
        known[key] = case_alerts(doc)
        with _SCREEN_LOCK:
            _SCREENED[key] = known[key]
            while len(_SCREENED) > _SCREENED_MAX:
                _SCREENED.popitem(last=False)
    return [AlertToFollow(a, integrations.shown(a), (a.case_id, str(a.code)) in followed)
            for i in case_ids if i in keys for a in known[keys[i]] if keep(a)]


def _work_page(request: Request, worker: Worker, error: str = "", status_code: int = 200) -> Response:
    box = inbox.inbox(worker.store, worker.actor, now=worker.now)
    new_alerts = [a for a in _alerts(worker.store, box.recent_cases, box.followed,
                                     lambda a: a.severity in URGENT) if not a.followed]
    return render(request, "my_work.html", {"box": box, "new_alerts": new_alerts, "error": error, **_labels()},
                  status_code)


@router.get("/work")
def my_work(request: Request) -> Response:
    return _work_page(request, _worker(request, Permission.VIEW_CASES))


def _case_work(request: Request, worker: Worker, case_id: str, *, errors: dict[Section, str] | None = None,
               shown_notes: list[notes.Note] | None = None, status_code: int = 200) -> Response:
    store, actor = worker.store, worker.actor
    with _refusals():
        case_tasks = tasks.case_tasks(store, actor, case_id)
        with store.engine.connect() as conn:
            blockers = closure.closure_blockers(conn, case_id)
            stand = standing(conn, actor, case_id, today=worker.now.date())
            recipients = [o for o in organisations.list_organisations(conn) if o.code != actor.org_code]
        followed = frozenset((case_id, t.alert_code) for t in case_tasks if t.alert_code and t.done_at is None)
        context = {
            "case_id": case_id, "actor": actor, "may_write": stand.may_write and worker.edits,
            "may_read_notes": stand.may_read_personal and worker.reads_personal, "today": worker.now.date(),
            "errors": errors or {},
            "referrals": referrals.outgoing(store, actor, case_id=case_id), "recipients": recipients,
            "services": list(Service), "urgencies": list(Urgency), "tasks": case_tasks,
            "alerts": _alerts(store, [case_id], followed, lambda a: True),
            "plan": plan.case_plan(store, actor, case_id),
            "assessments": assessments.case_assessments(store, actor, case_id),
            "assessment_kinds": [k for k in AssessmentKind if k is not AssessmentKind.AGE],
            "note_count": notes.count_notes(store, actor, case_id), "notes": shown_notes,
            "approvals": closure.case_approvals(store, actor, case_id), "blockers": blockers,
            "partial": bool(request.headers.get("hx-request")), **_labels(),
        }
    return render(request, "case_work.html", context, status_code)


@router.get("/cases/{case_id}/casework")
def case_work(request: Request, case_id: str) -> Response:
    """The casework sections of a case: loaded into the case page by htmx, or a page of their own."""
    return _case_work(request, _worker(request, Permission.VIEW_CASES), case_id)


def _done(request: Request, worker: Worker, view: View, case_id: str, act: Callable[[], object],
          section: Section) -> Response:
    """Run one casework action and answer with the view it was taken from (a message if refused)."""
    inline = bool(request.headers.get("hx-request"))
    try:
        with _refusals():
            act()
    except InputError as exc:  # bad input or a refused status change: said beside the form
        status = 200 if inline else 422
        if view is View.WORK:
            return _work_page(request, worker, exc.message, status)
        return _case_work(request, worker, case_id, errors={section: exc.message}, status_code=status)
    if inline:
        return _work_page(request, worker) if view is View.WORK else _case_work(request, worker, case_id)
    target = "/work" if view is View.WORK else f"/cases/{quote(case_id, safe='')}#casework"
    return RedirectResponse(target, status_code=303)


def _date(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InputError("enter a date as YYYY-MM-DD", field=field) from None


def _choice(kind: type[E], value: str, field: str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise InputError(f"unknown value {value!r}", field=field) from None


@router.post("/cases/{case_id}/referrals")
def refer(request: Request, case_id: str, to_org: Annotated[str, Form()], service: Annotated[str, Form()],
          summary: Annotated[str, Form()] = "", urgency: Annotated[str, Form()] = str(Urgency.ROUTINE),
          consent: Annotated[str, Form()] = "") -> Response:
    """Record the victim's consent and send a referral (summary only: personal data stays on the case)."""
    worker = _worker(request, Permission.EDIT_CASES)

    def act() -> None:
        given = referrals.Consent(worker.actor.username, worker.now) if consent == "given" else None
        made = referrals.create_referral(
            worker.store, worker.actor, case_id, to_org=to_org, service=_choice(Service, service, "service"),
            reason=ReferralReason.ADDITIONAL_SERVICES_REQUIRED, urgency=_choice(Urgency, urgency, "urgency"),
            consent=given, summary=summary, now=worker.now)
        referrals.send(worker.store, worker.actor, made.id, now=worker.now)

    return _done(request, worker, View.CASE, case_id, act, Section.REFERRALS)


class ReferralStep(enum.StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    COMPLETE = "complete"
    CANCEL = "cancel"


@router.post("/referrals/{referral_id}/{step}")
def referral_step(request: Request, referral_id: str, step: str, text: Annotated[str, Form()] = "",
                  view: Annotated[str, Form()] = str(View.WORK), case_id: Annotated[str, Form()] = "") -> Response:
    """One step of a referral: the receiving side accepts, declines (with a reason) or completes it;
    the referring side cancels it."""
    worker = _worker(request, Permission.EDIT_CASES)
    try:
        chosen, back = ReferralStep(step), View(view)
    except ValueError:
        raise PageRefused(Refusal.NOT_FOUND) from None
    store, actor, now = worker.store, worker.actor, worker.now
    steps: dict[ReferralStep, Callable[[], object]] = {
        ReferralStep.ACCEPT: lambda: referrals.accept(store, actor, referral_id, now=now),
        ReferralStep.DECLINE: lambda: referrals.decline(store, actor, referral_id, reason=text, now=now),
        ReferralStep.COMPLETE: lambda: referrals.complete(store, actor, referral_id, feedback=text, now=now),
        ReferralStep.CANCEL: lambda: referrals.cancel(store, actor, referral_id, now=now),
    }
    return _done(request, worker, back, case_id, steps[chosen], Section.REFERRALS)


@router.post("/cases/{case_id}/alerts/{code}/task")
def task_from_alert(request: Request, case_id: str, code: str,
                    view: Annotated[str, Form()] = str(View.CASE)) -> Response:
    """The follow-up task of an alert the case has now, linked to it (created once while open)."""
    worker = _worker(request, Permission.EDIT_CASES)
    with _refusals():
        tasks.case_tasks(worker.store, worker.actor, case_id)  # need-to-know before the case is screened
    found = next((a.alert for a in _alerts(worker.store, [case_id], frozenset(), lambda a: str(a.code) == code)),
                 None)
    if found is None:
        raise PageRefused(Refusal.NOT_FOUND)
    back = View.WORK if view == View.WORK else View.CASE
    return _done(request, worker, back, case_id, lambda: tasks.task_from_alert(
        worker.store, worker.actor, found, now=worker.now), Section.TASKS)


@router.post("/cases/{case_id}/tasks")
def add_task(request: Request, case_id: str, title: Annotated[str, Form()], due_on: Annotated[str, Form()]) -> Response:
    worker = _worker(request, Permission.EDIT_CASES)
    return _done(request, worker, View.CASE, case_id, lambda: tasks.create_task(
        worker.store, worker.actor, case_id, title=title, assignee=worker.actor.username,
        due_on=_date(due_on, "due_on"), now=worker.now), Section.TASKS)


@router.post("/tasks/{task_id}/complete")
def complete_task(request: Request, task_id: str, view: Annotated[str, Form()] = str(View.WORK),
                  case_id: Annotated[str, Form()] = "") -> Response:
    worker = _worker(request, Permission.EDIT_CASES)
    back = View.CASE if view == View.CASE else View.WORK
    return _done(request, worker, back, case_id,
                 lambda: tasks.complete_task(worker.store, worker.actor, task_id, now=worker.now), Section.TASKS)


@router.post("/cases/{case_id}/notes")
def add_note(request: Request, case_id: str, narrative: Annotated[str, Form()] = "") -> Response:
    worker = _worker(request, Permission.EDIT_CASES)

    def act() -> None:
        if not narrative.strip():
            raise InputError("write the note first", field="narrative")
        notes.add_note(worker.store, worker.actor, case_id, narrative, now=worker.now)

    return _done(request, worker, View.CASE, case_id, act, Section.NOTES)


@router.post("/cases/{case_id}/notes/read")
def read_notes(request: Request, case_id: str, purpose: Annotated[str, Form()] = "") -> Response:
    """The case's notes, opened for a stated purpose (audited by the library)."""
    worker = _worker(request, Permission.VIEW_PERSONAL)
    status = 200 if request.headers.get("hx-request") else 422
    try:
        with _refusals():
            found = notes.read_notes(worker.store, worker.actor, case_id, purpose=purpose)
    except InputError as exc:
        return _case_work(request, worker, case_id, errors={Section.NOTES: exc.message}, status_code=status)
    return _case_work(request, worker, case_id, shown_notes=found)


@router.post("/cases/{case_id}/assessments")
def record_assessment(request: Request, case_id: str, kind: Annotated[str, Form()],
                      assessed_on: Annotated[str, Form()], result: Annotated[str, Form()] = "",
                      guardian: Annotated[str, Form()] = "") -> Response:
    worker = _worker(request, Permission.EDIT_CASES)

    def act() -> None:
        chosen = _choice(AssessmentKind, kind, "kind")
        if chosen is AssessmentKind.AGE:
            raise InputError("an age assessment is recorded with its method through the API", field="kind")
        assessments.record_assessment(worker.store, worker.actor, case_id, kind=chosen,
                                      assessed_on=_date(assessed_on, "assessed_on"), result=result,
                                      guardian=guardian, now=worker.now)

    return _done(request, worker, View.CASE, case_id, act, Section.ASSESSMENTS)


@router.post("/cases/{case_id}/closure")
def request_closure(request: Request, case_id: str, reason: Annotated[str, Form()] = "") -> Response:
    """Ask a supervisor to close the case; refused, with the reasons, while anything is still open."""
    worker = _worker(request, Permission.EDIT_CASES)
    return _done(request, worker, View.CASE, case_id, lambda: closure.request_approval(
        worker.store, worker.actor, case_id, ApprovalSubject.CLOSURE, reason=reason, now=worker.now),
        Section.CLOSURE)


@router.post("/approvals/{approval_id}/decide")
def decide(request: Request, approval_id: str, decision: Annotated[str, Form()],
           case_id: Annotated[str, Form()], comment: Annotated[str, Form()] = "") -> Response:
    """A supervisor approves or refuses (an approved closure checks again and closes the case)."""
    worker = _worker(request, Permission.EDIT_CASES)
    return _done(request, worker, View.CASE, case_id, lambda: closure.decide(
        worker.store, worker.actor, approval_id, _choice(ApprovalDecision, decision, "decision"),
        comment=comment, now=worker.now), Section.CLOSURE)
