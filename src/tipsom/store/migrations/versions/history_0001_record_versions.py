"""record history: earlier states of cases and persons, personal values still sealed

Revision ID: history_0001
Revises: key_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "history_0001"
down_revision = "key_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=False),
        sa.Column("change", sa.String(length=20), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_versions")),
        sa.UniqueConstraint("case_id", "version", name="uq_record_versions_case_version"),
    )
    op.create_index(op.f("ix_record_versions_case_id"), "record_versions", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_record_versions_case_id"), table_name="record_versions")
    op.drop_table("record_versions")
