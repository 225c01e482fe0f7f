"""web dashboard chart snapshots

Revision ID: web_0002
Revises: web_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "web_0002"
down_revision = "web_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_chart_snapshots",
        sa.Column("filter_key", sa.String(length=40), nullable=False),
        sa.Column("data_version", sa.String(length=40), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("software", sa.String(length=40), nullable=False),
        sa.Column("charts", sa.Text(), nullable=False),
        sa.Column("drawn_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("filter_key", name=op.f("pk_web_chart_snapshots")),
    )
    with op.batch_alter_table("web_chart_snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_chart_snapshots_drawn_at"), ["drawn_at"], unique=False)


def downgrade() -> None:
    op.drop_table("web_chart_snapshots")
