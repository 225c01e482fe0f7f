"""Casework tables on the shared metadata: services, referrals, plans, tasks, assessments,
NRM decisions, notes, approvals and conflict-related documentation.

Organisations are referred to by their registry code (``web_organisations.code``)
and people by username: casework sits below the web layer and must not import
it, and a code survives an organisation's change of name. Free text that may
describe a victim (notes, interview records, decision reasons, a referral's
personal part) is stored only sealed with the store's data key, in ``*_enc``
columns, like the persons' personal fields.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    LargeBinary,
    String,
    Table,
    Text,
)

from tipsom.store.base import CASES_TABLE, metadata

ORGANISATION = "web_organisations.code"
ID = String(36)
USERNAME = String(64)
ORG_CODE = String(32)
CODE = String(40)


def _case() -> Column[str]:
    return Column("case_id", String(64), ForeignKey(f"{CASES_TABLE}.id", ondelete="CASCADE"), nullable=False,
                  index=True)


services = Table(
    "casework_services", metadata,
    Column("org_code", ORG_CODE, ForeignKey(ORGANISATION), primary_key=True),
    Column("service", CODE, primary_key=True),
    #: ISO 639 codes, comma-separated: a referral for a victim who speaks Tigrinya looks here first.
    Column("languages", String(200), nullable=False),
    Column("contact", String(200), nullable=False),
    Column("updated_by", USERNAME, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

referrals = Table(
    "casework_referrals", metadata,
    Column("id", ID, primary_key=True),
    _case(),
    Column("from_org", ORG_CODE, ForeignKey(ORGANISATION), nullable=False, index=True),
    Column("to_org", ORG_CODE, ForeignKey(ORGANISATION), nullable=False, index=True),
    #: Unknown (null) only for a referral read from an HTCDS file, which does not say which service was asked.
    Column("service", CODE, nullable=True),
    Column("reason", CODE, nullable=False),
    Column("urgency", String(12), nullable=False),
    #: The victim's informed consent to this referral: who recorded it and when (required).
    Column("consent_recorded_by", USERNAME, nullable=False),
    Column("consent_recorded_at", DateTime, nullable=False),
    #: Whether the consent covers passing personal data to the receiving organisation.
    Column("consent_personal", Boolean, nullable=False),
    Column("status", String(12), nullable=False, index=True),
    Column("created_by", USERNAME, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("sent_at", DateTime, nullable=True),
    Column("accepted_at", DateTime, nullable=True),
    Column("declined_at", DateTime, nullable=True),
    Column("decline_reason", Text, nullable=True),
    Column("completed_at", DateTime, nullable=True),
    Column("cancelled_at", DateTime, nullable=True),
    Column("answered_by", USERNAME, nullable=True),
    #: What the receiving organisation sees, chosen at sending: no names, never the case itself.
    Column("summary", Text, nullable=False),
    #: Personal data shared with consent only (sealed JSON).
    Column("personal_enc", LargeBinary, nullable=True),
    Column("feedback", Text, nullable=True),
)

plan_items = Table(
    "casework_plan_items", metadata,
    Column("id", ID, primary_key=True),
    _case(),
    Column("kind", String(10), nullable=False),
    Column("goal_id", ID, ForeignKey("casework_plan_items.id"), nullable=True),
    Column("description", Text, nullable=False),
    Column("service", CODE, nullable=True),
    Column("responsible_org", ORG_CODE, ForeignKey(ORGANISATION), nullable=False),
    Column("responsible_worker", USERNAME, nullable=True),
    Column("starts_on", Date, nullable=True),
    Column("ends_on", Date, nullable=True),
    Column("status", String(12), nullable=False),
    Column("outcome", Text, nullable=True),
    Column("created_by", USERNAME, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

tasks = Table(
    "casework_tasks", metadata,
    Column("id", ID, primary_key=True),
    _case(),
    Column("org_code", ORG_CODE, ForeignKey(ORGANISATION), nullable=False, index=True),
    Column("title", String(300), nullable=False),
    Column("assignee", USERNAME, nullable=False, index=True),
    Column("due_on", Date, nullable=False),
    Column("remind_on", Date, nullable=True),
    #: The screening alert this task follows up (e.g. CHILD_PROTECTION), if any.
    Column("alert_code", CODE, nullable=True),
    Column("created_by", USERNAME, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("done_at", DateTime, nullable=True),
    Column("done_by", USERNAME, nullable=True),
)

assessments = Table(
    "casework_assessments", metadata,
    Column("id", ID, primary_key=True),
    _case(),
    Column("person_key", String(64), nullable=True),
    Column("kind", String(10), nullable=False),
    Column("assessed_on", Date, nullable=False),
    Column("assessor", USERNAME, nullable=False),
    #: The child's guardian, who takes part in a BIA and a BID (role or service, not a private person's name).
    Column("guardian", String(200), nullable=True),
    Column("result", String(100), nullable=False),
    Column("method", String(20), nullable=True),
    Column("benefit_of_doubt", Boolean, nullable=True),
    Column("notes_enc", LargeBinary, nullable=True),
    Column("recorded_at", DateTime, nullable=False),
)

nrm_decisions = Table(
    "casework_nrm_decisions", metadata,
    Column("id", ID, primary_key=True),
    _case(),
    Column("person_key", String(64), nullable=True),
    Column("stage", String(20), nullable=False),
    Column("jurisdiction", String(3), nullable=False),
    Column("referred_on", Date, nullable=False),
    #: Computed from the jurisdiction's deadline rules when the referral to the NRM is recorded.
    Column("due_on", Date, nullable=False),
    Column("decided_on", Date, nullable=True),
    Column("decision_maker", String(200), nullable=True),
    Column("outcome", String(10), nullable=True),
    Column("reasons_enc", LargeBinary, nullable=True),
    Column("recovery_ends_on", Date, nullable=True),
    Column("recorded_by", USERNAME, nullable=False),
    Column("recorded_at", DateTime, nullable=False),
)

notes = Table(
    "casework_notes", metadata,
    Column("id", ID, primary_key=True),
    _case(),
    Column("author", USERNAME, nullable=False),
    Column("org_code", ORG_CODE, ForeignKey(ORGANISATION), nullable=False),
    Column("written_at", DateTime, nullable=False),
    Column("narrative_enc", LargeBinary, nullable=False),
)

approvals = Table(
    "casework_approvals", metadata,
    Column("id", ID, primary_key=True),
    _case(),
    Column("subject", String(12), nullable=False),
    Column("requested_by", USERNAME, nullable=False),
    Column("requested_at", DateTime, nullable=False),
    Column("reason", Text, nullable=False),
    Column("decision", String(10), nullable=True),
    Column("decided_by", USERNAME, nullable=True),
    Column("decided_at", DateTime, nullable=True),
    Column("comment", Text, nullable=True),
)

conflict_records = Table(
    "casework_conflict_records", metadata,
    Column("id", ID, primary_key=True),
    _case(),
    Column("armed_group", String(200), nullable=False),
    Column("incident_on", Date, nullable=True),
    Column("incident_place", String(200), nullable=True),
    Column("violence_type", String(20), nullable=False),
    Column("interview_enc", LargeBinary, nullable=True),
    #: Informed consent to share with an accountability mechanism (e.g. a UN investigative team).
    Column("consent_accountability", Boolean, nullable=False),
    Column("consent_recorded_by", USERNAME, nullable=True),
    Column("consent_recorded_at", DateTime, nullable=True),
    Column("recorded_by", USERNAME, nullable=False),
    Column("recorded_at", DateTime, nullable=False),
)
