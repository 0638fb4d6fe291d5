"""Internal auctions of a drop and their bids; the clan's bidding allowance.

Revision ID: c7a1e0d2b9f4
Revises: c4d5e6f7a8b9
Create Date: 2026-12-05 06:48:32.155402

"""

import sqlalchemy as sa
from alembic import op

revision = "c7a1e0d2b9f4"
down_revision = "c4d5e6f7a8b9"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auctions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clan_id", sa.Integer(), nullable=False),
        sa.Column("drop_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("start_price", sa.BigInteger(), nullable=False),
        sa.Column("increment", sa.BigInteger(), nullable=False),
        sa.Column("sealed", sa.Boolean(), nullable=False),
        sa.Column("eligibility", sa.String(length=16), nullable=False),
        sa.Column("snipe_window_s", sa.Integer(), nullable=False),
        sa.Column("snipe_extension_s", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("planned_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("winning_bid_id", sa.Integer(), nullable=True),
        sa.Column("sale_id", sa.Integer(), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "snipe_window_s >= 0 AND snipe_extension_s >= 0", name=op.f("ck_auctions_auction_snipe")
        ),
        sa.CheckConstraint(
            "start_price >= 1 AND increment >= 1", name=op.f("ck_auctions_auction_prices")
        ),
        sa.ForeignKeyConstraint(["clan_id"], ["clans.id"], name=op.f("fk_auctions_clan_id_clans")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_auctions_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(["drop_id"], ["drops.id"], name=op.f("fk_auctions_drop_id_drops")),
        sa.ForeignKeyConstraint(["sale_id"], ["sales.id"], name=op.f("fk_auctions_sale_id_sales")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auctions")),
    )
    with op.batch_alter_table("auctions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auctions_clan_id"), ["clan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_auctions_drop_id"), ["drop_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_auctions_status"), ["status"], unique=False)

    op.create_table(
        "bids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clan_id", sa.Integer(), nullable=False),
        sa.Column("auction_id", sa.Integer(), nullable=False),
        sa.Column("character_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount >= 1", name=op.f("ck_bids_bid_amount")),
        sa.ForeignKeyConstraint(
            ["auction_id"], ["auctions.id"], name=op.f("fk_bids_auction_id_auctions")
        ),
        sa.ForeignKeyConstraint(
            ["character_id"], ["characters.id"], name=op.f("fk_bids_character_id_characters")
        ),
        sa.ForeignKeyConstraint(["clan_id"], ["clans.id"], name=op.f("fk_bids_clan_id_clans")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_bids_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bids")),
    )
    with op.batch_alter_table("bids", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bids_auction_id"), ["auction_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bids_character_id"), ["character_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bids_clan_id"), ["clan_id"], unique=False)
    # auctions and bids reference each other: the winning bid's key is added once both exist.
    with op.batch_alter_table("auctions", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_auctions_winning_bid_id_bids"),
            "bids",
            ["winning_bid_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("clans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("auction_credit", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("auctions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_auctions_winning_bid_id_bids"), type_="foreignkey")
    with op.batch_alter_table("clans", schema=None) as batch_op:
        batch_op.drop_column("auction_credit")

    with op.batch_alter_table("bids", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bids_clan_id"))
        batch_op.drop_index(batch_op.f("ix_bids_character_id"))
        batch_op.drop_index(batch_op.f("ix_bids_auction_id"))

    op.drop_table("bids")
    with op.batch_alter_table("auctions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auctions_status"))
        batch_op.drop_index(batch_op.f("ix_auctions_drop_id"))
        batch_op.drop_index(batch_op.f("ix_auctions_clan_id"))

    op.drop_table("auctions")
