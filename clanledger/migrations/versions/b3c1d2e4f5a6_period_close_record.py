"""Periods keep why a month was closed early and the figures its close showed; memberships
keep why a member with diamonds to settle was removed.

Revision ID: b3c1d2e4f5a6
Revises: 60e070aa28ff
Create Date: 2026-12-04 17:45:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b3c1d2e4f5a6"
down_revision = "60e070aa28ff"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("periods", schema=None) as batch_op:
        batch_op.add_column(sa.Column("early_close_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("close_figures", sa.JSON(), nullable=True))
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(sa.Column("removal_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_column("removal_reason")
    with op.batch_alter_table("periods", schema=None) as batch_op:
        batch_op.drop_column("close_figures")
        batch_op.drop_column("early_close_reason")
