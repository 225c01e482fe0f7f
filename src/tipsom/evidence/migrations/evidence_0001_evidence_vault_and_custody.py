"""evidence vault and custody

Revision ID: evidence_0001
Revises: 0001
Create Date: 2026-11-28 21:14:48.523031
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "evidence_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "custody_seals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_seals")),
    )
    op.create_table(
        "evidence_items",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("exhibit_seq", sa.Integer(), nullable=False),
        sa.Column("exhibit_number", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("sha1", sa.String(length=40), nullable=False),
        sa.Column("md5", sa.String(length=32), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("original_name", sa.String(length=500), nullable=False),
        sa.Column("original_path", sa.Text(), nullable=False),
        sa.Column("mime_type", sa.String(length=200), nullable=False),
        sa.Column("file_modified_at", sa.String(length=32), nullable=True),
        sa.Column("file_changed_at", sa.String(length=32), nullable=True),
        sa.Column("collected_at", sa.String(length=32), nullable=False),
        sa.Column("collector", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=True),
        sa.Column("authority", sa.String(length=500), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("intake_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_evidence_items_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_items")),
        sa.UniqueConstraint("case_id", "exhibit_seq", name=op.f("uq_evidence_items_case_id")),
        sa.UniqueConstraint("exhibit_number", name=op.f("uq_evidence_items_exhibit_number")),
    )
    with op.batch_alter_table("evidence_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_items_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_items_sha256"), ["sha256"], unique=False)

    op.create_table(
        "custody_events",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("occurred_at", sa.String(length=32), nullable=False),
        sa.Column("place", sa.String(length=500), nullable=True),
        sa.Column("purpose", sa.String(length=500), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recipient", sa.String(length=200), nullable=True),
        sa.Column("authorisation", sa.String(length=500), nullable=True),
        sa.Column("corrects", sa.String(length=36), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("signer", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["evidence_items.id"], name=op.f("fk_custody_events_item_id_evidence_items")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_custody_events")),
        sa.UniqueConstraint("hash", name=op.f("uq_custody_events_hash")),
        sa.UniqueConstraint("id", name=op.f("uq_custody_events_id")),
    )
    with op.batch_alter_table("custody_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_custody_events_item_id"), ["item_id"], unique=False)

    op.create_table(
        "evidence_captures",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("captured_at", sa.String(length=32), nullable=False),
        sa.Column("tool", sa.String(length=200), nullable=False),
        sa.Column("operator", sa.String(length=200), nullable=False),
        sa.Column("warc_sha256", sa.String(length=64), nullable=False),
        sa.Column("screenshot_sha256", sa.String(length=64), nullable=True),
        sa.Column("screenshot_status", sa.Text(), nullable=False),
        sa.Column("records", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["evidence_items.id"], name=op.f("fk_evidence_captures_item_id_evidence_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_captures")),
        sa.UniqueConstraint("item_id", name=op.f("uq_evidence_captures_item_id")),
    )
    op.create_table(
        "evidence_working_copies",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=True),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_seq"], ["custody_events.seq"], name=op.f("fk_evidence_working_copies_event_seq_custody_events")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["evidence_items.id"], name=op.f("fk_evidence_working_copies_item_id_evidence_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_working_copies")),
    )
    with op.batch_alter_table("evidence_working_copies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_working_copies_item_id"), ["item_id"], unique=False)

    from tipsom.evidence.tables import APPEND_ONLY_DDL

    for statement in APPEND_ONLY_DDL.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    with op.batch_alter_table("evidence_working_copies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_working_copies_item_id"))

    op.drop_table("evidence_working_copies")
    op.drop_table("evidence_captures")
    with op.batch_alter_table("custody_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_custody_events_item_id"))

    op.drop_table("custody_events")
    with op.batch_alter_table("evidence_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_items_sha256"))
        batch_op.drop_index(batch_op.f("ix_evidence_items_case_id"))

    op.drop_table("evidence_items")
    op.drop_table("custody_seals")
