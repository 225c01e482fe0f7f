"""context data

Revision ID: context_0001
Revises: 0001
Create Date: 2026-11-28 21:17:41.062742
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "context_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "context_case_flags",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_key", sa.String(length=130), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=120), nullable=False),
        sa.Column("event_name", sa.Text(), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_context_case_flags")),
    )
    with op.batch_alter_table("context_case_flags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_context_case_flags_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_context_case_flags_person_key"), ["person_key"], unique=False)

    op.create_table(
        "context_imports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("encoding", sa.String(length=16), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("issues", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_context_imports")),
    )
    with op.batch_alter_table("context_imports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_context_imports_sha256"), ["sha256"], unique=False)

    op.create_table(
        "context_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subtype", sa.Text(), nullable=False),
        sa.Column("iso3", sa.String(length=3), nullable=False),
        sa.Column("admin1", sa.String(length=120), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("fatalities", sa.Float(), nullable=True),
        sa.Column("displaced", sa.Float(), nullable=True),
        sa.Column("affected", sa.Float(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["context_imports.id"],
            name=op.f("fk_context_events_import_id_context_imports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_context_events")),
    )
    with op.batch_alter_table("context_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_context_events_import_id"), ["import_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_context_events_iso3"), ["iso3"], unique=False)
        batch_op.create_index(batch_op.f("ix_context_events_start_date"), ["start_date"], unique=False)

    op.create_table(
        "context_incidents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("incident_date", sa.Date(), nullable=True),
        sa.Column("route", sa.Text(), nullable=True),
        sa.Column("region", sa.Text(), nullable=False),
        sa.Column("dead", sa.Float(), nullable=False),
        sa.Column("missing", sa.Float(), nullable=False),
        sa.Column("children", sa.Float(), nullable=True),
        sa.Column("females", sa.Float(), nullable=True),
        sa.Column("males", sa.Float(), nullable=True),
        sa.Column("survivors", sa.Float(), nullable=True),
        sa.Column("causes", sa.Text(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("location", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["context_imports.id"],
            name=op.f("fk_context_incidents_import_id_context_imports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_context_incidents")),
    )
    with op.batch_alter_table("context_incidents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_context_incidents_import_id"), ["import_id"], unique=False)

    op.create_table(
        "context_observations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("iso3", sa.String(length=3), nullable=False),
        sa.Column("admin1", sa.String(length=120), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("series", sa.String(length=120), nullable=False),
        sa.Column("series_name", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["context_imports.id"],
            name=op.f("fk_context_observations_import_id_context_imports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_context_observations")),
    )
    with op.batch_alter_table("context_observations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_context_observations_import_id"), ["import_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_context_observations_iso3"), ["iso3"], unique=False)
        batch_op.create_index(batch_op.f("ix_context_observations_series"), ["series"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("context_observations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_context_observations_series"))
        batch_op.drop_index(batch_op.f("ix_context_observations_iso3"))
        batch_op.drop_index(batch_op.f("ix_context_observations_import_id"))

    op.drop_table("context_observations")
    with op.batch_alter_table("context_incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_context_incidents_import_id"))

    op.drop_table("context_incidents")
    with op.batch_alter_table("context_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_context_events_start_date"))
        batch_op.drop_index(batch_op.f("ix_context_events_iso3"))
        batch_op.drop_index(batch_op.f("ix_context_events_import_id"))

    op.drop_table("context_events")
    with op.batch_alter_table("context_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_context_imports_sha256"))

    op.drop_table("context_imports")
    with op.batch_alter_table("context_case_flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_context_case_flags_person_key"))
        batch_op.drop_index(batch_op.f("ix_context_case_flags_case_id"))

    op.drop_table("context_case_flags")
