"""Case pages: list and search, the schema-generated form, the case page, sharing, dashboard."""

from __future__ import annotations

import datetime as dt
import enum
import re
import tempfile
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import select

from tipsom.core.errors import InputError
from tipsom.core.render.pdf import html_to_pdf
from tipsom.evidence.custody import CustodyError
from tipsom.schema.document import PERSONS
from tipsom.store import history
from tipsom.store.db import Store
from tipsom.web import caselist, casework, forms, integrations, organisations
from tipsom.web.access import CASES, CaseAccess, ShareScope, check_case, decide, revoke_share, share_case, shares_of
from tipsom.web.accounts import Permission, Role, list_users
from tipsom.web.context import (
    PageRefused,
    Refusal,
    check_csrf,
    form_lists,
    render,
    require,
    session_of,
    state,
    workspace_store,
)
from tipsom.web.i18n import N_, _
from tipsom.web.security import Session

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)
#: Purposes offered when personal data is opened (a free-text purpose is also accepted).
PURPOSES = (N_("case management"), N_("victim assistance"), N_("investigation"), N_("referral"),
            N_("data quality review"))


#: What a case id may keep in a download's file name (the rest becomes "_").
_SAFE_FILE = re.compile(r"[^A-Za-z0-9._-]")

#: Bounds of integer query parameters: beyond them an offset or a year overflows the database's integers.
YEARS = (1900, 2100)


def _int(value: str | None, name: str, low: int, high: int) -> int | None:
    """An optional integer query parameter; out of bounds is refused (422), not passed to the database."""
    try:
        number = int(value) if value else None
    except ValueError:
        return None
    if number is not None and not low <= number <= high:
        raise HTTPException(422, f"{name}: must be between {low} and {high}")
    return number


def _case_store(request: Request, case_id: str, need: Permission, purpose: str) -> tuple[Session, Store]:
    """The signed-in user and their store, once need-to-know allows ``case_id``.

    Another organisation's unshared case is "not found", like a missing one.
    """
    session = require(request, need)
    store = workspace_store(request, session)
    decision = check_case(store, session.user, case_id, need=need, purpose=purpose)
    if decision is CaseAccess.NOT_FOUND:
        raise PageRefused(Refusal.NOT_FOUND)
    if decision is not CaseAccess.ALLOWED:
        raise PageRefused(Refusal.FORBIDDEN)
    return session, store


def _date(value: str, name: str) -> dt.date | None:
    """An optional date query parameter (YYYY-MM-DD, as a date input sends it); anything else is refused (422)."""
    try:
        return dt.date.fromisoformat(value) if value.strip() else None
    except ValueError:
        raise HTTPException(422, f"{name}: enter a date as YYYY-MM-DD") from None


@router.get("/cases")
def case_list(request: Request, q: str = "", case_type: str = "", status: str = "", year: str = "",
              jurisdiction: str = "", page: str = "1", assignee: str = "", child: str = "", alert: str = "",
              due_by: str = "", opened_from: str = "", opened_to: str = "", sort: str = "", order: str = "",
              per_page: str = "") -> Response:
    session = require(request, Permission.VIEW_CASES)
    store = workspace_store(request, session)
    column = caselist.sort_choice(sort)
    flt = casework.CaseFilter(
        q=q, case_type=case_type, status=status, year=_int(year, "year", *YEARS), jurisdiction=jurisdiction,
        page=_int(page, "page", 1, casework.MAX_PAGE) or 1,
        per_page=caselist.page_size(_int(per_page, "per_page", 1, casework.MAX_PAGE_SIZE)),
        assignee=assignee.strip()[:120], child=child == "1", alert=caselist.alert_choice(alert),
        due_by=_date(due_by, "due_by"), opened_from=_date(opened_from, "opened_from"),
        opened_to=_date(opened_to, "opened_to"), sort=column,
        descending=order == "desc" or (order != "asc" and column is caselist.CaseSort.ID))
    listing = casework.list_cases(store, session.user, flt, via="web page")
    case_e = store.model["case"]
    with store.engine.connect() as conn:
        workers = [u.username for u in list_users(conn) if u.organisation == session.user.organisation]
    template = "cases_table.html" if request.headers.get("hx-request") else "cases.html"
    return render(request, template, {
        "listing": listing, "flt": flt, "case_type_field": case_e.fields["case_type"],
        "status_field": case_e.fields["status"], "filters": state(request).charts.filters(store),
        "workers": workers, "alert_choices": [(c.value, _(t)) for c, t in integrations.ALERT_TITLES.items()],
        "sorts": list(caselist.CaseSort), "page_sizes": caselist.PAGE_SIZES,
        "query": urlencode({**flt.search(), "per_page": flt.per_page}),
        "sorted_query": urlencode({**flt.search(), "per_page": flt.per_page, "sort": flt.sort.value,
                                   "order": "desc" if flt.descending else "asc"})})


def _form_page(request: Request, store: Store, data: dict[str, list[str]], *, case_id: str | None,
               errors: dict[str, str] | None = None, general: list[str] | None = None,
               status_code: int = 200, confirm_removal: int | None = None, notice: str = "") -> Response:
    readonly = frozenset({"case_id", "reporting_org"}) if case_id else frozenset({"reporting_org"})
    stored = casework.stored_person_ids(store, case_id) if case_id else frozenset()
    form = forms.build_form(store.model, data, errors, readonly=readonly, stored_persons=stored)
    form.general_errors = general or []
    may_reveal = False
    if case_id and (session := session_of(request)) is not None:
        with store.engine.connect() as conn:
            may_reveal = decide(conn, session.user, case_id, Permission.VIEW_PERSONAL) is CaseAccess.ALLOWED
    return render(request, "case_form.html", {"form": form, "case_id": case_id, "notice": notice,
                                              "confirm_removal": confirm_removal, "may_reveal": may_reveal,
                                              "purposes": PURPOSES}, status_code)


def _added_person(request: Request, store: Store, data: dict[str, list[str]], *, case_id: str | None) -> Response:
    """Only the block of the person just added, for htmx to insert: the rest of the form stays as typed."""
    stored = casework.stored_person_ids(store, case_id) if case_id else frozenset()
    form = forms.build_form(store.model, data, stored_persons=stored)
    return render(request, "case_form_person.html", {"person": form.persons[-1], "number": len(form.persons),
                                                     "confirm_removal": None, "may_reveal": False,
                                                     "purposes": PURPOSES})


@router.get("/cases/new")
def new_case(request: Request) -> Response:
    session = require(request, Permission.EDIT_CASES)
    store = workspace_store(request, session)
    with store.engine.connect() as conn:
        case_id = casework.new_case_id(conn, session.user.organisation)
    data = {"c.case_id": [case_id], "c.reporting_org": [session.user.organisation], "p0.person_id": ["P1"],
            "c.status": ["Active"]}
    return _form_page(request, store, data, case_id=None)


class FormAction(enum.Enum):
    """What a button of the case form asks for (its ``action`` value is ``kind`` or ``kind:target``)."""

    SAVE = "save"
    ADD = "add"
    REMOVE = "remove"
    CONFIRM_REMOVAL = "confirm-remove"
    KEEP = "keep"
    #: Show one stored person's personal fields in the form, for the purpose chosen beside the button.
    REVEAL = "reveal"


def _action(value: str) -> tuple[FormAction, str]:
    kind, _sep, target = value.partition(":")
    try:
        return FormAction(kind or FormAction.SAVE.value), target
    except ValueError:
        raise PageRefused(Refusal.NOT_FOUND) from None


async def _submitted(request: Request) -> tuple[dict[str, list[str]], tuple[FormAction, str]]:
    data = await form_lists(request)
    action = (data.pop("action", None) or [""])[0]
    data.pop("csrf_token", None)
    return data, _action(action)


def _remove(request: Request, store: Store, session: Session, data: dict[str, list[str]], action: FormAction,
            target: str, case_id: str | None) -> Response:
    """Take a person block off the form; a person stored on the case is deleted after a confirmation."""
    try:
        index = forms.person_block(data, target)
    except ValueError:
        raise PageRefused(Refusal.NOT_FOUND) from None
    person_id = (data.get(f"p{index}.person_id") or [""])[0].strip()
    if case_id is None or person_id not in casework.stored_person_ids(store, case_id):
        forms.drop_person(data, index)
        return _form_page(request, store, data, case_id=case_id,
                          notice=_("The person block was removed; it had not been saved."))
    if action is FormAction.REMOVE:
        return _form_page(request, store, data, case_id=case_id, confirm_removal=index)
    if casework.remove_person(store, session.user, case_id, person_id) is casework.Removal.REMOVED:
        state(request).charts.data_changed(store)
    forms.drop_person(data, index)
    notice = _("%(person)s was removed from the case. Other changes in this form are saved when you "
               "save the case.") % {"person": person_id}
    return _form_page(request, store, data, case_id=case_id, notice=notice)


def _save(request: Request, store: Store, session: Session, data: dict[str, list[str]],
          action: tuple[FormAction, str], *, case_id: str | None, organisation: str) -> Response:
    kind, target = action
    if kind is FormAction.ADD:
        try:
            forms.add_block(data, target)
        except ValueError:
            raise PageRefused(Refusal.NOT_FOUND) from None
        if target == PERSONS and request.headers.get("hx-request"):
            return _added_person(request, store, data, case_id=case_id)
        return _form_page(request, store, data, case_id=case_id)
    if kind is FormAction.KEEP:
        return _form_page(request, store, data, case_id=case_id)
    if kind in (FormAction.REMOVE, FormAction.CONFIRM_REMOVAL):
        return _remove(request, store, session, data, kind, target, case_id)
    if kind is FormAction.REVEAL:
        return _reveal_in_form(request, store, data, target, case_id)
    masked: frozenset[str] = frozenset()
    if case_id:
        data["c.case_id"] = [case_id]
        masked = forms.masked_persons(data, casework.stored_person_ids(store, case_id))
    parsed = forms.form_to_document(store.model, data)
    result = casework.save_case(store, session.user, parsed.document, creating=case_id is None,
                                organisation=organisation, masked=masked)
    if not result.saved:
        errors, general = forms.problems_to_errors(store.model, result.problems, parsed)
        return _form_page(request, store, data, case_id=case_id, errors=errors, general=general,
                          status_code=422)
    state(request).charts.data_changed(store)
    return RedirectResponse(f"/cases/{quote(result.case_id, safe='')}?saved=1", status_code=303)


def _reveal_in_form(request: Request, store: Store, data: dict[str, list[str]], target: str,
                    case_id: str | None) -> Response:
    """Decrypt one stored person's personal fields into the edit form, after an audited, stated purpose."""
    if case_id is None:
        raise PageRefused(Refusal.NOT_FOUND)
    try:
        index = forms.person_block(data, target)
    except ValueError:
        raise PageRefused(Refusal.NOT_FOUND) from None
    person_id = (data.get(f"p{index}.person_id") or [""])[0].strip()
    purpose = (data.get(f"p{index}.__purpose") or [""])[0].strip()[:500]
    session, store = _case_store(request, case_id, Permission.VIEW_PERSONAL, "reveal personal data")
    if not purpose or person_id not in casework.stored_person_ids(store, case_id):
        return _form_page(request, store, data, case_id=case_id, status_code=422,
                          general=[_("Choose a purpose to show personal data.")])
    doc = casework.read_case(store, session.user, case_id, reveal=person_id, purpose=f"edit case: {purpose}")
    person = next(p for p in doc[PERSONS] if p["person_id"] == person_id)
    forms.reveal_person(store.model, data, index, person)
    return _form_page(request, store, data, case_id=case_id)


@router.post("/cases/new")
async def create_case(request: Request) -> Response:
    session = require(request, Permission.EDIT_CASES)
    store = workspace_store(request, session)
    data, action = await _submitted(request)
    return _save(request, store, session, data, action, case_id=None, organisation=session.user.organisation)


@router.get("/cases/{case_id}/edit")
def edit_case(request: Request, case_id: str) -> Response:
    session, store = _case_store(request, case_id, Permission.EDIT_CASES, "edit case")
    doc = casework.read_case(store, session.user, case_id)  # personal fields stay sealed until revealed
    return _form_page(request, store, forms.document_to_form_data(store.model, doc), case_id=case_id)


@router.post("/cases/{case_id}/edit")
async def update_case(request: Request, case_id: str) -> Response:
    session, store = _case_store(request, case_id, Permission.EDIT_CASES, "edit case")
    data, action = await _submitted(request)
    owner = casework.read_case(store, session.user, case_id)["reporting_org"]
    return _save(request, store, session, data, action, case_id=case_id, organisation=owner)


def _case_page(request: Request, case_id: str, *, reveal: str | None = None, purpose: str = "",
               share_error: str = "", history_error: str = "", attachment_error: str = "",
               status_code: int = 200) -> Response:
    need = Permission.VIEW_PERSONAL if reveal else Permission.VIEW_CASES
    session, store = _case_store(request, case_id, need, "reveal personal data" if reveal else "open case")
    try:
        doc = casework.read_case(store, session.user, case_id, reveal=reveal, purpose=purpose,
                                 shown_via="web page")
    except PermissionError:
        raise PageRefused(Refusal.FORBIDDEN) from None
    own_case = doc.get("reporting_org") == session.user.organisation
    with store.engine.connect() as conn:
        shares = shares_of(conn, case_id) if own_case else []
        recipients = [o for o in organisations.list_organisations(conn) if o.name != session.user.organisation] \
            if own_case else []
        allowed = {p: decide(conn, session.user, case_id, p) is CaseAccess.ALLOWED
                   for p in (Permission.EDIT_CASES, Permission.VIEW_PERSONAL)}
    context: dict[str, Any] = {
        "doc": doc, "case_id": case_id, "model": store.model, "revealed": reveal, "purposes": PURPOSES,
        "timeline": casework.timeline(store, doc), "referrals": casework.referrals(doc),
        "shares": shares, "recipients": recipients, "share_scopes": list(ShareScope), "share_error": share_error,
        "alerts": integrations.screen(doc), "attachments": integrations.attachments(store, case_id),
        "saved": request.query_params.get("saved") == "1", "own_case": own_case,
        "may_edit": allowed[Permission.EDIT_CASES], "may_reveal": allowed[Permission.VIEW_PERSONAL],
        "history": history.versions(store, case_id)[::-1], "history_error": history_error,
        # the organisation's administrator is its supervisor (as for casework approvals)
        "may_restore": own_case and allowed[Permission.EDIT_CASES] and session.user.role is Role.ADMIN,
        "duplicates": caselist.duplicates(store, session.user, case_id),
        "attachment_error": attachment_error, "may_withdraw": _supervises(store, session, case_id),
        "previewable": integrations.PREVIEWABLE,
        "duplicate_reasons": caselist.DUPLICATE_REASONS,
    }
    return render(request, "case.html", context, status_code)


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: str) -> Response:
    return _case_page(request, case_id)


@router.get("/cases/{case_id}/summary.pdf")
def case_summary_pdf(request: Request, case_id: str) -> Response:
    """The case page as a PDF to file or hand over: what the reader may see, personal fields never, audited."""
    session, store = _case_store(request, case_id, Permission.VIEW_CASES, "print case summary")
    doc = casework.read_case(store, session.user, case_id, shown_via="case summary PDF")
    html = bytes(render(request, "case_summary.html", {
        "doc": doc, "case_id": case_id, "model": store.model, "timeline": casework.timeline(store, doc),
        "referrals": casework.referrals(doc), "alerts": integrations.screen(doc),
        "attachments": integrations.attachments(store, case_id), "printed_on": dt.date.today().isoformat(),
    }).body).decode()
    with tempfile.TemporaryDirectory(prefix="tipsom-summary-") as tmp:
        pdf = html_to_pdf(html, Path(tmp) / "summary.pdf").read_bytes()
    name = f"case-{_SAFE_FILE.sub('_', case_id)}.pdf"
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@router.post("/cases/{case_id}/reveal")
def reveal(request: Request, case_id: str, person_id: Annotated[str, Form()],
           purpose: Annotated[str, Form()] = "", other_purpose: Annotated[str, Form()] = "") -> Response:
    require(request, Permission.VIEW_PERSONAL)
    stated = (other_purpose.strip() or purpose.strip())[:500]
    if not stated:
        return RedirectResponse(f"/cases/{quote(case_id, safe='')}", status_code=303)
    return _case_page(request, case_id, reveal=person_id, purpose=stated)


def _end_date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value.strip() else None
    except ValueError:
        raise InputError("enter a date as YYYY-MM-DD", field="ends_on") from None


@router.post("/cases/{case_id}/share")
def share(request: Request, case_id: str, organisation: Annotated[str, Form()],
          scope: Annotated[str, Form()] = str(ShareScope.SUMMARY), ends_on: Annotated[str, Form()] = "") -> Response:
    session, store = _case_store(request, case_id, Permission.SHARE_CASES, "share case")
    try:
        share_case(store, session.user, case_id, organisation, ShareScope(scope), _end_date(ends_on))
    except PermissionError:
        raise PageRefused(Refusal.FORBIDDEN) from None
    except ValueError as exc:  # InputError, or an unknown scope
        return _case_page(request, case_id, share_error=str(exc), status_code=422)
    return RedirectResponse(f"/cases/{quote(case_id, safe='')}", status_code=303)


@router.post("/cases/{case_id}/share/{code}/revoke")
def revoke(request: Request, case_id: str, code: str) -> Response:
    session, store = _case_store(request, case_id, Permission.SHARE_CASES, "revoke case share")
    try:
        revoke_share(store, session.user, case_id, code)
    except PermissionError:
        raise PageRefused(Refusal.FORBIDDEN) from None
    return RedirectResponse(f"/cases/{quote(case_id, safe='')}", status_code=303)


@router.post("/cases/{case_id}/history/{version}/restore")
def restore_version(request: Request, case_id: str, version: int, confirm: Annotated[str, Form()] = "",
                    purpose: Annotated[str, Form()] = "") -> Response:
    """A supervisor makes an earlier version the case again, after confirming it with a stated purpose."""
    session, store = _case_store(request, case_id, Permission.EDIT_CASES, "restore case version")
    if session.user.role is not Role.ADMIN or \
            casework.read_case(store, session.user, case_id).get("reporting_org") != session.user.organisation:
        raise PageRefused(Refusal.FORBIDDEN)
    if confirm != "yes" or not purpose.strip():
        return _case_page(request, case_id, status_code=422, history_error=_(
            "Tick the confirmation and state why the version is restored."))
    try:
        history.restore(store, case_id, version, by=session.user.username, purpose=purpose.strip()[:500])
    except InputError:
        raise PageRefused(Refusal.NOT_FOUND) from None
    return RedirectResponse(f"/cases/{quote(case_id, safe='')}#history-title", status_code=303)


@router.post("/cases/{case_id}/attachments")
async def attach(request: Request, case_id: str) -> Response:
    session, store = _case_store(request, case_id, Permission.EDIT_CASES, "add attachment")
    form = await request.form()  # already read, within the upload limit, by the CSRF check
    upload = form.get("file")
    note = str(form.get("note") or "")
    if upload is None or isinstance(upload, str) or not upload.filename:
        raise PageRefused(Refusal.NOT_FOUND)
    if not upload.size:
        raise PageRefused(Refusal.EMPTY_UPLOAD)
    await integrations.attach(store, case_id, upload, actor=session.user.username, note=note)
    return RedirectResponse(f"/cases/{quote(case_id, safe='')}", status_code=303)


@router.get("/cases/{case_id}/attachments/{item_id}")
def open_attachment(request: Request, case_id: str, item_id: str, view: str = "download") -> Response:
    """Preview (images, PDF, text) or download an attachment: personal data, so only for those who may reveal it."""
    session, store = _case_store(request, case_id, Permission.VIEW_PERSONAL, "open attachment")
    try:
        delivery = integrations.Delivery(view)
        opened = integrations.open_attachment(store, case_id, item_id, delivery, actor=session.user.username)
    except (ValueError, LookupError):
        raise PageRefused(Refusal.NOT_FOUND) from None
    return FileResponse(opened.path, media_type=opened.media_type, filename=opened.filename,
                        content_disposition_type="inline" if opened.inline else "attachment",
                        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@router.post("/cases/{case_id}/attachments/{item_id}/withdraw")
def withdraw_attachment(request: Request, case_id: str, item_id: str,
                        reason: Annotated[str, Form()] = "") -> Response:
    """A supervisor (the organisation's administrator) takes a mistaken upload off the case, giving a reason."""
    session, store = _case_store(request, case_id, Permission.EDIT_CASES, "withdraw attachment")
    if not _supervises(store, session, case_id):
        raise PageRefused(Refusal.FORBIDDEN)
    if not reason.strip():
        return _case_page(request, case_id, attachment_error=_("Give the reason for withdrawing the attachment."),
                          status_code=422)
    try:
        integrations.withdraw_attachment(store, case_id, item_id, actor=session.user.username, reason=reason)
    except LookupError:
        raise PageRefused(Refusal.NOT_FOUND) from None
    except CustodyError as exc:
        return _case_page(request, case_id, attachment_error=str(exc), status_code=422)
    return RedirectResponse(f"/cases/{quote(case_id, safe='')}#attach-title", status_code=303)


def _supervises(store: Store, session: Session, case_id: str) -> bool:
    """Supervisors of a case: the administrators of the organisation that owns it."""
    with store.engine.connect() as conn:
        owner = conn.scalar(select(CASES.c.reporting_org).where(CASES.c.id == case_id))
    return session.user.role is Role.ADMIN and owner == session.user.organisation


@router.get("/dashboard")
def dashboard(request: Request, year: str = "", country: str = "") -> Response:
    session = require(request, Permission.VIEW_AGGREGATES)
    store = workspace_store(request, session)
    chosen_year, chosen_country = _int(year, "year", *YEARS), (country.upper()[:3] or None)
    view = state(request).charts.view(store, chosen_year, chosen_country, session.user.username)
    return render(request, "dashboard.html", {
        "charts": view.charts, "view": view, "filters": state(request).charts.filters(store), "year": chosen_year,
        "country": chosen_country,
        "note": _("Statistics over all organisations' cases; counts under %(n)s are not shown.")
        % {"n": store.settings.suppression_threshold}})
