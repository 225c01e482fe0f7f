"""name search tokens (keyed hashes of name words and prefixes); indexes for possible duplicates

Revision ID: search_0001
Revises: 0001

The tables start empty: tokens need the data key, which a migration does not
have. The first name search after the upgrade builds them (see
``tipsom.store.search``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "search_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "name_search_token",
        sa.Column("person_key", sa.String(length=130), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("person_key", "token", name=op.f("pk_name_search_token")),
    )
    op.create_index(op.f("ix_name_search_token_token"), "name_search_token", ["token"], unique=False)
    op.create_table(
        "name_search_person",
        sa.Column("person_key", sa.String(length=130), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.Column("named", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("person_key", name=op.f("pk_name_search_person")),
    )
    op.create_index("ix_persons_pseudo_birth_date", "persons", ["pseudo_birth_date"], unique=False)
    op.create_index("ix_persons_pseudo_id_number", "persons", ["pseudo_id_number"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_persons_pseudo_id_number", table_name="persons")
    op.drop_index("ix_persons_pseudo_birth_date", table_name="persons")
    op.drop_table("name_search_person")
    op.drop_index(op.f("ix_name_search_token_token"), table_name="name_search_token")
    op.drop_table("name_search_token")
