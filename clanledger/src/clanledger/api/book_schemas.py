"""The personal book's API schemas. Every amount is an integer in its account's minor unit
(``amount``: NT$ 120 is 120 on a whole-dollar account, US$ 1.50 is 150) with the same amount
as exact text (``amount_decimal``: "120", "1.50"); a client sends either, never a float."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from clanledger.api.schemas import MAX_ROW_ID, PageArgs
from clanledger.domain.book.money import MAX_AMOUNT

MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
WHOLE_MINOR = {
    "invalid": "A whole number of minor units (NT$ 120 is 120, US$ 1.50 is 150), or send the "
    'amount as text in the matching _decimal field, e.g. "12.50".'
}


def _id(description: str, required: bool = False, strict: bool = True) -> ma.fields.Integer:
    """An id: a JSON integer in a body (``strict``), digits in a query string."""
    return ma.fields.Integer(
        required=required,
        load_default=ma.missing if required else None,
        strict=strict,
        validate=validate.Range(1, MAX_ROW_ID),
        metadata={"description": description},
    )


def _minor(description: str, low: int = 1) -> ma.fields.Integer:
    return ma.fields.Integer(
        load_default=None,
        strict=True,
        validate=validate.Range(low, MAX_AMOUNT),
        error_messages=WHOLE_MINOR,
        metadata={"description": description},
    )


def _decimal(description: str) -> ma.fields.String:
    return ma.fields.String(
        load_default=None, validate=validate.Length(1, 40), metadata={"description": description}
    )


class ArchivedArgs(ma.Schema):
    archived = ma.fields.Boolean(load_default=False, metadata={"description": "Archived ones too."})


class BookAccountSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    type = ma.fields.String(
        metadata={"description": "cash, bank, credit_card, e_wallet or diamonds."}
    )
    currency = ma.fields.String(metadata={"description": "TWD, USD, JPY, ... DIA (diamonds)."})
    minor_digits = ma.fields.Integer(
        metadata={"description": "Decimals of its amounts: 0 keeps NT$ 120 as 120."}
    )
    balance = ma.fields.Integer(metadata={"description": "In minor units; < 0: a card owes."})
    balance_decimal = ma.fields.String()
    closing_day = ma.fields.Integer(allow_none=True)
    archived = ma.fields.Boolean()
    read_only = ma.fields.Boolean(metadata={"description": "The clan link's mirror."})


class CategoryLeafSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    kind = ma.fields.String(metadata={"description": "expense or income."})
    code = ma.fields.String(
        allow_none=True, metadata={"description": "A default category's stable code."}
    )
    archived = ma.fields.Boolean()


class CategorySchema(CategoryLeafSchema):
    children = ma.fields.List(ma.fields.Nested(CategoryLeafSchema))


AccountList = ma.Schema.from_dict(
    {"items": ma.fields.List(ma.fields.Nested(BookAccountSchema))}, name="BookAccountList"
)
CategoryList = ma.Schema.from_dict(
    {"items": ma.fields.List(ma.fields.Nested(CategorySchema))}, name="BookCategoryList"
)


class PostingSchema(ma.Schema):
    account_id = ma.fields.Integer(allow_none=True)
    category_id = ma.fields.Integer(allow_none=True)
    category = ma.fields.String(allow_none=True, metadata={"description": "餐飲 › 午餐"})
    amount = ma.fields.Integer(
        metadata={"description": "> 0 into an account or spent on a category."}
    )
    amount_decimal = ma.fields.String()
    currency = ma.fields.String()
    memo = ma.fields.String()


class BookTransactionSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"description": "expense, income, transfer, opening or clan."})
    occurred_on = ma.fields.Date()
    account_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "Paid from / into (a transfer's source)."}
    )
    to_account_id = ma.fields.Integer(allow_none=True)
    amount = ma.fields.Integer(
        metadata={"description": "The total in the account's minor unit (> 0)."}
    )
    amount_decimal = ma.fields.String()
    currency = ma.fields.String()
    minor_digits = ma.fields.Integer()
    payee = ma.fields.String()
    note = ma.fields.String()
    tags = ma.fields.List(ma.fields.String())
    postings = ma.fields.List(ma.fields.Nested(PostingSchema))
    import_id = ma.fields.Integer(allow_none=True)
    recurring_id = ma.fields.Integer(allow_none=True)
    read_only = ma.fields.Boolean(metadata={"description": "A clan mirror line."})
    deleted = ma.fields.Boolean()
    version = ma.fields.Integer(metadata={"description": "Send it back with an edit."})
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


BookTransactionPage = ma.Schema.from_dict(
    {
        "items": ma.fields.List(ma.fields.Nested(BookTransactionSchema)),
        "next_cursor": ma.fields.String(allow_none=True),
    },
    name="BookTransactionPage",
)


class TransactionArgs(PageArgs):
    month = ma.fields.String(
        load_default=None,
        validate=validate.Regexp(MONTH),
        metadata={"description": "YYYY-MM: only that month."},
    )
    account_id = _id("Only those touching this account.", strict=False)
    category_id = _id("Only those in this category (or its subcategories).", strict=False)
    deleted = ma.fields.Boolean(
        load_default=False, metadata={"description": "Deleted ones too (they can be undone)."}
    )


class SplitSchema(ma.Schema):
    category_id = _id("One of your categories of the transaction's kind.", required=True)
    amount = ma.fields.Integer(
        load_default=None,
        strict=True,
        validate=validate.Range(-MAX_AMOUNT, MAX_AMOUNT),
        error_messages=WHOLE_MINOR,
        metadata={"description": "Minor units; < 0 for a discount line."},
    )
    amount_decimal = _decimal("Or the amount as text, e.g. 45.50.")
    memo = ma.fields.String(load_default="", validate=validate.Length(max=200))


class NewTransactionSchema(ma.Schema):
    kind = ma.fields.String(
        required=True, validate=validate.OneOf(["expense", "income", "transfer"])
    )
    occurred_on = ma.fields.Date(
        load_default=None, metadata={"description": "YYYY-MM-DD (default: today in Taipei)."}
    )
    account_id = _id("Paid from (expense), into (income), or sent from (transfer).", True)
    amount = _minor("The total in the account's minor unit, e.g. 120 for NT$ 120.")
    amount_decimal = _decimal("Or the total as text, e.g. 120 or 1,234.50.")
    category_id = _id("The category of the whole amount (or send splits).")
    splits = ma.fields.List(
        ma.fields.Nested(SplitSchema),
        load_default=list,
        validate=validate.Length(max=50),
        metadata={"description": "The amount split over categories; they add up to it."},
    )
    to_account_id = _id("A transfer's destination (a card payment: the card).")
    received = _minor("Across currencies: what arrived, in the destination's minor unit.")
    received_decimal = _decimal("Or what arrived as text.")
    payee = ma.fields.String(load_default="", validate=validate.Length(max=128))
    note = ma.fields.String(load_default="", validate=validate.Length(max=2000))
    tags = ma.fields.List(
        ma.fields.String(validate=validate.Length(max=24)),
        load_default=list,
        validate=validate.Length(max=10),
    )


class EditTransactionSchema(NewTransactionSchema):
    version = ma.fields.Integer(
        load_default=None,
        strict=True,
        validate=validate.Range(1, MAX_ROW_ID),
        metadata={"description": "The version you read; a changed transaction is 409."},
    )


class VersionArgs(ma.Schema):
    version = ma.fields.Integer(
        load_default=None,
        validate=validate.Range(1, MAX_ROW_ID),
        metadata={"description": "The version you read; a changed transaction is 409."},
    )


class DeletedSchema(ma.Schema):
    transaction = ma.fields.Nested(BookTransactionSchema)
    audit_id = ma.fields.Integer(
        metadata={"description": "POST /book/audit/{audit_id}/undo brings it back."}
    )
