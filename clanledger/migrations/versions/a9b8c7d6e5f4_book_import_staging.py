"""Book imports are staged: ``book_imports`` gains the upload's status, account, default
category and bytes, so the mapping step and the confirm reach the same file on any worker.
Rows made before (none in practice) read as ``done``.

Revision ID: a9b8c7d6e5f4
Revises: f2a3b4c5d6e7
Create Date: 2026-12-05 09:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "a9b8c7d6e5f4"
down_revision = "f2a3b4c5d6e7"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("book_imports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default="done", nullable=False)
        )
        batch_op.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("category_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("content", sa.LargeBinary(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_book_imports_account_id_book_accounts"),
            "book_accounts",
            ["account_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_book_imports_category_id_book_categories"),
            "book_categories",
            ["category_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("book_imports", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_book_imports_category_id_book_categories"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_book_imports_account_id_book_accounts"), type_="foreignkey"
        )
        batch_op.drop_column("content")
        batch_op.drop_column("category_id")
        batch_op.drop_column("account_id")
        batch_op.drop_column("status")
