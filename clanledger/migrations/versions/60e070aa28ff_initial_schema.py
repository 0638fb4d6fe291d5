"""Initial schema: accounts, clans, rates, characters, audit log, loot, journal, periods.

Revision ID: 60e070aa28ff
Revises:
Create Date: 2026-11-26 00:23:07.989618

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "60e070aa28ff"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("server", sa.String(length=64), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("fee_policy", sa.String(length=16), nullable=False),
        sa.Column("settlement_period", sa.String(length=16), nullable=False),
        sa.Column("carry_threshold", sa.Integer(), nullable=False),
        sa.Column("caller_bonus", sa.String(length=32), nullable=False),
        sa.Column("checkin_window_minutes", sa.Integer(), nullable=False),
        sa.Column("rollcall_lock_minutes", sa.Integer(), nullable=False),
        sa.Column("invite_code", sa.String(length=32), nullable=False),
        sa.Column("treasurer_character_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clans")),
        sa.UniqueConstraint("invite_code", name=op.f("uq_clans_invite_code")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("clan_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.BigInteger(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_audit_log_actor_id_users")
        ),
        sa.ForeignKeyConstraint(["clan_id"], ["clans.id"], name=op.f("fk_audit_log_clan_id_clans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_clan_id"), ["clan_id"], unique=False)

    op.create_table(
        "bosses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clan_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["clan_id"], ["clans.id"], name=op.f("fk_bosses_clan_id_clans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bosses")),
        sa.UniqueConstraint("clan_id", "name", name=op.f("uq_bosses_clan_id_name")),
    )
    with op.batch_alter_table("bosses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bosses_clan_id"), ["clan_id"], unique=False)

    op.create_table(
        "characters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clan_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("char_class", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("claim_token_hash", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clan_id"], ["clans.id"], name=op.f("fk_characters_clan_id_clans")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_characters_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_characters")),
        sa.UniqueConstraint("claim_token_hash", name=op.f("uq_characters_claim_token_hash")),
        sa.UniqueConstraint("clan_id", "name", name=op.f("uq_characters_clan_id_name")),
    )
    with op.batch_alter_table("characters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_characters_clan_id"), ["clan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_characters_user_id"), ["user_id"], unique=False)
    # clans and characters reference each other: the treasurer's key is added once both exist.
    with op.batch_alter_table("clans", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_clans_treasurer_character_id_characters"),
            "characters",
            ["treasurer_character_id"],
            ["id"],
            ondelete="SET NULL",
        )

    op.create_table(
        "clan_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clan_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("exchange_fee", "fund_cut", name="ratekind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("bps", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clan_id"], ["clans.id"], name=op.f("fk_clan_rates_clan_id_clans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clan_rates")),
        sa.UniqueConstraint(
            "clan_id",
            "kind",
            "effective_from",
            name=op.f("uq_clan_rates_clan_id_kind_effective_from"),
        ),
    )
    with op.batch_alter_table("clan_rates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clan_rates_clan_id"), ["clan_id"], unique=False)

    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clan_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum("leader", "officer", "member", name="role", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clan_id"], ["clans.id"], name=op.f("fk_memberships_clan_id_clans")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_memberships_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
        sa.UniqueConstraint("clan_id", "user_id", name=op.f("uq_memberships_clan_id_user_id")),
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_memberships_clan_id"), ["clan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_memberships_user_id"), ["user_id"], unique=False)

    op.create_table(
        "password_reset_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("clan_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clan_id"], ["clans.id"], name=op.f("fk_password_reset_tokens_clan_id_clans")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_password_reset_tokens_created_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_password_reset_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_reset_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_reset_tokens_token_hash")),
    )
    with op.batch_alter_table("password_reset_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_password_reset_tokens_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clan_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "closed", name="periodstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("close_count", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["clan_id"], ["clans.id"], name=op.f("fk_periods_clan_id_clans")),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["users.id"], name=op.f("fk_periods_closed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_periods")),
        sa.UniqueConstraint("clan_id", "starts_on", name=op.f("uq_periods_clan_id_starts_on")),
    )
    with op.batch_alter_table("periods", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_periods_clan_id"), ["clan_id"], unique=False)

    op.create_table(
        "journal_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clan_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "sale",
                "internal_purchase",
                "transfer",
                "adjustment",
                "reversal",
                "opening",
                name="entrykind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("memo", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source_type", sa.String(length=32), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=100), nullable=True),
        sa.Column("reverses_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clan_id"], ["clans.id"], name=op.f("fk_journal_entries_clan_id_clans")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_journal_entries_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["period_id"], ["periods.id"], name=op.f("fk_journal_entries_period_id_periods")
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["journal_entries.id"],
            name=op.f("fk_journal_entries_reverses_id_journal_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
        sa.UniqueConstraint(
            "clan_id", "idempotency_key", name=op.f("uq_journal_entries_clan_id_idempotency_key")
        ),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_journal_entries_reverses_id")),
    )
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_journal_entries_clan_id"), ["clan_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_journal_entries_period_id"), ["period_id"], unique=False
        )

    op.create_table(
        "kills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clan_id", sa.Integer(), nullable=False),
        sa.Column("boss_id", sa.Integer(), nullable=False),
        sa.Column("killed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checkin_code", sa.String(length=16), nullable=True),
        sa.Column("checkin_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rollcall_locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("caller_character_id", sa.Integer(), nullable=True),
        sa.Column("caller_bonus", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["boss_id"], ["bosses.id"], name=op.f("fk_kills_boss_id_bosses")),
        sa.ForeignKeyConstraint(
            ["caller_character_id"],
            ["characters.id"],
            name=op.f("fk_kills_caller_character_id_characters"),
        ),
        sa.ForeignKeyConstraint(["clan_id"], ["clans.id"], name=op.f("fk_kills_clan_id_clans")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_kills_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kills")),
        sa.UniqueConstraint("clan_id", "request_key", name=op.f("uq_kills_clan_id_request_key")),
    )
    with op.batch_alter_table("kills", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kills_clan_id"), ["clan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kills_killed_at"), ["killed_at"], unique=False)

    op.create_table(
        "attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clan_id", sa.Integer(), nullable=False),
        sa.Column("kill_id", sa.Integer(), nullable=False),
        sa.Column("character_id", sa.Integer(), nullable=False),
        sa.Column("weight", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["character_id"], ["characters.id"], name=op.f("fk_attendance_character_id_characters")
        ),
        sa.ForeignKeyConstraint(
            ["clan_id"], ["clans.id"], name=op.f("fk_attendance_clan_id_clans")
        ),
        sa.ForeignKeyConstraint(
            ["kill_id"], ["kills.id"], name=op.f("fk_attendance_kill_id_kills")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance")),
        sa.UniqueConstraint(
            "kill_id", "character_id", name=op.f("uq_attendance_kill_id_character_id")
        ),
    )
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attendance_character_id"), ["character_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_attendance_clan_id"), ["clan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_attendance_kill_id"), ["kill_id"], unique=False)

    op.create_table(
        "drops",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clan_id", sa.Integer(), nullable=False),
        sa.Column("kill_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("grade", sa.String(length=32), nullable=False),
        sa.Column("holder_character_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "held",
                "listed",
                "unsold",
                "sold",
                "bought",
                "stored",
                name="dropstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("asking_price", sa.BigInteger(), nullable=True),
        sa.Column("listed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("relist_count", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "asking_price IS NULL OR asking_price >= 0", name=op.f("ck_drops_price")
        ),
        sa.ForeignKeyConstraint(["clan_id"], ["clans.id"], name=op.f("fk_drops_clan_id_clans")),
        sa.ForeignKeyConstraint(
            ["holder_character_id"],
            ["characters.id"],
            name=op.f("fk_drops_holder_character_id_characters"),
        ),
        sa.ForeignKeyConstraint(["kill_id"], ["kills.id"], name=op.f("fk_drops_kill_id_kills")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drops")),
        sa.UniqueConstraint("clan_id", "request_key", name=op.f("uq_drops_clan_id_request_key")),
    )
    with op.batch_alter_table("drops", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drops_clan_id"), ["clan_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_drops_holder_character_id"), ["holder_character_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_drops_kill_id"), ["kill_id"], unique=False)

    op.create_table(
        "postings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("clan_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("account_kind", sa.String(length=16), nullable=False),
        sa.Column("character_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["character_id"], ["characters.id"], name=op.f("fk_postings_character_id_characters")
        ),
        sa.ForeignKeyConstraint(["clan_id"], ["clans.id"], name=op.f("fk_postings_clan_id_clans")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_postings_entry_id_journal_entries")
        ),
        sa.ForeignKeyConstraint(
            ["period_id"], ["periods.id"], name=op.f("fk_postings_period_id_periods")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postings")),
    )
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_postings_character_id"), ["character_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_postings_clan_id"), ["clan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_postings_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_postings_period_id"), ["period_id"], unique=False)

    op.create_table(
        "transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clan_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("close_round", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("payer_kind", sa.String(length=16), nullable=False),
        sa.Column("payer_character_id", sa.Integer(), nullable=True),
        sa.Column("receiver_kind", sa.String(length=16), nullable=False),
        sa.Column("receiver_character_id", sa.Integer(), nullable=True),
        sa.Column("net", sa.BigInteger(), nullable=False),
        sa.Column("gross", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("fee_bps", sa.Integer(), nullable=False),
        sa.Column("fee_policy", sa.String(length=16), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "planned", "paid", "confirmed", name="transferstatus", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("paid_gross", sa.BigInteger(), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("screenshot", sa.String(length=200), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("why", sa.JSON(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "net >= 0 AND gross >= 0 AND fee >= 0", name=op.f("ck_transfers_amounts")
        ),
        sa.ForeignKeyConstraint(["clan_id"], ["clans.id"], name=op.f("fk_transfers_clan_id_clans")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_transfers_entry_id_journal_entries")
        ),
        sa.ForeignKeyConstraint(
            ["payer_character_id"],
            ["characters.id"],
            name=op.f("fk_transfers_payer_character_id_characters"),
        ),
        sa.ForeignKeyConstraint(
            ["period_id"], ["periods.id"], name=op.f("fk_transfers_period_id_periods")
        ),
        sa.ForeignKeyConstraint(
            ["receiver_character_id"],
            ["characters.id"],
            name=op.f("fk_transfers_receiver_character_id_characters"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
        sa.UniqueConstraint(
            "period_id", "close_round", "seq", name=op.f("uq_transfers_period_id_close_round_seq")
        ),
    )
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transfers_clan_id"), ["clan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_transfers_period_id"), ["period_id"], unique=False)

    op.create_table(
        "sales",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clan_id", sa.Integer(), nullable=False),
        sa.Column("drop_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("gross_price", sa.BigInteger(), nullable=True),
        sa.Column("received", sa.BigInteger(), nullable=False),
        sa.Column("expected_received", sa.BigInteger(), nullable=True),
        sa.Column("fee_bps", sa.Integer(), nullable=False),
        sa.Column("fund_cut_bps", sa.Integer(), nullable=False),
        sa.Column("buyer_character_id", sa.Integer(), nullable=True),
        sa.Column("sold_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("received >= 0", name=op.f("ck_sales_received")),
        sa.ForeignKeyConstraint(
            ["buyer_character_id"],
            ["characters.id"],
            name=op.f("fk_sales_buyer_character_id_characters"),
        ),
        sa.ForeignKeyConstraint(["clan_id"], ["clans.id"], name=op.f("fk_sales_clan_id_clans")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_sales_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(["drop_id"], ["drops.id"], name=op.f("fk_sales_drop_id_drops")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_sales_entry_id_journal_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales")),
        sa.UniqueConstraint("drop_id", name=op.f("uq_sales_drop_id")),
    )
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sales_clan_id"), ["clan_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sales_clan_id"))

    op.drop_table("sales")
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transfers_period_id"))
        batch_op.drop_index(batch_op.f("ix_transfers_clan_id"))

    op.drop_table("transfers")
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_postings_period_id"))
        batch_op.drop_index(batch_op.f("ix_postings_entry_id"))
        batch_op.drop_index(batch_op.f("ix_postings_clan_id"))
        batch_op.drop_index(batch_op.f("ix_postings_character_id"))

    op.drop_table("postings")
    with op.batch_alter_table("drops", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drops_kill_id"))
        batch_op.drop_index(batch_op.f("ix_drops_holder_character_id"))
        batch_op.drop_index(batch_op.f("ix_drops_clan_id"))

    op.drop_table("drops")
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attendance_kill_id"))
        batch_op.drop_index(batch_op.f("ix_attendance_clan_id"))
        batch_op.drop_index(batch_op.f("ix_attendance_character_id"))

    op.drop_table("attendance")
    with op.batch_alter_table("kills", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kills_killed_at"))
        batch_op.drop_index(batch_op.f("ix_kills_clan_id"))

    op.drop_table("kills")
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journal_entries_period_id"))
        batch_op.drop_index(batch_op.f("ix_journal_entries_clan_id"))

    op.drop_table("journal_entries")
    with op.batch_alter_table("periods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_periods_clan_id"))

    op.drop_table("periods")
    with op.batch_alter_table("password_reset_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_password_reset_tokens_user_id"))

    op.drop_table("password_reset_tokens")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_memberships_user_id"))
        batch_op.drop_index(batch_op.f("ix_memberships_clan_id"))

    op.drop_table("memberships")
    with op.batch_alter_table("clan_rates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clan_rates_clan_id"))

    op.drop_table("clan_rates")
    with op.batch_alter_table("characters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_characters_user_id"))
        batch_op.drop_index(batch_op.f("ix_characters_clan_id"))

    with op.batch_alter_table("clans", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_clans_treasurer_character_id_characters"), type_="foreignkey"
        )
    op.drop_table("characters")
    with op.batch_alter_table("bosses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bosses_clan_id"))

    op.drop_table("bosses")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_clan_id"))

    op.drop_table("audit_log")
    op.drop_table("users")
    op.drop_table("clans")
