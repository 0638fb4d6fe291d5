"""The personal book: accounts, categories, transactions and postings, recurring rules,
budgets, imports and the personal audit trail.

Revision ID: f2a3b4c5d6e7
Revises: e1f2a3b4c5d6
Create Date: 2026-12-05 09:06:20.392470

"""
from alembic import op
import sqlalchemy as sa


revision = 'f2a3b4c5d6e7'
down_revision = 'e1f2a3b4c5d6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('book_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('type', sa.Enum('cash', 'bank', 'credit_card', 'e_wallet', 'diamonds', name='accounttype', native_enum=False, length=16), nullable=False),
    sa.Column('currency', sa.String(length=8), nullable=False),
    sa.Column('minor_digits', sa.Integer(), nullable=False),
    sa.Column('closing_day', sa.Integer(), nullable=True),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('read_only', sa.Boolean(), nullable=False),
    sa.Column('sort', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('minor_digits >= 0 AND minor_digits <= 4', name=op.f('ck_book_accounts_minor_digits')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_book_accounts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_book_accounts')),
    sa.UniqueConstraint('user_id', 'name', name=op.f('uq_book_accounts_user_id_name'))
    )
    with op.batch_alter_table('book_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_book_accounts_user_id'), ['user_id'], unique=False)

    op.create_table('book_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('summary', sa.String(length=255), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_book_audit_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_book_audit'))
    )
    with op.batch_alter_table('book_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_book_audit_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_book_audit_user_id'), ['user_id'], unique=False)

    op.create_table('book_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('expense', 'income', name='categorykind', native_enum=False, length=16), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=True),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('sort', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['book_categories.id'], name=op.f('fk_book_categories_parent_id_book_categories')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_book_categories_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_book_categories')),
    sa.UniqueConstraint('user_id', 'parent_id', 'name', name=op.f('uq_book_categories_user_id_parent_id_name'))
    )
    with op.batch_alter_table('book_categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_book_categories_user_id'), ['user_id'], unique=False)

    op.create_table('book_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('rows_read', sa.Integer(), nullable=False),
    sa.Column('rows_imported', sa.Integer(), nullable=False),
    sa.Column('rows_duplicate', sa.Integer(), nullable=False),
    sa.Column('mapping', sa.JSON(), nullable=True),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_book_imports_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_book_imports'))
    )
    with op.batch_alter_table('book_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_book_imports_user_id'), ['user_id'], unique=False)

    op.create_table('book_budgets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=8), nullable=False),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_book_budgets_amount')),
    sa.ForeignKeyConstraint(['category_id'], ['book_categories.id'], name=op.f('fk_book_budgets_category_id_book_categories')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_book_budgets_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_book_budgets')),
    sa.UniqueConstraint('user_id', 'category_id', 'month', name=op.f('uq_book_budgets_user_id_category_id_month'))
    )
    with op.batch_alter_table('book_budgets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_book_budgets_user_id'), ['user_id'], unique=False)

    op.create_table('book_profiles',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('default_currency', sa.String(length=8), nullable=False),
    sa.Column('clan_link_account_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['clan_link_account_id'], ['book_accounts.id'], name=op.f('fk_book_profiles_clan_link_account_id_book_accounts')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_book_profiles_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_book_profiles'))
    )
    op.create_table('book_recurring',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.Enum('expense', 'income', 'transfer', 'opening', 'clan', name='txnkind', native_enum=False, length=16), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('to_account_id', sa.Integer(), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('payee', sa.String(length=128), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('frequency', sa.Enum('weekly', 'monthly', 'yearly', name='frequency', native_enum=False, length=16), nullable=False),
    sa.Column('every', sa.Integer(), nullable=False),
    sa.Column('day', sa.Integer(), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('next_on', sa.Date(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_book_recurring_amount')),
    sa.CheckConstraint('every >= 1', name=op.f('ck_book_recurring_every')),
    sa.ForeignKeyConstraint(['account_id'], ['book_accounts.id'], name=op.f('fk_book_recurring_account_id_book_accounts')),
    sa.ForeignKeyConstraint(['category_id'], ['book_categories.id'], name=op.f('fk_book_recurring_category_id_book_categories')),
    sa.ForeignKeyConstraint(['to_account_id'], ['book_accounts.id'], name=op.f('fk_book_recurring_to_account_id_book_accounts')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_book_recurring_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_book_recurring'))
    )
    with op.batch_alter_table('book_recurring', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_book_recurring_next_on'), ['next_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_book_recurring_user_id'), ['user_id'], unique=False)

    op.create_table('book_transactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('expense', 'income', 'transfer', 'opening', 'clan', name='txnkind', native_enum=False, length=16), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('payee', sa.String(length=128), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('tags', sa.String(length=255), nullable=False),
    sa.Column('source_ref', sa.String(length=128), nullable=True),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.Column('recurring_id', sa.Integer(), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['book_imports.id'], name=op.f('fk_book_transactions_import_id_book_imports')),
    sa.ForeignKeyConstraint(['recurring_id'], ['book_recurring.id'], name=op.f('fk_book_transactions_recurring_id_book_recurring')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_book_transactions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_book_transactions')),
    sa.UniqueConstraint('user_id', 'source_ref', name=op.f('uq_book_transactions_user_id_source_ref'))
    )
    with op.batch_alter_table('book_transactions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_book_transactions_import_id'), ['import_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_book_transactions_occurred_on'), ['occurred_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_book_transactions_user_id'), ['user_id'], unique=False)

    op.create_table('book_postings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transaction_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=8), nullable=False),
    sa.Column('memo', sa.String(length=200), nullable=False),
    sa.CheckConstraint('account_id IS NULL OR category_id IS NULL', name=op.f('ck_book_postings_one_side')),
    sa.ForeignKeyConstraint(['account_id'], ['book_accounts.id'], name=op.f('fk_book_postings_account_id_book_accounts')),
    sa.ForeignKeyConstraint(['category_id'], ['book_categories.id'], name=op.f('fk_book_postings_category_id_book_categories')),
    sa.ForeignKeyConstraint(['transaction_id'], ['book_transactions.id'], name=op.f('fk_book_postings_transaction_id_book_transactions')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_book_postings_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_book_postings'))
    )
    with op.batch_alter_table('book_postings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_book_postings_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_book_postings_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_book_postings_transaction_id'), ['transaction_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_book_postings_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('book_postings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_book_postings_user_id'))
        batch_op.drop_index(batch_op.f('ix_book_postings_transaction_id'))
        batch_op.drop_index(batch_op.f('ix_book_postings_category_id'))
        batch_op.drop_index(batch_op.f('ix_book_postings_account_id'))

    op.drop_table('book_postings')
    with op.batch_alter_table('book_transactions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_book_transactions_user_id'))
        batch_op.drop_index(batch_op.f('ix_book_transactions_occurred_on'))
        batch_op.drop_index(batch_op.f('ix_book_transactions_import_id'))

    op.drop_table('book_transactions')
    with op.batch_alter_table('book_recurring', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_book_recurring_user_id'))
        batch_op.drop_index(batch_op.f('ix_book_recurring_next_on'))

    op.drop_table('book_recurring')
    op.drop_table('book_profiles')
    with op.batch_alter_table('book_budgets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_book_budgets_user_id'))

    op.drop_table('book_budgets')
    with op.batch_alter_table('book_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_book_imports_user_id'))

    op.drop_table('book_imports')
    with op.batch_alter_table('book_categories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_book_categories_user_id'))

    op.drop_table('book_categories')
    with op.batch_alter_table('book_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_book_audit_user_id'))
        batch_op.drop_index(batch_op.f('ix_book_audit_at'))

    op.drop_table('book_audit')
    with op.batch_alter_table('book_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_book_accounts_user_id'))

    op.drop_table('book_accounts')
