"""REST API ``/api/v1``: scoped bearer tokens, pagination, the pages' permission checks.

A token carries scopes (``cases:read``, ``cases:write``, ``stats:read``) that
narrow what its owner's role allows; need-to-know is applied exactly as on the
pages, through the same functions, and refusals are audited the same way.
Personal fields never leave through the API: case documents are returned
without them (names, phones and dates of birth stay in the web pages, where
each view states a purpose).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from tipsom.schema.document import PERSONS, Problem
from tipsom.store import history
from tipsom.web import casework
from tipsom.web.access import CASES, CaseAccess, check_case, visible_to
from tipsom.web.accounts import Permission, User
from tipsom.web.context import state
from tipsom.web.security import Scope, resolve_token

bearer = HTTPBearer(auto_error=False, description="A token from the account page: `Authorization: Bearer tps_...`")
api_router = APIRouter(prefix="/api/v1", tags=["cases"])
#: Largest whole number accepted anywhere in a posted document (beyond it, JSON numbers lose meaning).
MAX_NUMBER = 10**12
_UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing, unknown, expired or revoked token"}}
_FORBIDDEN: dict[int | str, dict[str, Any]] = {
    403: {"description": "The token's scopes, or the user's role or organisation, do not allow it"}}


class Principal(BaseModel):
    username: str
    organisation: str
    role: str
    scopes: list[str]


class CaseSummary(BaseModel):
    case_id: str
    case_type: str | None
    status: str | None
    reporting_org: str | None
    jurisdiction: str | None
    year: int | None
    opened_on: str | None
    persons: int
    victims: int


class CasePage(BaseModel):
    items: list[CaseSummary]
    page: int
    per_page: int
    total: int
    pages: int


class ProblemOut(BaseModel):
    column: str
    value: str
    reason: str


class SaveOutcome(BaseModel):
    case_id: str
    saved: bool
    problems: list[ProblemOut] = Field(default_factory=list)


class Stats(BaseModel):
    organisation: str
    suppression_threshold: int
    cases_by_type: dict[str, int | str]
    cases_by_year: dict[str, int | str]


def _auth(request: Request, creds: HTTPAuthorizationCredentials | None) -> tuple[User, frozenset[Scope]]:
    resolved = resolve_token(state(request).store, creds.credentials) if creds else None
    if resolved is None:
        raise HTTPException(401, "authentication required: send a valid bearer token",
                            headers={"WWW-Authenticate": "Bearer"})
    return resolved


def caller(scope: Scope, permission: Permission) -> Any:
    """Dependency: the token's user, if the token has ``scope`` and the role ``permission``."""

    def dependency(request: Request,
                   creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> User:
        user, scopes = _auth(request, creds)
        if scope not in scopes:
            raise HTTPException(403, f"the token lacks the scope {scope}")
        if not user.can(permission):
            raise HTTPException(403, f"the role {user.role} does not allow this")
        return user

    return dependency


@api_router.get("/me", responses=_UNAUTHORIZED)
def me(request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    """Who the token belongs to, and what it may do."""
    user, scopes = _auth(request, creds)
    return Principal(username=user.username, organisation=user.organisation, role=str(user.role),
                     scopes=sorted(str(s) for s in scopes))


@api_router.get("/cases", responses={**_UNAUTHORIZED, **_FORBIDDEN})
def list_cases(
    request: Request,
    user: Annotated[User, Depends(caller(Scope.CASES_READ, Permission.VIEW_CASES))],
    page: Annotated[int, Query(ge=1, le=casework.MAX_PAGE)] = 1,
    per_page: Annotated[int, Query(ge=1, le=casework.MAX_PAGE_SIZE)] = casework.PAGE_SIZE,
    q: Annotated[str, Query(max_length=200, description="Case id prefix, or a person's exact full name")] = "",
    case_type: Annotated[str, Query(max_length=64)] = "",
    status: Annotated[str, Query(max_length=64)] = "",
    year: Annotated[int | None, Query(ge=1900, le=2100)] = None,
    jurisdiction: Annotated[str, Query(max_length=3)] = "",
) -> CasePage:
    """Cases the caller's organisation holds or was shared, newest identifiers first."""
    flt = casework.CaseFilter(q=q, case_type=case_type, status=status, year=year, jurisdiction=jurisdiction,
                              page=page, per_page=per_page)
    listing = casework.list_cases(state(request).store, user, flt, via="API")
    items = [CaseSummary(case_id=r["id"], case_type=r["case_type"], status=r["status"],
                         reporting_org=r["reporting_org"], jurisdiction=r["jurisdiction"], year=r["year"],
                         opened_on=r["opened_on"].isoformat() if r["opened_on"] else None,
                         persons=r["persons"], victims=r["victims"]) for r in listing.rows]
    return CasePage(items=items, page=listing.page, per_page=listing.per_page, total=listing.total,
                    pages=listing.pages)


@api_router.get("/cases/{case_id}", responses={**_UNAUTHORIZED, **_FORBIDDEN, 404: {"description": "No such case"}})
def get_case(request: Request, case_id: str,
             user: Annotated[User, Depends(caller(Scope.CASES_READ, Permission.VIEW_CASES))]) -> dict[str, Any]:
    """One case document, without personal fields."""
    store = state(request).store
    decision = check_case(store, user, case_id, purpose="API read")
    if decision is CaseAccess.NOT_FOUND:
        raise HTTPException(404, "no such case")
    if decision is not CaseAccess.ALLOWED:
        raise HTTPException(403, "this case belongs to another organisation")
    doc = casework.read_case(store, user, case_id, shown_via="API")
    return _jsonable(doc)  # type: ignore[no-any-return]


class FieldChangeOut(BaseModel):
    entity: str = Field(description="Schema entity of the field: case, person or a repeated record")
    record: str = Field(description="'case', the person's id, or the person's id with the repeated record")
    field: str
    before: Any = Field(None, description="Value before the change (null when sealed)")
    after: Any = Field(None, description="Value after the change (null when sealed)")
    sealed: bool = Field(description="A personal value: changed or entered again, not shown")


class VersionOut(BaseModel):
    version: int = Field(description="Version n is the state that change n replaced")
    at: str
    actor: str
    purpose: str
    change: str
    changes: list[FieldChangeOut]


@api_router.get("/cases/{case_id}/history",
                responses={**_UNAUTHORIZED, **_FORBIDDEN, 404: {"description": "No such case"}})
def case_history(request: Request, case_id: str,
                 user: Annotated[User, Depends(caller(Scope.CASES_READ, Permission.VIEW_CASES))]) -> list[VersionOut]:
    """Who changed the case, when, why and which fields, oldest first; personal values stay sealed."""
    store = state(request).store
    decision = check_case(store, user, case_id, purpose="API read of case history")
    if decision is CaseAccess.NOT_FOUND:
        raise HTTPException(404, "no such case")
    if decision is not CaseAccess.ALLOWED:
        raise HTTPException(403, "this case belongs to another organisation")
    found = history.versions(store, case_id, actor=user.username, purpose="API read of case history")
    return [VersionOut(version=v.number, at=v.at.isoformat(), actor=v.actor, purpose=v.purpose, change=str(v.change),
                       changes=[FieldChangeOut(entity=c.entity, record=c.record, field=c.field,
                                               before=_jsonable(c.before), after=_jsonable(c.after), sealed=c.sealed)
                                for c in v.changes]) for v in found]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def structure_problems(doc: Any) -> list[Problem]:
    """Shape errors the validator assumes away (a person that is not an object...)."""
    problems: list[Problem] = []

    def check_value(where: str, value: Any) -> None:
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict | list) or (isinstance(item, int | float) and abs(item) > MAX_NUMBER):
                problems.append(Problem(1, where, str(item)[:80], "not a plain value"))

    def check_record(where: str, rec: Any, lists: tuple[str, ...]) -> None:
        if not isinstance(rec, dict):
            problems.append(Problem(1, where or "(document)", str(rec)[:80], "must be an object"))
            return
        for key, value in rec.items():
            if key in lists:
                if not isinstance(value, list):
                    problems.append(Problem(1, f"{where}{key}", str(value)[:80], "must be a list"))
                    continue
                for i, item in enumerate(value):
                    check_record(f"{where}{key}[{i}].", item, ("route_legs", "identifications", "charges")
                                 if key == PERSONS else ())
            else:
                check_value(f"{where}{key}", value)

    check_record("", doc, (PERSONS,))
    return problems


@api_router.post("/cases", status_code=201, responses={
    **_UNAUTHORIZED, **_FORBIDDEN, 422: {"description": "Invalid document", "model": SaveOutcome}})
def create_case(request: Request, user: Annotated[User, Depends(caller(Scope.CASES_WRITE, Permission.EDIT_CASES))],
                document: Annotated[dict[str, Any], Body(description="A case document (native JSON form)")]
                ) -> SaveOutcome:
    """Create a case owned by the caller's organisation (``reporting_org`` is set from the account)."""
    problems = structure_problems(document)
    result = casework.SaveResult(str(document.get("case_id", ""))[:64], problems) if problems else \
        casework.save_case(state(request).store, user, dict(document), creating=True,
                           organisation=user.organisation, purpose="API case entry", via="API")
    out = SaveOutcome(case_id=result.case_id, saved=result.saved,
                      problems=[ProblemOut(column=p.column, value=p.value, reason=p.reason) for p in result.problems])
    if not result.saved:
        return JSONResponse(out.model_dump(), status_code=422)  # type: ignore[return-value]
    state(request).charts.data_changed(state(request).store)
    return out


def _suppressed(rows: list[tuple[Any, int]], threshold: int) -> dict[str, int | str]:
    return {str(k): (n if n >= threshold else f"<{threshold}") for k, n in rows if k is not None}


@api_router.get("/stats", tags=["statistics"], responses={**_UNAUTHORIZED, **_FORBIDDEN})
def stats(request: Request,
          user: Annotated[User, Depends(caller(Scope.STATS_READ, Permission.VIEW_AGGREGATES))]) -> Stats:
    """Counts of the caller's organisation's cases by type and year; small cells suppressed."""
    store = state(request).store
    threshold = store.settings.suppression_threshold
    with store.engine.connect() as conn:
        by_type = [(r[0], int(r[1])) for r in conn.execute(
            select(CASES.c.case_type, func.count()).where(visible_to(user)).group_by(CASES.c.case_type))]
        by_year = [(r[0], int(r[1])) for r in conn.execute(
            select(CASES.c.year, func.count()).where(visible_to(user)).group_by(CASES.c.year))]
    return Stats(organisation=user.organisation, suppression_threshold=threshold,
                 cases_by_type=_suppressed(by_type, threshold), cases_by_year=_suppressed(by_year, threshold))
