"""API tokens: the personal scope (the book's routes); existing tokens do not have it.

Revision ID: f0a1b2c3d4e5
Revises: e7f6a5b4c3d2
Create Date: 2026-12-05 09:20:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "f0a1b2c3d4e5"
down_revision = "e7f6a5b4c3d2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("personal", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("personal")
