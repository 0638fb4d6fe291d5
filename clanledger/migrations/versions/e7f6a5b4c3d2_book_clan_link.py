"""The clan link's claim accounts: ``book_accounts.link_ref`` says what a read-only mirror
account mirrors ("clan:<clan id>"), unique per user. Existing accounts get NULL.

Revision ID: e7f6a5b4c3d2
Revises: a9b8c7d6e5f4
Create Date: 2026-12-05 09:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e7f6a5b4c3d2"
down_revision = "a9b8c7d6e5f4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("book_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("link_ref", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_book_accounts_user_id_link_ref"), ["user_id", "link_ref"]
        )


def downgrade() -> None:
    with op.batch_alter_table("book_accounts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_book_accounts_user_id_link_ref"), type_="unique")
        batch_op.drop_column("link_ref")
