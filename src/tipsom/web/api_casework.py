"""Casework in the REST API ``/api/v1``: referrals, tasks, notes, alert follow-ups and what is due.

Each endpoint is a thin layer over one :mod:`tipsom.casework` function, which
applies need-to-know and writes the audit event; this module only turns the
token's account into a casework :class:`~tipsom.casework.access.Actor` (an
organisation's administrator acts as its supervisor) and casework refusals
into HTTP answers: not visible 404, not allowed 403, a status change the
workflow refuses 409, bad input 422. Personal data does not travel through
the API, so a referral created here shares its summary only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field

from tipsom.casework import due as due_list
from tipsom.casework import notes, referrals, tasks
from tipsom.casework.access import Actor, Forbidden, NotFound, TransitionRefused
from tipsom.casework.enums import DueKind, ReferralReason, ReferralStatus, Service, Urgency
from tipsom.core.errors import InputError
from tipsom.web import organisations
from tipsom.web.accounts import Permission, Role, User
from tipsom.web.api import _FORBIDDEN, _UNAUTHORIZED, caller
from tipsom.web.context import state
from tipsom.web.security import Scope

router = APIRouter(prefix="/api/v1", tags=["casework"])
_REFUSALS: dict[int | str, dict[str, Any]] = {
    **_UNAUTHORIZED, **_FORBIDDEN,
    404: {"description": "No such record, or one the caller's organisation may not see"},
    409: {"description": "The workflow does not allow this step from the record's present status"},
    422: {"description": "Invalid input"}}
ID = Annotated[str, Path(max_length=64)]

read_cases = caller(Scope.CASES_READ, Permission.VIEW_CASES)
write_cases = caller(Scope.CASES_WRITE, Permission.EDIT_CASES)
read_personal = caller(Scope.CASES_READ, Permission.VIEW_PERSONAL)


class ReferralIn(BaseModel):
    case_id: str = Field(max_length=64)
    to_org: str = Field(max_length=32, description="Code of the receiving organisation")
    service: Service
    reason: ReferralReason = ReferralReason.ADDITIONAL_SERVICES_REQUIRED
    urgency: Urgency = Urgency.ROUTINE
    consent_given: bool = Field(description="The victim gave informed consent to this referral (required)")
    consent_recorded_at: dt.datetime | None = Field(None, description="When consent was given (default: now)")
    summary: str = Field(max_length=2000, description="What the receiving organisation will see; no names")
    send: bool = Field(False, description="Send at once instead of keeping a draft")


class ReferralOut(BaseModel):
    id: str
    case_id: str | None = Field(description="Only for the referring organisation")
    from_org: str
    to_org: str
    service: str | None
    reason: str
    urgency: str
    status: ReferralStatus
    summary: str
    consent_recorded_by: str
    consent_recorded_at: str
    created_at: str
    sent_at: str | None
    accepted_at: str | None
    declined_at: str | None
    decline_reason: str | None
    completed_at: str | None
    cancelled_at: str | None
    feedback: str | None


class DeclineIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class CompleteIn(BaseModel):
    feedback: str = Field("", max_length=2000)


class TaskIn(BaseModel):
    case_id: str = Field(max_length=64)
    title: str = Field(min_length=1, max_length=300)
    assignee: str | None = Field(None, max_length=64, description="A colleague's username (default: the caller)")
    due_on: dt.date
    remind_on: dt.date | None = None


class TaskOut(BaseModel):
    id: str
    case_id: str
    title: str
    assignee: str
    due_on: str
    remind_on: str | None
    alert_code: str | None
    created_by: str
    created_at: str
    done_at: str | None
    done_by: str | None
    overdue: bool


class NoteIn(BaseModel):
    narrative: str = Field(min_length=1, max_length=20_000)


class NoteCreated(BaseModel):
    id: str


class NoteOut(BaseModel):
    id: str
    author: str
    org_code: str
    written_at: str
    narrative: str


class DueOut(BaseModel):
    case_id: str | None
    kind: DueKind
    due: str
    overdue: bool


def actor_of(request: Request, user: User) -> Actor:
    """The account as a casework actor: its organisation's code, and supervisor if an administrator."""
    with state(request).store.engine.connect() as conn:
        org = organisations.find(conn, name=user.organisation)
    if org is None:
        raise HTTPException(403, "the account's organisation is not registered")
    return Actor(user.username, org.code, supervisor=user.role is Role.ADMIN)


@contextmanager
def answered() -> Iterator[None]:
    """Casework refusals as HTTP answers (the refusal itself is already audited)."""
    try:
        yield
    except NotFound as exc:
        raise HTTPException(404, exc.message) from None
    except Forbidden as exc:
        raise HTTPException(403, exc.message) from None
    except TransitionRefused as exc:
        raise HTTPException(409, exc.message) from None
    except InputError as exc:
        raise HTTPException(422, exc.message) from None


def _referral(r: referrals.Referral) -> ReferralOut:
    return ReferralOut(**{k: v for k, v in r.to_dict().items() if k in ReferralOut.model_fields})


@router.get("/referrals", responses=_REFUSALS)
def list_referrals(request: Request, user: Annotated[User, Depends(read_cases)]) -> list[ReferralOut]:
    """Referrals the caller's organisation made or received (the receiving side sees no case id)."""
    return [_referral(r) for r in referrals.involving(state(request).store, actor_of(request, user))]


@router.post("/referrals", status_code=201, responses=_REFUSALS)
def create_referral(request: Request, user: Annotated[User, Depends(write_cases)], body: ReferralIn) -> ReferralOut:
    """Refer a case to another organisation, recording the victim's consent (required)."""
    actor = actor_of(request, user)
    store = state(request).store
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    at = body.consent_recorded_at
    consent = referrals.Consent(user.username, (at.astimezone(dt.UTC).replace(tzinfo=None) if at and at.tzinfo
                                                else at) or now) if body.consent_given else None
    with answered():
        made = referrals.create_referral(store, actor, body.case_id, to_org=body.to_org, service=body.service,
                                         reason=body.reason, urgency=body.urgency, consent=consent,
                                         summary=body.summary, now=now)
        if body.send:
            made = referrals.send(store, actor, made.id)
    return _referral(made)


def _step(request: Request, user: User, call: Callable[[Actor], referrals.Referral]) -> ReferralOut:
    actor = actor_of(request, user)
    with answered():
        return _referral(call(actor))


@router.post("/referrals/{referral_id}/send", responses=_REFUSALS)
def send_referral(request: Request, user: Annotated[User, Depends(write_cases)], referral_id: ID) -> ReferralOut:
    """Send a draft referral (referring organisation)."""
    return _step(request, user, lambda a: referrals.send(state(request).store, a, referral_id))


@router.post("/referrals/{referral_id}/accept", responses=_REFUSALS)
def accept_referral(request: Request, user: Annotated[User, Depends(write_cases)], referral_id: ID) -> ReferralOut:
    """Accept a referral sent to the caller's organisation."""
    return _step(request, user, lambda a: referrals.accept(state(request).store, a, referral_id))


@router.post("/referrals/{referral_id}/decline", responses=_REFUSALS)
def decline_referral(request: Request, user: Annotated[User, Depends(write_cases)], referral_id: ID,
                     body: DeclineIn) -> ReferralOut:
    """Decline a referral sent to the caller's organisation, with a reason."""
    return _step(request, user, lambda a: referrals.decline(state(request).store, a, referral_id,
                                                            reason=body.reason))


@router.post("/referrals/{referral_id}/complete", responses=_REFUSALS)
def complete_referral(request: Request, user: Annotated[User, Depends(write_cases)], referral_id: ID,
                      body: CompleteIn) -> ReferralOut:
    """Mark an accepted referral's service as given, with feedback for the referring organisation."""
    return _step(request, user, lambda a: referrals.complete(state(request).store, a, referral_id,
                                                             feedback=body.feedback))


@router.post("/referrals/{referral_id}/cancel", responses=_REFUSALS)
def cancel_referral(request: Request, user: Annotated[User, Depends(write_cases)], referral_id: ID) -> ReferralOut:
    """Cancel a referral the caller's organisation made (draft, sent or accepted)."""
    return _step(request, user, lambda a: referrals.cancel(state(request).store, a, referral_id))


def _task(t: tasks.Task) -> TaskOut:
    return TaskOut(**t.to_dict(dt.datetime.now(dt.UTC).date()))


@router.get("/tasks", responses=_REFUSALS)
def my_tasks(request: Request, user: Annotated[User, Depends(read_cases)],
             include_done: Annotated[bool, Query()] = False) -> list[TaskOut]:
    """The caller's own tasks, soonest due first."""
    return [_task(t) for t in tasks.my_tasks(state(request).store, actor_of(request, user),
                                             include_done=include_done)]


@router.post("/tasks", status_code=201, responses=_REFUSALS)
def create_task(request: Request, user: Annotated[User, Depends(write_cases)], body: TaskIn) -> TaskOut:
    """A task on a case, for the caller or a colleague of the same organisation."""
    actor = actor_of(request, user)
    with answered():
        return _task(tasks.create_task(state(request).store, actor, body.case_id, title=body.title,
                                       assignee=body.assignee or user.username, due_on=body.due_on,
                                       remind_on=body.remind_on))


@router.post("/tasks/{task_id}/complete", responses=_REFUSALS)
def complete_task(request: Request, user: Annotated[User, Depends(write_cases)], task_id: ID) -> TaskOut:
    """Mark a task of the caller's organisation done."""
    actor = actor_of(request, user)
    with answered():
        return _task(tasks.complete_task(state(request).store, actor, task_id))


@router.post("/cases/{case_id}/alerts/{code}/task", status_code=201, responses=_REFUSALS)
def task_from_alert(request: Request, user: Annotated[User, Depends(write_cases)], case_id: ID,
                    code: Annotated[str, Path(max_length=40)]) -> TaskOut:
    """The follow-up task of a screening alert the case has now (created once; returned while open)."""
    from tipsom.screening import screen_stored_case

    actor = actor_of(request, user)
    store = state(request).store
    with answered():
        tasks.case_tasks(store, actor, case_id)  # need-to-know before the case is screened
        alert = next((a for a in screen_stored_case(store, case_id).alerts if a.code == code), None)
        if alert is None:
            raise HTTPException(404, f"case {case_id!r} has no {code} alert now")
        return _task(tasks.task_from_alert(store, actor, alert))


@router.post("/cases/{case_id}/notes", status_code=201, responses=_REFUSALS)
def add_note(request: Request, user: Annotated[User, Depends(write_cases)], case_id: ID,
             body: NoteIn) -> NoteCreated:
    """Write a case note (sealed at rest)."""
    actor = actor_of(request, user)
    with answered():
        return NoteCreated(id=notes.add_note(state(request).store, actor, case_id, body.narrative))


@router.get("/cases/{case_id}/notes", responses=_REFUSALS)
def read_notes(request: Request, user: Annotated[User, Depends(read_personal)], case_id: ID,
               purpose: Annotated[str, Query(min_length=3, max_length=200,
                                             description="Why the notes are read (audited)")]) -> list[NoteOut]:
    """The case's notes, decrypted after an audit event naming the caller and the purpose."""
    actor = actor_of(request, user)
    with answered():
        found = notes.read_notes(state(request).store, actor, case_id, purpose=purpose)
    return [NoteOut(id=n.id, author=n.author, org_code=n.org_code, written_at=n.written_at.isoformat(),
                    narrative=n.narrative) for n in found]


@router.get("/casework/due", responses=_REFUSALS)
def what_is_due(request: Request, user: Annotated[User, Depends(read_cases)]) -> list[DueOut]:
    """Open tasks, referrals awaiting an answer and NRM deadlines of the caller's organisation."""
    actor = actor_of(request, user)
    return [DueOut(**d.to_dict()) for d in due_list.due(state(request).store, actor.org_code)]
