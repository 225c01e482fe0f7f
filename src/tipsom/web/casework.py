"""Case work behind the pages and the API: listing, reading, saving, timelines.

Pages and API endpoints call these functions, so both apply the same
need-to-know filter and write the same audit events. Personal data is only
decrypted after an audit event naming the reader and the stated purpose.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, case, delete, func, select

from tipsom.exchange.importer import ImportFailed, import_records
from tipsom.exchange.native import Record
from tipsom.schema.document import PERSONS, DocumentValidator, Problem
from tipsom.schema.enums import PersonRole
from tipsom.screening import AlertCode
from tipsom.store import audit, history, search
from tipsom.store.db import Store
from tipsom.store.reader import iter_documents
from tipsom.store.tables import PERSON_KEY, REGISTRY
from tipsom.store.writer import person_key
from tipsom.web import caselist, organisations
from tipsom.web.access import CASES, visible_to
from tipsom.web.accounts import Permission, User
from tipsom.web.caselist import CaseSort
from tipsom.web.i18n import N_, _, country_name
from tipsom.web.labels import code_label

PERSONS_T = REGISTRY["person"]
PAGE_SIZE = 25
MAX_PAGE_SIZE = 200
#: Highest page number any list accepts (cases, audit): beyond it the offset overflows the database's integers.
MAX_PAGE = 1_000_000
_VICTIM_ROLES = [str(r) for r in PersonRole if r.is_victim]


@dataclass(frozen=True)
class CaseFilter:
    q: str = ""
    case_type: str = ""
    status: str = ""
    year: int | None = None
    jurisdiction: str = ""
    page: int = 1
    per_page: int = PAGE_SIZE
    #: Cases with an open task of the reader's organisation assigned to this username.
    assignee: str = ""
    #: Only cases with a person who is (or may be) a child.
    child: bool = False
    #: Only cases where screening raises this alert.
    alert: AlertCode | None = None
    #: Cases with an open task due on or before this date.
    due_by: dt.date | None = None
    #: Cases opened in this range (both ends included).
    opened_from: dt.date | None = None
    opened_to: dt.date | None = None
    sort: CaseSort = CaseSort.ID
    descending: bool = True

    def search(self) -> dict[str, Any]:
        """The filters set, as the audit event and the pager's links name them."""
        found = {"q": self.q.strip(), "case_type": self.case_type, "status": self.status, "year": self.year,
                 "jurisdiction": self.jurisdiction, "assignee": self.assignee, "child": "1" if self.child else "",
                 "alert": self.alert.value if self.alert else "",
                 "due_by": self.due_by.isoformat() if self.due_by else "",
                 "opened_from": self.opened_from.isoformat() if self.opened_from else "",
                 "opened_to": self.opened_to.isoformat() if self.opened_to else ""}
        return {k: v for k, v in found.items() if v}


@dataclass
class CaseListing:
    rows: list[dict[str, Any]]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def list_cases(store: Store, user: User, flt: CaseFilter, *, via: str) -> CaseListing:
    """One page of the cases ``user`` may see, in the order asked for (newest identifiers first by default).

    A listing shows case types, places and victim counts, so it is a
    consultation too: one compact audit event per page shown names the cases
    on it and the search that found them (``via`` says page or API).
    """
    conds = [visible_to(user)]
    if flt.case_type:
        conds.append(CASES.c.case_type == flt.case_type)
    if flt.status:
        conds.append(CASES.c.status == flt.status)
    if flt.year is not None:
        conds.append(CASES.c.year == flt.year)
    if flt.jurisdiction:
        conds.append(CASES.c.jurisdiction == flt.jurisdiction.upper())
    if flt.child:
        conds.append(caselist.child_condition())
    if flt.assignee or flt.due_by is not None:
        conds.append(caselist.open_task_condition(user, assignee=flt.assignee, due_by=flt.due_by))
    if flt.opened_from is not None:
        conds.append(CASES.c.opened_on >= flt.opened_from)
    if flt.opened_to is not None:
        conds.append(CASES.c.opened_on <= flt.opened_to)
    q = flt.q.strip()
    if q:
        # Names match through keyed tokens of their words and word beginnings: no decryption, no name in the query.
        search.refresh_name_index(store, actor=user.username)
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        by_id = CASES.c.id.like(f"{escaped}%", escape="\\")
        by_name = search.cases_matching_name(store.cipher, q)
        conds.append(by_id if by_name is None else by_id | CASES.c.id.in_(by_name))
    per_page = max(1, min(flt.per_page, MAX_PAGE_SIZE))
    page = max(1, flt.page)
    column = flt.sort.column
    order = [column.desc() if flt.descending else column.asc(), CASES.c.id.desc()]
    cols = [CASES.c.id, CASES.c.case_type, CASES.c.status, CASES.c.reporting_org, CASES.c.jurisdiction,
            CASES.c.year, CASES.c.opened_on]
    with store.begin() as conn:
        if flt.alert is None:
            total = conn.scalar(select(func.count()).select_from(CASES).where(*conds)) or 0
            shown = select(*cols).where(*conds).order_by(*order).limit(per_page).offset((page - 1) * per_page)
        else:
            # Alerts are computed, not stored: the candidates are intersected here rather than bound as a
            # parameter list, which could exceed what the database accepts in one statement.
            alerted = caselist.ALERTS.cases_with(store, conn, flt.alert)
            ids = [i for i in conn.scalars(select(CASES.c.id).where(*conds).order_by(*order)) if i in alerted]
            total = len(ids)
            shown = select(*cols).where(CASES.c.id.in_(ids[(page - 1) * per_page : page * per_page])).order_by(*order)
        rows = [dict(r._mapping) for r in conn.execute(shown)]
        counts = _person_counts(conn, [r["id"] for r in rows])
        found = flt.search()
        if "q" in found:  # a name typed in the box is kept in the log only as its keyed pseudonym
            found["q"] = store.cipher.pseudonym("name", found["q"])
        audit.record(conn, actor=user.username, action=audit.AuditAction.READ, entity="case_list",
                     purpose="list cases", detail={"via": via, "page": page, "search": found,
                                                   "cases": [r["id"] for r in rows]})
    for r in rows:
        r["persons"], r["victims"] = counts.get(r["id"], (0, 0))
    return CaseListing(rows, int(total), page, per_page)


def _person_counts(conn: Connection, ids: list[str]) -> dict[str, tuple[int, int]]:
    if not ids:
        return {}
    victim = func.sum(case((PERSONS_T.c.role.in_(_VICTIM_ROLES), 1), else_=0))
    q = (select(PERSONS_T.c.case_id, func.count(), victim).where(PERSONS_T.c.case_id.in_(ids))
         .group_by(PERSONS_T.c.case_id))
    return {r[0]: (int(r[1]), int(r[2] or 0)) for r in conn.execute(q)}


def read_case(store: Store, user: User, case_id: str, *, reveal: str | None = None,
              purpose: str = "", shown_via: str | None = None) -> dict[str, Any]:
    """A case document; personal fields of person ``reveal`` (a person id, or ``*``) only
    with a stated purpose, after an audit event for each person revealed.

    ``shown_via`` (page or API) marks a read that puts the case in front of a
    user: even without personal fields it shows exploitation, places and
    referrals, so it is logged as a consultation naming the case (one event).
    Reads for the software's own use (the owner of a case being saved) pass none.
    """
    with store.begin() as conn:
        doc = next(iter_documents(conn, store.model, case_ids=[case_id]), None)
        if doc is None:
            raise LookupError(case_id)
        if shown_via is not None:
            audit.record(conn, actor=user.username, action=audit.AuditAction.READ, entity="case",
                         entity_id=case_id, purpose=purpose.strip() or "view case", detail={"via": shown_via})
        if reveal is None:
            return doc
        if not user.can(Permission.VIEW_PERSONAL):
            raise PermissionError("role may not view personal data")
        if not purpose.strip():
            raise ValueError("a purpose is required to view personal data")
        wanted = [p["person_id"] for p in doc[PERSONS] if reveal in ("*", p["person_id"])]
        for pid in wanted:
            audit.record(conn, actor=user.username, action=audit.AuditAction.READ, entity="person",
                         entity_id=person_key(case_id, pid), purpose=purpose,
                         detail={"via": "web", "fields": [f.name for f in store.model["person"].personal_fields]})
        full = next(iter_documents(conn, store.model, cipher=store.cipher, case_ids=[case_id]))
    for plain, decrypted in zip(doc[PERSONS], full[PERSONS], strict=True):
        if plain["person_id"] in wanted:
            plain.update(decrypted)
    return doc


@dataclass
class SaveResult:
    case_id: str
    problems: list[Problem] = field(default_factory=list)

    @property
    def saved(self) -> bool:
        return not self.problems


def case_exists(conn: Connection, case_id: str) -> bool:
    return conn.scalar(select(CASES.c.id).where(CASES.c.id == case_id)) is not None


def save_case(store: Store, user: User, raw: dict[str, Any], *, creating: bool, organisation: str,
              purpose: str = "case entry", via: str = "web form",
              masked: frozenset[str] = frozenset()) -> SaveResult:
    """Validate and store one case document entered by ``user`` (all or nothing).

    The owning organisation is set by the caller (the user's own on creation,
    the stored one on edit), never taken from the submitted form. A new case's
    identifier is scoped to its organisation (:func:`organisations.scoped_case_id`),
    so "already exists" can only name one of the organisation's own cases.

    ``masked`` names stored persons whose personal fields the editor never
    revealed: the form could not show them, so their stored (encrypted)
    values are kept as they are, without being decrypted, in the same
    transaction as the rest of the case.
    """
    raw["reporting_org"] = organisation
    if creating and str(raw.get("case_id") or "").strip():
        with store.engine.connect() as conn:
            raw["case_id"] = organisations.scoped_case_id(conn, organisation, str(raw["case_id"]))
    doc, problems = DocumentValidator(store.model).validate(raw, 1)
    case_id = str(doc.get("case_id") or raw.get("case_id") or "")
    if creating and case_id:
        with store.engine.connect() as conn:
            if case_exists(conn, case_id):
                problems.append(Problem(1, "case_id", case_id, "already exists"))
    if problems:
        return SaveResult(case_id, problems)
    sealed = frozenset() if creating else frozenset(person_key(case_id, pid) for pid in masked)
    try:
        action = audit.AuditAction.CREATE if creating else audit.AuditAction.UPDATE
        import_records(store, [Record(1, {}, raw)], source=via, actor=user.username, purpose=purpose,
                       event=(action, case_id), sealed_persons=sealed)
    except ImportFailed as exc:
        return SaveResult(case_id, list(exc.report.problems))
    return SaveResult(case_id)


def new_case_id(conn: Connection, organisation: str) -> str:
    """A fresh identifier for a case ``organisation`` enters on the web (date plus a counter),
    without the organisation's prefix, which saving adds."""
    stem = f"WEB-{dt.date.today():%Y%m%d}-"
    prefix = organisations.case_prefix(conn, organisation)
    n = conn.scalar(select(func.count()).select_from(CASES).where(CASES.c.id.like(f"{prefix}{stem}%"))) or 0
    while case_exists(conn, f"{prefix}{stem}{n + 1:04d}"):
        n += 1
    return f"{stem}{n + 1:04d}"


def stored_person_ids(store: Store, case_id: str) -> frozenset[str]:
    """Person ids stored on a case (the form locks them: a changed id would add a second person)."""
    with store.engine.connect() as conn:
        q = select(PERSONS_T.c.person_id).where(PERSONS_T.c.case_id == case_id)
        return frozenset(r[0] for r in conn.execute(q))


class Removal(enum.Enum):
    """Outcome of removing a person from a stored case."""

    REMOVED = "removed"
    NOT_STORED = "not_stored"


def remove_person(store: Store, user: User, case_id: str, person_id: str, *,
                  purpose: str = "remove person from case") -> Removal:
    """Delete one person and their repeated records from a stored case, with an audit event.

    Saving a case never deletes (records absent from a document are kept, as
    on import), so removal is its own step, confirmed on the form. Child rows
    are deleted explicitly (not by cascade) so the audit event can say how many
    records went with the person.
    """
    key = person_key(case_id, person_id)
    with store.begin() as conn:
        found = conn.scalar(select(PERSONS_T.c[PERSON_KEY]).where(PERSONS_T.c[PERSON_KEY] == key))
        if found is None:
            return Removal.NOT_STORED
        history.keep(conn, store.model, [case_id], actor=user.username, purpose=purpose,
                     change=history.Change.REMOVE_PERSON, event_id=None)
        deleted: dict[str, int] = {}
        for child in store.model.children("person"):
            table = REGISTRY[child.name]
            deleted[child.table] = conn.execute(delete(table).where(table.c.person_key == key)).rowcount
        conn.execute(delete(PERSONS_T).where(PERSONS_T.c[PERSON_KEY] == key))
        audit.record(conn, actor=user.username, action=audit.AuditAction.DELETE, entity="person", entity_id=key,
                     purpose=purpose, detail={"via": "web", "case_id": case_id, "person_id": person_id,
                                              "records_deleted": deleted})
    return Removal.REMOVED


# --- timeline -------------------------------------------------------------------------


class Stage(enum.Enum):
    """Stages of a trafficking or smuggling process, in their usual order."""

    CASE = N_("Case")
    RECRUITMENT = N_("Recruitment")
    MOVEMENT = N_("Movement")
    EXPLOITATION = N_("Exploitation")
    IDENTIFICATION = N_("Identification")
    REFERRAL = N_("Referral")
    PROCEEDINGS = N_("Proceedings")

    @property
    def label(self) -> str:
        return _(self.value)


@dataclass(frozen=True)
class TimelineEvent:
    on: dt.date
    stage: Stage
    person_id: str
    text: str


def timeline(store: Store, doc: dict[str, Any]) -> list[TimelineEvent]:
    """Dated events of the case, oldest first (undated facts are not placed on it)."""
    person_e = store.model["person"]
    children = {c.table: c for c in store.model.children("person")}
    events: list[TimelineEvent] = []

    def add(on: Any, stage: Stage, pid: str, text: str) -> None:
        if isinstance(on, dt.date):
            events.append(TimelineEvent(on, stage, pid, text))

    add(doc.get("opened_on"), Stage.CASE, "", _("Case opened"))
    add(doc.get("closed_on"), Stage.CASE, "", _("Case closed"))
    for p in doc[PERSONS]:
        pid = p["person_id"]
        add(p.get("recruitment_date"), Stage.RECRUITMENT, pid,
            _("Recruited in %(place)s") % {"place": country_name(p.get("recruitment_country")) or "?"})
        for leg in p.get("route_legs") or []:
            route = f"{country_name(leg.get('origin'))} → {country_name(leg.get('destination'))}"
            add(leg.get("departed_on"), Stage.MOVEMENT, pid, _("Departed: %(route)s") % {"route": route})
            add(leg.get("arrived_on"), Stage.MOVEMENT, pid, _("Arrived: %(route)s") % {"route": route})
        forms = code_label(person_e.fields["exploitation_forms"], (p.get("exploitation_forms") or ["?"])[0])
        add(p.get("exploitation_start"), Stage.EXPLOITATION, pid, _("Exploitation began: %(form)s") % {"form": forms})
        add(p.get("exploitation_end"), Stage.EXPLOITATION, pid, _("Exploitation ended"))
        for ident in p.get("identifications") or []:
            add(ident.get("identified_on"), Stage.IDENTIFICATION, pid,
                _("Identified by %(agency)s") % {"agency": ident.get("agency", "")})
            add(ident.get("referral_date"), Stage.REFERRAL, pid,
                _("Referred to %(agency)s") % {"agency": ident.get("referred_to") or "?"})
        charge_e = children["charges"]
        for charge in p.get("charges") or []:
            offence = code_label(charge_e.fields["offence"], charge.get("offence", ""))
            stage = code_label(charge_e.fields["stage"], charge.get("stage", ""))
            add(charge.get("charged_on"), Stage.PROCEEDINGS, pid, f"{offence}: {stage}")
    return sorted(events, key=lambda e: (e.on, list(Stage).index(e.stage)))


def referrals(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Identification records that refer the person on, with the person's id."""
    return [{"person_id": p["person_id"], **i} for p in doc[PERSONS]
            for i in p.get("identifications") or [] if i.get("referred_to")]
