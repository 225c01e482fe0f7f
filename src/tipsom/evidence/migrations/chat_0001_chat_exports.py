"""chat exports: messages, participants, threads, attachments and findings of ingested chat exhibits

Revision ID: chat_0001
Revises: evidence_0001
Create Date: 2026-12-03 22:47:56.371467
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "chat_0001"
down_revision = "evidence_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_exports",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("assumptions", sa.Text(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("participants", sa.Integer(), nullable=False),
        sa.Column("attachments", sa.Integer(), nullable=False),
        sa.Column("ingested_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["evidence_items.id"], name=op.f("fk_chat_exports_item_id_evidence_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_exports")),
        sa.UniqueConstraint("item_id", name=op.f("uq_chat_exports_item_id")),
    )
    op.create_table(
        "chat_attachments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("export_id", sa.String(length=36), nullable=False),
        sa.Column("message_seq", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("name_enc", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["export_id"], ["chat_exports.id"], name=op.f("fk_chat_attachments_export_id_chat_exports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_attachments")),
    )
    with op.batch_alter_table("chat_attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_attachments_export_id"), ["export_id"], unique=False)

    op.create_table(
        "chat_findings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("export_id", sa.String(length=36), nullable=False),
        sa.Column("message_seq", sa.Integer(), nullable=False),
        sa.Column("finding", sa.String(length=10), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("obfuscated", sa.Boolean(), nullable=False),
        sa.Column("value_enc", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["export_id"], ["chat_exports.id"], name=op.f("fk_chat_findings_export_id_chat_exports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_findings")),
    )
    with op.batch_alter_table("chat_findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_findings_export_id"), ["export_id"], unique=False)

    op.create_table(
        "chat_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("export_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("thread_seq", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.String(length=32), nullable=False),
        sa.Column("sender_seq", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("origin", sa.String(length=200), nullable=False),
        sa.Column("message_id", sa.String(length=100), nullable=False),
        sa.Column("reply_to", sa.String(length=100), nullable=False),
        sa.Column("text_enc", sa.LargeBinary(), nullable=False),
        sa.Column("forwarded_from_enc", sa.LargeBinary(), nullable=True),
        sa.Column("recipient_enc", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["export_id"], ["chat_exports.id"], name=op.f("fk_chat_messages_export_id_chat_exports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_messages")),
        sa.UniqueConstraint("export_id", "seq", name=op.f("uq_chat_messages_export_id")),
    )
    op.create_table(
        "chat_participants",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("export_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("key_enc", sa.LargeBinary(), nullable=False),
        sa.Column("name_enc", sa.LargeBinary(), nullable=False),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["export_id"], ["chat_exports.id"], name=op.f("fk_chat_participants_export_id_chat_exports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_participants")),
        sa.UniqueConstraint("export_id", "seq", name=op.f("uq_chat_participants_export_id")),
    )
    with op.batch_alter_table("chat_participants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_participants_export_id"), ["export_id"], unique=False)

    op.create_table(
        "chat_threads",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("export_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("title_enc", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["export_id"], ["chat_exports.id"], name=op.f("fk_chat_threads_export_id_chat_exports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_threads")),
        sa.UniqueConstraint("export_id", "seq", name=op.f("uq_chat_threads_export_id")),
    )
    with op.batch_alter_table("chat_threads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_threads_export_id"), ["export_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("chat_threads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_threads_export_id"))

    op.drop_table("chat_threads")
    with op.batch_alter_table("chat_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_participants_export_id"))

    op.drop_table("chat_participants")
    op.drop_table("chat_messages")
    with op.batch_alter_table("chat_findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_findings_export_id"))

    op.drop_table("chat_findings")
    with op.batch_alter_table("chat_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_attachments_export_id"))

    op.drop_table("chat_attachments")
    op.drop_table("chat_exports")
