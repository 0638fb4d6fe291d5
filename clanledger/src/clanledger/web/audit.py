"""The clan's audit log, for officers: who changed what, when, before and after."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import format_timedelta
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from clanledger.extensions import db
from clanledger.i18n import ROLE_LABELS, format_bps, shown_account_kind
from clanledger.models import Role
from clanledger.services import history
from clanledger.web.clans import FEE_POLICY_LABELS
from clanledger.web.drops import STATUS_BADGES
from clanledger.web.exports import KIND_LABELS
from clanledger.web.params import page_arg
from clanledger.web.scoping import clan_view
from clanledger.web.transfers import STATUS_LABELS

bp = Blueprint("audit", __name__)
MAX_SEARCH = 64

# The audit log stores the model's class name; officers read it in their language.
RECORD_LABELS = {
    "Attendance": _l("Attendance"),
    "Auction": _l("Auction"),
    "Bid": _l("Bid"),
    "Boss": _l("Boss"),
    "Character": _l("Character"),
    "Clan": _l("Clan"),
    "ClanRate": _l("Clan rate"),
    "Drop": _l("Item"),
    "JournalEntry": _l("Journal entry"),
    "Kill": _l("Kill"),
    "Membership": _l("Membership"),
    "PasswordResetToken": _l("Password reset link"),
    "Period": _l("Period"),
    "Posting": _l("Posting"),
    "Sale": _l("Sale"),
    "Transfer": _l("Transfer"),
}


# Column names in words; columns that only mean something to the program are not shown.
FIELD_LABELS = {
    "account_kind": _l("Account"),
    "active": _l("Active"),
    "amount": _l("Amount"),
    "asking_price": _l("Asking price"),
    "auction_credit": _l("Bidding allowance"),
    "auction_id": _l("Auction"),
    "boss_id": _l("Boss"),
    "bps": _l("Rate"),
    "buyer_character_id": _l("Buyer"),
    "caller_bonus": _l("Caller bonus"),
    "caller_character_id": _l("Caller"),
    "cancel_reason": _l("Reason for cancelling"),
    "carry_threshold": _l("Carry threshold"),
    "char_class": _l("Class"),
    "character_id": _l("Character"),
    "checkin_code": _l("Check-in code"),
    "claim_token_hash": _l("Claim link"),
    "token_hash": _l("Reset link"),
    "password_hash": _l("Password"),
    "checkin_until": _l("Check-in open until"),
    "checkin_window_minutes": _l("Check-in window (minutes)"),
    "close_count": _l("Times closed"),
    "closed_at": _l("Closed at"),
    "closed_by_id": _l("Closed by"),
    "confirmed_at": _l("Confirmed at"),
    "created_at": _l("Created at"),
    "created_by_id": _l("Created by"),
    "drop_id": _l("Item"),
    "early_close_reason": _l("Reason for closing early"),
    "effective_from": _l("Effective from"),
    "eligibility": _l("Who may bid"),
    "ends_at": _l("Ends at"),
    "ends_on": _l("Ends on"),
    "entry_id": _l("Journal entry"),
    "expected_received": _l("Expected to receive"),
    "expires_at": _l("Expires at"),
    "fee": _l("Exchange fee"),
    "fee_bps": _l("Exchange fee"),
    "fee_policy": _l("Who bears the fee"),
    "fund_cut_bps": _l("Clan fund cut"),
    "grade": _l("Grade"),
    "increment": _l("Minimum increment"),
    "gross": _l("Listing price"),
    "gross_price": _l("Listing price"),
    "holder_character_id": _l("Holder"),
    "invite_code": _l("Invite code"),
    "joined_at": _l("Joined at"),
    "kill_id": _l("Kill"),
    "killed_at": _l("Killed at"),
    "kind": _l("Kind"),
    "listed_at": _l("Listed at"),
    "memo": _l("Memo"),
    "name": _l("Name"),
    "net": _l("Net amount"),
    "note": _l("Note"),
    "occurred_at": _l("Date"),
    "opened_at": _l("Opened at"),
    "paid_at": _l("Paid at"),
    "paid_gross": _l("Price paid"),
    "payer_character_id": _l("Payer"),
    "payer_kind": _l("Payer's account"),
    "period_id": _l("Period"),
    "placed_at": _l("Placed at"),
    "planned_end": _l("Planned end"),
    "reason": _l("Reason"),
    "received": _l("Received"),
    "receiver_character_id": _l("Receiver"),
    "receiver_kind": _l("Receiver's account"),
    "relist_count": _l("Times relisted"),
    "removal_reason": _l("Reason for removal"),
    "reverses_id": _l("Reverses entry"),
    "role": _l("Role"),
    "rollcall_lock_minutes": _l("Roll call locks after (minutes)"),
    "rollcall_locked_at": _l("Roll call locks at"),
    "sale_id": _l("Sale"),
    "sealed": _l("Sealed bids"),
    "settled_at": _l("Settled at"),
    "snipe_extension_s": _l("Late-bid extension"),
    "snipe_window_s": _l("Late-bid window"),
    "screenshot": _l("Screenshot"),
    "server": _l("Server"),
    "settlement_period": _l("Settlement period"),
    "sold_at": _l("Sold at"),
    "source": _l("Source"),
    "start_price": _l("Starting price"),
    "starts_on": _l("Starts on"),
    "status": _l("Status"),
    "timezone": _l("Timezone"),
    "treasurer_character_id": _l("Treasurer"),
    "used_at": _l("Used at"),
    "user_id": _l("Player"),
    "wallet_character_id": _l("Shares a wallet with"),
    "weight": _l("Weight"),
    "winning_bid_id": _l("Winning bid"),
    "why": _l("Why"),
}
TECHNICAL_FIELDS = frozenset(
    {
        "idempotency_key",
        "request_key",
        "seq",
        "close_figures",
        "close_round",
        "source_type",
        "source_id",
    }
)
YES_NO = {True: _l("yes"), False: _l("no")}
# Stored values in words, by (record, column).
VALUE_LABELS: dict[tuple[str, str], dict[str, Any]] = {
    ("Drop", "status"): {status.value: label for status, (label, _css) in STATUS_BADGES.items()},
    ("Transfer", "status"): STATUS_LABELS,
    ("Membership", "status"): {
        "pending": _l("waiting for approval"),
        "active": _l("in the clan"),
        "rejected": _l("request declined"),
        "removed": _l("removed"),
    },
    ("Membership", "role"): ROLE_LABELS,
    ("Period", "status"): {"open": _l("Open"), "closed": _l("Closed")},
    ("Auction", "status"): {
        "open": _l("bidding"),
        "won": _l("won"),
        "no_bids": _l("no bids"),
        "cancelled": _l("cancelled"),
    },
    ("Auction", "eligibility"): {
        "clan": _l("The whole clan"),
        "attendees": _l("Only members who were at the kill"),
    },
    ("Sale", "kind"): {"exchange": _l("Sold on the exchange"), "internal": _l("Internal purchase")},
    ("JournalEntry", "kind"): KIND_LABELS,
    ("Clan", "fee_policy"): FEE_POLICY_LABELS,
    ("Clan", "settlement_period"): {"monthly": _l("Monthly")},
    ("Attendance", "source"): {"officer": _l("roll call"), "checkin": _l("checked in")},
    ("ClanRate", "kind"): {"exchange_fee": _l("Exchange fee"), "fund_cut": _l("Clan fund cut")},
}
RATE_FIELDS = frozenset({"bps", "fee_bps", "fund_cut_bps"})  # basis points
SECONDS_FIELDS = frozenset({"snipe_window_s", "snipe_extension_s"})


@bp.app_template_global()
def audit_field_label(field: str) -> str:
    """A column of an audited record in the reader's language (unknown ones as stored)."""
    return str(FIELD_LABELS.get(field, field))


@bp.app_template_global()
def audit_field_shown(field: str) -> bool:
    return field not in TECHNICAL_FIELDS


@bp.app_template_global()
def audit_value_label(entity_type: str, field: str, value: Any) -> str | None:
    """A stored value in words (``True`` -> 是, ``sold`` -> 已售出), or None to show it as is."""
    if isinstance(value, bool):
        return str(YES_NO[value])
    if field in RATE_FIELDS and isinstance(value, int):
        return format_bps(value)
    if field in SECONDS_FIELDS and isinstance(value, int):
        return format_timedelta(timedelta(seconds=value), threshold=1, granularity="minute")
    if field.endswith("_kind") and field != "kind" and isinstance(value, str):
        return shown_account_kind(value)  # account_kind, payer_kind, receiver_kind
    labels = VALUE_LABELS.get((entity_type, field))
    if labels and isinstance(value, str) and value in labels:
        return str(labels[value])
    return None


@bp.app_template_global()
def record_label(entity_type: str) -> str:
    """The translated name of an audited kind of record (``Drop`` -> 物品)."""
    return str(RECORD_LABELS.get(entity_type, entity_type))


@bp.get("/clans/<int:clan_id>/audit")
@clan_view(Role.OFFICER)
def index(clan_id: int) -> str:
    page = page_arg()
    entity_type = (request.args.get("type") or "")[:64] or None
    text = (request.args.get("q") or "")[:MAX_SEARCH]
    result = history.audit_page(
        db.session, current_user.id, clan_id, page, entity_type, search=_search(text)
    )
    return render_template("audit/index.html", result=result, entity_type=entity_type, q=text)


def _search(text: str) -> history.AuditSearch:
    """The search with the record kinds whose name, in the reader's language or as stored,
    contains ``text`` ("物品" finds the items' rows)."""
    needle = text.strip().casefold()
    kinds = tuple(
        kind
        for kind, label in RECORD_LABELS.items()
        if needle and (needle in str(label).casefold() or needle in kind.casefold())
    )
    return history.AuditSearch(text, kinds)
