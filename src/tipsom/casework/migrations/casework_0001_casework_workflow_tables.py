"""casework: service directory, referrals, case plans, tasks, assessments, NRM decisions, notes, approvals,
conflict-related documentation

Revision ID: casework_0001
Revises: access_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "casework_0001"
down_revision = "access_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "casework_approvals",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=12), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_casework_approvals_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_casework_approvals")),
    )
    with op.batch_alter_table("casework_approvals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_casework_approvals_case_id"), ["case_id"], unique=False)

    op.create_table(
        "casework_assessments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("person_key", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("assessor", sa.String(length=64), nullable=False),
        sa.Column("guardian", sa.String(length=200), nullable=True),
        sa.Column("result", sa.String(length=100), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=True),
        sa.Column("benefit_of_doubt", sa.Boolean(), nullable=True),
        sa.Column("notes_enc", sa.LargeBinary(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_casework_assessments_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_casework_assessments")),
    )
    with op.batch_alter_table("casework_assessments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_casework_assessments_case_id"), ["case_id"], unique=False)

    op.create_table(
        "casework_conflict_records",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("armed_group", sa.String(length=200), nullable=False),
        sa.Column("incident_on", sa.Date(), nullable=True),
        sa.Column("incident_place", sa.String(length=200), nullable=True),
        sa.Column("violence_type", sa.String(length=20), nullable=False),
        sa.Column("interview_enc", sa.LargeBinary(), nullable=True),
        sa.Column("consent_accountability", sa.Boolean(), nullable=False),
        sa.Column("consent_recorded_by", sa.String(length=64), nullable=True),
        sa.Column("consent_recorded_at", sa.DateTime(), nullable=True),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_casework_conflict_records_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_casework_conflict_records")),
    )
    with op.batch_alter_table("casework_conflict_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_casework_conflict_records_case_id"), ["case_id"], unique=False)

    op.create_table(
        "casework_notes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("org_code", sa.String(length=32), nullable=False),
        sa.Column("written_at", sa.DateTime(), nullable=False),
        sa.Column("narrative_enc", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_casework_notes_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["org_code"], ["web_organisations.code"], name=op.f("fk_casework_notes_org_code_web_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_casework_notes")),
    )
    with op.batch_alter_table("casework_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_casework_notes_case_id"), ["case_id"], unique=False)

    op.create_table(
        "casework_nrm_decisions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("person_key", sa.String(length=64), nullable=True),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("jurisdiction", sa.String(length=3), nullable=False),
        sa.Column("referred_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decision_maker", sa.String(length=200), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=True),
        sa.Column("reasons_enc", sa.LargeBinary(), nullable=True),
        sa.Column("recovery_ends_on", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_casework_nrm_decisions_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_casework_nrm_decisions")),
    )
    with op.batch_alter_table("casework_nrm_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_casework_nrm_decisions_case_id"), ["case_id"], unique=False)

    op.create_table(
        "casework_plan_items",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("goal_id", sa.String(length=36), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("service", sa.String(length=40), nullable=True),
        sa.Column("responsible_org", sa.String(length=32), nullable=False),
        sa.Column("responsible_worker", sa.String(length=64), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_casework_plan_items_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["goal_id"], ["casework_plan_items.id"], name=op.f("fk_casework_plan_items_goal_id_casework_plan_items")
        ),
        sa.ForeignKeyConstraint(
            ["responsible_org"],
            ["web_organisations.code"],
            name=op.f("fk_casework_plan_items_responsible_org_web_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_casework_plan_items")),
    )
    with op.batch_alter_table("casework_plan_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_casework_plan_items_case_id"), ["case_id"], unique=False)

    op.create_table(
        "casework_referrals",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("from_org", sa.String(length=32), nullable=False),
        sa.Column("to_org", sa.String(length=32), nullable=False),
        sa.Column("service", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("urgency", sa.String(length=12), nullable=False),
        sa.Column("consent_recorded_by", sa.String(length=64), nullable=False),
        sa.Column("consent_recorded_at", sa.DateTime(), nullable=False),
        sa.Column("consent_personal", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(), nullable=True),
        sa.Column("declined_at", sa.DateTime(), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.Column("answered_by", sa.String(length=64), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("personal_enc", sa.LargeBinary(), nullable=True),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_casework_referrals_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["from_org"], ["web_organisations.code"], name=op.f("fk_casework_referrals_from_org_web_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["to_org"], ["web_organisations.code"], name=op.f("fk_casework_referrals_to_org_web_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_casework_referrals")),
    )
    with op.batch_alter_table("casework_referrals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_casework_referrals_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_casework_referrals_from_org"), ["from_org"], unique=False)
        batch_op.create_index(batch_op.f("ix_casework_referrals_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_casework_referrals_to_org"), ["to_org"], unique=False)

    op.create_table(
        "casework_services",
        sa.Column("org_code", sa.String(length=32), nullable=False),
        sa.Column("service", sa.String(length=40), nullable=False),
        sa.Column("languages", sa.String(length=200), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_code"], ["web_organisations.code"], name=op.f("fk_casework_services_org_code_web_organisations")
        ),
        sa.PrimaryKeyConstraint("org_code", "service", name=op.f("pk_casework_services")),
    )
    op.create_table(
        "casework_tasks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("org_code", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("assignee", sa.String(length=64), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("remind_on", sa.Date(), nullable=True),
        sa.Column("alert_code", sa.String(length=40), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("done_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_casework_tasks_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["org_code"], ["web_organisations.code"], name=op.f("fk_casework_tasks_org_code_web_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_casework_tasks")),
    )
    with op.batch_alter_table("casework_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_casework_tasks_assignee"), ["assignee"], unique=False)
        batch_op.create_index(batch_op.f("ix_casework_tasks_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_casework_tasks_org_code"), ["org_code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("casework_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_casework_tasks_org_code"))
        batch_op.drop_index(batch_op.f("ix_casework_tasks_case_id"))
        batch_op.drop_index(batch_op.f("ix_casework_tasks_assignee"))

    op.drop_table("casework_tasks")
    op.drop_table("casework_services")
    with op.batch_alter_table("casework_referrals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_casework_referrals_to_org"))
        batch_op.drop_index(batch_op.f("ix_casework_referrals_status"))
        batch_op.drop_index(batch_op.f("ix_casework_referrals_from_org"))
        batch_op.drop_index(batch_op.f("ix_casework_referrals_case_id"))

    op.drop_table("casework_referrals")
    with op.batch_alter_table("casework_plan_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_casework_plan_items_case_id"))

    op.drop_table("casework_plan_items")
    with op.batch_alter_table("casework_nrm_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_casework_nrm_decisions_case_id"))

    op.drop_table("casework_nrm_decisions")
    with op.batch_alter_table("casework_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_casework_notes_case_id"))

    op.drop_table("casework_notes")
    with op.batch_alter_table("casework_conflict_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_casework_conflict_records_case_id"))

    op.drop_table("casework_conflict_records")
    with op.batch_alter_table("casework_assessments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_casework_assessments_case_id"))

    op.drop_table("casework_assessments")
    with op.batch_alter_table("casework_approvals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_casework_approvals_case_id"))

    op.drop_table("casework_approvals")
