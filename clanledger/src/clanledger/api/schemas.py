"""What the API reads and answers, as marshmallow schemas (they also make the OpenAPI
document). Amounts are whole diamonds (integers); times are ISO 8601 in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import marshmallow as ma
from marshmallow import validate

from clanledger.domain.money import MAX_PRICE

MAX_PAGE = 100


class PageArgs(ma.Schema):
    limit = ma.fields.Integer(
        load_default=50,
        validate=validate.Range(1, MAX_PAGE),
        metadata={"description": f"Items per page, 1 to {MAX_PAGE}."},
    )
    cursor = ma.fields.String(
        load_default=None,
        validate=validate.Length(max=200),
        metadata={"description": "The next_cursor of the previous page."},
    )


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details (``application/problem+json``)."""

    type = ma.fields.String()
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String(metadata={"description": "In the Accept-Language asked for."})
    errors = ma.fields.Dict(metadata={"description": "Field -> messages, for 422."})


class TokenSchema(ma.Schema):
    name = ma.fields.String()
    scope = ma.fields.String(metadata={"description": "read or write"})
    personal = ma.fields.Boolean(metadata={"description": "Reaches the personal book too."})
    expires_at = ma.fields.DateTime(allow_none=True)


class MeSchema(ma.Schema):
    id = ma.fields.Integer()
    username = ma.fields.String()
    display_name = ma.fields.String()
    token = ma.fields.Nested(TokenSchema)


class ClanSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    server = ma.fields.String()
    timezone = ma.fields.String()
    role = ma.fields.String(metadata={"description": "Your role: leader, officer or member."})
    member_count = ma.fields.Integer(allow_none=True)


class CharacterRefSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    char_class = ma.fields.String()


class MemberSchema(ma.Schema):
    membership_id = ma.fields.Integer()
    user_id = ma.fields.Integer()
    display_name = ma.fields.String()
    role = ma.fields.String()
    status = ma.fields.String(
        metadata={"description": "active; officers also see pending and removed members."}
    )
    joined_at = ma.fields.DateTime()
    characters = ma.fields.List(ma.fields.Nested(CharacterRefSchema))


class CharacterSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    char_class = ma.fields.String()
    active = ma.fields.Boolean()
    owner_user_id = ma.fields.Integer(allow_none=True)
    owner_display_name = ma.fields.String(allow_none=True)


class BossSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    active = ma.fields.Boolean()


def page_of(item: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A page schema: ``items`` of ``item`` and the ``next_cursor`` (null on the last)."""
    return ma.Schema.from_dict(
        {
            "items": ma.fields.List(ma.fields.Nested(item)),
            "next_cursor": ma.fields.String(allow_none=True),
        },
        name=name,
    )


ClanPage = page_of(ClanSchema, "ClanPage")
MemberPage = page_of(MemberSchema, "MemberPage")
CharacterPage = page_of(CharacterSchema, "CharacterPage")
BossPage = page_of(BossSchema, "BossPage")


class TransferArgs(PageArgs):
    status = ma.fields.String(
        load_default="outstanding",
        validate=validate.OneOf(["outstanding", "all"]),
        metadata={"description": "outstanding (planned or paid) or all."},
    )
    mine = ma.fields.Boolean(
        load_default=False, metadata={"description": "Only your characters' transfers."}
    )


class TransferSchema(ma.Schema):
    id = ma.fields.Integer()
    period_id = ma.fields.Integer()
    month = ma.fields.String(metadata={"description": "YYYY-MM of the month it settles."})
    payer = ma.fields.String()
    payer_character_id = ma.fields.Integer(allow_none=True)
    receiver = ma.fields.String()
    receiver_character_id = ma.fields.Integer(allow_none=True)
    gross = ma.fields.Integer(metadata={"description": "Diamonds the payer pays."})
    fee = ma.fields.Integer(metadata={"description": "Exchange fee in diamonds."})
    net = ma.fields.Integer(metadata={"description": "Diamonds the receiver gets."})
    paid_gross = ma.fields.Integer(allow_none=True)
    status = ma.fields.String(metadata={"description": "planned, paid or confirmed."})
    paid_at = ma.fields.DateTime(allow_none=True)
    confirmed_at = ma.fields.DateTime(allow_none=True)


class PaidArgs(ma.Schema):
    paid_gross = ma.fields.Integer(
        strict=True,
        load_default=None,
        validate=validate.Range(1, MAX_PRICE),
        metadata={"description": "Diamonds actually paid (default: the planned gross)."},
    )


class ConfirmArgs(ma.Schema):
    reason = ma.fields.String(
        load_default=None,
        validate=validate.Length(max=500),
        metadata={"description": "Why, when an officer confirms for a player."},
    )


TransferPage = page_of(TransferSchema, "TransferPage")


MAX_ROW_ID = 2**31 - 1  # the id columns are 32-bit integers on PostgreSQL
EARLIEST_KILL = datetime(2000, 1, 1, tzinfo=UTC)


class AttendanceSchema(ma.Schema):
    character_id = ma.fields.Integer(
        required=True, strict=True, validate=validate.Range(1, MAX_ROW_ID)
    )
    weight = ma.fields.String(
        load_default="1",
        validate=validate.Length(1, 16),
        metadata={"description": "A share: 1, 0.5, 1/2, 1.25, full or half."},
    )


class KillSchema(ma.Schema):
    id = ma.fields.Integer()
    boss_id = ma.fields.Integer()
    boss = ma.fields.String()
    killed_at = ma.fields.DateTime()
    note = ma.fields.String()
    caller_character_id = ma.fields.Integer(allow_none=True)
    checkin_until = ma.fields.DateTime(allow_none=True)
    rollcall_locked_at = ma.fields.DateTime(allow_none=True)
    attendance = ma.fields.List(ma.fields.Nested(AttendanceSchema))
    drop_ids = ma.fields.List(ma.fields.Integer())


class NewKillSchema(ma.Schema):
    boss_id = ma.fields.Integer(required=True, strict=True, validate=validate.Range(1, MAX_ROW_ID))
    killed_at = ma.fields.AwareDateTime(
        required=True,
        validate=validate.Range(min=EARLIEST_KILL),
        metadata={"description": "ISO 8601 with a UTC offset, e.g. 2026-12-05T21:00:00+08:00."},
    )
    participants = ma.fields.List(
        ma.fields.Nested(AttendanceSchema), load_default=list, validate=validate.Length(max=300)
    )
    caller_character_id = ma.fields.Integer(
        load_default=None, strict=True, validate=validate.Range(1, MAX_ROW_ID)
    )
    note = ma.fields.String(load_default="", validate=validate.Length(max=200))

    @ma.validates_schema
    def _one_share_each(self, data: dict, **kwargs: object) -> None:
        ids = [p["character_id"] for p in data.get("participants", [])]
        if len(ids) != len(set(ids)):
            raise ma.ValidationError("A character is listed twice.", "participants")


KillPage = page_of(KillSchema, "KillPage")


class DropArgs(PageArgs):
    status = ma.fields.String(
        load_default=None,
        validate=validate.OneOf(
            ["held", "listed", "unsold", "sold", "bought", "stored", "auction"]
        ),
        metadata={"description": "Only items in this state."},
    )


class SaleSchema(ma.Schema):
    kind = ma.fields.String(metadata={"description": "exchange or internal."})
    gross_price = ma.fields.Integer(allow_none=True)
    received = ma.fields.Integer(metadata={"description": "Diamonds received or paid."})
    fee_bps = ma.fields.Integer()
    fund_cut_bps = ma.fields.Integer()
    buyer_character_id = ma.fields.Integer(allow_none=True)
    sold_at = ma.fields.DateTime()


class DropSchema(ma.Schema):
    id = ma.fields.Integer()
    kill_id = ma.fields.Integer()
    boss = ma.fields.String()
    name = ma.fields.String()
    grade = ma.fields.String()
    holder_character_id = ma.fields.Integer()
    status = ma.fields.String()
    asking_price = ma.fields.Integer(allow_none=True)
    listed_at = ma.fields.DateTime(allow_none=True)
    relist_count = ma.fields.Integer()
    created_at = ma.fields.DateTime()
    version = ma.fields.Integer(metadata={"description": "Send it back with an action."})
    sale = ma.fields.Nested(SaleSchema, allow_none=True)


DropPage = page_of(DropSchema, "DropPage")


class PeriodArgs(PageArgs):
    period_id = ma.fields.Integer(
        load_default=None,
        validate=validate.Range(1, MAX_ROW_ID),
        metadata={"description": "The month (default: the open one)."},
    )


class StatementArgs(PeriodArgs):
    character_id = ma.fields.Integer(
        load_default=None,
        validate=validate.Range(1, MAX_ROW_ID),
        metadata={"description": "One character (yours; any for officers). Default: yours."},
    )


class PeriodSchema(ma.Schema):
    id = ma.fields.Integer(allow_none=True, metadata={"description": "null before any entry."})
    month = ma.fields.String(metadata={"description": "YYYY-MM"})
    starts_on = ma.fields.Date()
    ends_on = ma.fields.Date()
    status = ma.fields.String(metadata={"description": "open or closed."})


class BalanceSchema(ma.Schema):
    character_id = ma.fields.Integer()
    name = ma.fields.String()
    owner_display_name = ma.fields.String(allow_none=True)
    balance = ma.fields.Integer(
        metadata={"description": "> 0: the clan owes the character; < 0: it holds others'."}
    )


class StatementLineSchema(ma.Schema):
    entry_id = ma.fields.Integer()
    occurred_at = ma.fields.DateTime()
    kind = ma.fields.String()
    role = ma.fields.String()
    character_id = ma.fields.Integer()
    amount = ma.fields.Integer()
    running = ma.fields.Integer()
    memo = ma.fields.String()
    reason = ma.fields.String()


class StatementSchema(ma.Schema):
    period = ma.fields.Nested(PeriodSchema)
    balance = ma.fields.Integer()
    opening = ma.fields.Integer()
    credits = ma.fields.Integer()
    debits = ma.fields.Integer()
    characters = ma.fields.List(ma.fields.Nested(BalanceSchema))
    items = ma.fields.List(ma.fields.Nested(StatementLineSchema))
    next_cursor = ma.fields.String(allow_none=True)


class BalancesSchema(ma.Schema):
    period = ma.fields.Nested(PeriodSchema)
    fund = ma.fields.Integer(metadata={"description": "The clan fund's balance."})
    items = ma.fields.List(ma.fields.Nested(BalanceSchema))
    next_cursor = ma.fields.String(allow_none=True)


class DropActionArgs(ma.Schema):
    version = ma.fields.Integer(
        load_default=None,
        strict=True,
        validate=validate.Range(1, MAX_ROW_ID),
        metadata={"description": "The item's version you read; a changed item is 409."},
    )


def _price(required: bool, description: str) -> ma.fields.Integer:
    return ma.fields.Integer(
        required=required,
        load_default=ma.missing if required else None,
        strict=True,
        validate=validate.Range(0, MAX_PRICE),
        metadata={"description": description},
    )


class ListArgs(DropActionArgs):
    asking_price = _price(True, "The price it is listed at on the exchange, in diamonds.")


class SellArgs(DropActionArgs):
    received = _price(True, "Diamonds actually received, as the game shows.")
    gross_price = _price(False, "The price it sold at (default: the asking price).")
    sold_at = ma.fields.AwareDateTime(
        load_default=None,
        validate=validate.Range(min=EARLIEST_KILL),
        metadata={"description": "When it sold (default: now), with its UTC offset."},
    )


class PurchaseArgs(DropActionArgs):
    buyer_character_id = ma.fields.Integer(
        required=True, strict=True, validate=validate.Range(1, MAX_ROW_ID)
    )
    price = _price(True, "The agreed price in diamonds (no exchange fee).")


class PeriodRowSchema(PeriodSchema):
    entries = ma.fields.Integer()
    outstanding_transfers = ma.fields.Integer()


class PreviewBalanceSchema(ma.Schema):
    kind = ma.fields.String(metadata={"description": "member, fund or fees."})
    character_id = ma.fields.Integer(allow_none=True)
    name = ma.fields.String()
    balance = ma.fields.Integer()
    committed = ma.fields.Integer()
    carried = ma.fields.Integer()
    netting = ma.fields.Integer()
    to_settle = ma.fields.Integer()


class PlanLineSchema(ma.Schema):
    seq = ma.fields.Integer()
    payer_character_id = ma.fields.Integer()
    payer = ma.fields.String()
    receiver_character_id = ma.fields.Integer()
    receiver = ma.fields.String()
    gross = ma.fields.Integer()
    fee = ma.fields.Integer()
    net = ma.fields.Integer()
    status = ma.fields.String()
    transfer_id = ma.fields.Integer(allow_none=True)


class PreviewSchema(ma.Schema):
    period = ma.fields.Nested(PeriodSchema)
    closed = ma.fields.Boolean(metadata={"description": "true: the plan that was confirmed."})
    fee_bps = ma.fields.Integer()
    fee_policy = ma.fields.String()
    carry_threshold = ma.fields.Integer()
    fund_balance = ma.fields.Integer()
    sales = ma.fields.Integer()
    lower_bound = ma.fields.Integer(
        allow_none=True, metadata={"description": "The fewest transfers possible (proven)."}
    )
    problems = ma.fields.List(ma.fields.String())
    balances = ma.fields.List(ma.fields.Nested(PreviewBalanceSchema))
    transfers = ma.fields.List(ma.fields.Nested(PlanLineSchema))


PeriodPage = page_of(PeriodRowSchema, "PeriodPage")
