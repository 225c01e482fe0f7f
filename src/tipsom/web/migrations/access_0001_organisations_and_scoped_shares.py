"""web organisations registry, scoped and revocable case shares, single-use TOTP steps

Revision ID: access_0001
Revises: web_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "access_0001"
down_revision = "web_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_organisations",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("org_type", sa.String(length=60), nullable=False),
        sa.Column("jurisdiction", sa.String(length=3), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_web_organisations")),
        sa.UniqueConstraint("name", name=op.f("uq_web_organisations_name")),
    )
    with op.batch_alter_table("web_case_shares", schema=None) as batch_op:
        # Shares made before scopes existed gave full access; they are kept as the narrowest
        # scope, so an upgrade never widens what another organisation sees.
        batch_op.add_column(sa.Column("scope", sa.String(length=20), server_default="summary", nullable=False))
        batch_op.add_column(sa.Column("ends_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("revoked_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("revoked_by", sa.String(length=64), nullable=True))
    with op.batch_alter_table("web_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("web_users", schema=None) as batch_op:
        batch_op.drop_column("totp_last_step")
    with op.batch_alter_table("web_case_shares", schema=None) as batch_op:
        batch_op.drop_column("revoked_by")
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("ends_on")
        batch_op.drop_column("scope")
    op.drop_table("web_organisations")
