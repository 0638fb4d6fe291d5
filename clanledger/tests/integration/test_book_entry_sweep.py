"""The permission sweep's declarations for fast entry, the transactions list, edit, delete,
undo, the audit trail, accounts and categories: the sampled rows belong to ``side.member``,
so only the member reaches them; everyone else gets 404."""

from __future__ import annotations

from datetime import date

from sweep import LOGIN, ClanSide, expect, sample

from clanledger.domain.book.kinds import TxnKind
from clanledger.extensions import db
from clanledger.models.book import BookAudit
from clanledger.services.book import accounts, categories, transactions


def _expense(side: ClanSide):
    user_id = side.member.id
    accounts.ensure_book(db.session, user_id)
    account = accounts.list_accounts(db.session, user_id)[0]
    category = categories.by_code(db.session, user_id, "lunch")
    draft = transactions.Draft(
        TxnKind.EXPENSE, date(2026, 3, 5), account.id, 120, category_id=category.id
    )
    return transactions.record(db.session, user_id, draft)


@sample("txn_id")
def a_transaction(side: ClanSide) -> int:
    return _expense(side).id


@sample("audit_id")
def an_audit_row(side: ClanSide) -> int:
    txn = _expense(side)
    return (
        db.session.query(BookAudit.id)
        .filter(BookAudit.entity == "transaction", BookAudit.entity_id == txn.id)
        .scalar()
    )


@sample("account_id")
def an_account(side: ClanSide) -> int:
    accounts.ensure_book(db.session, side.member.id)
    return accounts.list_accounts(db.session, side.member.id)[0].id


@sample("category_id")
def a_category(side: ClanSide) -> int:
    accounts.ensure_book(db.session, side.member.id)
    return categories.by_code(db.session, side.member.id, "food").id


OTHERS = {"outsider": 404, "officer": 404, "leader": 404}

for endpoint in ("book.add", "book.transactions", "book.audit", "book.accounts"):
    expect(endpoint, "GET", anonymous=LOGIN, user=200)
for endpoint in ("book.account_new", "book.categories", "book.category_new"):
    expect(endpoint, "GET", anonymous=LOGIN, user=200)
# An empty form is shown again with its errors.
for endpoint in ("book.add", "book.account_new", "book.category_new"):
    expect(endpoint, "POST", anonymous=LOGIN, user=400)
expect("book.txn_edit", "GET", anonymous=LOGIN, member=200, **OTHERS)
expect("book.txn_edit", "POST", anonymous=LOGIN, member=400, **OTHERS)
expect("book.txn_delete", "POST", anonymous=LOGIN, member=302, **OTHERS)
expect("book.undo", "POST", anonymous=LOGIN, member=302, **OTHERS)
expect("book.account_edit", "GET", anonymous=LOGIN, member=200, **OTHERS)
# An empty POST keeps the stored values (Flask-WTF falls back to the row): saved.
expect("book.account_edit", "POST", anonymous=LOGIN, member=302, **OTHERS)
expect("book.category_edit", "GET", anonymous=LOGIN, member=200, **OTHERS)
expect("book.category_edit", "POST", anonymous=LOGIN, member=302, **OTHERS)
