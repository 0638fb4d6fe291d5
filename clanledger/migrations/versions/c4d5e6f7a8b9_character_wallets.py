"""Characters can share one wallet (one purse): ``characters.wallet_character_id`` names the
character whose purse a character shares, always a lower id (checked). Existing characters
get NULL, a wallet of their own, so every plan made before stays exactly what it was.

Revision ID: c4d5e6f7a8b9
Revises: b3c1d2e4f5a6
Create Date: 2026-12-05 06:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c4d5e6f7a8b9"
down_revision = "b3c1d2e4f5a6"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("characters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wallet_character_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_characters_wallet_character_id"), ["wallet_character_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_characters_wallet_character_id_characters"),
            "characters",
            ["wallet_character_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_characters_wallet_below_id"), "wallet_character_id < id"
        )


def downgrade() -> None:
    with op.batch_alter_table("characters", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_characters_wallet_below_id"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_characters_wallet_character_id_characters"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_characters_wallet_character_id"))
        batch_op.drop_column("wallet_character_id")
